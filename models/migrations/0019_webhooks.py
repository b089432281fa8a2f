from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import OutboxState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

# Issue 20 item 4: webhook endpoints (secret stored: signing needs it) and their delivery outbox.
# Another helper may add 0018: the lead re-chains this one on merge.

class Migration(migrations.Migration):
    dependencies = [('models', '0017_api_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=500)),
                ('description', fields.CharField(default='', max_length=200)),
                ('event_types', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('secret', fields.CharField(max_length=80)),
                ('created_by', fields.ForeignKeyField('models.StaffMember', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'disabled_at'])], 'pk_attr': 'id', 'table_description': "An HTTPS address an organisation's events are posted to, signed with its secret (Standard Webhooks). The"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.CharField(max_length=40)),
                ('event_type', fields.CharField(max_length=40)),
                ('body', fields.TextField(unique=False)),
                ('state', fields.CharEnumField(default=OutboxState.QUEUED, description='QUEUED: queued\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=OutboxState, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'unique_together': (('endpoint_id', 'event_id'),), 'indexes': [Index(fields=['state', 'next_attempt_at']), Index(fields=['endpoint_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One event for one endpoint, in the webhook outbox: the body is kept exactly as it is signed on every attempt.'},
            bases=['Model'],
        ),
    ]
