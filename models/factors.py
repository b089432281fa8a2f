"""Second factors (issue 21): an organisation's policy, a member's authenticator app (TOTP) and recovery codes, the
log-in step between the password and the session, and attempt counters shared by every process."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organisations import Organisation
    from models.staff import StaffMember


class SecondFactorPolicy(Model):
    """The roles whose holders need a second factor in this organisation, as chosen there. No row: the default
    (every role holding *view patient data*), and Admin Portal roles need one whatever is chosen."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="second_factor_policy", on_delete=fields.CASCADE, unique=True
    )
    role_ids: list[int] = fields.JSONField(default=list)

    organisation_id: int

    class Meta:
        table = "second_factor_policy"


class TotpFactor(Model):
    """A member's authenticator app: the shared secret, encrypted under a key derived from GATEHOUSE_SECRET, and the
    last time step a code was accepted for (each code works once)."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="totp_factors", on_delete=fields.CASCADE, unique=True
    )
    secret_box = fields.CharField(max_length=200)
    last_step = fields.BigIntField(default=0)
    created_at = fields.DatetimeField()

    member_id: int

    class Meta:
        table = "totp_factor"


class RecoveryCode(Model):
    """One single-use recovery code of a member: only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="recovery_codes", on_delete=fields.CASCADE
    )
    code_hash = fields.CharField(max_length=64)
    used_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "recovery_code"
        unique_together = (("member_id", "code_hash"),)


class FactorChallenge(Model):
    """The step between a right password and a session: the member must give a code (or enrol a factor first).
    Only the hash of its key is stored, and it is spent once, when the factor is given."""

    id = fields.IntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    member: fields.ForeignKeyRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="factor_challenges", on_delete=fields.CASCADE
    )
    redirect_to = fields.CharField(max_length=500, default="/")
    expires_at = fields.DatetimeField()
    used = fields.BooleanField(default=False)
    # When a member without a factor enrolled one through this challenge: they may then continue without a code
    # (after seeing their recovery codes), once, within its lifetime.
    enrolled_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "factor_challenge"


class AttemptWindow(Model):
    """How many attempts one subject made in one fixed window: shared by every process."""

    id = fields.IntField(primary_key=True)
    subject = fields.CharField(max_length=80)  # what is limited, such as "factor:42" (a member's codes)
    window_start = fields.BigIntField()  # seconds since the epoch at the window's start
    attempts = fields.IntField(default=0)

    class Meta:
        table = "attempt_window"
        unique_together = (("subject", "window_start"),)
