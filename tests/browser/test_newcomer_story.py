"""The newcomer's story in a real browser, with the mail read from the app's real SMTP sink (/dev/mailbox).

First start invites the Super Admin; she sets up her account, logs in, creates an organisation and a deployment,
and invites a clinician from the deployment's row menu. The clinician finds the email in the mailbox, opens the
link in another browser, creates an account, logs in, and sees exactly her access in the Care Portal.
"""

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import AppServer

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"
ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
DEPLOYMENT = "Heart Failure Trial"
INVITEE = "clara.clinician@example.org"
INVITEE_NAME = "Clara Clinician"
MAIL_TIMEOUT = 15_000  # ms: the worker sends within a second or two and the mailbox refreshes every second
PUBLIC_SHOTS = Path("/tmp/gatehouse-shots")

expect.set_options(timeout=10_000)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    link: str


def _watch_errors(page: Page, errors: list[str]) -> Page:
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return page


def _shot(page: Page, folder: Path, name: str, *, element: str | None = None) -> Path:
    path = folder / name
    if element is None:
        page.screenshot(path=path, full_page=True)
    else:
        page.locator(element).last.screenshot(path=path)
    PUBLIC_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, PUBLIC_SHOTS / name)
    return path


def _read_mail(page: Page, server: AppServer, address: str, subject: str) -> Mail:
    """Open the mailbox page, wait for the message to this address, open it and read its text and link."""
    page.goto(server.url("/dev/mailbox"))
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    message = page.locator(".q-expansion-item").filter(has_text=f"To {address} ").filter(has_text=subject)
    expect(message).to_have_count(1, timeout=MAIL_TIMEOUT)  # the page refreshes itself as mail arrives
    message.get_by_text(subject).click()
    link = message.get_by_role("link", name="Create account")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href, "the Create account link has no address"
    text = message.locator(".font-mono").inner_text()
    return Mail(subject=subject, text=text, link=href)


