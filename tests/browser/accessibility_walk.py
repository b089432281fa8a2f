"""The accessibility walk: every screen and dialog state at one width, checked with axe-core and for layout.

Two test files walk it, each with its own app so they run side by side: `test_accessibility_wide.py` at 1366x768
with the keyboard checks, `test_accessibility_phone.py` on a 390x844 phone that asks for less motion. The states are
listed in docs/ACCESSIBILITY.md. On each: no serious or critical axe finding, and no sideways scrolling (tables fit
their boxes with every ⋮ menu and the row's name in sight; on the phone rows are cards).
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    check_accessibility,
    check_layout,
    choose_with_mouse,
    create_account,
    create_organisation,
    organisation_id,
    read_mail,
    row_menu,
    set_up_super_admin,
    shot,
    tab_through,
    tab_to,
    watch_errors,
    write_report,
)

ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
DEPLOYMENT = "Heart Failure Trial"
OTHER_ORGANISATION = "Northwind Health"
MEMBER, MEMBER_NAME = "maximilian.ashworth-wellington@st-marys-hospital-trust.example.org", "Max Ashworth"
# Long addresses, one per width: each opens its invitation link there (a valid link), and stays pending.
WAITING = {
    1366: "alexandra.montgomery-smythe@st-marys-hospital-trust.example.org",
    390: "christopher.wellington-ashworth@northwind-health-research.example.org",
}
HEIGHTS = {1366: 768, 390: 844}
PENDING_VIEW = "Staff members >> Pending staff invitations"
CSV_FILE = "email\nquinn@example.org\nnot-an-address\n"


def start(admin: Page, server: AppServer) -> None:
    """The Super Admin's first start and the two organisations the walk looks at."""
    set_up_super_admin(admin, server, ADMIN_NAME)
    create_organisation(admin, ORGANISATION)
    create_organisation(admin, OTHER_ORGANISATION)


def walk(
    admin: Page,
    server: AppServer,
    new_context: Callable[..., BrowserContext],
    folder: Path,
    width: int,
    errors: list[str],
    **options: Any,
) -> None:
    """Invite the member and this width's waiting address, then check every screen at this width. JavaScript errors
    of the pages go to errors; `options` go to each new browser context (reduced_motion="reduce", say)."""
    findings: list[str] = []
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    invite.get_by_label("Email addresses").fill(f"{MEMBER} {WAITING[width]}")
    invite.get_by_label("Email addresses").press("Enter")
    choose_with_mouse(admin, invite, "Role", "Access Controller")
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_text("Invited (2)", exact=True)).to_be_visible()
    invite.get_by_role("button", name="Close").click()
    subject = f"{ADMIN_NAME} invited you to {ORGANISATION}"
    links = {address: read_mail(admin, server, address, subject).link for address in (MEMBER, WAITING[width])}
    csv_path = folder / "staff.csv"
    csv_path.write_text(CSV_FILE, encoding="utf-8")

    size: ViewportSize = {"width": width, "height": HEIGHTS[width]}
    admin.set_viewport_size(size)
    visitor = watch_errors(new_context(viewport=size, **options).new_page(), errors)
    _signed_out_screens(Screens(visitor, width, findings), server, links[WAITING[width]], keyboard=width > 390)
    create_account(visitor, links[MEMBER], MEMBER_NAME, MEMBER)  # a row in the staff list, and a spent link
    visitor.goto(links[MEMBER])
    expect(visitor.get_by_role("alert")).to_be_visible()
    Screens(visitor, width, findings).check("/accept/<used token>")
    screen = Screens(admin, width, findings)
    _admin_portal(screen, server)
    _care_portal(screen, server, csv_path)
    _access_settings(screen)
    _access_reviews(screen)
    _integrations(screen)
    _webhooks(screen)
    _single_sign_on(screen)
    _accept_offering_single_sign_on(Screens(visitor, width, findings), server, links[WAITING[width]])
    _roles_audit_and_mailbox(screen)
    shot(admin, folder, f"care-audit-{width}.png")
    write_report(findings, folder, f"axe-every-screen-{width}.txt")


