"""The pending-invitations list: paged, searchable, sortable, limited to what the actor may manage."""

# ruff: noqa: S608  the list's SQL names columns from SORTS only; every value is a bound parameter

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypedDict, Unpack

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import DeliveryState, Deployment, Invitation, InvitationState, ScopeLevel
from services.access import service as access
from services.access.service import Actor, Scope
from services.invitations import pending_search as search
from services.organisations import naming
from services.platform import sql as sql_dialect
from services.platform import text
from services.platform.clock import now

SORTS = {"email": "email", "expires": "expires_at", "last_sent": "last_sent_at", "created": "created_at"}


@dataclass(frozen=True)
class PendingRow:
    id: int
    created_at: datetime
    email: str
    role_name: str
    scope_name: str
    invited_by: str
    last_sent_at: datetime
    expires_at: datetime
    expired: bool
    delivery_state: str
    delivery_error: str
    send_count: int


@dataclass(frozen=True)
class PendingPage:
    rows: list[PendingRow]
    total: int
    page: int
    page_size: int
    capped: bool = False  # a search matching more than SEARCH_COUNT_CAP: total is the cap, and more match


# A search counts its matches up to this many: counting every match of a common term grows with the organisation
# (issue 17, goal 2). Pages go as far as the cap; the list says "more than 1,000 matches".
SEARCH_COUNT_CAP = 1_000


Key = tuple[str, int]  # (the sort column's value as text, id): where a page starts or ends


@dataclass(frozen=True)
class Audience:
    """What one viewer may see of an organisation's pending list, as visible_to decided it for them."""

    organisation_id: int
    deployment_ids: tuple[int, ...] | None  # None: the whole organisation


async def visible_to(actor: Actor, organisation_id: int) -> Audience:
    """The permission check of the list: refused unless the actor manages some of the organisation."""
    visible = await _visible_deployments(actor, organisation_id)
    return Audience(organisation_id, None if visible is None else tuple(visible))


class Query(TypedDict, total=False):
    """Which page of the list: search, sort and the page window (keyset hints after/before)."""

    search: str
    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None
    before: Key | None


async def list_pending(*, actor: Actor, organisation_id: int, **query: Unpack[Query]) -> PendingPage:
    """One page of pending invitations (expired ones included and marked) the actor may manage.

    Next/previous pages come by keyset (after/before the neighbouring page's edge key), the last page from
    the end; only a jump into the middle of a long list falls back to OFFSET.
    """
    return await read_page(await visible_to(actor, organisation_id), **query)


async def read_page(audience: Audience, **query: Unpack[Query]) -> PendingPage:
    """list_pending for an audience visible_to gave: pages that share one (components/live.py) read once."""
    visible = None if audience.deployment_ids is None else list(audience.deployment_ids)
    window = _Window(
        query.get("sort", "created"),
        query.get("descending", True),
        query.get("page", 1),
        query.get("page_size", 25),
        query.get("after"),
        query.get("before"),
    )
    return await _read(audience.organisation_id, visible, text.search_term(query.get("search", "")), window)


class _Window(NamedTuple):
    """Which page: its sort, and where it is (a page number, or keyset hints after/before)."""

    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None
    before: Key | None


async def _read(organisation_id: int, visible: list[int] | None, term: str, window: _Window) -> PendingPage:
    if term and sql_dialect.is_postgres(Invitation._meta.db):
        # The LIKE pattern is a bound value: PostgreSQL's generic plan (after five runs of a prepared statement)
        # cannot see it and walks the organisation instead of reading the trigram index (6 ms became 110 ms for one
        # address among 100,000 pending); SET LOCAL keeps this transaction's plans custom, the pattern in view.
        async with in_transaction() as transaction:
            await transaction.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
            return await _paged(_Rows(transaction, organisation_id, visible, term), window)
    return await _paged(_Rows(Invitation._meta.db, organisation_id, visible, term), window)


