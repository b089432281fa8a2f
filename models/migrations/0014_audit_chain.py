from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Issue 19: a tamper-evident audit trail. Events are sealed after they are written, in turn, by one process: seal is
# the place in the chain, hash covers the event and the previous hash (services/audit/chain.py).


class Migration(migrations.Migration):
    dependencies = [('models', '0013_notices_and_reminders')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEvent',
            name='hash',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='seal',
            field=fields.BigIntField(null=True, unique=True),
        ),
    ]
