"""The Admin Portal in a real browser: an organisation-level invitation, a new Organisation Owner, keyboard only.

The Super Admin invites an Organisation Owner from the Organisations tab (row menu ⋮ → Invite staff). The owner
reads the email in the product's mailbox (/dev/mailbox, fed by the embedded SMTP sink) in a second browser,
creates an account, logs in, lands on /admin and sees only their organisation. Then, with the keyboard alone,
the owner invites a deployment Admin from the Deployments tab; the summary says who was invited, and the
pending count of the deployment goes to 1 live in both browsers. axe-core checks every screen on the way.
"""

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    check_accessibility,
    choose_by_keyboard,
    choose_with_mouse,
    create_account,
    create_deployment,
    create_organisation,
    first_admin_link,
    log_in,
    open_row_menu_by_keyboard,
    read_mail,
    row_menu,
    set_up_super_admin,
    shot,
    tab_to,
    type_addresses,
    watch_errors,
    write_report,
)

pytestmark = pytest.mark.browser

ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
DEPLOYMENT = "Heart Failure Trial"
OTHER_ORGANISATION = "Northwind Health"
OTHER_DEPLOYMENT = "Diabetes Study"
OWNER = "owen.owner@example.org"
OWNER_NAME = "Owen Owner"
DEPLOYMENT_ADMIN = "dana.admin@example.org"
PENDING_COLUMN = 3  # Deployment, Organisation, Staff, Pending invitations, Created, Actions
LIVE_TIMEOUT = 3_000  # ms: the product promises changes within a second in every open list

expect.set_options(timeout=10_000)


def _pending_cell(page: Page, deployment: str) -> Locator:
    row = (
        page.get_by_role("region", name="Deployments")
        .get_by_role("row")
        .filter(has=page.get_by_role("cell", name=deployment, exact=True))
    )
    return row.get_by_role("cell").nth(PENDING_COLUMN)


