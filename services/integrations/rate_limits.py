"""Per-token rate limits of the REST API, shared by every process: a fixed-window counter in the database.

One row per token and window; each call adds one with an atomic upsert that returns the new count (SQLite 3.35+
and PostgreSQL both have INSERT ... ON CONFLICT ... RETURNING), so two processes never both take the last call.
The in-process limiter of services/access/ratelimit.py is not shared and would let N processes allow N times.
"""

# ruff: noqa: S608  the table name comes from the model; every value is a bound parameter

from math import ceil

from tortoise import connections

from models import ApiRateWindow
from services.errors import RateLimited
from services.platform import sql
from services.platform.clock import now

CALLS_PER_WINDOW = 600
WINDOW_SECONDS = 60
TABLE = ApiRateWindow._meta.db_table
COUNT = (
    f"INSERT INTO {TABLE} (token_id, window_start, calls) VALUES (?, ?, 1) "
    f"ON CONFLICT (token_id, window_start) DO UPDATE SET calls = {TABLE}.calls + 1 RETURNING calls"
)


class TooManyCalls(RateLimited):
    """Past the token's limit for this window; retry_after: seconds until the next window."""

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"This token made more than {limit} calls in {WINDOW_SECONDS} seconds.")
        self.retry_after = retry_after


async def count_call(*, token_id: int, limit: int | None = None, window: int = WINDOW_SECONDS) -> int:
    """Count one call of the token in the current window and return the calls so far; TooManyCalls past the limit."""
    limit = limit or CALLS_PER_WINDOW
    at = now().timestamp()
    start = int(at) - int(at) % window
    connection = connections.get("default")
    # asyncpg's client hands back the rows of a SELECT only: on PostgreSQL the upsert runs inside a WITH query
    query = f"WITH counted AS ({COUNT}) SELECT calls FROM counted" if sql.is_postgres(connection) else COUNT
    _, rows = await connection.execute_query(sql.numbered(connection, query), [token_id, start])
    calls = int(rows[0][0])
    if calls == 1:  # the first call of a window: the token's earlier windows are of no more use
        await ApiRateWindow.filter(token_id=token_id, window_start__lt=start).delete()
    if calls > limit:
        raise TooManyCalls(max(1, ceil(start + window - at)), limit)
    return calls
