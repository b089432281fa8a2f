from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Issue 19 item 3, the evidence pack: each role a grant held (role_change), each suspension of an account with its
# restore (account_suspension), and the last request that still succeeded after access should have stopped
# (time-to-revoke). Accounts suspended before this release get their current suspension (by whom is in the audit log).
CURRENT_SUSPENSIONS = "INSERT INTO account_suspension (member_id, suspended_at) SELECT id, suspended_at FROM staff_member WHERE suspended_at IS NOT NULL"

class Migration(migrations.Migration):
    dependencies = [('models', '0024_sso_factor_step')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AccountSuspension',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='suspensions', on_delete=OnDelete.CASCADE)),
                ('suspended_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('suspended_by', fields.ForeignKeyField('models.StaffMember', source_field='suspended_by_id', null=True, db_constraint=True, to_field='id', related_name='suspensions_made', on_delete=OnDelete.SET_NULL)),
                ('restored_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('restored_by', fields.ForeignKeyField('models.StaffMember', source_field='restored_by_id', null=True, db_constraint=True, to_field='id', related_name='restores_made', on_delete=OnDelete.SET_NULL)),
                ('last_request_after', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'account_suspension', 'app': 'models', 'indexes': [Index(fields=['member_id', 'suspended_at']), Index(fields=['suspended_at'])], 'pk_attr': 'id', 'table_description': 'One suspension of an account, its restore, and the last request that still succeeded after it (time-to-revoke,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoleChange',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('assignment', fields.ForeignKeyField('models.RoleAssignment', source_field='assignment_id', db_constraint=True, to_field='id', related_name='role_changes', on_delete=OnDelete.CASCADE)),
                ('from_role', fields.ForeignKeyField('models.Role', source_field='from_role_id', null=True, db_constraint=True, to_field='id', related_name='changes_from', on_delete=OnDelete.SET_NULL)),
                ('to_role', fields.ForeignKeyField('models.Role', source_field='to_role_id', null=True, db_constraint=True, to_field='id', related_name='changes_to', on_delete=OnDelete.SET_NULL)),
                ('from_role_name', fields.CharField(max_length=80)),
                ('to_role_name', fields.CharField(max_length=80)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('changed_by', fields.ForeignKeyField('models.StaffMember', source_field='changed_by_id', null=True, db_constraint=True, to_field='id', related_name='role_changes_made', on_delete=OnDelete.SET_NULL)),
                ('approved_by', fields.ForeignKeyField('models.StaffMember', source_field='approved_by_id', null=True, db_constraint=True, to_field='id', related_name='role_changes_approved', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'role_change', 'app': 'models', 'indexes': [Index(fields=['assignment_id', 'changed_at'])], 'pk_attr': 'id', 'table_description': 'A grant moved from one role to another: from then on it is a new role period, given by changed_by and approved'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='last_request_after_stop',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(CURRENT_SUSPENSIONS, reverse_sql=""),
    ]
