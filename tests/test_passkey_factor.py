"""Passkeys as a full second factor (issue 21 item 1): given at log-in instead of a code, set up as the first factor at
log-in or while accepting (kept only by the enrolling transaction), counted in the shared attempt limit, and never
removed as a member's last factor where their roles need one. The passkeys are tests/passkey_authenticator.py's."""

from collections.abc import Awaitable

import pytest

from models import (
    AttemptWindow,
    AuditEvent,
    Invitation,
    InvitationState,
    Passkey,
    RecoveryCode,
    RoleAssignment,
    StaffMember,
)
from services.access import auth, factor_login, factors, passkey_enrolment, passkeys, second_factor
from services.access.passkey_ceremony import CeremonyFailed
from services.access.service import Actor
from services.audit import sentences
from services.errors import FieldErrors, NotAuthenticated, PermissionDenied, RateLimited
from services.invitations import acceptance
from tests import factor_helpers, factories
from tests.passkey_authenticator import SoftAuthenticator
from tests.security.helpers import PASSWORD, invite, latest_token, owner_and_world, reset_limits

ORIGIN = "http://localhost:8080"  # the default base URL the tests run with


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    reset_limits()


async def _clinician(email: str, world: factories.World | None = None) -> Actor:
    """A member whose role (view patient data) needs a second factor, with a password and no factor yet."""
    world = world or await factories.world()
    hashed = await auth.hash_password(PASSWORD)
    return await factories.member(email, "clinician", org=world.org, password_hash=hashed)


async def _with_passkey(member: Actor, label: str = "Laptop") -> SoftAuthenticator:
    device = SoftAuthenticator()
    options = await passkeys.registration_options(member_id=member.member_id)
    answer = device.register(options, origin=ORIGIN)
    await passkeys.finish_registration(member_id=member.member_id, answer=answer, label=label)
    return device


async def _log_in(email: str) -> factor_login.LoginStep:
    return await auth.login(email=email, password=PASSWORD, redirect_to="/care", client="c")


async def _passkey_answer(step: factor_login.LoginStep, device: SoftAuthenticator, origin: str = ORIGIN) -> str:
    options = await factor_login.passkey_options(challenge=step.challenge)
    return await factor_login.give_passkey(challenge=step.challenge, answer=device.sign_in(options, origin=origin))


async def test_a_member_with_only_a_passkey_logs_in_with_it_and_is_never_asked_for_an_app(db: str) -> None:
    clara = await _clinician("clara@trust.org")
    device = await _with_passkey(clara)
    step = await _log_in(clara.email)
    assert step.challenge and not step.ticket and not step.enrol, "a passkey is a factor: nothing to set up"
    assert step.passkey and not step.app
    ticket = await _passkey_answer(step, device)
    assert (await auth.complete_login(ticket=ticket)).redirect_to == "/care"
    with pytest.raises(NotAuthenticated):
        await factor_login.passkey_options(challenge=step.challenge)  # the challenge is spent
    assert (await Passkey.get(member_id=clara.member_id)).last_used_at is not None


async def test_another_members_passkey_is_refused_at_the_step_and_audited(db: str) -> None:
    world = await factories.world()
    clara = await _clinician("clara@trust.org", world)
    bob = await _clinician("bob@trust.org", world)
    await _with_passkey(clara)
    bobs_device = await _with_passkey(bob)
    step = await _log_in(clara.email)
    with pytest.raises(CeremonyFailed):
        await _passkey_answer(step, bobs_device)  # Bob's key signs Clara's challenge
    refused = await AuditEvent.get(action="second_factor", outcome="refused")
    assert refused.target == clara.email and refused.detail == {"kind": "passkey"}
    said = sentences.sentence(refused, await sentences.names_for([refused]))
    assert "tried to log in as Clara (clara@trust.org) with a passkey, and was refused" in said
    assert await AuditEvent.filter(action="use_passkey", outcome="refused", actor_email=clara.email).exists()
    with pytest.raises(NotAuthenticated):
        await factor_login.give_passkey(challenge="not-the-challenge", answer={})


async def test_passkey_answers_and_codes_count_in_one_limit_kept_in_the_database(db: str) -> None:
    clara = await _clinician("clara@trust.org")
    device = await _with_passkey(clara)
    await factor_helpers.enrol(clara.email)  # an app as well
    step = await _log_in(clara.email)
    assert step.app and step.passkey
    for _ in range(factors.ATTEMPTS - 1):
        with pytest.raises(FieldErrors):
            await factor_login.give_code(challenge=step.challenge, code="123456")
    with pytest.raises(CeremonyFailed):
        await _passkey_answer(step, device, origin="https://phish.example")  # the fifth attempt
    window = await AttemptWindow.get(subject=f"factor:{clara.member_id}")
    assert window.attempts == factors.ATTEMPTS, "every process counts in the same row"
    with pytest.raises(RateLimited, match="Wait 5 minutes"):
        await _passkey_answer(step, device)  # even the right passkey, past the limit
    assert await AuditEvent.filter(action="second_factor", outcome="refused").count() == factors.ATTEMPTS + 1