class Screens:
    """One browser page at one width: check a state (axe and layout) under a name that says where."""

    def __init__(self, page: Page, width: int, findings: list[str]) -> None:
        self.page, self.width, self.findings = page, width, findings

    def check(self, state: str) -> None:
        name = f"{state} at {self.width} px"
        check_layout(self.page, name)
        check_accessibility(self.page, name, report=self.findings)


def _signed_out_screens(screen: Screens, server: AppServer, link: str, *, keyboard: bool) -> None:
    page = screen.page
    page.goto(server.url("/login"))
    expect(page.get_by_label("Email")).to_be_visible()
    screen.check("/login")
    if keyboard:
        # The skip link is the first stop and leads past the header; the password can be shown by keyboard.
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to main content")
        expect(skip).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#main-content")).to_be_focused()
        password = page.get_by_label("Password", exact=True)
        password.fill("secret words")
        show = page.get_by_role("button", name="Show password")
        tab_to(page, show)
        page.keyboard.press("Enter")
        expect(password).to_have_attribute("type", "text")
        expect(show).to_have_attribute("aria-pressed", "true")
    page.goto(server.url("/sso/factor"))  # no single sign-on under way in this browser
    expect(page.get_by_role("alert")).to_contain_text("That log-in has expired")
    screen.check("/sso/factor, no sign-in under way")
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    screen.check("/accept/<token>")
    if keyboard:
        tab_to(page, page.get_by_role("button", name="Show password"))