async def _paged(rows_of: "_Rows", window: _Window) -> PendingPage:
    sort, descending, page, page_size, after, before = window
    total = await rows_of.count()
    capped = bool(rows_of.term) and total > SEARCH_COUNT_CAP  # the list's own total is kept exact by triggers
    total = SEARCH_COUNT_CAP if capped else total
    size = text.page_size(page_size)
    last_page = max(1, -(-total // size))
    page = min(max(1, page), last_page)
    column = SORTS.get(sort, "created_at")
    forward = not descending
    from_the_end = page == last_page and page > 1 and after is None and not capped  # a capped list has no end
    if before is not None or from_the_end:
        limit = size if before is not None else total - (last_page - 1) * size
        rows = list(reversed(await rows_of.page(column, not forward, before, limit)))
    else:
        rows = await rows_of.page(column, forward, after, size, offset=0 if after is not None else (page - 1) * size)
    at = now()
    return PendingPage([_row(values, at) for values in rows], total, page, size, capped)


def edge_key(row: PendingRow, sort: str) -> Key:
    """The keyset key of a row under a sort, for the next or previous page request."""
    value = {"email": row.email, "expires": row.expires_at, "last_sent": row.last_sent_at}.get(sort, row.created_at)
    return (value.isoformat() if isinstance(value, datetime) else str(value), row.id)


class _Rows:
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
        return tuple(values)


_COLUMNS = (
    "i.id, i.created_at, i.email, r.name, i.deployment_id, d.name, o.name, i.invited_by_id, s.full_name, "
    "i.last_sent_at, i.expires_at, i.delivery_state, i.delivery_error, i.send_count"
)
_JOINS = (
    "JOIN role r ON r.id = i.role_id LEFT JOIN deployment d ON d.id = i.deployment_id "
    "LEFT JOIN organisation o ON o.id = i.organisation_id LEFT JOIN staff_member s ON s.id = i.invited_by_id"
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


async def _visible_deployments(actor: Actor, organisation_id: int) -> list[int] | None:
    """None for organisation-wide managers (everything); else the deployments they manage; else refused."""
    if access.can_manage_staff(actor, Scope(ScopeLevel.ORGANISATION, organisation_id)):
        return None
    connection = Deployment._meta.db  # by hand: building the ORM query costs more than running it (every page)
    sql = sql_dialect.numbered(connection, "SELECT id FROM deployment WHERE organisation_id = ?")
    all_ids = [int(row[0]) for row in (await connection.execute_query(sql, [organisation_id]))[1]]
    deployment_ids = [
        dep_id
        for dep_id in all_ids
        if access.can_manage_staff(actor, Scope(ScopeLevel.DEPLOYMENT, organisation_id, dep_id))
    ]
    if not deployment_ids:
        access.require(False, "You may not see the invitations of this organisation.")
    return deployment_ids


async def visibility_filter(actor: Actor, organisation_id: int) -> Q:
    """All of the organisation for organisation-wide managers; else only deployments they manage; else nothing."""
    deployment_ids = await _visible_deployments(actor, organisation_id)
    return Q() if deployment_ids is None else Q(deployment_id__in=deployment_ids)


def _row(values: tuple[Any, ...], at: datetime) -> PendingRow:
    (row_id, created_at, email, role_name, deployment_id, deployment_name, organisation_name, inviter_id, inviter,
     last_sent_at, expires_at, delivery_state, delivery_error, send_count) = values  # fmt: skip
    scope_name = naming.place_name(
        organisation=organisation_name or "", deployment=deployment_name if deployment_id is not None else None
    )
    return PendingRow(
        id=row_id,
        created_at=created_at,
        email=email,
        role_name=role_name,
        scope_name=scope_name,
        invited_by=inviter if inviter_id is not None else "Gatehouse",
        last_sent_at=last_sent_at,
        expires_at=expires_at,
        expired=expires_at <= at,
        delivery_state=DeliveryState(delivery_state).value,
        delivery_error=delivery_error,
        send_count=send_count,
    )


async def expired_ids(*, actor: Actor, organisation_id: int) -> list[int]:
    """The pending invitations past their expiry that the actor may manage (for *Resend all expired*)."""
    query = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, expires_at__lte=now())
    ids: list[int] = await query.filter(await visibility_filter(actor, organisation_id)).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    return ids
