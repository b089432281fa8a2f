from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Issue 18 item 6: dormancy suspends a member's access in an organisation, restorably. A suspended grant keeps the end
# it had before (dormancy brings its end to the moment of suspension) and says when Restore access gave it back.
# Grants suspended before this release have no end to give back: restoring them follows the organisation's rules.


class Migration(migrations.Migration):
    dependencies = [("models", "0025_evidence_history")]

    initial = False

    operations = [
        ops.AddField(model_name="RoleAssignment", name="ends_at_before", field=fields.DatetimeField(null=True)),
        ops.AddField(model_name="RoleAssignment", name="restored_at", field=fields.DatetimeField(null=True)),
    ]
