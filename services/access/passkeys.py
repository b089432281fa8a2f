"""Passkeys (WebAuthn) as a second factor: register one, prove one, list and remove a member's own.

Every ceremony's challenge is kept server-side (services/access/passkey_ceremony.py): bound to one member and one
purpose, short-lived, and spent before the browser's answer is verified, so it counts at most once in any process.
The relying party is GATEHOUSE_BASE_URL: its host name is the RP id, and it is the only origin accepted. Who the
member is comes from the caller: the signed-in actor on their security page, or the member whose password the log-in
or acceptance step has just checked (the second-factor flow, services/access/second_factor.py).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import webauthn
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import UserVerificationRequirement
from webauthn.registration.verify_registration_response import VerifiedRegistration

from models import Passkey, StaffMember
from services.access import passkey_ceremony as ceremony
from services.access import second_factor
from services.access.passkey_ceremony import REGISTER, SIGN_IN, CeremonyCancelled, CeremonyFailed
from services.access.service import Actor
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, PermissionDenied
from services.platform.clock import now

T = TypeVar("T")
MAX_LABEL = 80
NO_PASSKEY = "You have no passkey yet. Add one on your security page, or use another way to confirm it is you."
NOT_YOURS = "That passkey is not one of yours. It may have been removed already."
UNAVAILABLE = "Passkeys cannot be used for this account."
ALREADY_ADDED = "That passkey is already added to an account. Use it, or choose another device."
COUNTER_BACK = (
    "This passkey's use counter went backwards, which can mean it was copied, so it was not accepted. "
    "Use another way to confirm it is you, and tell your administrator."
)


@dataclass(frozen=True)
class PasskeyRow:
    """One passkey as its owner sees it."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, passkey: Passkey) -> "PasskeyRow":
        return cls(passkey.id, passkey.label, passkey.created_at, passkey.last_used_at)


def check_label(*, label: str) -> str:
    """The passkey's name as it will be kept (blank: a name is chosen), or FieldErrors at the label field."""
    cleaned = audit.one_line(label.strip())
    if len(cleaned) > MAX_LABEL:
        raise FieldErrors({"label": f"A passkey's name can be at most {MAX_LABEL} characters long."})
    return cleaned


async def registration_options(*, member_id: int) -> str:
    """The JSON options for navigator.credentials.create, with a fresh challenge bound to this member."""
    member = await _active_member(member_id)
    kept = await Passkey.filter(member_id=member_id).values_list("credential_id", "transports")
    challenge = await ceremony.new_challenge(member_id=member_id, purpose=REGISTER)
    return ceremony.registration_options(
        user_name=member.email,
        user_id=ceremony.user_handle(member_id),
        display_name=member.full_name,
        challenge=challenge,
        kept=[(str(c), list(t)) for c, t in kept],
    )


async def finish_registration(*, member_id: int, answer: Mapping[str, Any], label: str) -> PasskeyRow:
    """Verify the browser's answer to registration_options and keep the passkey; audited, refusals too."""
    name = check_label(label=label)
    member = await _active_member(member_id)
    credential = await _answered(member_id, REGISTER, answer)
    challenge = await ceremony.spend_challenge(member_id=member_id, purpose=REGISTER, credential=credential)
    verified = await _verified(
        member,
        "add_passkey",
        lambda: webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=ceremony.rp_id(),
            expected_origin=ceremony.origin(),
        ),
    )
    name = name or f"Passkey {await Passkey.filter(member_id=member_id).count() + 1}"
    passkey = await _kept(member, verified, transports=ceremony.transports_of(credential), label=name)
    return PasskeyRow.of(passkey)


async def authentication_options(*, member_id: int) -> str:
    """The JSON options for navigator.credentials.get: the member's passkeys and a fresh challenge bound to them."""
    await _active_member(member_id)
    kept = await Passkey.filter(member_id=member_id).values_list("credential_id", "transports")
    if not kept:
        raise InvalidInput(NO_PASSKEY)
    challenge = await ceremony.new_challenge(member_id=member_id, purpose=SIGN_IN)
    options = webauthn.generate_authentication_options(
        rp_id=ceremony.rp_id(),
        challenge=challenge,
        timeout=ceremony.CEREMONY_TIMEOUT_MS,
        allow_credentials=[ceremony.descriptor(str(c), list(t)) for c, t in kept],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return webauthn.options_to_json(options)


async def finish_authentication(*, member_id: int, answer: Mapping[str, Any]) -> PasskeyRow:
    """Verify the browser's answer to authentication_options: one of this member's passkeys signed this member's
    challenge, on this site, and its counter moved on. Refusals are audited."""
    member = await _active_member(member_id)
    credential = await _answered(member_id, SIGN_IN, answer)
    challenge = await ceremony.spend_challenge(member_id=member_id, purpose=SIGN_IN, credential=credential)
    passkey = await Passkey.get_or_none(member_id=member_id, credential_id=credential["id"])
    if passkey is None:
        await _refused(member, "use_passkey", "not a passkey of this member")
        raise CeremonyFailed(ceremony.FAILED)
    verified = await _verified(
        member,
        "use_passkey",
        lambda: webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=ceremony.rp_id(),
            expected_origin=ceremony.origin(),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # the counter is checked in _counted, once the signature is known good
        ),
        passkey.label,
    )
    return await _counted(member, passkey, verified.new_sign_count)


