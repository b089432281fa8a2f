"""PostgreSQL beside the ORM: connection arguments from the database URL, and advisory locks across processes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from services.platform.sql import is_postgres

CONNECT_TIMEOUT = 10.0
# Keys of a Tortoise URL's query string that asyncpg.connect() understands; the pool sizes are the ORM's own.
_CONNECT_OPTIONS = ("ssl", "timeout", "command_timeout", "statement_cache_size", "direct_tls", "passfile")
# Advisory lock keys (one 64-bit namespace per database): arbitrary constants, the same in every process.
STARTUP_LOCK = 0x6761_7465_0001  # migrations, default roles and the first admin: one process at a time
HOUSEKEEPING_LOCK = 0x6761_7465_0002  # held by the one process that runs expiry and purge jobs


def connect_arguments(database_url: str, *, application_name: str) -> dict[str, Any]:
    """Keyword arguments for asyncpg.connect() that reach the same database as the ORM (TLS settings included)."""
    credentials = expand_db_url(database_url)["credentials"]
    arguments: dict[str, Any] = {
        "host": credentials.get("host"),
        "port": credentials.get("port"),
        "user": credentials.get("user"),
        "password": credentials.get("password"),
        "database": credentials.get("database"),
        "timeout": CONNECT_TIMEOUT,
    }
    arguments.update({key: credentials[key] for key in _CONNECT_OPTIONS if key in credentials})
    server_settings = {"application_name": application_name}
    if credentials.get("schema"):
        server_settings["search_path"] = str(credentials["schema"])
    arguments["server_settings"] = server_settings
    return arguments


async def connect(database_url: str, *, application_name: str) -> asyncpg.Connection:
    """One dedicated connection (outside the ORM's pool), named in pg_stat_activity."""
    return await asyncpg.connect(**connect_arguments(database_url, application_name=application_name))


@asynccontextmanager
async def advisory_lock(*, database_url: str, key: int, application_name: str) -> AsyncIterator[None]:
    """Hold a session-level advisory lock for the block, waiting for it; nothing at all on SQLite."""
    if not is_postgres(database_url):
        yield
        return
    connection = await connect(database_url, application_name=application_name)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", key)
        yield
    finally:
        # Closing the session releases the lock, also when the block failed half way.
        await connection.close(timeout=5)
