from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# Issue 20: per-token rate limits shared by every process (one row per token and fixed window).

class Migration(migrations.Migration):
    dependencies = [('models', '0018_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiRateWindow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.ForeignKeyField('models.ApiToken', source_field='token_id', db_constraint=True, to_field='id', related_name='rate_windows', on_delete=OnDelete.CASCADE)),
                ('window_start', fields.BigIntField()),
                ('calls', fields.IntField(default=0)),
            ],
            options={'table': 'api_rate_window', 'app': 'models', 'unique_together': (('token_id', 'window_start'),), 'pk_attr': 'id', 'table_description': 'How many calls a token made in one fixed window (one row per token and window): shared by every process.'},
            bases=['Model'],
        ),
    ]
