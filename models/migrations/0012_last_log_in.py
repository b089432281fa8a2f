from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Dormant members (issue 18): no log-in for N days. Accounts from before this release count from their newest
# session, if any (a session is opened only by a log-in).


class Migration(migrations.Migration):
    dependencies = [("models", "0011_suspended_accounts")]

    initial = False

    operations = [
        ops.AddField(model_name="StaffMember", name="last_login_at", field=fields.DatetimeField(null=True)),
        ops.RunSQL(
            "UPDATE staff_member SET last_login_at = "
            "(SELECT max(created_at) FROM session WHERE session.member_id = staff_member.id)",
            reverse_sql="",
        ),
    ]
