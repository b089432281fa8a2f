"""What the evidence pack needs of the past that the current rows do not keep: each role a grant held (a role change
keeps the grant and its id), and each suspension of an account with its restore (issue 19 item 3)."""

from tortoise import fields
from tortoise.models import Model

from models.staff import Role, RoleAssignment, StaffMember


class RoleChange(Model):
    """A grant moved from one role to another: from then on it is a new role period, given by changed_by and approved
    by approved_by (None: no approval happened). Role names are kept as they were, the roles may be retired."""

    id = fields.IntField(primary_key=True)
    assignment: fields.ForeignKeyRelation[RoleAssignment] = fields.ForeignKeyField(
        "models.RoleAssignment", related_name="role_changes", on_delete=fields.CASCADE
    )
    from_role: fields.ForeignKeyNullableRelation[Role] = fields.ForeignKeyField(
        "models.Role", related_name="changes_from", null=True, on_delete=fields.SET_NULL
    )
    to_role: fields.ForeignKeyNullableRelation[Role] = fields.ForeignKeyField(
        "models.Role", related_name="changes_to", null=True, on_delete=fields.SET_NULL
    )
    from_role_name = fields.CharField(max_length=80)
    to_role_name = fields.CharField(max_length=80)
    changed_at = fields.DatetimeField()
    changed_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="role_changes_made", null=True, on_delete=fields.SET_NULL
    )
    approved_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="role_changes_approved", null=True, on_delete=fields.SET_NULL
    )

    assignment_id: int
    from_role_id: int | None
    to_role_id: int | None
    changed_by_id: int | None
    approved_by_id: int | None

    class Meta:
        table = "role_change"
        indexes = (("assignment_id", "changed_at"),)


class AccountSuspension(Model):
    """One suspension of an account, its restore, and the last request that still succeeded after it (time-to-revoke,
    PRODUCT.md), which the processes that let requests through record (services/access/late_requests.py)."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="suspensions", on_delete=fields.CASCADE
    )
    suspended_at = fields.DatetimeField()
    suspended_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="suspensions_made", null=True, on_delete=fields.SET_NULL
    )
    restored_at = fields.DatetimeField(null=True)
    restored_by: fields.ForeignKeyNullableRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="restores_made", null=True, on_delete=fields.SET_NULL
    )
    last_request_after = fields.DatetimeField(null=True)

    member_id: int
    suspended_by_id: int | None
    restored_by_id: int | None

    class Meta:
        table = "account_suspension"
        indexes = (("member_id", "suspended_at"), ("suspended_at",))
