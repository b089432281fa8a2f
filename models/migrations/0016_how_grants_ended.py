from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

from models.migration_ops import AddFieldWithDefault

# Issue 19's evidence pack: how and by whom each grant ended. Grants ended before this release say "ended" when
# their end had come, else nothing (the audit log has the rest).
PAST = "UPDATE role_assignment SET end_reason = 'ended' WHERE ended_at IS NOT NULL AND ends_at IS NOT NULL AND ends_at <= ended_at"


class Migration(migrations.Migration):
    dependencies = [('models', '0015_approval_and_reviews')]

    initial = False

    operations = [
        AddFieldWithDefault(
            model_name='RoleAssignment',
            name='end_reason',
            field=fields.CharField(default='', max_length=20),
            table="role_assignment",
            column_sql="end_reason VARCHAR(20) NOT NULL DEFAULT ''",
        ),
        ops.RunSQL(PAST, reverse_sql=""),
        ops.AddField(
            model_name='RoleAssignment',
            name='ended_by',
            field=fields.ForeignKeyField('models.StaffMember', source_field='ended_by_id', null=True, db_constraint=True, to_field='id', related_name='ended_grants', on_delete=OnDelete.SET_NULL),
        ),
    ]
