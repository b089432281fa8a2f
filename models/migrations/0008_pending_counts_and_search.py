from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from models import derived
from services.platform import sql as sql_dialect

# Pending counts per organisation and deployment, and a substring index of pending addresses, both kept in step
# with invitation by triggers (models/derived.py; issue 17, goal 2): the pending list of an organisation with
# 100,000 invitations no longer counts or searches all of them on every read. Filled from the existing rows.


async def install(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.client
    postgres = sql_dialect.is_postgres(connection)
    await connection.execute_script(derived.POSTGRES if postgres else derived.SQLITE)
    await connection.execute_script(derived.BACKFILL_POSTGRES if postgres else derived.BACKFILL_SQLITE)


async def remove(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.client
    await connection.execute_script(
        derived.DROP_POSTGRES if sql_dialect.is_postgres(connection) else derived.DROP_SQLITE
    )


class Migration(migrations.Migration):
    dependencies = [("models", "0007_links_never_stored")]

    initial = False

    operations = [
        ops.CreateModel(
            name="PendingCount",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("organisation_id", fields.IntField()),
                ("deployment_id", fields.IntField()),
                ("pending", fields.IntField(default=0)),
            ],
            options={
                "table": "pending_count",
                "app": "models",
                "unique_together": (("organisation_id", "deployment_id"),),
                "pk_attr": "id",
                "table_description": "How many pending invitations an organisation has, per deployment (0: to the "
                "whole organisation).",
            },
            bases=["Model"],
        ),
        ops.RunPython(install, remove),
    ]
