"""Second factors (issue 21): the policy, enrolment in the acceptance's transaction, codes used once, recovery codes,
attempt limits shared by every process, log-in never giving a session before the factor, and resets by owners."""

from collections.abc import Awaitable
from datetime import timedelta

import pyotp
import pytest

from models import (
    AuditEvent,
    Invitation,
    InvitationState,
    LoginTicket,
    OutboxMessage,
    RecoveryCode,
    RoleAssignment,
    Session,
    StaffMember,
    TotpFactor,
)
from services.access import auth, factor_login, factors, second_factor, secret_box
from services.access.totp import TotpProof
from services.errors import FieldErrors, InvalidInput, NotAuthenticated, PermissionDenied, RateLimited
from services.invitations import acceptance
from services.mail import templates
from services.organisations import factor_reset
from services.platform import clock, settings
from tests import factor_helpers, factories
from tests.security.helpers import PASSWORD, database_text, invite, latest_token, owner_and_world, reset_limits


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    reset_limits()


async def _newcomer(role_key: str = "clinician") -> str:
    world, owner = await owner_and_world()
    await invite(owner, world, ["new@example.org"], role_key)
    return await latest_token("new@example.org")


def _accept(token: str, enrolment: TotpProof | None) -> Awaitable[acceptance.AcceptedAccount]:
    return acceptance.accept_new_account(
        token=token, full_name="New Starter", password=PASSWORD, repeat=PASSWORD, client="c", enrolment=enrolment
    )


async def test_the_default_policy_covers_patient_data_roles_and_admin_roles_always(db: str) -> None:
    world, owner = await owner_and_world()
    clinician, controller = await factories.role("clinician"), await factories.role("access_controller")
    supervisor, editor = await factories.role("supervisor"), await factories.role("organisation_editor")
    account_manager = await factories.role("account_manager")  # no patient data, but an Admin Portal role
    policy = await second_factor.policy_of(organisation_id=world.org.id)
    assert policy.is_default
    assert second_factor.required_for(role=clinician, policy=policy)
    assert second_factor.required_for(role=account_manager, policy=policy)
    assert second_factor.required_for(role=controller, policy=policy)  # it holds view patient data too

    chosen = await second_factor.set_policy(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id])
    assert chosen.role_ids == frozenset({supervisor.id})
    assert not second_factor.required_for(role=clinician, policy=chosen)
    assert second_factor.required_for(role=supervisor, policy=chosen)
    assert second_factor.required_for(role=editor, policy=chosen)  # Admin Portal roles whatever is chosen
    event = await AuditEvent.get(action="set_second_factor_roles", outcome="ok")
    assert event.detail == {"roles": ["Supervisor"]}
    other = await second_factor.policy_of(organisation_id=world.other_org.id)
    assert other.is_default, "one organisation's choice is its own"