def _create_account(page: Page, link: str, full_name: str, email: str) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/login\?email="))
    expect(page.get_by_role("status").filter(has_text="Your account is ready. Please log in.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(email)


def _log_in(page: Page, server: AppServer, email: str) -> None:
    if "/login" not in page.url:
        page.goto(server.url("/login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _row_menu(page: Page, row_name: str, item: str) -> None:
    page.get_by_role("button", name=f"Actions for {row_name}").click()
    page.locator(".q-menu").get_by_text(item, exact=True).click()


def test_a_newcomer_is_invited_by_email_and_lands_in_the_care_portal(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    admin = _watch_errors(new_context().new_page(), errors)

    # (a) First start: the Super Admin's invitation is in the mailbox, and its link is on the console.
    first = _read_mail(admin, app_server, app_server.admin_email, "Set up your Gatehouse account (Super Admin)")
    assert first.link.startswith(app_server.url("/accept/"))
    assert first.link in app_server.output(), "the console does not print the first-admin link"
    assert "has invited you to join the Gatehouse platform as Super Admin" in first.text
    _create_account(admin, first.link, ADMIN_NAME, app_server.admin_email)

    # (b) Log in: the Super Admin lands on the Admin Portal.
    _log_in(admin, app_server, app_server.admin_email)
    expect(admin).to_have_url(app_server.url("/admin"))
    expect(admin.get_by_role("heading", name="Admin Portal")).to_be_visible()

    # (c) An organisation, a deployment in it, and an invitation for a clinician from the deployment's row menu.
    admin.get_by_label("New organisation name").fill(ORGANISATION)
    admin.get_by_role("button", name="Create organisation").click()
    expect(admin.get_by_text("Organisation created.")).to_be_visible()
    organisations = admin.get_by_role("table").filter(has_text="Organisation")
    expect(organisations.get_by_role("cell", name=ORGANISATION, exact=True)).to_be_visible()

    _row_menu(admin, ORGANISATION, "New deployment")
    dialog = admin.get_by_role("dialog")
    expect(dialog.get_by_text(f"New deployment in {ORGANISATION}")).to_be_visible()
    dialog.get_by_label("Deployment name").fill(DEPLOYMENT)
    dialog.get_by_role("button", name="Create deployment").click()
    expect(admin.get_by_text("Deployment created.")).to_be_visible()
    expect(dialog).to_be_hidden()

    admin.get_by_role("tab", name="Deployments").click()
    expect(admin.get_by_role("cell", name=DEPLOYMENT, exact=True)).to_be_visible()
    _row_menu(admin, DEPLOYMENT, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_role("heading", name=f"Invite staff to {DEPLOYMENT} ({ORGANISATION})")).to_be_visible()
    send = invite.get_by_role("button", name="Send invites")
    expect(send).to_be_disabled()

    addresses = invite.get_by_label("Email addresses")
    addresses.fill(INVITEE)
    addresses.press("Enter")
    expect(invite.get_by_label(f"Address {INVITEE}")).to_be_visible()
    expect(invite.get_by_text("1 valid address", exact=True)).to_be_visible()
    expect(send).to_be_disabled()  # no role chosen yet

    invite.get_by_role("combobox", name="Role", exact=True).click()
    admin.get_by_role("option", name="Clinician", exact=True).click()
    expect(invite.get_by_role("combobox", name="Role", exact=True)).to_have_value("Clinician")
    expect(invite.get_by_role("combobox", name="Link expires after")).to_have_value("72 hours")
    expect(send).to_be_enabled()
    _shot(admin, shots_dir, "invite-pop-out.png", element=".q-dialog .q-card")

    send.click()
    expect(invite.get_by_text("Invited (1)")).to_be_visible()
    expect(invite.get_by_text(INVITEE, exact=True)).to_be_visible()
    _shot(admin, shots_dir, "invite-sent.png", element=".q-dialog .q-card")
    invite.get_by_role("button", name="Close").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)

    # (d) The email, read from the sink: who invited, where, as what, and the link.
    mail = _read_mail(admin, app_server, INVITEE, f"{ADMIN_NAME} invited you to {DEPLOYMENT} at {ORGANISATION}")
    assert (
        f"{ADMIN_NAME} ({app_server.admin_email}) has invited you to join {DEPLOYMENT} at {ORGANISATION} "
        "as Clinician." in mail.text
    ), mail.text
    assert mail.link.startswith(app_server.url("/accept/")), mail.link
    assert mail.link in mail.text

    # (e) The invitee, in another browser: the invitation, the account, the Care Portal and nothing more.
    clinician = _watch_errors(new_context().new_page(), errors)
    clinician.goto(mail.link)
    expect(
        clinician.get_by_text(
            f"{ADMIN_NAME} invited {INVITEE} to {DEPLOYMENT} at {ORGANISATION} as Clinician.", exact=False
        )
    ).to_be_visible()
    _create_account(clinician, mail.link, INVITEE_NAME, INVITEE)
    _log_in(clinician, app_server, INVITEE)
    expect(clinician).to_have_url(app_server.url("/care"))
    expect(clinician.get_by_role("heading", name="Care Portal")).to_be_visible()
    expect(clinician.locator("header").get_by_text(INVITEE_NAME, exact=True)).to_be_visible()
    my_roles = clinician.get_by_test_id("my-role")
    expect(my_roles).to_have_text([f"Clinician — {DEPLOYMENT} at {ORGANISATION}"])
    expect(clinician.get_by_role("link", name="Admin Portal")).to_have_count(0)
    _shot(clinician, shots_dir, "care-portal.png")

    clinician.goto(app_server.url("/admin"))
    expect(clinician.get_by_text("The Admin Portal is for platform and organisation administrators.")).to_be_visible()
    expect(clinician.get_by_role("button", name="Create organisation")).to_have_count(0)

    # The used link is spent: opening it again shows the plain message and no form.
    clinician.goto(mail.link)
    expect(clinician.get_by_role("alert")).to_be_visible()
    expect(clinician.get_by_role("button", name="Create account")).to_have_count(0)

    assert not errors, f"JavaScript errors in the pages: {errors}"
    assert "Traceback" not in app_server.output(), app_server.output()
