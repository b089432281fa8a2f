from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

# Issue 18: an organisation's access settings (end warnings, invitation reminders, dormant members), each warning
# email's once-only key (access_notice), and the invitation reminder's schedule, seed and time sent.




class AddFieldWithDefault(ops.AddField):
    """Tortoise 1.1.9 adds a NOT NULL column without an SQL default, which SQLite refuses on a table with rows: the
    column is added by this statement instead (same on both databases); the state changes as AddField's does."""

    def __init__(self, model_name: str, name: str, field: fields.Field, *, column_sql: str) -> None:
        super().__init__(model_name=model_name, name=name, field=field)
        self.column_sql = column_sql

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):  # type: ignore[no-untyped-def]
        if state_editor is not None:
            await state_editor.client.execute_script(f"ALTER TABLE organisation ADD COLUMN {self.column_sql}")


class Migration(migrations.Migration):
    dependencies = [('models', '0012_last_log_in')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccessNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=120)),
                ('member_id', fields.IntField()),
                ('organisation_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_notice', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A warning email that went (or is queued): its key makes each one go once, whichever process sends it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invitation',
            name='remind_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invitation',
            name='reminded_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invitation',
            name='reminder_seed',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['remind_at']),
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='dormant_days',
            field=fields.IntField(default=90),
            column_sql="dormant_days INT NOT NULL DEFAULT 90",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='end_dormant_access',
            field=fields.BooleanField(default=False),
            column_sql="end_dormant_access BOOL NOT NULL DEFAULT FALSE",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='end_warning_days',
            field=fields.CharField(default='14,7,1', max_length=40),
            column_sql="end_warning_days VARCHAR(40) NOT NULL DEFAULT '14,7,1'",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='invitation_reminders',
            field=fields.BooleanField(default=True),
            column_sql="invitation_reminders BOOL NOT NULL DEFAULT TRUE",
        ),
    ]
