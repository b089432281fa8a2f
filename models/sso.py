"""Single sign-on (issue 21 item 2): an organisation's OpenID Connect provider, the sign-ins under way, who each
provider subject is here, and which sessions a provider opened (so that it can end them)."""

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organisations import Organisation
    from models.staff import Session, StaffMember


class SsoConnection(Model):
    """One organisation's OpenID Connect provider. The client secret is kept sealed (AES-GCM under a key derived from
    GATEHOUSE_SECRET, services/sso/sealing.py), never as it was typed."""

    id = fields.IntField(primary_key=True)
    organisation: fields.OneToOneRelation["Organisation"] = fields.OneToOneField(
        "models.Organisation", related_name="sso_connection", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=80)  # what the button says: "Sign in with <name>"
    issuer = fields.CharField(max_length=500)
    client_id = fields.CharField(max_length=255)
    client_secret_sealed = fields.TextField()
    required = fields.BooleanField(default=False)  # invitees set no password, members sign in only through it
    email_domains: list[str] = fields.JSONField(default=list)  # the log-in page offers it for these domains
    # ID token `acr` values (space-separated) that mean a multi-factor sign-in at this provider: Gatehouse then asks
    # for no second factor of its own (nor does any amr value of services/sso/flows.MFA_METHODS).
    mfa_acr_values = fields.CharField(max_length=1000, default="")
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    organisation_id: int

    class Meta:
        table = "sso_connection"


class SsoFlow(Model):
    """A sign-in sent to a provider and not back yet: single use, short-lived, in the database so that the callback
    may reach any process. Only hashes of the state and of the browser's binding cookie are kept."""

    id = fields.IntField(primary_key=True)
    state_hash = fields.CharField(max_length=64, unique=True)
    browser_hash = fields.CharField(max_length=64)
    nonce = fields.CharField(max_length=100)
    code_verifier = fields.CharField(max_length=128)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="sso_flows", on_delete=fields.CASCADE
    )
    invitation_token_hash = fields.CharField(max_length=64, null=True)  # None: a log-in, not an acceptance
    redirect_to = fields.CharField(max_length=500, default="/")
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    organisation_id: int

    class Meta:
        table = "sso_flow"


class SsoIdentity(Model):
    """Who a provider's subject is here: set when they first accept or sign in, then followed by subject alone."""

    id = fields.IntField(primary_key=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="sso_identities", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=255)
    member: fields.ForeignKeyRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sso_identities", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()

    organisation_id: int
    member_id: int

    class Meta:
        table = "sso_identity"
        unique_together = (("organisation_id", "subject"),)


class SsoSession(Model):
    """A session a provider opened, with the subject and provider session (sid) a back-channel logout names."""

    id = fields.IntField(primary_key=True)
    session: fields.OneToOneRelation["Session"] = fields.OneToOneField(
        "models.Session", related_name="sso", on_delete=fields.CASCADE
    )
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="sso_sessions", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=255)
    sid = fields.CharField(max_length=255, null=True)

    session_id: int
    organisation_id: int

    class Meta:
        table = "sso_session"
        indexes = (("organisation_id", "subject"), ("organisation_id", "sid"))


class SsoFactorStep(Model):
    """A provider's sign-in waiting for Gatehouse's own second factor (the member's roles need one and the provider did
    not assert multi-factor): what the session will carry once the factor is given. Keyed by the hash of its key (a
    log-in's: its FactorChallenge's); spent once."""

    id = fields.IntField(primary_key=True)
    challenge_hash = fields.CharField(max_length=64, unique=True)
    organisation: fields.ForeignKeyRelation["Organisation"] = fields.ForeignKeyField(
        "models.Organisation", related_name="sso_factor_steps", on_delete=fields.CASCADE
    )
    subject = fields.CharField(max_length=255)
    sid = fields.CharField(max_length=255, null=True)
    ends_by = fields.DatetimeField(null=True)  # the ID token's exp, where the organisation requires single sign-on
    enrol = fields.BooleanField(default=False)  # the member has no factor yet: they set one up first
    # An acceptance waiting for its invitee to set up a factor (their role needs one): the invitation's link hash and
    # who the provider vouched for; the account, factor and grant are made together once the app is confirmed.
    invitation_token_hash = fields.CharField(max_length=64, null=True)
    email = fields.CharField(max_length=320, default="")
    full_name = fields.CharField(max_length=200, default="")
    member: fields.ForeignKeyNullableRelation["StaffMember"] = fields.ForeignKeyField(
        "models.StaffMember", related_name="sso_factor_steps", on_delete=fields.CASCADE, null=True
    )  # whose session it becomes (an acceptance's: once accepted)
    expires_at = fields.DatetimeField(db_index=True)
    used_at = fields.DatetimeField(null=True)

    organisation_id: int
    member_id: int | None

    class Meta:
        table = "sso_factor_step"
