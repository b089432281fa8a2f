from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_retire_custom_roles')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'expires_at']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'last_sent_at']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'email']),
        ),
    ]
