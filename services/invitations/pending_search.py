"""SQLite's side of the pending list's search: candidates from its trigram index (models/derived.py).

An FTS5 table of the pending addresses whose rowid is `organisation_id << 32 | invitation id`: a search reads
only its organisation's range of each trigram's list, never the organisation's rows (issue 17, goal 2). The
LIKE the list keeps beside it checks every candidate, so the semantics are the LIKE's.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient

from models import derived
from services.platform import sql as sql_dialect

# Rowids of one organisation: a range FTS5 seeks in each trigram's list.
_MATCHING = "FROM invitation_search WHERE invitation_search MATCH ? AND rowid BETWEEN ? AND ?"
CANDIDATES = f"SELECT rowid - ? {_MATCHING}"
COUNT = f"SELECT 1 {_MATCHING}"  # one row a match: the list counts them up to its cap
# Above this many matches a page walks the sort's index and keeps candidates (about 50 x rows / matches read);
# below it, it reads the candidates and sorts them (matches read): either way a few thousand rows at most.
WALK_ABOVE = 1_000


class Candidates(NamedTuple):
    """What CANDIDATES needs for a term, and whether the index's count is the list's (COUNT) without the LIKE."""

    params: list[Any]
    exact: bool


def candidates(organisation_id: int, term: str) -> Candidates | None:
    """The index's question for a lowered term; None below three characters, which no trigram holds."""
    if len(term) < 3:
        return None
    local, at, _ = term.partition("@")
    # A domain's trigrams are in most of the organisation's addresses: a whole address asks for its local part and
    # the @, which make it rare; the LIKE checks the rest.
    wanted = local + at if at and len(local) >= 3 else term
    base = organisation_id << 32
    # The index holds lower(email) (ASCII letters only, as LIKE folds them) matched case-sensitively against the
    # lowered term: for the whole term its matches are exactly the LIKE's.
    return Candidates([base, '"' + wanted.replace('"', '""') + '"', base, base + 0xFFFFFFFF], wanted == term)


@asynccontextmanager
async def indexed_in_one_go(connection: BaseDBAsyncClient) -> AsyncIterator[None]:
    """Inside a write transaction: the invitations inserted in the block enter SQLite's index in one statement.

    The insert trigger would add them one by one, and FTS5 flushes to disk at every trigger statement (35 us a
    row; in one go, 4 us). On PostgreSQL, nothing to do.
    """
    if sql_dialect.is_postgres(connection):
        yield
        return
    _, rows = await connection.execute_query("SELECT COALESCE(MAX(id), 0) FROM invitation")
    await connection.execute_query("INSERT INTO invitation_search_deferred (deferred) VALUES (1)")
    try:
        yield
    finally:  # also if the caller goes on after an error: no row is left out, and the trigger works again
        await connection.execute_query(derived.INDEX_NEWER_SQLITE, [int(rows[0][0])])
        await connection.execute_query("DELETE FROM invitation_search_deferred")
