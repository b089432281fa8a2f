from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from services.platform import sql as sql_dialect

# Issue 18: grants carry a sponsor and may end; an ended grant stays as a row (ended_at), so the one-grant-per-member,
# role and scope rule holds for live grants only. Organisations may require an end for chosen roles (grant_policy).
# Kept in step with services/platform/database.py (throwaway databases built from the models).
ONE_LIVE_GRANT = (
    "CREATE UNIQUE INDEX IF NOT EXISTS role_assignment_one_live ON role_assignment (member_id, role_id, scope_key) "
    "WHERE ended_at IS NULL"
)
# Existing grants and pending invitations: their sponsor is whoever gave them.
SPONSORS = (
    "UPDATE role_assignment SET sponsor_id = granted_by_id WHERE sponsor_id IS NULL; "
    "UPDATE invitation SET sponsor_id = invited_by_id WHERE sponsor_id IS NULL"
)


class RemoveUniqueTogether(ops.RemoveConstraint):
    """Tortoise 1.1.9's SQLite editor drops a unique_together by index name, but SQLite keeps a table's UNIQUE clause
    as an automatic index that no statement can drop ("no such index"): on SQLite the table is rebuilt from the new
    state instead, as Tortoise itself does for check constraints, and its indexes made again (the rebuild drops them).
    tests/test_migrations.py upgrades a SQLite file and checks both."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is not None and not sql_dialect.is_postgres(state_editor.client):
            model = new_state.apps.get_model(f"{app_label}.{self.model_name}")
            await state_editor._remake_table(model)
            for index in model._meta.indexes:
                await state_editor.add_index(model, index if isinstance(index, Index) else Index(fields=list(index)))
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0009_sqlite_search_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GrantPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='grant_policies', on_delete=OnDelete.CASCADE)),
                ('role', fields.ForeignKeyField('models.Role', source_field='role_id', db_constraint=True, to_field='id', related_name='grant_policies', on_delete=OnDelete.CASCADE)),
                ('max_days', fields.IntField()),
            ],
            options={'table': 'grant_policy', 'app': 'models', 'unique_together': (('organisation', 'role'),), 'pk_attr': 'id', 'table_description': "An organisation's rule for one role: every grant of it must end, at most max_days after it is given."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='ends_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invitation',
            name='sponsor',
            field=fields.ForeignKeyField('models.StaffMember', source_field='sponsor_id', null=True, db_constraint=True, to_field='id', related_name='sponsored_invitations', on_delete=OnDelete.SET_NULL),
        ),
        RemoveUniqueTogether(
            model_name='RoleAssignment',
            name=None,
            fields=['member', 'role', 'scope_key'],
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='ended_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='ends_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='sponsor',
            field=fields.ForeignKeyField('models.StaffMember', source_field='sponsor_id', null=True, db_constraint=True, to_field='id', related_name='sponsored_grants', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(
            model_name='RoleAssignment',
            index=Index(fields=['ended_at', 'ends_at']),
        ),
        ops.RunSQL(ONE_LIVE_GRANT, reverse_sql="DROP INDEX IF EXISTS role_assignment_one_live"),
        ops.RunSQL(SPONSORS, reverse_sql=""),
    ]
