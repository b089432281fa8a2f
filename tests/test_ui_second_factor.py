"""Stories of second factors (issue 21): an invitee sets up an authenticator app while accepting and logs in with its
code; an owner resets a member's factor from the staff list; an organisation chooses the roles on Access settings."""

from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, OutboxMessage, Session, StaffMember, TotpFactor
from services.access import auth, second_factor
from tests import factor_helpers, factories
from tests.security.helpers import invite, latest_token, owner_and_world, reset_limits
from tests.ui_helpers import PASSWORD, accept_with_app, eventually, log_in_with_code, sign_in, table

NURSE = "nurse@trust.org"


async def test_an_invitee_sets_up_an_app_while_accepting_then_logs_in_with_its_code(user: User) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["dana@example.org"], "clinician")
    secret = await accept_with_app(user, f"/accept/{await latest_token('dana@example.org')}", "Dana Scully")
    codes = next(e for e in user.find(kind=ui.column).elements if e.props.get("aria-label") == "Recovery codes")
    assert len(list(codes.descendants())) == 10  # the ten codes, shown this once
    assert await TotpFactor.exists(member__email="dana@example.org")
    assert not await Session.exists(), "accepting opens no session"

    user.find(kind=ui.button, content="Continue to log in").click()
    await user.should_see("Your account is ready. Please log in.")
    await log_in_with_code(user, "dana@example.org", secret)
    await user.should_see(kind=ui.button, content="Log out", retries=150)


async def test_a_wrong_code_at_log_in_is_said_at_the_field_and_gives_no_session(user: User) -> None:
    reset_limits()
    world = await factories.world()
    await factories.member(NURSE, "clinician", org=world.org, password_hash=await auth.hash_password(PASSWORD))
    await factor_helpers.enrol(NURSE)
    await user.open(f"/login?email={NURSE}")
    user.find("Password").type(PASSWORD)
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("Two-step verification", retries=150)
    sessions = await Session.filter(revoked_at=None).count()
    user.find("Authentication code").type("000000")
    user.find(kind=ui.button, content="Verify").click()
    await user.should_see("That code is not right", retries=50)
    assert await Session.filter(revoked_at=None).count() == sessions


async def _reset_from_the_staff_list(user: User, email: str, role_key: str) -> None:
    """Nora Nurse has an app; the viewer (holding role_key) asks to reset it from her staff row and confirms."""
    reset_limits()
    world = await factories.world()
    await factories.member(NURSE, "clinician", org=world.org, full_name="Nora Nurse")
    await factor_helpers.enrol(NURSE)
    await sign_in(user, email, role_key, org=world.org)
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: any(r["email"] == NURSE for r in table(user, "staff").rows))
    row = next(r for r in table(user, "staff").rows if r["email"] == NURSE)
    user.find(marker="staff").trigger("reset_factors", row)  # a supervisor is not offered it: a hostile browser
    await user.should_see("Reset the second factor of Nora Nurse?")
    user.find(kind=ui.button, content="Reset second factor").click()


async def test_an_owner_resets_a_members_second_factor_from_the_staff_list(user: User) -> None:
    await _reset_from_the_staff_list(user, "owner@trust.org", "organisation_owner")
    await user.should_see(f"The second factor of {NURSE} is reset: every session has ended.")
    assert not await TotpFactor.exists(member__email=NURSE)
    assert await OutboxMessage.exists(kind="factors_reset", recipient=NURSE)
    assert await AuditEvent.exists(action="reset_second_factors", outcome="ok")


async def test_a_colleague_crafting_a_reset_is_refused_and_nothing_changes(user: User) -> None:
    await _reset_from_the_staff_list(user, "sup@trust.org", "supervisor")
    await user.should_see(f"You may not reset the second factors of {NURSE}.")
    assert await TotpFactor.exists(member__email=NURSE)


async def test_access_settings_choose_the_roles_that_need_a_second_factor(user: User) -> None:
    reset_limits()
    world, _ = await owner_and_world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/settings?org={world.org.id}")
    await user.should_see("Second factor")
    clinician = await factories.role("clinician")
    box = next(iter(user.find(kind=ui.checkbox, marker=f"factor-role-{clinician.id}").elements))
    assert box.value, "by default every role holding view patient data"
    box.value = False
    user.find(kind=ui.button, content="Save access settings").click()
    await user.should_see("Access settings saved.", retries=50)  # several saves in turn, on a busy machine
    policy = await second_factor.policy_of(organisation_id=world.org.id)
    assert not policy.is_default and clinician.id not in (policy.role_ids or ())
    assert await StaffMember.exists(email="owner@trust.org")
