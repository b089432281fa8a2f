from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_pending_sort_indexes_end_in_id')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['invitation_id', 'id']),
        ),
    ]
