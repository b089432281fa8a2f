"""Staff members, roles, role assignments and sessions."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organisations import Deployment, Organisation


class Role(Model):
    """A named set of permissions. Default roles have a key, custom roles an organisation."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=40, null=True, unique=True)
    name = fields.CharField(max_length=80)
    organisation: fields.ForeignKeyNullableRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="custom_roles", null=True, on_delete=fields.CASCADE
    )
    levels: list[str] = fields.JSONField(default=list)
    permissions: list[str] = fields.JSONField(default=list)
    admin_rank = fields.IntField(default=0)  # > 0 only for Admin Portal roles
    privileged = fields.BooleanField(default=False)  # reviewed monthly rather than every review period (issue 19)
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)  # custom roles are retired, not erased: history refers to them

    organisation_id: int | None

    class Meta:
        table = "role"
        ordering = ("id",)

    @property
    def is_admin_portal(self) -> bool:
        return self.admin_rank > 0

    def __str__(self) -> str:
        return self.name


class StaffMember(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=320, unique=True)
    full_name = fields.CharField(max_length=120)
    password_hash = fields.CharField(max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    is_active = fields.BooleanField(default=True)  # False: suspended, every grant stopped (services/organisations)
    suspended_at = fields.DatetimeField(null=True)
    last_login_at = fields.DatetimeField(null=True)  # None: never logged in (an account made by acceptance has)

    assignments: fields.ReverseRelation["RoleAssignment"]

    class Meta:
        table = "staff_member"

    def __str__(self) -> str:
        return self.email


class RoleAssignment(Model):
    """One role held by one member in one scope (platform, organisation or deployment)."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="assignments", on_delete=fields.CASCADE
    )
    role: fields.ForeignKeyRelation[Role] = fields.ForeignKeyField(
        "models.Role", related_name="assignments", on_delete=fields.CASCADE
    )
    level = fields.CharField(max_length=12)
    organisation: fields.ForeignKeyNullableRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="assignments", null=True, on_delete=fields.CASCADE
    )
    deployment: fields.ForeignKeyNullableRelation["Deployment"] = fields.ForeignKeyField(
        "models.Deployment", related_name="assignments", null=True, on_delete=fields.CASCADE
    )
    scope_key = fields.CharField(max_length=40)
    granted_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="granted_assignments", null=True, on_delete=fields.SET_NULL
    )
    # The grant's sponsor: the person accountable for it (by default whoever invited), and when it ends by itself.
    sponsor: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sponsored_grants", null=True, on_delete=fields.SET_NULL
    )
    ends_at = fields.DatetimeField(null=True)
    # Set when the grant ended (its end came, or it was taken away): the row stays as the member's history, and no
    # access check reads it (services/access/grants.py). One live grant per member, role and scope: migration 0010.
    ended_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Issue 19: who approved it (when its invitation needed a second person), and its last access review.
    approved_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="approved_grants", null=True, on_delete=fields.SET_NULL
    )
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="reviewed_grants", null=True, on_delete=fields.SET_NULL
    )
    # How it ended, for the evidence pack: ended (its end came), removed, dormant, review, role_deleted; and by whom.
    end_reason = fields.CharField(max_length=20, default="")
    ended_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="ended_grants", null=True, on_delete=fields.SET_NULL
    )
    # The last request that still succeeded through it after access should have stopped (its end or removal):
    # time-to-revoke (PRODUCT.md), recorded by services/access/late_requests.py. None: none did.
    last_request_after_stop = fields.DatetimeField(null=True)
    # A grant dormancy suspended (end_reason "dormant"): the end it had before (None: none), and when Restore access
    # gave it back as a new grant (services/organisations/dormant_restore.py).
    ends_at_before = fields.DatetimeField(null=True)
    restored_at = fields.DatetimeField(null=True)

    member_id: int
    role_id: int
    organisation_id: int | None
    deployment_id: int | None
    sponsor_id: int | None
    granted_by_id: int | None
    approved_by_id: int | None
    reviewed_by_id: int | None
    ended_by_id: int | None

    class Meta:
        table = "role_assignment"
        indexes = (("organisation_id", "created_at"), ("ended_at", "ends_at"))

    @property
    def live(self) -> bool:
        return self.ended_at is None


class Session(Model):
    """A signed-in browser. Only the hash of its cookie value is stored."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    last_seen_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "session"


class LoginTicket(Model):
    """A one-time, short-lived hand-over from the login form to the cookie-setting endpoint."""

    id = fields.IntField(primary_key=True)
    ticket_hash = fields.CharField(max_length=64, unique=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="login_tickets", on_delete=fields.CASCADE
    )
    redirect_to = fields.CharField(max_length=500, default="/")
    expires_at = fields.DatetimeField()
    used = fields.BooleanField(default=False)

    member_id: int

    class Meta:
        table = "login_ticket"
