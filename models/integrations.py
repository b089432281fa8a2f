"""Integrations (issue 20): API tokens that act for an organisation or one deployment."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.enums import OutboxState

if TYPE_CHECKING:
    from models.organisations import Deployment, Organisation
    from models.staff import Role, StaffMember


class ApiToken(Model):
    """A named token: what it may do (a subset of its creator's permissions there), where, until when. Only its
    SHA-256 is stored; the token is shown once, when it is made."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="api_tokens", on_delete=fields.CASCADE
    )
    deployment: fields.ForeignKeyNullableRelation["Deployment"] = fields.ForeignKeyField(
        "models.Deployment", related_name="api_tokens", null=True, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=80)
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)  # the token's first characters, to recognise it in the list
    permissions: list[str] = fields.JSONField(default=list)
    created_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="api_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # SCIM: the role of the token's scope given to a user its identity provider creates without naming one
    default_role: fields.ForeignKeyNullableRelation["Role"] = fields.ForeignKeyField(
        "models.Role", related_name="default_for_tokens", null=True, on_delete=fields.SET_NULL
    )

    organisation_id: int
    deployment_id: int | None
    created_by_id: int | None
    default_role_id: int | None

    class Meta:
        table = "api_token"
        indexes = (("organisation_id", "revoked_at"),)


class ScimRecord(Model):
    """What an identity provider told Gatehouse over SCIM about a User or Group in one scope.

    Beyond grants and invitations: its externalId, and that a User is still known there (a deactivated User stays a
    SCIM resource, with active false, until the provider deletes it)."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="scim_records", on_delete=fields.CASCADE
    )
    scope_key = fields.CharField(max_length=40)
    kind = fields.CharField(max_length=8)  # "user" or "group"
    key = fields.CharField(max_length=320)  # the address, or the role id
    user_name = fields.CharField(max_length=320, null=True)  # a User's userName when it is not its address
    external_id = fields.CharField(max_length=255, null=True)

    organisation_id: int

    class Meta:
        table = "scim_record"
        unique_together = (("scope_key", "kind", "key"),)


class WebhookEndpoint(Model):
    """An HTTPS address an organisation's events are posted to, signed with its secret (Standard Webhooks). The
    secret is stored as it is: signing needs it (docs/SECURITY.md); it is shown once, when the endpoint is made."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="webhook_endpoints", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=500)
    description = fields.CharField(max_length=200, default="")
    event_types: list[str] = fields.JSONField(default=list)
    secret = fields.CharField(max_length=80)
    created_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="webhook_endpoints", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    disabled_at = fields.DatetimeField(null=True)

    organisation_id: int
    created_by_id: int | None

    class Meta:
        table = "webhook_endpoint"
        indexes = (("organisation_id", "disabled_at"),)


class WebhookDelivery(Model):
    """One event for one endpoint, in the webhook outbox: the body is kept exactly as it is signed on every attempt."""

    id = fields.IntField(primary_key=True)
    endpoint: fields.ForeignKeyRelation[WebhookEndpoint] = fields.ForeignKeyField(
        "models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_id = fields.CharField(max_length=40)  # webhook-id: "msg_…", the same at every endpoint and attempt
    event_type = fields.CharField(max_length=40)
    body = fields.TextField()
    state = fields.CharEnumField(OutboxState, max_length=12, default=OutboxState.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_by = fields.CharField(max_length=64, null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_status = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    endpoint_id: int

    class Meta:
        table = "webhook_delivery"
        unique_together = (("endpoint_id", "event_id"),)
        indexes = (("state", "next_attempt_at"), ("endpoint_id", "created_at"))


class ApiRateWindow(Model):
    """How many calls a token made in one fixed window (one row per token and window): shared by every process."""

    id = fields.IntField(primary_key=True)
    token: fields.ForeignKeyRelation[ApiToken] = fields.ForeignKeyField(
        "models.ApiToken", related_name="rate_windows", on_delete=fields.CASCADE
    )
    window_start = fields.BigIntField()  # seconds since the epoch at the window's start
    calls = fields.IntField(default=0)

    token_id: int

    class Meta:
        table = "api_rate_window"
        unique_together = (("token_id", "window_start"),)
