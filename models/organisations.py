"""Organisations and their deployments."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.staff import Role, StaffMember


class Organisation(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=120, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    archived_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="created_organisations", null=True, on_delete=fields.SET_NULL
    )
    # Its access settings (services/organisations/access_settings.py): days before a grant's end that the member
    # and sponsor are warned, whether pending invitations get a reminder, and when a member counts as dormant.
    end_warning_days = fields.CharField(max_length=40, default="14,7,1")
    invitation_reminders = fields.BooleanField(default=True)
    dormant_days = fields.IntField(default=90)
    end_dormant_access = fields.BooleanField(default=False)  # end dormant members' grants here, warned 7 days before
    # Access reviews (issue 19): every review_every_days (0: none), privileged roles every privileged_review_days.
    review_every_days = fields.IntField(default=90)
    privileged_review_days = fields.IntField(default=30)
    reviews_remove_unanswered = fields.BooleanField(default=False)

    deployments: fields.ReverseRelation["Deployment"]

    class Meta:
        table = "organisation"
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Deployment(Model):
    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="deployments", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=120)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    # Its own access review schedule (services/reviews/deployment_schedules.py); None: the organisation's covers it.
    review_every_days = fields.IntField(null=True)
    privileged_review_days = fields.IntField(null=True)
    review_schedule_since = fields.DatetimeField(null=True)  # its own schedule's first reviews count from then

    organisation_id: int

    class Meta:
        table = "deployment"
        unique_together = (("organisation", "name"),)
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class GrantPolicy(Model):
    """An organisation's rule for one role: every grant of it must end, at most max_days after it is given."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="grant_policies", on_delete=fields.CASCADE
    )
    role: fields.ForeignKeyRelation["Role"] = fields.ForeignKeyField(
        "models.Role", related_name="grant_policies", on_delete=fields.CASCADE
    )
    max_days = fields.IntField()

    organisation_id: int
    role_id: int

    class Meta:
        table = "grant_policy"
        unique_together = (("organisation", "role"),)
