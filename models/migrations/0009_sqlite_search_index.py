from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from models import derived
from services.platform import sql as sql_dialect

# SQLite's substring index of pending addresses (an FTS5 trigram table kept by triggers, models/derived.py; issue
# 17, goal 2): a search no longer reads every pending row of the organisation. PostgreSQL has had its trigram index
# since 0008. Filled from the existing rows.


async def install(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.client
    if not sql_dialect.is_postgres(connection):
        await connection.execute_script(derived.SEARCH_SQLITE + derived.BACKFILL_SEARCH_SQLITE)


async def remove(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.client
    if not sql_dialect.is_postgres(connection):
        await connection.execute_script(derived.DROP_SEARCH_SQLITE)


class Migration(migrations.Migration):
    dependencies = [("models", "0008_pending_counts_and_search")]

    initial = False

    operations = [ops.RunPython(install, remove)]
