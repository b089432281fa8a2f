from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Issue 19 item 2: a deployment may have its own access review schedule (every N days, privileged roles every M
# days) instead of the organisation's; empty (NULL) for every deployment until someone sets one.


class Migration(migrations.Migration):
    dependencies = [('models', '0028_review_kinds_and_decisions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Deployment',
            name='review_every_days',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Deployment',
            name='privileged_review_days',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Deployment',
            name='review_schedule_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
