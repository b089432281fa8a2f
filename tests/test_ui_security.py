"""Stories of Your security (/account/security, issue 21 item 1): a member reaches it from their name in the header,
adds a passkey (NiceGUI's simulated browser answers navigator.credentials.create with tests/passkey_authenticator.py,
a real P-256 key), checks it, is told plainly when they cancel, and removes it after confirming."""

import re
from typing import Any

from nicegui import ui
from nicegui.testing import User

from components.passkey import ASK_CREATE, ASK_GET
from models import AuditEvent, Passkey
from services.access.passkey_ceremony import CANCELLED
from tests import factories
from tests.passkey_authenticator import SoftAuthenticator
from tests.ui_helpers import sign_in

ORIGIN = "http://localhost:8080"  # the base URL the app under the user fixture runs with


def _answer(user: User, call: str, answer: Any) -> None:
    """The simulated browser answers this ceremony with answer(options JSON)."""
    user.javascript_rules[re.compile(re.escape(call) + r"(.*)\)\Z", re.DOTALL)] = lambda found: answer(found.group(1))


async def test_a_member_adds_checks_and_removes_a_passkey(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "clara@trust.org", "clinician", org=world.org)
    user.find(marker="account").click()
    await user.should_see("Your security", retries=50)
    await user.should_see("You have no passkey yet.")
    device = SoftAuthenticator()
    _answer(user, ASK_CREATE, lambda options: device.register(options, origin=ORIGIN))
    user.find(marker="passkey-label").type("Work laptop")
    user.find(marker="add-passkey").click()
    await user.should_see("Passkey “Work laptop” added.", retries=50)
    await user.should_see("Added just now, not used yet")
    passkey = await Passkey.get(label="Work laptop")
    _answer(user, ASK_GET, lambda options: device.sign_in(options, origin=ORIGIN))
    user.find(marker="use-passkey").click()
    await user.should_see("Confirmed with your passkey “Work laptop”.", retries=50)
    await user.should_see("Added just now, last used just now")
    user.find(marker=f"remove-passkey-{passkey.id}").click()
    await user.should_see("Remove the passkey “Work laptop”?")
    user.find(kind=ui.button, content="Remove passkey").click()
    await user.should_see("Removed the passkey “Work laptop”.", retries=50)
    await user.should_see("You have no passkey yet.")
    assert not await Passkey.exists()
    assert await AuditEvent.filter(action="remove_passkey", target="Work laptop", outcome="ok").exists()


async def test_a_cancelled_or_foreign_ceremony_is_said_plainly_and_adds_nothing(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "clara@trust.org", "clinician", org=world.org)
    await user.open("/account/security")
    _answer(user, ASK_CREATE, lambda options: {"error": "NotAllowedError"})
    user.find(marker="add-passkey").click()
    await user.should_see(CANCELLED, retries=50)
    _answer(user, ASK_CREATE, lambda options: SoftAuthenticator().register(options, origin="https://phish.example"))
    user.find(marker="add-passkey").click()
    await user.should_see("Your passkey could not be verified, so nothing was changed.", retries=50)
    user.find(marker="use-passkey").click()
    await user.should_see("You have no passkey yet. Add one on your security page", retries=50)
    user.find(marker="passkey-label").type("x" * 81)
    user.find(marker="add-passkey").click()
    await user.should_see("A passkey's name can be at most 80 characters long.", retries=50)
    assert not await Passkey.exists()


async def test_a_visitor_not_signed_in_is_sent_to_log_in_first(user: User) -> None:
    await user.open("/account/security")
    await user.should_see(kind=ui.button, content="Log in", retries=50)
    await user.should_not_see("Add a passkey")
