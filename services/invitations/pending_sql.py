"""The pending list's SQL: its COUNT and one page, by hand, in either dialect (services/invitations/pending.py)."""

# ruff: noqa: S608  the list's SQL names columns from SORTS only; every value is a bound parameter

from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Invitation, InvitationState
from services.invitations import pending_search as search
from services.platform import sql as sql_dialect

Key = tuple[str, int]  # (the sort column's value as text, id): where a page starts or ends
# A search counts its matches up to this many: counting every match of a common term grows with the organisation
# (issue 17, goal 2). Pages go as far as the cap; the list says "more than 1,000 matches".
SEARCH_COUNT_CAP = 1_000


class Rows:
    """The COUNT and one page of the list as hand-written SQL, every value a bound parameter.

    The ORM's query building, model objects and its conversion of every datetime (with iso8601) cost about
    ten times the queries themselves for a page of 50 (docs/PERFORMANCE.md). Same rows as the ORM queries this
    replaced: tests/test_pending.py checks keyset pages against OFFSET paging in every sort.
    """

    def __init__(
        self, connection: BaseDBAsyncClient, organisation_id: int, deployment_ids: list[int] | None, term: str
    ) -> None:
        self.connection = connection
        self.organisation_id, self.deployment_ids, self.term = organisation_id, deployment_ids, term.lower()[:320]
        # Constants and the page bounds are written into the SQL, not bound: PostgreSQL switches a prepared
        # statement to a generic plan after five runs, and one blind to LIMIT 50 and to the state sorts the whole
        # organisation instead of walking the sort index (1.5 ms became 20-30 ms for a 10,000-row organisation).
        self.matching = ""  # the search's conditions, after the scope's
        self.params: list[Any] = [organisation_id, *(deployment_ids or [])]
        local = self.term.split("@", 1)[0]
        if len(local) >= 3 and "@" in self.term and sql_dialect.is_postgres(connection):
            # The trigram index (models/derived.py) reads the list of every trigram it is asked: a domain's are
            # shared by most of the platform (a whole address: 100 ms). Offer it the local part only; strpos (not
            # indexable; case-sensitive as PostgreSQL's LIKE) then checks the whole term.
            self.matching = " AND i.email LIKE ? ESCAPE '\\' AND strpos(i.email, ?) > 0"
            self.params += [_pattern(local), self.term]
        elif self.term:  # PostgreSQL's planner reads its trigram index for this
            self.matching = " AND i.email LIKE ? ESCAPE '\\'"
            self.params.append(_pattern(self.term))
        self.indexed = None if sql_dialect.is_postgres(connection) else search.candidates(organisation_id, self.term)
        self.walk = False  # whether a page walks the sort's index (many matches) or reads the candidates (few)

    @property
    def where_params(self) -> tuple[str, list[Any]]:
        """The WHERE of the list's rows and its parameters: on SQLite, with the trigram index's candidates."""
        if self.indexed is None:
            return self._scope("") + self.matching, self.params
        # A unary + keeps SQLite from using a column's index: with many matches it walks the sort's index and keeps
        # the candidates; with few it reads the candidates by id (also without statistics, on a young database).
        where = (
            self._scope("") + self.matching + " AND +i.id IN"
            if self.walk
            else self._scope("+") + self.matching + " AND i.id IN"
        )
        return f"{where} ({search.CANDIDATES})", [*self.params, *self.indexed.params]

    def _scope(self, unary: str) -> str:
        """The organisation, the state and the visible deployments (a unary + hides their indexes from SQLite)."""
        scope = f"{unary}i.organisation_id = ? AND {unary}i.state = '{InvitationState.PENDING.value}'"
        if self.deployment_ids is not None:
            scope += f" AND {unary}i.deployment_id IN ({', '.join('?' for _ in self.deployment_ids)})"
        return scope

    async def count(self) -> int:
        total = await self._count()
        self.walk = total > search.WALK_ABOVE
        return total

    async def _count(self) -> int:
        if self.indexed is not None and self.indexed.exact and self.deployment_ids is None:
            sql, params = search.COUNT, self.indexed.params[1:]  # the index alone: no row read
        elif self.term:
            sql, params = self.where_params
            sql = f"SELECT 1 FROM invitation i WHERE {sql}"
        if self.term:  # one past the cap is enough to know the list says "more than"
            sql = f"SELECT COUNT(*) FROM ({sql} LIMIT {SEARCH_COUNT_CAP + 1}) AS capped"
        else:  # kept by triggers on every write (models/derived.py): no count of the organisation's rows
            sql = "SELECT COALESCE(SUM(pending), 0) FROM pending_count WHERE organisation_id = ?"
            params = [self.organisation_id]
            if self.deployment_ids is not None:
                sql += f" AND deployment_id IN ({', '.join('?' for _ in self.deployment_ids)})"
                params = params + self.deployment_ids
        _, rows = await self.connection.execute_query(sql_dialect.numbered(self.connection, sql), params)
        return int(rows[0][0])

    async def page(self, column: str, ascending: bool, key: Key | None, limit: int, offset: int = 0) -> list[Any]:
        direction, beyond = ("ASC", ">") if ascending else ("DESC", "<")
        order = f"ORDER BY i.{column} {direction}, i.id {direction} LIMIT {int(limit)}"
        where, params = self.where_params
        if key is None:
            sql = f"{_SELECT} {where} {order} OFFSET {int(offset)}"
        else:
            field = Invitation._meta.fields_map[column]
            value = key[0] if column == "email" else field.to_db_value(datetime.fromisoformat(key[0]), Invitation)
            if sql_dialect.is_postgres(self.connection):  # a row-value comparison: PostgreSQL seeks (..., column, id)
                sql, params = (
                    f"{_SELECT} {where} AND (i.{column}, i.id) {beyond} (?, ?) {order}",
                    [*params, value, key[1]],
                )
            else:  # SQLite seeks a row value by its first column only: inside 50,000 equal import times, a walk
                ties = f"{_SELECT} {where} AND i.{column} = ? AND i.id {beyond} ? {order}"  # so: two seeks
                rest = f"{_SELECT} {where} AND i.{column} {beyond} ? {order}"
                # A compound SELECT keeps no order of its own: sort its at most 2 x limit rows, ties first.
                sorted_by = f"1, {_POSITION[column] + 1} {direction}, 2 {direction}"
                sql = (
                    f"SELECT 0, * FROM ({ties}) UNION ALL SELECT 1, * FROM ({rest}) "
                    f"ORDER BY {sorted_by} LIMIT {int(limit)}"
                )
                params = [*params, value, key[1], *params, value]
                _, parts = await self.connection.execute_query(sql_dialect.numbered(self.connection, sql), params)
                return [self._typed(tuple(row)[1:]) for row in parts]
        _, rows = await self.connection.execute_query(sql_dialect.numbered(self.connection, sql), params)
        return [self._typed(row) for row in rows]

    @staticmethod
    def _typed(row: Any) -> tuple[Any, ...]:
        values = list(row)
        for n in (1, 9, 10):  # created_at, last_sent_at, expires_at
            values[n] = _datetime(values[n])
        if values[14] is not None:  # reminded_at
            values[14] = _datetime(values[14])
        return tuple(values)


