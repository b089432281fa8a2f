from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# Issue 20: an API token's default role for the users its identity provider creates without one, and what SCIM
# remembers of a User or Group beyond grants (its externalId; a deactivated User until it is deleted).

class Migration(migrations.Migration):
    dependencies = [('models', '0019_api_rate_limits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ScimRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='scim_records', on_delete=OnDelete.CASCADE)),
                ('scope_key', fields.CharField(max_length=40)),
                ('kind', fields.CharField(max_length=8)),
                ('key', fields.CharField(max_length=320)),
                ('user_name', fields.CharField(null=True, max_length=320)),
                ('external_id', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'scim_record', 'app': 'models', 'unique_together': (('scope_key', 'kind', 'key'),), 'pk_attr': 'id', 'table_description': 'What an identity provider told Gatehouse over SCIM about a User or Group in one scope.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiToken',
            name='default_role',
            field=fields.ForeignKeyField('models.Role', source_field='default_role_id', null=True, db_constraint=True, to_field='id', related_name='default_for_tokens', on_delete=OnDelete.SET_NULL),
        ),
    ]
