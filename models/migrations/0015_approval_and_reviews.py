from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

from models.migration_ops import AddFieldWithDefault

# Issue 19: two-person approval (approval_rule; an invitation's approval, approver and reason; a grant's approver),
# access reviews (review_campaign, review_item; a grant's last review; an organisation's review schedule; privileged
# roles reviewed more often) and the approve invitations / review access permissions (no schema: role.permissions).

class Migration(migrations.Migration):
    dependencies = [('models', '0014_audit_chain')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApprovalRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='approval_rules', on_delete=OnDelete.CASCADE)),
                ('role', fields.ForeignKeyField('models.Role', source_field='role_id', null=True, db_constraint=True, to_field='id', related_name='approval_rules', on_delete=OnDelete.CASCADE)),
                ('permission', fields.CharField(null=True, max_length=40)),
            ],
            options={'table': 'approval_rule', 'app': 'models', 'unique_together': (('organisation', 'role', 'permission'),), 'pk_attr': 'id', 'table_description': "Invitations to this role, or to any role holding this permission, need a second person's approval."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReviewCampaign',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='review_campaigns', on_delete=OnDelete.CASCADE)),
                ('deployment', fields.ForeignKeyField('models.Deployment', source_field='deployment_id', null=True, db_constraint=True, to_field='id', related_name='review_campaigns', on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=120)),
                ('started_by', fields.ForeignKeyField('models.StaffMember', source_field='started_by_id', null=True, db_constraint=True, to_field='id', related_name='started_reviews', on_delete=OnDelete.SET_NULL)),
                ('scheduled', fields.BooleanField(default=False)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('remove_unanswered', fields.BooleanField(default=False)),
            ],
            options={'table': 'review_campaign', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'closed_at']), Index(fields=['closed_at', 'due_at'])], 'pk_attr': 'id', 'table_description': 'One access review of an organisation (or one deployment): every live grant there becomes an item.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReviewItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign', fields.ForeignKeyField('models.ReviewCampaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('assignment', fields.ForeignKeyField('models.RoleAssignment', source_field='assignment_id', db_constraint=True, to_field='id', related_name='review_items', on_delete=OnDelete.CASCADE)),
                ('member_id', fields.IntField()),
                ('reviewer', fields.ForeignKeyField('models.StaffMember', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='assigned_reviews', on_delete=OnDelete.SET_NULL)),
                ('decision', fields.CharField(default='', max_length=12)),
                ('decided_by', fields.ForeignKeyField('models.StaffMember', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='review_decisions', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'review_item', 'app': 'models', 'indexes': [Index(fields=['campaign_id', 'decision']), Index(fields=['reviewer_id', 'decision']), Index(fields=['assignment_id'])], 'pk_attr': 'id', 'table_description': 'One grant under review: who should decide, and what was decided (keep, change, end, remove).'},
            bases=['Model'],
        ),
        AddFieldWithDefault(
            model_name='Invitation',
            name='approval',
            field=fields.CharField(default='', max_length=12),
            table="invitation",
            column_sql="approval VARCHAR(12) NOT NULL DEFAULT ''",
        ),
        AddFieldWithDefault(
            model_name='Invitation',
            name='approval_reason',
            field=fields.CharField(default='', max_length=500),
            table="invitation",
            column_sql="approval_reason VARCHAR(500) NOT NULL DEFAULT ''",
        ),
        ops.AddField(
            model_name='Invitation',
            name='approved_by',
            field=fields.ForeignKeyField('models.StaffMember', source_field='approved_by_id', null=True, db_constraint=True, to_field='id', related_name='approved_invitations', on_delete=OnDelete.SET_NULL),
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='privileged_review_days',
            field=fields.IntField(default=30),
            table="organisation",
            column_sql="privileged_review_days INT NOT NULL DEFAULT 30",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='review_every_days',
            field=fields.IntField(default=90),
            table="organisation",
            column_sql="review_every_days INT NOT NULL DEFAULT 90",
        ),
        AddFieldWithDefault(
            model_name='Organisation',
            name='reviews_remove_unanswered',
            field=fields.BooleanField(default=False),
            table="organisation",
            column_sql="reviews_remove_unanswered BOOL NOT NULL DEFAULT FALSE",
        ),
        AddFieldWithDefault(
            model_name='Role',
            name='privileged',
            field=fields.BooleanField(default=False),
            table="role",
            column_sql="privileged BOOL NOT NULL DEFAULT FALSE",
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='approved_by',
            field=fields.ForeignKeyField('models.StaffMember', source_field='approved_by_id', null=True, db_constraint=True, to_field='id', related_name='approved_grants', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='reviewed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RoleAssignment',
            name='reviewed_by',
            field=fields.ForeignKeyField('models.StaffMember', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='reviewed_grants', on_delete=OnDelete.SET_NULL),
        ),
    ]
