from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

# Issue 21: second factors (TOTP, recovery codes), the organisation's policy, the log-in step before a session,
# and attempt counters shared by every process.

class Migration(migrations.Migration):
    dependencies = [('models', '0022_single_sign_on')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AttemptWindow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject', fields.CharField(max_length=80)),
                ('window_start', fields.BigIntField()),
                ('attempts', fields.IntField(default=0)),
            ],
            options={'table': 'attempt_window', 'app': 'models', 'unique_together': (('subject', 'window_start'),), 'pk_attr': 'id', 'table_description': "How many attempts one subject made in one fixed window: shared by every process."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FactorChallenge',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='factor_challenges', on_delete=OnDelete.CASCADE)),
                ('redirect_to', fields.CharField(default='/', max_length=500)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used', fields.BooleanField(default=False)),
                ('enrolled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'factor_challenge', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The step between a right password and a session: the member must give a code (or enrol a factor first).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_code', 'app': 'models', 'unique_together': (('member_id', 'code_hash'),), 'pk_attr': 'id', 'table_description': 'One single-use recovery code of a member: only its SHA-256 is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecondFactorPolicy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', unique=True, db_constraint=True, to_field='id', related_name='second_factor_policy', on_delete=OnDelete.CASCADE)),
                ('role_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'second_factor_policy', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The roles whose holders need a second factor in this organisation, as chosen there. No row: the default'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TotpFactor',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', unique=True, db_constraint=True, to_field='id', related_name='totp_factors', on_delete=OnDelete.CASCADE)),
                ('secret_box', fields.CharField(max_length=200)),
                ('last_step', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'totp_factor', 'app': 'models', 'pk_attr': 'id', 'table_description': "A member's authenticator app: the shared secret, encrypted under a key derived from GATEHOUSE_SECRET, and the"},
            bases=['Model'],
        ),
    ]
