"""ORM configuration, migrations and the app lifespan hook for Tortoise."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.contrib.fastapi import RegisterTortoise
from tortoise.migrations.api.migrate import migrate
from tortoise.utils import get_schema_sql

from models import derived
from services.platform import sql as sql_dialect

MODEL_MODULES = ["models"]
MIGRATIONS_MODULE = "models.migrations"
# What migrations 0004, 0008, 0009 and 0010 add, for throwaway databases built from the models (a partial index,
# triggers).
ONE_PENDING_INVITATION = (
    "CREATE UNIQUE INDEX IF NOT EXISTS invitation_one_pending ON invitation (email, scope_key) WHERE state = 'pending'"
)
ONE_LIVE_GRANT = (
    "CREATE UNIQUE INDEX IF NOT EXISTS role_assignment_one_live ON role_assignment (member_id, role_id, scope_key) "
    "WHERE ended_at IS NULL"
)


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database URL, with the migrations module."""
    return {
        "connections": {"default": _with_pragmas(database_url)},
        "apps": {"models": {"models": MODEL_MODULES, "migrations": MIGRATIONS_MODULE, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


@asynccontextmanager
async def connected(database_url: str, *, generate: bool = False, migrated: bool = True) -> AsyncIterator[None]:
    """Open the ORM for the duration of the block, migrated (or generated, for throwaway test databases; or, with
    migrated False, as it is: for a check that only reads)."""
    config = tortoise_config(database_url)
    if migrated and not generate:
        await migrate(config=config)
    # RegisterTortoise (Tortoise's lifespan helper) makes the ORM visible to every task: the lifespan runs in one,
    # requests, pages and workers in others.
    async with RegisterTortoise(config=config):
        if generate:
            connection = connections.get("default")
            await connection.execute_script(_schema_sql(connection))
            await connection.execute_script(ONE_PENDING_INVITATION)
            await connection.execute_script(ONE_LIVE_GRANT)
            postgres = sql_dialect.is_postgres(connection)
            await connection.execute_script(derived.POSTGRES if postgres else derived.SQLITE + derived.SEARCH_SQLITE)
        yield


def _schema_sql(connection: BaseDBAsyncClient) -> str:
    # What RegisterTortoise's generate_schemas would run, made once per dialect and process: making it takes
    # 10-30 ms, and the tests build a throwaway database this way for each of several hundred tests.
    dialect = connection.capabilities.dialect
    if dialect not in _SCHEMA_SQL:
        _SCHEMA_SQL[dialect] = get_schema_sql(connection, safe=True)
    return _SCHEMA_SQL[dialect]


_SCHEMA_SQL: dict[str, str] = {}


def _with_pragmas(database_url: str) -> str:
    # WAL lets readers and the mail worker run beside a writer; FULL keeps the last commits on power loss. A 64 MB
    # page cache (SQLite's default is 2 MB) takes a fifth off large imports (docs/PERFORMANCE.md).
    if not database_url.startswith("sqlite://") or ":memory:" in database_url or "?" in database_url:
        return database_url
    return database_url + "?synchronous=FULL&busy_timeout=5000&cache_size=-65536"


# For the `tortoise` command line (makemigrations): `tortoise -c services.platform.database.TORTOISE_ORM makemigrations`
TORTOISE_ORM = tortoise_config("sqlite://:memory:")