def test_an_organisation_owner_is_invited_accepts_and_invites_a_deployment_admin_by_keyboard(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    findings: list[str] = []
    admin = watch_errors(new_context().new_page(), errors)

    # The log-in page and an invitation page, before anyone has an account.
    admin.goto(app_server.url("/login"))
    expect(admin.get_by_role("button", name="Log in")).to_be_visible()
    check_accessibility(admin, "/login", report=findings)
    admin.goto(first_admin_link(app_server))
    expect(admin.get_by_role("heading", name="Create your account")).to_be_visible()
    check_accessibility(admin, "/accept/<token>", report=findings)

    # (a) The Super Admin sets up two organisations, each with a deployment.
    set_up_super_admin(admin, app_server, ADMIN_NAME)
    for organisation, deployment in ((ORGANISATION, DEPLOYMENT), (OTHER_ORGANISATION, OTHER_DEPLOYMENT)):
        create_organisation(admin, organisation)
        create_deployment(admin, organisation, deployment)
    check_accessibility(admin, "/admin, Organisations tab", report=findings)

    # (b) An invitation at organisation level: Organisations tab, row menu, Invite staff, Organisation Owner.
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_role("heading", name=f"Invite staff to {ORGANISATION}", exact=True)).to_be_visible()
    addresses = invite.get_by_label("Email addresses")
    addresses.fill(OWNER)
    addresses.press("Enter")
    expect(invite.get_by_text("1 valid address", exact=True)).to_be_visible()
    choose_with_mouse(admin, invite, "Role", "Organisation Owner")
    check_accessibility(admin, "/admin, Invite staff pop-out (organisation)", report=findings)
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_text("Invited (1)", exact=True)).to_be_visible()
    expect(invite.get_by_text(OWNER, exact=True)).to_be_visible()
    invite.get_by_role("button", name="Close").click()
    expect(invite).to_be_hidden()

    admin.get_by_role("tab", name="Deployments").click()
    expect(_pending_cell(admin, DEPLOYMENT)).to_have_text("0")  # the owner's invitation is for the organisation
    expect(_pending_cell(admin, OTHER_DEPLOYMENT)).to_have_text("0")
    check_accessibility(admin, "/admin, Deployments tab", report=findings)
    admin.evaluate("() => { window.gatehouseNotReloaded = true; }")

    # (c) The owner, in a second browser: the email in the mailbox, the account, the Admin Portal.
    owner = watch_errors(new_context().new_page(), errors)
    mail = read_mail(owner, app_server, OWNER, f"{ADMIN_NAME} invited you to {ORGANISATION}")
    check_accessibility(owner, "/dev/mailbox, a message open", report=findings)
    assert f"has invited you to join {ORGANISATION} (whole organisation) as Organisation Owner." in mail.text, mail.text
    create_account(owner, mail.link, OWNER_NAME, OWNER)
    log_in(owner, app_server, OWNER)
    expect(owner).to_have_url(app_server.url("/admin"))
    expect(owner.get_by_role("heading", name="Admin Portal")).to_be_visible()
    organisations = owner.get_by_role("region", name="Organisations")
    expect(organisations.get_by_role("cell", name=ORGANISATION, exact=True)).to_be_visible()
    expect(organisations.get_by_role("cell", name=OTHER_ORGANISATION, exact=True)).to_have_count(0)
    expect(organisations.get_by_text("1-1 of 1")).to_be_visible()
    expect(owner.get_by_role("button", name="Invite Admin Portal staff")).to_have_count(0)
    expect(owner.get_by_role("button", name="Create organisation")).to_have_count(0)
    check_accessibility(owner, "/admin as Organisation Owner", report=findings)
    owner.evaluate("() => { window.gatehouseNotReloaded = true; }")

    # (d) Keyboard only: the Deployments tab, the row menu, the pop-out, the role, the expiry, Send invites.
    tab_to(owner, owner.get_by_role("tab", name="Organisations"))
    owner.keyboard.press("ArrowRight")  # tabs: the arrows move between them, Enter chooses
    expect(owner.get_by_role("tab", name="Deployments")).to_be_focused()
    owner.keyboard.press("Enter")
    deployments = owner.get_by_role("region", name="Deployments")
    expect(deployments.get_by_role("cell", name=DEPLOYMENT, exact=True)).to_be_visible()
    expect(deployments.get_by_role("cell", name=OTHER_DEPLOYMENT, exact=True)).to_have_count(0)
    expect(_pending_cell(owner, DEPLOYMENT)).to_have_text("0")

    open_row_menu_by_keyboard(owner, DEPLOYMENT, "Invite staff")
    invite = owner.get_by_role("dialog", name="Invite staff")
    heading = f"Invite staff to {DEPLOYMENT} ({ORGANISATION})"
    expect(invite.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    type_addresses(owner, invite.get_by_label("Email addresses"), DEPLOYMENT_ADMIN)
    expect(invite.get_by_text("1 valid address", exact=True)).to_be_visible()
    role = invite.get_by_role("combobox", name="Role", exact=True)
    tab_to(owner, role)
    choose_by_keyboard(owner, role, "Admin")
    owner.keyboard.press("Tab")
    expiry = invite.get_by_role("combobox", name="Link expires after")
    choose_by_keyboard(owner, expiry, "7 days")
    check_accessibility(owner, "/admin, Invite staff pop-out (deployment), filled in", report=findings)
    send = invite.get_by_role("button", name="Send invites")
    tab_to(owner, send)
    expect(send).to_be_enabled()
    shot(owner, shots_dir, "admin-invite-by-keyboard.png", element=".q-dialog .q-card")
    sent_at = time.monotonic()
    owner.keyboard.press("Enter")

    # The summary, and the pending count going to 1 live: in the owner's table and in the Super Admin's browser.
    expect(invite.get_by_text("Invited (1)", exact=True)).to_be_visible()
    expect(invite.get_by_text(DEPLOYMENT_ADMIN, exact=True)).to_be_visible()
    expect(invite.get_by_role("combobox", name="Role", exact=True)).to_have_value("Admin")
    expect(invite.get_by_label("Email addresses")).to_be_focused()  # not lost when Send invites turns disabled
    expect(_pending_cell(admin, DEPLOYMENT), "the Super Admin's table").to_have_text("1", timeout=LIVE_TIMEOUT)
    print(f"pending count live in the other browser after {time.monotonic() - sent_at:.2f} s")
    expect(_pending_cell(admin, OTHER_DEPLOYMENT)).to_have_text("0")
    shot(owner, shots_dir, "admin-invite-summary.png", element=".q-dialog .q-card")
    owner.keyboard.press("Escape")
    expect(invite).to_be_hidden()
    expect(owner.get_by_role("button", name=f"Actions for {DEPLOYMENT}")).to_be_focused()  # back where it began
    expect(_pending_cell(owner, DEPLOYMENT), "the owner's table").to_have_text("1", timeout=LIVE_TIMEOUT)
    assert owner.evaluate("() => window.gatehouseNotReloaded") is True, "the owner's page reloaded"
    assert admin.evaluate("() => window.gatehouseNotReloaded") is True, "the Super Admin's page reloaded"
    shot(owner, shots_dir, "admin-owner-deployments.png")

    # The email went out with the role and the deployment.
    mail = read_mail(owner, app_server, DEPLOYMENT_ADMIN, f"{OWNER_NAME} invited you to {DEPLOYMENT} at {ORGANISATION}")
    assert f"has invited you to join {DEPLOYMENT} at {ORGANISATION} as Admin." in mail.text, mail.text

    write_report(findings, shots_dir, "axe-admin-portal.txt")
    assert not errors, f"JavaScript errors in the pages: {errors}"