async def listed(*, actor: Actor) -> list[PasskeyRow]:
    """The actor's own passkeys, oldest first."""
    return [PasskeyRow.of(p) for p in await Passkey.filter(member_id=actor.member_id).order_by("id")]


async def has_passkey(*, member_id: int) -> bool:
    """Whether the member has at least one passkey (the second-factor flow offers it then)."""
    return await Passkey.filter(member_id=member_id).exists()


async def remove(*, actor: Actor, passkey_id: int) -> str:
    """Remove one of the actor's own passkeys and return its name; audited, refusals too. Never the last second
    factor of a member whose roles need one (second_factor.keeps_a_factor)."""
    passkey = await Passkey.get_or_none(id=passkey_id, member_id=actor.member_id)
    if passkey is None:
        detail = {"reason": "not their passkey"}
        await audit.record(
            actor=actor, action="remove_passkey", target=str(passkey_id), outcome="refused", detail=detail
        )
        raise NotFound(NOT_YOURS)
    async with in_transaction() as connection:
        # the member's row locked (PostgreSQL): two removals at once cannot each leave the other as the last factor
        await StaffMember.filter(id=actor.member_id).select_for_update().using_db(connection).first()
        allowed = await second_factor.keeps_a_factor(
            member_id=actor.member_id, without_passkey=passkey.id, connection=connection
        )
        if allowed:
            await Passkey.filter(id=passkey.id).using_db(connection).delete()
            await audit.record(actor=actor, action="remove_passkey", target=passkey.label, connection=connection)
    if not allowed:
        detail = {"reason": "last second factor"}
        await audit.record(actor=actor, action="remove_passkey", target=passkey.label, outcome="refused", detail=detail)
        raise PermissionDenied(second_factor.LAST_FACTOR)
    return passkey.label


async def forget_all(*, member_id: int, connection: BaseDBAsyncClient | None = None) -> int:
    """Delete every passkey of the member (an owner's reset of their factors, audited by its caller); how many."""
    return await Passkey.filter(member_id=member_id).using_db(connection).delete()


async def _active_member(member_id: int) -> StaffMember:
    member = await StaffMember.get_or_none(id=member_id)
    if member is None or not member.is_active:
        raise InvalidInput(UNAVAILABLE)
    return member


async def _answered(member_id: int, purpose: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The credential of the answer; a cancelled ceremony also drops its challenge (nobody will answer it now)."""
    try:
        return ceremony.credential_of(answer)
    except CeremonyCancelled:
        await ceremony.drop_challenges(member_id=member_id, purpose=purpose)
        raise


async def _verified(member: StaffMember, action: str, verify: Callable[[], T], target: str = "") -> T:
    """The webauthn library's verdict; its refusal audited (with the library's reason) and said kindly."""
    try:
        return verify()
    except (WebAuthnException, KeyError, TypeError, ValueError) as problem:
        await _refused(member, action, str(problem), target)
        raise CeremonyFailed(ceremony.FAILED) from None


async def _kept(member: StaffMember, verified: VerifiedRegistration, *, transports: list[str], label: str) -> Passkey:
    """The verified passkey and its audit event, in one transaction; an id already kept is refused."""
    try:
        async with in_transaction() as connection:
            passkey = await Passkey.create(
                using_db=connection,
                member_id=member.id,
                credential_id=ceremony.encode(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
                label=label,
            )
            await audit.record(actor=_actor(member), action="add_passkey", target=label, connection=connection)
    except IntegrityError:
        await _refused(member, "add_passkey", "credential already registered")
        raise CeremonyFailed(ALREADY_ADDED) from None
    return passkey


async def _counted(member: StaffMember, passkey: Passkey, new_count: int) -> PasskeyRow:
    """Refuse a counter that did not move on (a cloned authenticator), else keep the new count and the time of use.
    The conditional update makes two answers with the same count count once."""
    stored = passkey.sign_count
    moved_on = new_count > stored or (new_count == 0 and stored == 0)  # 0 and 0: an authenticator keeping no counter
    updated = moved_on and await Passkey.filter(id=passkey.id, sign_count=stored).update(
        sign_count=new_count, last_used_at=now()
    )
    if not updated:
        await _refused(member, "use_passkey", f"sign count {new_count} after {stored}", passkey.label)
        raise CeremonyFailed(COUNTER_BACK)
    await passkey.refresh_from_db()
    return PasskeyRow.of(passkey)


async def _refused(member: StaffMember, action: str, reason: str, target: str = "") -> None:
    await audit.record(actor=_actor(member), action=action, target=target, outcome="refused", detail={"reason": reason})


def _actor(member: StaffMember) -> Actor:
    return Actor(member.id, member.email, member.full_name, ())