async def test_only_those_who_may_change_access_settings_choose_the_roles_and_unknown_roles_are_refused(
    db: str,
) -> None:
    world, owner = await owner_and_world()
    nurse = await factories.member("nurse@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await second_factor.set_policy(actor=nurse, organisation_id=world.org.id, role_ids=[])
    assert await AuditEvent.exists(action="set_second_factor_roles", outcome="refused")
    with pytest.raises(InvalidInput, match="cannot be held"):
        await second_factor.set_policy(actor=owner, organisation_id=world.org.id, role_ids=[999_999])
    assert (await second_factor.policy_of(organisation_id=world.org.id)).is_default


async def test_accepting_enrols_the_factor_codes_and_grant_in_one_transaction_or_nothing(db: str) -> None:
    token = await _newcomer()
    assert (await acceptance.preview(token=token, client="c")).needs_second_factor
    with pytest.raises(InvalidInput, match="second factor"):
        await _accept(token, None)
    with pytest.raises(FieldErrors, match="not right"):
        await _accept(token, TotpProof(pyotp.random_base32(32), "000000"))
    assert not await StaffMember.exists(email="new@example.org"), "a half-done acceptance grants nothing"
    assert not await TotpFactor.exists() and not await RecoveryCode.exists()
    assert (await Invitation.get(email="new@example.org")).state == InvitationState.PENDING

    done = await _accept(token, factor_helpers.proof("new@example.org"))
    member = await StaffMember.get(email="new@example.org")
    assert len(done.recovery_codes) == 10 and len(set(done.recovery_codes)) == 10
    assert await RoleAssignment.exists(member_id=member.id)
    assert await TotpFactor.exists(member_id=member.id)
    stored = await database_text()
    assert factor_helpers.secret_of("new@example.org") not in stored, "the secret is stored sealed"
    assert not any(code in stored for code in done.recovery_codes)


async def test_a_sealed_secret_opens_only_under_its_secret_and_for_its_own_member(db: str) -> None:
    sealed = secret_box.seal("JBSWY3DPEHPK3PXP", bound_to="totp:1")
    assert secret_box.unseal(sealed, bound_to="totp:1") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(secret_box.Unreadable):
        secret_box.unseal(sealed, bound_to="totp:2")  # copied to another member's row


async def _member_with_app(email: str = "nurse@trust.org", world: factories.World | None = None) -> StaffMember:
    world = world or await factories.world()
    await factories.member(email, "clinician", org=world.org, password_hash=await auth.hash_password(PASSWORD))
    await factor_helpers.enrol(email)
    return await StaffMember.get(email=email)


async def test_log_in_gives_no_ticket_before_the_code_and_a_code_works_once(db: str) -> None:
    member = await _member_with_app()
    step = await auth.login(email=member.email, password=PASSWORD, redirect_to="/care", client="c")
    assert not step.ticket and step.challenge and not step.enrol
    assert not await Session.exists() and not await LoginTicket.exists()
    code = factor_helpers.code(factor_helpers.secret_of(member.email))
    ticket = await factor_login.give_code(challenge=step.challenge, code=code)
    assert (await auth.complete_login(ticket=ticket)).redirect_to == "/care"

    again = await auth.login(email=member.email, password=PASSWORD, redirect_to="/care", client="c")
    with pytest.raises(FieldErrors, match="used already"):
        await factor_login.give_code(challenge=again.challenge, code=code)  # replayed within its time step
    with pytest.raises(NotAuthenticated):
        await factor_login.give_code(challenge=step.challenge, code=code)  # the first challenge is spent


async def test_a_recovery_code_works_once(db: str) -> None:
    member = await StaffMember.create(
        email="r@trust.org", full_name="R", password_hash=await auth.hash_password(PASSWORD)
    )
    codes = await factor_helpers.enrol(member.email)
    step = await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c")
    assert await factor_login.give_code(challenge=step.challenge, code=codes[0].lower())
    assert (await factors.factors_of(member_id=member.id)).recovery_codes_left == 9
    assert await AuditEvent.exists(action="recovery_code_used")
    again = await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c")
    with pytest.raises(FieldErrors, match="not right"):
        await factor_login.give_code(challenge=again.challenge, code=codes[0])


async def test_codes_are_limited_per_member_in_the_database_with_a_clear_message(db: str) -> None:
    member = await _member_with_app()
    step = await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c")
    for _ in range(factors.ATTEMPTS):
        with pytest.raises(FieldErrors):
            await factor_login.give_code(challenge=step.challenge, code="123456")
    right = factor_helpers.code(factor_helpers.secret_of(member.email))
    with pytest.raises(RateLimited, match="Wait 5 minutes"):
        await factor_login.give_code(challenge=step.challenge, code=right)
    assert await AuditEvent.filter(action="second_factor", outcome="refused").count() == factors.ATTEMPTS + 1
    clock.advance(timedelta(seconds=factors.WINDOW_SECONDS))
    fresh = await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c")
    code = factor_helpers.code(factor_helpers.secret_of(member.email))
    assert await factor_login.give_code(challenge=fresh.challenge, code=code)


async def test_a_member_whose_roles_need_a_factor_enrols_at_log_in_before_any_ticket(db: str) -> None:
    world = await factories.world()
    await factories.member("n@trust.org", "clinician", org=world.org, password_hash=await auth.hash_password(PASSWORD))
    step = await auth.login(email="n@trust.org", password=PASSWORD, redirect_to="/care", client="c")
    assert step.enrol and not step.ticket
    with pytest.raises(NotAuthenticated):
        await factor_login.finish_enrolment(challenge=step.challenge)  # no ticket before enrolling
    codes = await factor_login.enrol(challenge=step.challenge, proof=factor_helpers.proof("n@trust.org"))
    assert len(codes) == 10
    ticket = await factor_login.finish_enrolment(challenge=step.challenge)
    assert (await auth.complete_login(ticket=ticket)).redirect_to == "/care"
    with pytest.raises(NotAuthenticated):
        await factor_login.finish_enrolment(challenge=step.challenge)


async def test_a_member_who_needs_no_factor_logs_in_with_the_password_alone(db: str) -> None:
    await StaffMember.create(email="plain@trust.org", full_name="P", password_hash=await auth.hash_password(PASSWORD))
    assert (await auth.login(email="plain@trust.org", password=PASSWORD, redirect_to="/", client="c")).ticket


async def test_an_owner_resets_a_members_factors_audited_emailed_and_sessions_end(db: str) -> None:
    world, owner = await owner_and_world()
    member = await _member_with_app(world=world)
    ticket = await factor_helpers.ticket(
        await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c"), member.email
    )
    session = (await auth.complete_login(ticket=ticket)).session_token
    assert await factor_reset.reset(actor=owner, member_id=member.id, organisation_id=world.org.id) == member.email
    assert not await TotpFactor.exists(member_id=member.id) and not await RecoveryCode.exists(member_id=member.id)
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=session)
    email = await OutboxMessage.get(kind="factors_reset", recipient=member.email)
    rendered = templates.render(
        email.kind, recipient=email.recipient, context=email.context, link=None, settings=settings.current()
    )
    assert b"Olive Owner" in rendered and b"second factors" in rendered and b"/login" in rendered
    assert await AuditEvent.exists(action="reset_second_factors", outcome="ok", target=member.email)
    step = await auth.login(email=member.email, password=PASSWORD, redirect_to="/", client="c")
    assert step.enrol, "at the next log-in they set up an app again"


async def test_nobody_resets_their_own_factors_or_those_of_someone_holding_more_than_they_could_hand_out(
    db: str,
) -> None:
    world, owner = await owner_and_world()
    member = await _member_with_app(world=world)
    colleague = await factories.member("col@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await factor_reset.reset(actor=colleague, member_id=member.id, organisation_id=world.org.id)
    await factories.grant(member.id, "clinician", org=world.other_org)  # also staff of another organisation
    with pytest.raises(PermissionDenied):
        await factor_reset.reset(actor=owner, member_id=member.id, organisation_id=world.org.id)
    await factor_helpers.enrol(owner.email)
    with pytest.raises(PermissionDenied):
        await factor_reset.reset(actor=owner, member_id=owner.member_id, organisation_id=world.org.id)
    assert await TotpFactor.exists(member_id=member.id)
    assert await AuditEvent.filter(action="reset_second_factors", outcome="refused").count() == 3
