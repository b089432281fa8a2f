from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Platform Support and Super Admin suspend accounts (issue 18): is_active already stops log-in and sessions; the
# time of the suspension is shown in the staff list (who did it is in the audit log).


class Migration(migrations.Migration):
    dependencies = [("models", "0010_grants_end_and_sponsor")]

    initial = False

    operations = [
        ops.AddField(model_name="StaffMember", name="suspended_at", field=fields.DatetimeField(null=True)),
    ]
