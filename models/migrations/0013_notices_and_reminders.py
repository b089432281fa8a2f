from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

from models.migration_ops import AddFieldWithDefault

# Issue 18: an organisation's access settings (end warnings, invitation reminders, dormant members), each warning
# email's once-only key (access_notice), and the invitation reminder's schedule, seed and time sent.




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
            table="organisation",
            column_sql="dormant_days INT NOT NULL DEFAULT 90",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='end_dormant_access',
            field=fields.BooleanField(default=False),
            table="organisation",
            column_sql="end_dormant_access BOOL NOT NULL DEFAULT FALSE",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='end_warning_days',
            field=fields.CharField(default='14,7,1', max_length=40),
            table="organisation",
            column_sql="end_warning_days VARCHAR(40) NOT NULL DEFAULT '14,7,1'",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='invitation_reminders',
            field=fields.BooleanField(default=True),
            table="organisation",
            column_sql="invitation_reminders BOOL NOT NULL DEFAULT TRUE",
        ),
    ]
