from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

# Issue 21 item 2: single sign-on (an organisation's OpenID Connect provider, sign-ins under way, provider subjects,
# sessions a provider opened). Depends on 0019 in this branch; the lead chains it after 0021 on merge.

class Migration(migrations.Migration):
    dependencies = [('models', '0021_passkeys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SsoConnection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.OneToOneField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sso_connection', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=80)),
                ('issuer', fields.CharField(max_length=500)),
                ('client_id', fields.CharField(max_length=255)),
                ('client_secret_sealed', fields.TextField(unique=False)),
                ('required', fields.BooleanField(default=False)),
                ('email_domains', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sso_connection', 'app': 'models', 'pk_attr': 'id', 'table_description': "One organisation's OpenID Connect provider. The client secret is kept sealed (AES-GCM under a key derived from"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SsoFlow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('state_hash', fields.CharField(unique=True, max_length=64)),
                ('browser_hash', fields.CharField(max_length=64)),
                ('nonce', fields.CharField(max_length=100)),
                ('code_verifier', fields.CharField(max_length=128)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sso_flows', on_delete=OnDelete.CASCADE)),
                ('invitation_token_hash', fields.CharField(null=True, max_length=64)),
                ('redirect_to', fields.CharField(default='/', max_length=500)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sso_flow', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A sign-in sent to a provider and not back yet: single use, short-lived, in the database so that the callback'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SsoIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sso_identities', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(max_length=255)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='sso_identities', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sso_identity', 'app': 'models', 'unique_together': (('organisation_id', 'subject'),), 'pk_attr': 'id', 'table_description': "Who a provider's subject is here: set when they first accept or sign in, then followed by subject alone."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SsoSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.OneToOneField('models.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='sso', on_delete=OnDelete.CASCADE)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sso_sessions', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(max_length=255)),
                ('sid', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'sso_session', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'subject']), Index(fields=['organisation_id', 'sid'])], 'pk_attr': 'id', 'table_description': 'A session a provider opened, with the subject and provider session (sid) a back-channel logout names.'},
            bases=['Model'],
        ),
    ]