def _admin_portal(screen: Screens, server: AppServer) -> None:
    page = screen.page
    page.goto(server.url("/admin"))
    expect(page.get_by_role("region", name="Organisations").get_by_text(ORGANISATION, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Admin Portal")).to_have_attribute("aria-current", "page")
    screen.check("/admin, Organisations")
    page.get_by_role("button", name=f"Actions for {ORGANISATION}", exact=True).click()
    expect(page.get_by_role("menu")).to_be_visible()
    screen.check("/admin, an organisation's row menu")
    page.keyboard.press("Escape")
    page.get_by_role("tab", name="Deployments").click()
    expect(page.get_by_role("region", name="Deployments").get_by_text(DEPLOYMENT, exact=True)).to_be_visible()
    screen.check("/admin, Deployments")
    _platform_tabs(screen)


def _platform_tabs(screen: Screens) -> None:
    """Platform staff (the Super Admin's own grant, its Change end of access; an account found by email, its Suspend
    confirmation, cancelled) and Platform audit."""
    page = screen.page
    page.get_by_role("tab", name="Platform staff").click()
    staff = page.get_by_role("region", name="Platform staff")
    expect(staff.get_by_text(ADMIN_NAME, exact=True)).to_be_visible()
    screen.check("/admin, Platform staff")
    staff.get_by_role("button", name=f"Actions for {ADMIN_NAME}", exact=True).click()
    page.get_by_role("menuitem", name="Change end of access", exact=True).click()
    expect(page.get_by_role("dialog", name=f"Change when {ADMIN_NAME}'s access ends")).to_be_visible()
    screen.check("/admin, Platform staff, Change end of access")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)  # gone, backdrop and all, before the next state
    page.get_by_label("Find an account by email in Accounts").fill("ashworth")
    accounts = page.get_by_role("region", name="Accounts")
    accounts.get_by_role("button", name=f"Actions for {MEMBER_NAME}", exact=True).click()
    page.get_by_role("menuitem", name="Suspend account", exact=True).click()
    expect(page.get_by_role("dialog", name=f"Suspend the account of {MEMBER_NAME}?")).to_be_visible()
    screen.check("/admin, an account found by email, Suspend account")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("tab", name="Platform audit").click()
    expect(page.get_by_role("region", name="Audit events")).to_be_visible()
    screen.check("/admin, Platform audit")


def _care_portal(screen: Screens, server: AppServer, csv_path: Path) -> None:
    page = screen.page
    page.goto(server.url("/care"))
    choose_with_mouse(page, page.locator("main"), "Organisation", ORGANISATION)
    staff = page.get_by_role("region", name="All staff members")
    expect(staff.get_by_text(MEMBER, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Care Portal")).to_have_attribute("aria-current", "page")
    screen.check("/care, All staff members")
    page.get_by_role("button", name=f"Actions for {MEMBER_NAME}", exact=True).click()
    expect(page.get_by_role("menu")).to_be_visible()
    screen.check("/care, a staff row's menu")
    page.get_by_role("menuitem", name="Access history", exact=True).click()
    history = page.get_by_role("dialog", name=f"Access history of {MEMBER_NAME}")
    expect(history.get_by_role("table")).to_be_visible()
    screen.check("/care, a member's access history")
    history.get_by_role("button", name="Close").click()
    page.get_by_role("button", name=f"Actions for {MEMBER_NAME}", exact=True).click()
    page.get_by_role("menuitem", name="Change end of access", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="End now").click()
    end_now = page.get_by_role("dialog", name=f"End {MEMBER_NAME}'s access now?")
    expect(end_now.get_by_role("button", name="Cancel")).to_be_visible()
    screen.check("/care, End now's confirmation")
    end_now.get_by_role("button", name="Cancel").click()
    expect(end_now).to_be_hidden()

    choose_with_mouse(page, page.locator("main"), "Overview filters", PENDING_VIEW)
    waiting = WAITING[screen.width]
    actions = page.get_by_role("button", name=f"Actions for {waiting}", exact=True)
    expect(actions).to_be_visible()
    screen.check("/care, Pending staff invitations")
    if screen.width > 390:  # every control on the page shows where the keyboard is
        page.get_by_role("heading", name="Care Portal").click()
        tab_through(page, 30)
    actions.click()
    screen.check("/care, a pending row's menu")
    page.get_by_role("menuitem", name="Delete invitation").click()
    confirm = page.get_by_role("dialog", name=f"Delete the invitation to {waiting}?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screen.check("/care, delete confirmation")
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()

    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Invite staff members").click()
    invite = page.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_label("Email addresses")).to_be_focused()
    screen.check("/care, the pop-out, nothing typed yet")
    address = f"new.{screen.width}@example.org"
    invite.get_by_label("Email addresses").fill(address)
    invite.get_by_label("Email addresses").press("Enter")
    expect(invite.get_by_label(f"Address {address}", exact=True)).to_be_visible()
    screen.check("/care, the pop-out with a chip")
    invite.get_by_label("Email addresses").fill("not-an-address")
    invite.get_by_label("Email addresses").press("Enter")
    expect(invite.get_by_label("Invalid address not-an-address", exact=False)).to_be_visible()
    screen.check("/care, the pop-out with an invalid chip")
    if screen.width > 390:
        invite.get_by_label("Email addresses").focus()
        tab_through(page, 8)
    invite.get_by_role("combobox", name="Role", exact=True).click()
    expect(page.get_by_role("option", name="Supervisor")).to_be_visible()
    screen.check("/care, the pop-out with the Role list open")
    page.get_by_role("option", name="Supervisor").click()
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_text("Invited (1)", exact=True)).to_be_visible()
    screen.check("/care, the pop-out after Send")
    invite.locator("input[type=file]").set_input_files(csv_path)
    expect(invite.get_by_text("Read 2 rows", exact=False)).to_be_visible()
    screen.check("/care, the pop-out with a CSV report")
    page.keyboard.press("Escape")
    expect(invite).to_be_hidden()


def _access_settings(screen: Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Access settings").click()
    expect(page.get_by_role("heading", name="Dormant members")).to_be_visible()
    screen.check("/care/settings")
    if screen.width > 390:  # every control on the page shows where the keyboard is
        page.get_by_role("heading", name="Access settings").click()
        tab_through(page, 12)
    warnings = page.get_by_label("Warn this many days before access ends")
    warnings.fill("14, seven")
    page.get_by_role("button", name="Save access settings").click()
    expect(page.get_by_text("“seven” is not a whole number of days", exact=False)).to_be_visible()
    expect(warnings).to_be_focused()  # the first field in error
    expect(warnings).to_have_attribute("aria-invalid", "true")
    screen.check("/care/settings, an error at its field")
    page.get_by_role("link", name="← Back to the Care Portal").click()
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()
    choose_with_mouse(page, page.locator("main"), "Overview filters", "Staff members >> Awaiting approval")
    expect(page.get_by_role("region", name="Invitations awaiting approval")).to_be_visible()
    screen.check("/care, Invitations awaiting approval")
    choose_with_mouse(page, page.locator("main"), "Overview filters", "All staff members")
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()


def _integrations(screen: Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Integrations").click()
    expect(page.get_by_role("heading", name="Make an API token")).to_be_visible()
    screen.check("/care/integrations")
    if screen.width > 390:  # the form and the list are reached and shown by the keyboard
        page.get_by_role("heading", name="Make an API token").click()
        tab_through(page, 8)
    page.get_by_label("Name (what uses it, such as Entra ID provisioning)").fill(f"Walk {screen.width}")
    page.get_by_role("group", name="What it may do").get_by_text("Invite staff members").click()
    page.get_by_role("button", name="Make token").click()
    shown = page.get_by_role("dialog", name=f"Your new token “Walk {screen.width}”")
    expect(shown.get_by_role("button", name="Copy token")).to_be_focused()
    screen.check("/care/integrations, the new token shown once")
    shown.get_by_role("button", name="I have copied it").click()
    expect(shown).to_be_hidden()
    page.get_by_role("button", name=f"Actions for Walk {screen.width}", exact=True).click()
    page.get_by_role("menuitem", name="Revoke…").click()
    expect(page.get_by_role("dialog", name=f"Revoke the token “Walk {screen.width}”?")).to_be_visible()
    screen.check("/care/integrations, the revoke confirmation")
    page.get_by_role("button", name="Revoke", exact=True).click()
    expect(page.get_by_role("region", name="API tokens").get_by_text("Revoked", exact=True)).to_be_visible()
    page.get_by_role("link", name="← Back to the Care Portal").click()
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()


def _webhooks(screen: Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Webhooks").click()
    form = page.get_by_role("region", name="Add an endpoint")
    expect(form.get_by_role("heading", name="Add an endpoint")).to_be_visible()
    screen.check("/care/webhooks")
    url = f"https://hooks.example.org/walk-{screen.width}"
    form.get_by_label("Endpoint URL (https://…)").fill(url)
    form.get_by_role("group", name="Events to send").get_by_role("checkbox").first.click()
    form.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_label("Signing secret")).to_be_visible()
    expect(page.get_by_role("region", name=f"Endpoint {url}")).to_be_visible()
    screen.check("/care/webhooks, an endpoint with its secret shown once")
    page.get_by_role("link", name="← Back to the Care Portal").click()
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()


def _single_sign_on(screen: Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Single sign-on").click()
    expect(page.get_by_role("heading", name="Your provider", exact=True)).to_be_visible()
    screen.check("/care/sso")
    if screen.width > 390:  # every field and both buttons are reached by the keyboard
        page.get_by_role("heading", name="Your provider", exact=True).click()
        tab_through(page, 9)
    page.get_by_label("Provider name (the button says Sign in with …)").fill("Walk ID")
    issuer = page.get_by_label("Issuer URL (https://…)")
    issuer.fill("http://login.example.org")
    page.get_by_label("Client ID").fill("walk")
    page.get_by_label("Client secret").fill("walk secret")
    page.get_by_role("button", name="Save single sign-on").click()
    expect(page.get_by_text("The issuer URL must start with https://.", exact=True)).to_be_visible()
    expect(issuer).to_be_focused()  # the field in error
    expect(issuer).to_have_attribute("aria-invalid", "true")
    screen.check("/care/sso, an error at its field")
    page.get_by_role("link", name="← Back to the Care Portal").click()
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()


def _accept_offering_single_sign_on(screen: Screens, server: AppServer, link: str) -> None:
    """The accept page of an organisation that connected a provider (written as the settings page would store it:
    the page reads only the row, never the provider) offers Sign in with it beside the password form."""
    organisation = organisation_id(server, ORGANISATION)
    connection = sqlite3.connect(server.database, timeout=10)
    try:
        with connection:
            connection.execute(_CONNECT, (organisation, "Walk ID", "https://login.example.org", "walk", "sealed", "[]"))
    finally:
        connection.close()
    screen.page.goto(link)
    expect(screen.page.get_by_role("link", name="Sign in with Walk ID")).to_be_visible()
    screen.check("/accept/<token>, single sign-on offered")


_CONNECT = (
    "INSERT INTO sso_connection (organisation_id, name, issuer, client_id, client_secret_sealed, required,"
    " email_domains, mfa_acr_values, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, 0, ?, '', datetime('now'), datetime('now'))"
)


def _access_reviews(screen: Screens) -> None:
    """The reviews list, a deployment's review schedule, Start a review (and a field in error), a review's items, a
    row's menu, the Keep dialog, and the review finished by its one decision; back to the Care Portal."""
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Access reviews").click()
    expect(page.get_by_role("heading", name="Access reviews")).to_be_visible()
    screen.check("/care/reviews")
    page.get_by_role("button", name=f"Actions for {DEPLOYMENT}", exact=True).click()
    page.get_by_role("menuitem", name="Change schedule", exact=True).click()
    schedule = page.get_by_role("dialog", name=f"Review schedule of {DEPLOYMENT}")
    expect(schedule.get_by_role("button", name="Save schedule")).to_be_visible()
    screen.check("/care/reviews, a deployment's review schedule")
    schedule.get_by_role("button", name="Cancel").click()
    expect(schedule).to_be_hidden()
    page.get_by_role("button", name="Start a review").click()
    start = page.get_by_role("dialog", name="Start a review")
    start.get_by_label("Title").fill("")
    start.get_by_role("button", name="Start review").click()
    expect(start.get_by_text("Give the review a title.")).to_be_visible()
    expect(start.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    screen.check("/care/reviews, Start a review with a field in error")
    start.get_by_label("Title").fill(f"Review at {screen.width} px")
    start.get_by_role("button", name="Start review").click()
    expect(page.get_by_role("heading", name=f"Review at {screen.width} px")).to_be_visible()
    expect(page.get_by_role("button", name=f"Actions for {MEMBER_NAME}", exact=True)).to_be_visible()
    screen.check("/care/reviews, a review's items")
    if screen.width > 390:  # every control on the page shows where the keyboard is
        page.get_by_role("heading", name="Access reviews").click()
        tab_through(page, 14)
    page.get_by_role("button", name=f"Actions for {MEMBER_NAME}", exact=True).click()
    expect(page.get_by_role("menu")).to_be_visible()
    screen.check("/care/reviews, an item's menu")
    page.get_by_role("menuitem", name="Keep", exact=True).click()
    keep = page.get_by_role("dialog", name=f"Keep the access of {MEMBER_NAME}?")
    keep.get_by_label("Comment (optional)").fill("Still needed")
    screen.check("/care/reviews, the Keep dialog")
    keep.get_by_role("button", name="Keep access").click()
    expect(page.get_by_text("This review is finished: nothing in it can change any more.")).to_be_visible()
    screen.check("/care/reviews, a finished review")
    page.get_by_role("link", name="← All access reviews").click()
    expect(page.get_by_role("region", name="Review campaigns").get_by_text("Finished", exact=False)).to_be_visible()
    page.get_by_role("link", name="← Back to the Care Portal").click()
    expect(page.get_by_role("region", name="All staff members")).to_be_visible()


def _roles_audit_and_mailbox(screen: Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Add a new role").click()
    expect(page.get_by_role("heading", name="Edit roles")).to_be_visible()
    editor = page.get_by_role("dialog", name="Add a new role")
    expect(editor.get_by_label("Role name")).to_be_visible()  # the menu item opens the add form itself
    screen.check("/care/roles, Add a new role dialog")
    page.keyboard.press("Escape")
    expect(editor).to_be_hidden()
    screen.check("/care/roles")
    page.get_by_role("link", name="← Back to the Care Portal").click()
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Audit log").click()
    audit = page.get_by_role("region", name="Audit events")
    expect(audit.locator("tbody tr, [role=group]").first).to_be_visible()
    screen.check("/care/audit")
    page.get_by_role("link", name="Mailbox").click()
    expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
    page.get_by_text(f"{ADMIN_NAME} invited you to {ORGANISATION}").first.click()
    expect(page.get_by_role("link", name="Create account").first).to_be_visible()
    screen.check("/dev/mailbox, a message open")
