from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

# Issue 21 item 1: passkeys (WebAuthn) as a second factor, and their ceremonies' single-use challenges.
# Numbered 0023 beside the second-factor work (0021): once that merges, this depends on the one before it.

class Migration(migrations.Migration):
    dependencies = [('models', '0020_scim_defaults_and_records')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Passkey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='passkeys', on_delete=OnDelete.CASCADE)),
                ('credential_id', fields.CharField(unique=True, max_length=1400)),
                ('public_key', fields.BinaryField()),
                ('sign_count', fields.BigIntField(default=0)),
                ('transports', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('label', fields.CharField(max_length=80)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One WebAuthn credential of one member: its id and public key as the authenticator gave them at registration.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasskeyChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='passkey_challenges', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=12)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey_challenge', 'app': 'models', 'pk_attr': 'id', 'table_description': "A challenge handed to one member's browser: used once (the row is deleted as it is spent), and only before it"},
            bases=['Model'],
        ),
    ]
