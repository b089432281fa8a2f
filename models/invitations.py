"""Invitations, outbox messages and audit events."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import DeliveryState, InvitationState, OutboxState

if TYPE_CHECKING:
    from models.organisations import Deployment, Organisation
    from models.staff import Role, StaffMember


class Invitation(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320)
    role: fields.ForeignKeyRelation["Role"] = fields.ForeignKeyField(
        "models.Role", related_name="invitations", on_delete=fields.CASCADE
    )
    level = fields.CharField(max_length=12)
    organisation: fields.ForeignKeyNullableRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    deployment: fields.ForeignKeyNullableRelation["Deployment"] = fields.ForeignKeyField(
        "models.Deployment", related_name="invitations", null=True, on_delete=fields.CASCADE
    )
    scope_key = fields.CharField(max_length=40)
    invited_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sent_invitations", null=True, on_delete=fields.SET_NULL
    )
    # What the grant will carry on acceptance: its sponsor (by default the inviter) and when it ends (None: never).
    sponsor: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sponsored_invitations", null=True, on_delete=fields.SET_NULL
    )
    ends_at = fields.DatetimeField(null=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    state = fields.CharEnumField(InvitationState, max_length=12, default=InvitationState.PENDING)
    delivery_state = fields.CharEnumField(DeliveryState, max_length=12, default=DeliveryState.QUEUED)
    delivery_error = fields.CharField(max_length=500, default="")
    lifetime_hours = fields.IntField()
    send_count = fields.IntField(default=1)
    sends_today = fields.IntField(default=1)
    created_at = fields.DatetimeField()
    last_sent_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)
    # The reminder (issue 18): due a day before expiry for 72-hour and 7-day links. It carries the same link, so the
    # link's seed stays until the reminder is queued (the token still needs GATEHOUSE_SECRET; docs/SECURITY.md).
    # Two-person approval (issue 19): "" when none is needed, else awaiting | approved | declined. No email leaves
    # while it awaits; a declined one is deleted, never sent.
    approval = fields.CharField(max_length=12, default="")
    approved_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="approved_invitations", null=True, on_delete=fields.SET_NULL
    )
    approval_reason = fields.CharField(max_length=500, default="")
    # A role change waiting for approval (services/approvals/role_changes.py): the grant whose role it changes on
    # acceptance (None: an ordinary invitation, which adds a grant).
    replaces_grant_id = fields.IntField(null=True)
    approval_decided_at = fields.DatetimeField(null=True)  # when it was approved or declined (the inviter's view)
    remind_at = fields.DatetimeField(null=True)
    reminder_seed = fields.CharField(max_length=64, null=True)
    reminded_at = fields.DatetimeField(null=True)

    role_id: int
    organisation_id: int | None
    deployment_id: int | None
    invited_by_id: int | None
    sponsor_id: int | None
    approved_by_id: int | None

    class Meta:
        table = "invitation"
        # The pending list's sorts end in id, its tie-breaker: PostgreSQL then seeks a keyset page with one
        # row-value comparison and reads it in order, even inside thousands of rows one CSV import created at
        # the same instant (SQLite appends the rowid to every index anyway). docs/PERFORMANCE.md
        indexes = (
            ("organisation_id", "state", "created_at", "id"),
            ("organisation_id", "state", "expires_at", "id"),
            ("organisation_id", "state", "last_sent_at", "id"),
            ("organisation_id", "state", "email", "id"),
            ("state", "created_at"),
            ("email", "scope_key", "state"),
            ("remind_at",),
            ("invited_by_id", "approval_decided_at"),
        )


class PendingCount(Model):
    """How many pending invitations an organisation has, per deployment (0: to the whole organisation).

    The database keeps it in step with `invitation` by triggers (models/derived.py, migration 0008), so no write
    path can forget it: the pending list reads its total here instead of counting the organisation's rows.
    """

    id = fields.IntField(primary_key=True)
    organisation_id = fields.IntField()
    deployment_id = fields.IntField()  # 0 for invitations to the whole organisation
    pending = fields.IntField(default=0)

    class Meta:
        table = "pending_count"
        unique_together = (("organisation_id", "deployment_id"),)


class OutboxMessage(Model):
    """An email waiting to leave, written in the same transaction as what caused it."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)
    recipient = fields.CharField(max_length=320)
    context: dict = fields.JSONField(default=dict)
    # The random seed its link's token is derived from under GATEHOUSE_SECRET (services/access/tokens.py): the token
    # itself is never stored. Cleared once the email is sent, failed or cancelled.
    link_seed = fields.CharField(max_length=64, null=True)
    invitation: fields.ForeignKeyNullableRelation[Invitation] = fields.ForeignKeyField(
        "models.Invitation", related_name="messages", null=True, on_delete=fields.SET_NULL
    )
    organisation_id = fields.IntField(null=True)
    state = fields.CharEnumField(OutboxState, max_length=12, default=OutboxState.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    invitation_id: int | None

    class Meta:
        table = "outbox_message"
        # (invitation_id, id): the worker asks per batch which email is the newest of each invitation
        indexes = (("state", "next_attempt_at"), ("invitation_id", "id"))


class AccessNotice(Model):
    """A warning email that went (or is queued): its key makes each one go once, whichever process sends it."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=120, unique=True)  # e.g. "end:<grant>:<days>:<end>", "dormant:<org>:<member>:…"
    member_id = fields.IntField()
    organisation_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "access_notice"


class AuditEvent(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    actor_id = fields.IntField(null=True)
    actor_email = fields.CharField(max_length=320, default="")
    action = fields.CharField(max_length=40)
    outcome = fields.CharField(max_length=12, default="ok")
    organisation_id = fields.IntField(null=True)
    deployment_id = fields.IntField(null=True)
    target = fields.CharField(max_length=320, default="")
    detail: dict = fields.JSONField(default=dict)
    # Tamper evidence (services/audit/chain.py): one process seals events in turn, each hash covering the event and
    # the hash before it; `seal` is the event's place in that chain (None: written, not yet sealed).
    seal = fields.BigIntField(null=True, unique=True)
    hash = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_event"
        indexes = (("organisation_id", "at"), ("action", "at"), ("at",))