_COLUMNS = (
    "i.id, i.created_at, i.email, r.name, i.deployment_id, d.name, o.name, i.invited_by_id, s.full_name, "
    "i.last_sent_at, i.expires_at, i.delivery_state, i.delivery_error, i.send_count, i.reminded_at, i.approval, "
    "gr.name"
)
_JOINS = (
    "JOIN role r ON r.id = i.role_id LEFT JOIN deployment d ON d.id = i.deployment_id "
    "LEFT JOIN organisation o ON o.id = i.organisation_id LEFT JOIN staff_member s ON s.id = i.invited_by_id "
    # A role change waiting (services/approvals/role_changes.py): the role its grant holds until then, in the same read.
    "LEFT JOIN role_assignment g ON g.id = i.replaces_grant_id LEFT JOIN role gr ON gr.id = g.role_id"
)
_SELECT = f"SELECT {_COLUMNS} FROM invitation i {_JOINS} WHERE"
_POSITION = {name.removeprefix("i."): n for n, name in enumerate(_COLUMNS.split(", "), 1)}  # ORDER BY ordinals


def _pattern(term: str) -> str:
    """A LIKE pattern matching addresses that hold term, its wildcards and escape character taken literally."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _datetime(value: Any) -> datetime:
    """A stored datetime (SQLite: the text the ORM writes with isoformat(" ")) in UTC, the ORM's zone.

    datetime.UTC rather than the ORM's ZoneInfo("UTC"): the same instant and text, but isoformat() (a keyset key
    per row, on every refresh of every open page) takes a fifth of the time.
    """
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.astimezone(UTC)
