"""Attempt limits shared by every process (second-factor codes): a fixed-window counter in the database.

One row per subject and window; each attempt adds one with an atomic upsert that returns the new count (as the REST
API's limits do, services/integrations/rate_limits.py), so N processes never allow N times the attempts.
"""

# ruff: noqa: S608  the table name comes from the model; every value is a bound parameter

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from models import AttemptWindow
from services.errors import RateLimited
from services.platform import sql
from services.platform.clock import now

TABLE = AttemptWindow._meta.db_table
COUNT = (
    f"INSERT INTO {TABLE} (subject, window_start, attempts) VALUES (?, ?, 1) "
    f"ON CONFLICT (subject, window_start) DO UPDATE SET attempts = {TABLE}.attempts + 1 RETURNING attempts"
)


async def count(*, subject: str, limit: int, window: int, message: str) -> int:
    """Count one attempt of the subject in the current window; RateLimited (with the message) past the limit."""
    at = int(now().timestamp())
    start = at - at % window
    connection: BaseDBAsyncClient = connections.get("default")
    # asyncpg's client hands back the rows of a SELECT only: on PostgreSQL the upsert runs inside a WITH query
    query = f"WITH counted AS ({COUNT}) SELECT attempts FROM counted" if sql.is_postgres(connection) else COUNT
    _, rows = await connection.execute_query(sql.numbered(connection, query), [subject, start])
    attempts = int(rows[0][0])
    if attempts == 1:  # the subject's earlier windows are of no more use
        await AttemptWindow.filter(subject=subject, window_start__lt=start).delete()
    if attempts > limit:
        raise RateLimited(message)
    return attempts
