"""The newcomer's story in a real browser, with the mail read from the app's real SMTP sink (/dev/mailbox).

First start invites the Super Admin; she sets up her account, logs in, creates an organisation and a deployment,
and invites a clinician from the deployment's row menu. The clinician finds the email in the mailbox, opens the
link in another browser, creates an account, logs in, and sees exactly her access in the Care Portal.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import create_account, log_in, read_mail, row_menu, shot, watch_errors

pytestmark = pytest.mark.browser

ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
DEPLOYMENT = "Heart Failure Trial"
INVITEE = "clara.clinician@example.org"
INVITEE_NAME = "Clara Clinician"

expect.set_options(timeout=10_000)


def test_a_newcomer_is_invited_by_email_and_lands_in_the_care_portal(
    app_server: AppServer, new_context: Callable[..., BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    admin = watch_errors(new_context().new_page(), errors)

    # (a) First start: the Super Admin's invitation is in the mailbox, and its link is on the console.
    first = read_mail(admin, app_server, app_server.admin_email, "Set up your Gatehouse account (Super Admin)")
    assert first.link.startswith(app_server.url("/accept/"))
    assert first.link in app_server.output(), "the console does not print the first-admin link"
    assert "has invited you to join the Gatehouse platform as Super Admin" in first.text
    create_account(admin, first.link, ADMIN_NAME, app_server.admin_email)

    # (b) Log in: pressed with nothing filled in, each field says what is missing, at once, and the focus goes to
    # the first; then the Super Admin logs in and lands on the Admin Portal.
    email, password = admin.get_by_label("Email"), admin.get_by_label("Password", exact=True)
    email.fill("")
    admin.get_by_role("button", name="Log in").click()
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Enter your email address")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Enter your password")
    log_in(admin, app_server, app_server.admin_email)
    expect(admin).to_have_url(app_server.url("/admin"))
    expect(admin.get_by_role("heading", name="Admin Portal")).to_be_visible()

    # (c) An organisation, a deployment in it, and an invitation for a clinician from the deployment's row menu.
    admin.get_by_label("New organisation name").fill(ORGANISATION)
    admin.get_by_role("button", name="Create organisation").click()
    expect(admin.get_by_text("Organisation created.")).to_be_visible()
    organisations = admin.get_by_role("table").filter(has_text="Organisation")
    expect(organisations.get_by_role("cell", name=ORGANISATION, exact=True)).to_be_visible()

    row_menu(admin, ORGANISATION, "New deployment")
    dialog = admin.get_by_role("dialog")
    expect(dialog.get_by_text(f"New deployment in {ORGANISATION}")).to_be_visible()
    dialog.get_by_label("Deployment name").fill(DEPLOYMENT)
    dialog.get_by_role("button", name="Create deployment").click()
    expect(admin.get_by_text("Deployment created.")).to_be_visible()
    expect(dialog).to_be_hidden()

    admin.get_by_role("tab", name="Deployments").click()
    expect(admin.get_by_role("cell", name=DEPLOYMENT, exact=True)).to_be_visible()
    row_menu(admin, DEPLOYMENT, "Invite staff")
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
    shot(admin, shots_dir, "invite-pop-out.png", element=".q-dialog .q-card")

    send.click()
    expect(invite.get_by_text("Invited (1)")).to_be_visible()
    expect(invite.get_by_text(INVITEE, exact=True)).to_be_visible()
    shot(admin, shots_dir, "invite-sent.png", element=".q-dialog .q-card")
    invite.get_by_role("button", name="Close").click()
    expect(admin.get_by_role("dialog")).to_have_count(0)

    # (d) The email, read from the sink: who invited, where, as what, and the link.
    mail = read_mail(admin, app_server, INVITEE, f"{ADMIN_NAME} invited you to {DEPLOYMENT} at {ORGANISATION}")
    assert (
        f"{ADMIN_NAME} ({app_server.admin_email}) has invited you to join {DEPLOYMENT} at {ORGANISATION} "
        "as Clinician." in mail.text
    ), mail.text
    assert mail.link.startswith(app_server.url("/accept/")), mail.link
    assert mail.link in mail.text

    # (e) The invitee, in another browser in Tokyo: the invitation (its expiry in her time zone, named, and truly
    # "in 3 days" for a 72-hour link), the account, the Care Portal and nothing more.
    clinician = watch_errors(new_context(timezone_id="Asia/Tokyo").new_page(), errors)
    clinician.goto(mail.link)
    expect(
        clinician.get_by_text(
            f"{ADMIN_NAME} invited {INVITEE} to {DEPLOYMENT} at {ORGANISATION} as Clinician.", exact=False
        )
    ).to_be_visible()
    expect(
        clinician.get_by_text(re.compile(r"valid until \d{1,2} \w{3} \d{4}, \d\d:\d\d JST \(in 3 days\)"))
    ).to_be_visible()
    create_account(clinician, mail.link, INVITEE_NAME, INVITEE)
    log_in(clinician, app_server, INVITEE)
    expect(clinician).to_have_url(app_server.url("/care"))
    expect(clinician.get_by_role("heading", name="Care Portal")).to_be_visible()
    expect(clinician.locator("header").get_by_text(INVITEE_NAME, exact=True)).to_be_visible()
    my_roles = clinician.get_by_test_id("my-role")
    expect(my_roles).to_have_text([f"Clinician — {DEPLOYMENT} at {ORGANISATION}"])
    expect(clinician.get_by_role("link", name="Admin Portal")).to_have_count(0)
    shot(clinician, shots_dir, "care-portal.png")

    clinician.goto(app_server.url("/admin"))
    expect(clinician.get_by_text("The Admin Portal is for platform and organisation administrators.")).to_be_visible()
    expect(clinician.get_by_role("button", name="Create organisation")).to_have_count(0)

    # The used link is spent: opening it again shows the plain message and no form.
    clinician.goto(mail.link)
    expect(clinician.get_by_role("alert")).to_be_visible()
    expect(clinician.get_by_role("button", name="Create account")).to_have_count(0)
    clinician.get_by_role("link", name="Log in").click()  # and the way on for someone who has an account
    expect(clinician).to_have_url(app_server.url("/login"))

    assert not errors, f"JavaScript errors in the pages: {errors}"
    assert "Traceback" not in app_server.output(), app_server.output()