async def test_a_passkey_is_the_first_factor_set_up_at_log_in(db: str) -> None:
    clara = await _clinician("clara@trust.org")
    step = await _log_in(clara.email)
    assert step.enrol
    device = SoftAuthenticator()
    enrolment = await factor_login.passkey_enrolment_for(challenge=step.challenge)
    bad = enrolment.proof(device.register(enrolment.options, origin="https://phish.example"))
    with pytest.raises(CeremonyFailed):
        await factor_login.enrol(challenge=step.challenge, proof=bad)
    assert not await Passkey.exists() and not await RecoveryCode.exists()
    proof = enrolment.proof(device.register(enrolment.options, origin=ORIGIN), "Phone")
    codes = await factor_login.enrol(challenge=step.challenge, proof=proof)
    assert len(codes) == 10 and await Passkey.filter(member_id=clara.member_id, label="Phone").exists()
    enrolled = await AuditEvent.get(action="enrol_second_factor")
    assert enrolled.detail == {"kind": "passkey"}
    said = sentences.sentence(enrolled, await sentences.names_for([enrolled]))
    assert "set up a passkey for Clara (clara@trust.org)" in said
    assert await auth.complete_login(ticket=await factor_login.finish_enrolment(challenge=step.challenge))

    again = await _log_in(clara.email)
    assert again.passkey and not again.enrol
    assert await _passkey_answer(again, device)


async def _newcomer_token(email: str) -> str:
    world, owner = await owner_and_world()
    await invite(owner, world, [email], "clinician")
    return await latest_token(email)


def _accept(token: str, proof: passkey_enrolment.PasskeyProof) -> Awaitable[acceptance.AcceptedAccount]:
    return acceptance.accept_new_account(
        token=token, full_name="New Starter", password=PASSWORD, repeat=PASSWORD, client="c", enrolment=proof
    )


async def test_accepting_with_a_passkey_writes_account_passkey_codes_and_grant_in_one_transaction_or_nothing(
    db: str,
) -> None:
    token = await _newcomer_token("new@example.org")
    device = SoftAuthenticator()
    enrolment = await passkey_enrolment.new_enrolment(email="new@example.org", full_name="New Starter", member_id=None)
    with pytest.raises(CeremonyFailed):
        await _accept(token, enrolment.proof(device.register(enrolment.options, origin="https://phish.example")))
    assert not await StaffMember.exists(email="new@example.org"), "a half-done acceptance grants nothing"
    assert not await Passkey.exists() and not await RecoveryCode.exists()
    assert (await Invitation.get(email="new@example.org")).state == InvitationState.PENDING

    done = await _accept(token, enrolment.proof(device.register(enrolment.options, origin=ORIGIN), "Work laptop"))
    member = await StaffMember.get(email="new@example.org")
    assert len(done.recovery_codes) == 10
    assert await RoleAssignment.exists(member_id=member.id)
    assert await Passkey.filter(member_id=member.id, label="Work laptop").exists()
    accepted = await AuditEvent.get(action="accept")
    assert accepted.detail["second_factor"] == "passkey enrolled"
    step = await _log_in("new@example.org")
    assert step.passkey and await _passkey_answer(step, device)


async def test_a_passkey_already_kept_is_refused_and_the_acceptance_writes_nothing(db: str) -> None:
    token = await _newcomer_token("new@example.org")
    someone = await factories.member("someone@trust.org")
    device = await _with_passkey(someone)  # this authenticator's credential is someone's already
    enrolment = await passkey_enrolment.new_enrolment(email="new@example.org", full_name="", member_id=None)
    with pytest.raises(CeremonyFailed, match="already added"):
        await _accept(token, enrolment.proof(device.register(enrolment.options, origin=ORIGIN)))
    assert not await StaffMember.exists(email="new@example.org")
    assert (await Invitation.get(email="new@example.org")).state == InvitationState.PENDING


async def test_a_member_accepting_a_role_that_needs_a_factor_may_set_up_a_passkey(db: str) -> None:
    world, owner = await owner_and_world()
    vera = await factories.member("vera@example.org", full_name="Vera")  # an account holding no role yet
    assert not await second_factor.member_requires(member_id=vera.member_id)
    await invite(owner, world, ["vera@example.org"], "clinician")
    token = await latest_token("vera@example.org")
    device = SoftAuthenticator()
    enrolment = await passkey_enrolment.new_enrolment(email=vera.email, full_name="Vera", member_id=vera.member_id)
    proof = enrolment.proof(device.register(enrolment.options, origin=ORIGIN))
    done = await acceptance.accept_as_member(actor=vera, token=token, client="c", enrolment=proof)
    assert len(done.recovery_codes) == 10
    assert [p.label for p in await passkeys.listed(actor=vera)] == [passkey_enrolment.FIRST_LABEL]


async def test_a_member_may_not_remove_their_last_factor_where_their_roles_need_one(db: str) -> None:
    clara = await _clinician("clara@trust.org")
    await _with_passkey(clara, "Laptop")
    await _with_passkey(clara, "Phone")
    laptop, phone = await passkeys.listed(actor=clara)
    assert await passkeys.remove(actor=clara, passkey_id=laptop.id) == "Laptop"
    with pytest.raises(PermissionDenied, match="last one"):
        await passkeys.remove(actor=clara, passkey_id=phone.id)
    assert await Passkey.filter(id=phone.id).exists()
    refused = await AuditEvent.get(action="remove_passkey", outcome="refused")
    assert refused.target == "Phone" and refused.detail == {"reason": "last second factor"}

    (said,) = [sentences.sentence(refused, await sentences.names_for([refused]))]
    assert "tried to remove their last passkey (their access needs a second factor), and was refused" in said

    await factor_helpers.enrol(clara.email)  # with an app, the passkey is no longer the last factor
    assert await passkeys.remove(actor=clara, passkey_id=phone.id) == "Phone"
