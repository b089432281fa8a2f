from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

from models.migration_ops import AddFieldWithDefault

# Issue 19, after its audit: an approval or decline keeps when it happened (the inviter's *Recently decided*; earlier
# decisions take the moment they sent or deleted the invitation); a review campaign records whether it covers only the
# privileged roles (earlier scheduled ones said so in their title) and when its deadline passed its open items to the
# organisation's owners.
DECLINED = "UPDATE invitation SET approval_decided_at = deleted_at WHERE approval = 'declined'"
APPROVED = "UPDATE invitation SET approval_decided_at = last_sent_at WHERE approval = 'approved'"
PRIVILEGED = (
    "UPDATE review_campaign SET privileged_only = TRUE WHERE scheduled = TRUE AND deployment_id IS NULL "
    "AND title LIKE 'Scheduled review of privileged roles%'"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0027_role_change_approval')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invitation',
            name='approval_decided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(DECLINED, reverse_sql=""),
        ops.RunSQL(APPROVED, reverse_sql=""),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['invited_by_id', 'approval_decided_at']),
        ),
        ops.AddField(
            model_name='ReviewCampaign',
            name='overdue_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        AddFieldWithDefault(
            model_name='ReviewCampaign',
            name='privileged_only',
            field=fields.BooleanField(default=False),
            table="review_campaign",
            column_sql="privileged_only BOOL NOT NULL DEFAULT FALSE",
        ),
        ops.RunSQL(PRIVILEGED, reverse_sql=""),
    ]
