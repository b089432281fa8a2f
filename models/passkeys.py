"""Passkeys (WebAuthn credentials) a member registered as a second factor, and the ceremonies' pending challenges."""

from tortoise import fields
from tortoise.models import Model

from models.staff import StaffMember


class Passkey(Model):
    """One WebAuthn credential of one member: its id and public key as the authenticator gave them at registration."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="passkeys", on_delete=fields.CASCADE
    )
    credential_id = fields.CharField(max_length=1400, unique=True)  # base64url; WebAuthn allows up to 1023 bytes
    public_key = fields.BinaryField()  # COSE_Key bytes
    sign_count = fields.BigIntField(default=0)  # the authenticator's counter (0 for those that keep none)
    transports: list[str] = fields.JSONField(default=list)  # usb, nfc, ble, internal, hybrid: hints for the browser
    label = fields.CharField(max_length=80)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    member_id: int

    class Meta:
        table = "passkey"
        ordering = ("id",)


class PasskeyChallenge(Model):
    """A challenge handed to one member's browser: used once (the row is deleted as it is spent), and only before it
    expires. Kept in the database, so any process may finish a ceremony another began."""

    id = fields.IntField(primary_key=True)
    member: fields.ForeignKeyRelation[StaffMember] = fields.ForeignKeyField(
        "models.StaffMember", related_name="passkey_challenges", on_delete=fields.CASCADE
    )
    purpose = fields.CharField(max_length=12)  # register or sign_in
    challenge_hash = fields.CharField(max_length=64, unique=True)  # SHA-256 of the challenge
    expires_at = fields.DatetimeField(db_index=True)

    member_id: int

    class Meta:
        table = "passkey_challenge"
