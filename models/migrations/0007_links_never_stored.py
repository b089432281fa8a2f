from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Links are no longer stored while their email waits (docs/SECURITY.md): the outbox keeps a seed, the token is
# derived from it under GATEHOUSE_SECRET when the email is rendered. An invitation email still queued with a raw
# link from before this change is failed with a reason the pending list shows, so an admin resends it; notices
# (links to the log-in page) keep going, their link now comes from the template.
LEGACY = "state IN ('queued', 'sending') AND link LIKE '%/accept/%'"
REASON = "queued before an upgrade of Gatehouse: resend the invitation"
FAIL_INVITATIONS = (
    f"UPDATE invitation SET delivery_state = 'failed', delivery_error = '{REASON}' "
    f"WHERE id IN (SELECT invitation_id FROM outbox_message WHERE {LEGACY})"
)
FAIL_MESSAGES = f"UPDATE outbox_message SET state = 'failed', last_error = '{REASON}', link = NULL WHERE {LEGACY}"


class Migration(migrations.Migration):
    dependencies = [("models", "0006_outbox_newest_email_index")]

    initial = False

    operations = [
        ops.RunSQL(FAIL_INVITATIONS, reverse_sql=""),
        ops.RunSQL(FAIL_MESSAGES, reverse_sql=""),
        ops.AddField(
            model_name="OutboxMessage",
            name="link_seed",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.RemoveField(model_name="OutboxMessage", name="link"),
    ]
