from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

from models.migration_ops import AddFieldWithDefault

# Issue 21: a single sign-on that waits for Gatehouse's own second factor (or, accepting, for the invitee to set one up)
# keeps what its session will carry here; an organisation names the `acr` values that mean its provider did a
# multi-factor sign-in.

class Migration(migrations.Migration):
    dependencies = [('models', '0023_second_factors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SsoFactorStep',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='sso_factor_steps', on_delete=OnDelete.CASCADE)),
                ('subject', fields.CharField(max_length=255)),
                ('sid', fields.CharField(null=True, max_length=255)),
                ('ends_by', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('enrol', fields.BooleanField(default=False)),
                ('invitation_token_hash', fields.CharField(null=True, max_length=64)),
                ('email', fields.CharField(default='', max_length=320)),
                ('full_name', fields.CharField(default='', max_length=200)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='sso_factor_steps', on_delete=OnDelete.CASCADE)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sso_factor_step', 'app': 'models', 'pk_attr': 'id', 'table_description': "A provider's sign-in waiting for Gatehouse's own second factor (the member's roles need one and the provider did"},
            bases=['Model'],
        ),
        AddFieldWithDefault(
            model_name='SsoConnection',
            name='mfa_acr_values',
            field=fields.CharField(default='', max_length=1000),
            table="sso_connection",
            column_sql="mfa_acr_values VARCHAR(1000) NOT NULL DEFAULT ''",
        ),
    ]
