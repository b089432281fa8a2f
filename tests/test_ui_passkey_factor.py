"""Stories of passkeys as a second factor (issue 21 item 1): a member logs in with their passkey instead of a code,
sets one up as their first factor at log-in, an invitee chooses one while accepting, and the last one is not removed.
NiceGUI's simulated browser answers the ceremonies with tests/passkey_authenticator.py (a real P-256 key)."""

import re
from typing import Any

from nicegui import ui
from nicegui.testing import User

from components.passkey import ASK_CREATE, ASK_GET
from models import AuditEvent, Passkey, RoleAssignment, Session, StaffMember
from services.access import auth, passkeys
from tests import factories
from tests.passkey_authenticator import SoftAuthenticator
from tests.security.helpers import invite, latest_token, owner_and_world, reset_limits
from tests.ui_helpers import PASSWORD

ORIGIN = "http://localhost:8080"  # the base URL the app under the user fixture runs with
CLARA = "clara@trust.org"


def _answer(user: User, call: str, answer: Any) -> None:
    """The simulated browser answers this ceremony with answer(options JSON)."""
    user.javascript_rules[re.compile(re.escape(call) + r"(.*)\)\Z", re.DOTALL)] = lambda found: answer(found.group(1))


async def _clinician_with_passkey() -> SoftAuthenticator:
    """Clara: a clinician (her role needs a second factor) whose only factor is a passkey."""
    world = await factories.world()
    clara = await factories.member(CLARA, "clinician", org=world.org, password_hash=await auth.hash_password(PASSWORD))
    device = SoftAuthenticator()
    options = await passkeys.registration_options(member_id=clara.member_id)
    answer = device.register(options, origin=ORIGIN)
    await passkeys.finish_registration(member_id=clara.member_id, answer=answer, label="Laptop")
    return device


async def _password(user: User, email: str) -> None:
    await user.open(f"/login?email={email}")
    user.find("Password").type(PASSWORD)
    user.find(kind=ui.button, content="Log in").click()


async def test_a_member_logs_in_with_password_and_passkey(user: User) -> None:
    reset_limits()
    device = await _clinician_with_passkey()
    await _password(user, CLARA)
    await user.should_see("Two-step verification", retries=150)  # argon2 first, on a busy machine
    await user.should_see("No passkey with you? Enter one of your recovery codes instead.")
    await user.should_not_see("Set up your authenticator app")
    assert not await Session.exists()
    _answer(user, ASK_GET, lambda options: device.sign_in(options, origin=ORIGIN))
    user.find(marker="use-passkey").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)
    assert await Session.filter(member__email=CLARA, revoked_at=None).exists()


async def test_a_foreign_passkey_answer_is_said_plainly_and_gives_no_session(user: User) -> None:
    reset_limits()
    await _clinician_with_passkey()
    await _password(user, CLARA)
    await user.should_see("Two-step verification", retries=150)
    _answer(user, ASK_GET, lambda options: SoftAuthenticator().sign_in(options, origin=ORIGIN))
    user.find(marker="use-passkey").click()
    await user.should_see("Your passkey could not be verified, so nothing was changed.", retries=50)
    assert not await Session.exists()
    assert await AuditEvent.filter(action="second_factor", outcome="refused", target=CLARA).exists()


async def test_a_member_sets_up_a_passkey_as_their_first_factor_at_log_in(user: User) -> None:
    reset_limits()
    world = await factories.world()
    await factories.member(CLARA, "clinician", org=world.org, password_hash=await auth.hash_password(PASSWORD))
    await _password(user, CLARA)
    await user.should_see("Set up a passkey", retries=150)
    await user.should_see("Set up your authenticator app")  # the other choice
    device = SoftAuthenticator()
    _answer(user, ASK_CREATE, lambda options: device.register(options, origin=ORIGIN))
    user.find(marker="passkey-label").type("Phone")
    user.find(marker="set-up-passkey").click()
    await user.should_see("Save your recovery codes", retries=50)
    assert await Passkey.filter(member__email=CLARA, label="Phone").exists()
    user.find(kind=ui.button, content="Continue to Gatehouse").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)


async def test_an_invitee_chooses_a_passkey_while_accepting_then_logs_in_with_it(user: User) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["dana@example.org"], "clinician")
    await user.open(f"/accept/{await latest_token('dana@example.org')}")
    await user.should_see("Create your account")
    user.find("Full name").type("Dana Scully")
    user.find("Password").type(PASSWORD)
    user.find("Repeat password").type(PASSWORD)
    user.find(kind=ui.button, content="Continue").click()
    await user.should_see("Set up a passkey", retries=30)
    assert not await StaffMember.exists(email="dana@example.org"), "nothing is written before the factor"
    device = SoftAuthenticator()
    _answer(user, ASK_CREATE, lambda options: device.register(options, origin=ORIGIN))
    user.find(kind=ui.button, content="Set up a passkey and accept").click()
    await user.should_see("Save your recovery codes", retries=50)
    assert await RoleAssignment.exists(member__email="dana@example.org")
    assert await Passkey.exists(member__email="dana@example.org")

    user.find(kind=ui.button, content="Continue to log in").click()
    await user.should_see("Your account is ready. Please log in.")
    user.find("Password").type(PASSWORD)
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("Two-step verification", retries=150)
    _answer(user, ASK_GET, lambda options: device.sign_in(options, origin=ORIGIN))
    user.find(marker="use-passkey").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)


async def test_the_last_passkey_of_a_member_whose_role_needs_one_is_not_removed(user: User) -> None:
    reset_limits()
    device = await _clinician_with_passkey()
    await _password(user, CLARA)
    await user.should_see("Two-step verification", retries=150)
    _answer(user, ASK_GET, lambda options: device.sign_in(options, origin=ORIGIN))
    user.find(marker="use-passkey").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)
    await user.open("/account/security")
    passkey = await Passkey.get(member__email=CLARA)
    user.find(marker=f"remove-passkey-{passkey.id}").click()
    user.find(kind=ui.button, content="Remove passkey").click()
    await user.should_see("this is your last one", retries=50)
    assert await Passkey.exists(id=passkey.id)
