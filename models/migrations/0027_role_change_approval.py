from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Issue 19 (approval gap): a role change to a role the organisation's approval rules cover becomes an invitation
# awaiting approval; it names the grant it changes, whose role it takes on acceptance (until then the member keeps it).

class Migration(migrations.Migration):
    dependencies = [('models', '0026_dormant_restore')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invitation',
            name='replaces_grant_id',
            field=fields.IntField(null=True),
        ),
    ]
