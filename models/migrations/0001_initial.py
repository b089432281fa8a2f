from tortoise import migrations
from tortoise.migrations import operations as ops
from models.enums import DeliveryState, InvitationState, OutboxState
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor_id', fields.IntField(null=True)),
                ('actor_email', fields.CharField(default='', max_length=320)),
                ('action', fields.CharField(max_length=40)),
                ('outcome', fields.CharField(default='ok', max_length=12)),
                ('organisation_id', fields.IntField(null=True)),
                ('deployment_id', fields.IntField(null=True)),
                ('target', fields.CharField(default='', max_length=320)),
                ('detail', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'at']), Index(fields=['action', 'at']), Index(fields=['at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(unique=True, max_length=320)),
                ('full_name', fields.CharField(max_length=120)),
                ('password_hash', fields.CharField(max_length=255)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'staff_member', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoginTicket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket_hash', fields.CharField(unique=True, max_length=64)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='login_tickets', on_delete=OnDelete.CASCADE)),
                ('redirect_to', fields.CharField(default='/', max_length=500)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used', fields.BooleanField(default=False)),
            ],
            options={'table': 'login_ticket', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A one-time, short-lived hand-over from the login form to the cookie-setting endpoint.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Organisation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=120)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('archived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.StaffMember', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_organisations', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'organisation', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Deployment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='deployments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=120)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'deployment', 'app': 'models', 'unique_together': (('organisation', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Role',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(null=True, unique=True, max_length=40)),
                ('name', fields.CharField(max_length=80)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='custom_roles', on_delete=OnDelete.CASCADE)),
                ('levels', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('permissions', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('admin_rank', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'role', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A named set of permissions. Default roles have a key, custom roles an organisation.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('email', fields.CharField(max_length=320)),
                ('role', fields.ForeignKeyField('models.Role', source_field='role_id', db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('level', fields.CharField(max_length=12)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('deployment', fields.ForeignKeyField('models.Deployment', source_field='deployment_id', null=True, db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.CASCADE)),
                ('scope_key', fields.CharField(max_length=40)),
                ('invited_by', fields.ForeignKeyField('models.StaffMember', source_field='invited_by_id', null=True, db_constraint=True, to_field='id', related_name='sent_invitations', on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('state', fields.CharEnumField(default=InvitationState.PENDING, description='PENDING: pending\nACCEPTED: accepted\nDELETED: deleted', enum_type=InvitationState, max_length=12)),
                ('delivery_state', fields.CharEnumField(default=DeliveryState.QUEUED, description='QUEUED: queued\nSENT: sent\nFAILED: failed', enum_type=DeliveryState, max_length=12)),
                ('delivery_error', fields.CharField(default='', max_length=500)),
                ('lifetime_hours', fields.IntField()),
                ('send_count', fields.IntField(default=1)),
                ('sends_today', fields.IntField(default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'invitation', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'state', 'created_at']), Index(fields=['state', 'created_at']), Index(fields=['email', 'scope_key', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=20)),
                ('recipient', fields.CharField(max_length=320)),
                ('context', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('link', fields.CharField(null=True, max_length=500)),
                ('invitation', fields.ForeignKeyField('models.Invitation', source_field='invitation_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('organisation_id', fields.IntField(null=True)),
                ('state', fields.CharEnumField(default=OutboxState.QUEUED, description='QUEUED: queued\nSENDING: sending\nSENT: sent\nFAILED: failed', enum_type=OutboxState, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'indexes': [Index(fields=['state', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'An email waiting to leave, written in the same transaction as what caused it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoleAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('role', fields.ForeignKeyField('models.Role', source_field='role_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('level', fields.CharField(max_length=12)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('deployment', fields.ForeignKeyField('models.Deployment', source_field='deployment_id', null=True, db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('scope_key', fields.CharField(max_length=40)),
                ('granted_by', fields.ForeignKeyField('models.StaffMember', source_field='granted_by_id', null=True, db_constraint=True, to_field='id', related_name='granted_assignments', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'role_assignment', 'app': 'models', 'unique_together': (('member', 'role', 'scope_key'),), 'indexes': [Index(fields=['organisation_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One role held by one member in one scope (platform, organisation or deployment).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('member', fields.ForeignKeyField('models.StaffMember', source_field='member_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A signed-in browser. Only the hash of its cookie value is stored.'},
            bases=['Model'],
        ),
    ]
