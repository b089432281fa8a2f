"""Approval and access reviews (issue 19): which invitations need a second person, and review campaigns."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organisations import Deployment, Organisation
    from models.staff import Role, RoleAssignment, StaffMember


class ApprovalRule(Model):
    """Invitations to this role, or to any role holding this permission, need a second person's approval."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="approval_rules", on_delete=fields.CASCADE
    )
    role: fields.ForeignKeyNullableRelation["Role"] = fields.ForeignKeyField(
        "models.Role", related_name="approval_rules", null=True, on_delete=fields.CASCADE
    )
    permission = fields.CharField(max_length=40, null=True)  # a Permission value, when the rule names one

    organisation_id: int
    role_id: int | None

    class Meta:
        table = "approval_rule"
        unique_together = (("organisation", "role", "permission"),)


class ReviewCampaign(Model):
    """One access review of an organisation (or one deployment): every live grant there becomes an item."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="review_campaigns", on_delete=fields.CASCADE
    )
    deployment: fields.ForeignKeyNullableRelation["Deployment"] = fields.ForeignKeyField(
        "models.Deployment", related_name="review_campaigns", null=True, on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=120)
    started_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="started_reviews", null=True, on_delete=fields.SET_NULL
    )
    scheduled = fields.BooleanField(default=False)  # started by the organisation's schedule, not by a person
    started_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    closed_at = fields.DatetimeField(null=True)  # locked: no decision changes after this
    remove_unanswered = fields.BooleanField(default=False)  # at the deadline, unanswered grants end
    privileged_only = fields.BooleanField(default=False)  # of the privileged roles' grants only (the schedule's kind)
    # Set at the deadline when the organisation did not choose removal: the open items went to its owners, and the
    # review stays open (Overdue: with the owners) until they decide the last one; then it is locked.
    overdue_at = fields.DatetimeField(null=True)

    organisation_id: int
    deployment_id: int | None
    started_by_id: int | None
    items: fields.ReverseRelation["ReviewItem"]

    class Meta:
        table = "review_campaign"
        indexes = (("organisation_id", "closed_at"), ("closed_at", "due_at"))


class ReviewItem(Model):
    """One grant under review: who should decide, and what was decided (keep, change, end, remove)."""

    id = fields.IntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[ReviewCampaign] = fields.ForeignKeyField(
        "models.ReviewCampaign", related_name="items", on_delete=fields.CASCADE
    )
    assignment: fields.ForeignKeyRelation["RoleAssignment"] = fields.ForeignKeyField(
        "models.RoleAssignment", related_name="review_items", on_delete=fields.CASCADE
    )
    member_id = fields.IntField()  # whose access: never its own reviewer
    reviewer: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="assigned_reviews", null=True, on_delete=fields.SET_NULL
    )  # the grant's sponsor when they may review it; else anyone holding *review access* there
    decision = fields.CharField(max_length=12, default="")  # keep | change | end | remove | unanswered; "": open
    decided_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="review_decisions", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    comment = fields.CharField(max_length=500, default="")

    campaign_id: int
    assignment_id: int
    reviewer_id: int | None
    decided_by_id: int | None

    class Meta:
        table = "review_item"
        indexes = (("campaign_id", "decision"), ("reviewer_id", "decision"), ("assignment_id",))
