"""A passkey made and used in a real Chromium (issue 21 item 1): Chrome's own WebAuthn stack, given a virtual platform
authenticator through the DevTools protocol (WebAuthn.addVirtualAuthenticator), registers a passkey on Your security
and then proves it, by keyboard alone; the page passes axe before, after, and with the removal dialog open."""

from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, CDPSession, Page, expect

from tests.browser.conftest import AppServer, NewContext
from tests.browser.helpers import PASSWORD, check_accessibility, set_up_super_admin, shot, tab_to, watch_errors

pytestmark = pytest.mark.browser
ADMIN_NAME = "Ada Admin"
# A platform authenticator (a laptop's fingerprint reader, say) that verifies its user and is always touched.
AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def _virtual_authenticator(context: BrowserContext, page: Page) -> tuple[CDPSession, str]:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return cdp, str(added["authenticatorId"])


def test_a_passkey_is_added_and_checked_on_your_security_by_keyboard(
    localhost_app_server: AppServer, new_context: NewContext, shots_dir: Path
) -> None:
    server = localhost_app_server
    context = new_context()
    errors: list[str] = []
    page = watch_errors(context.new_page(), errors)
    set_up_super_admin(page, server, ADMIN_NAME)
    cdp, authenticator = _virtual_authenticator(context, page)

    page.get_by_role("link", name=f"{ADMIN_NAME}: your security").click()
    expect(page.get_by_role("heading", name="Your security", level=1)).to_be_visible()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    check_accessibility(page, "your security, no passkey")

    page.get_by_label("Name of the passkey (optional)").fill("This laptop")
    add = page.get_by_role("button", name="Add a passkey")
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Passkey “This laptop” added.")).to_be_visible()
    expect(page.get_by_role("list", name="Your passkeys").get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_text("Added just now, not used yet")).to_be_visible()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert [c["rpId"] for c in credentials] == ["localhost"]

    check = page.get_by_role("button", name="Check a passkey")
    tab_to(page, check)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Confirmed with your passkey “This laptop”.")).to_be_visible()
    expect(page.get_by_text("Added just now, last used just now")).to_be_visible()
    check_accessibility(page, "your security, one passkey")
    shot(page, shots_dir, "your-security.png")

    page.get_by_role("button", name="Remove the passkey This laptop").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Remove the passkey “This laptop”?")).to_be_visible()
    check_accessibility(page, "your security, removing a passkey")
    dialog.get_by_role("button", name="Remove passkey").click()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    assert errors == []


def test_a_member_logs_in_with_password_and_passkey_by_keyboard(
    localhost_app_server: AppServer, new_context: NewContext, shots_dir: Path
) -> None:
    """The Super Admin (an app already set up, as Admin Portal roles need) adds a passkey, logs out, and logs in
    again with her password and the passkey, offered beside the app's code; keyboard only, axe clean."""
    server = localhost_app_server
    context = new_context()
    errors: list[str] = []
    page = watch_errors(context.new_page(), errors)
    set_up_super_admin(page, server, ADMIN_NAME)
    _virtual_authenticator(context, page)
    page.goto(server.url("/account/security"))
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status").filter(has_text="Passkey “Passkey 1” added.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    page.goto(server.url("/login"))
    email = page.get_by_label("Email")
    tab_to(page, email)
    page.keyboard.type(server.admin_email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    use = page.get_by_role("button", name="Use your passkey")
    expect(page.get_by_label("Authentication code")).to_be_visible()  # the app's code stays offered beside it
    check_accessibility(page, "log-in, two-step verification with a passkey")
    shot(page, shots_dir, "log-in-with-passkey.png")
    tab_to(page, use, backwards=True)
    page.keyboard.press("Enter")
    expect(page).to_have_url(server.url("/admin"))
    assert errors == []
