"""The migrations create the schema the models describe, on a real database file (and PostgreSQL in CI)."""

from pathlib import Path

from tortoise import Tortoise, connections

from models import Role, StaffMember
from services import roles
from services.database import connected, tortoise_config


async def test_migrations_build_a_working_sqlite_file_and_apply_twice_without_change(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/gatehouse.sqlite3"
    async with connected(url):
        await roles.seed_defaults()
        await StaffMember.create(email="a@example.org", full_name="A", password_hash="x")
    async with connected(url):
        assert await StaffMember.filter(email="a@example.org").exists()
        assert await Role.filter(key="super_admin").exists()


async def test_a_sqlite_file_is_opened_durable_with_a_large_page_cache(tmp_path: Path) -> None:
    async with connected(f"sqlite://{tmp_path}/gatehouse.sqlite3"):
        connection = connections.get("default")
        pragmas = {name: (await connection.execute_query(f"PRAGMA {name}"))[1][0][0] for name in _PRAGMAS}
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "cache_size": -65536, "busy_timeout": 5000}


_PRAGMAS = ("journal_mode", "synchronous", "cache_size", "busy_timeout")


async def test_the_models_have_no_changes_missing_from_the_migrations() -> None:
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config("sqlite://:memory:")
    await Tortoise.init(config=config, _enable_global_fallback=True)
    try:
        writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        assert writers == [], "a model changed without a migration: run tortoise makemigrations"
    finally:
        await Tortoise.close_connections()
