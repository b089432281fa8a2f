"""Integrations (issue 20): API tokens that act for an organisation or one deployment."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organisations import Deployment, Organisation
    from models.staff import StaffMember


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

    organisation_id: int
    deployment_id: int | None
    created_by_id: int | None

    class Meta:
        table = "api_token"
        indexes = (("organisation_id", "revoked_at"),)
