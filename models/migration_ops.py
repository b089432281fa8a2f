"""Migration operations Tortoise 1.1.9 lacks, shared by the migrations in models/migrations/."""

from typing import Any

from tortoise import fields
from tortoise.migrations import operations as ops


class AddFieldWithDefault(ops.AddField):
    """Tortoise adds a NOT NULL column without an SQL default, which SQLite refuses on a table with rows: the column
    is added by this statement instead (the same on both databases); the state changes as AddField's does."""

    def __init__(self, model_name: str, name: str, field: fields.Field, *, table: str, column_sql: str) -> None:
        super().__init__(model_name=model_name, name=name, field=field)
        self.statement = f"ALTER TABLE {table} ADD COLUMN {column_sql}"

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        if state_editor is not None:
            await state_editor.client.execute_script(self.statement)
