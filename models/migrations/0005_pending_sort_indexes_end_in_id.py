from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_one_pending_invitation')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Invitation',
            name=None,
            fields=['organisation_id', 'state', 'created_at'],
        ),
        ops.RemoveIndex(
            model_name='Invitation',
            name=None,
            fields=['organisation_id', 'state', 'expires_at'],
        ),
        ops.RemoveIndex(
            model_name='Invitation',
            name=None,
            fields=['organisation_id', 'state', 'last_sent_at'],
        ),
        ops.RemoveIndex(
            model_name='Invitation',
            name=None,
            fields=['organisation_id', 'state', 'email'],
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'expires_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'last_sent_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Invitation',
            index=Index(fields=['organisation_id', 'state', 'email', 'id']),
        ),
    ]
