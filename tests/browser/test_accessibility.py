"""Every screen and dialog state at 1366x768 and on a 390 px phone: axe-core, layout, and the keyboard.

One app, one walk per width (docs/ACCESSIBILITY.md lists the states): log-in, an invitation link, a spent link,
both Admin Portal tabs with a row menu, the Care Portal's staff and pending lists with their row menus and a
confirmation, the invite pop-out (empty, with chips, with an invalid chip, the Role list open, after Send, with a
CSV report), Edit roles with its dialog, the audit log and the mailbox. On each: no serious or critical axe
finding, and no sideways scrolling (tables fit their boxes with every ⋮ menu and the row's name in sight; on the
phone rows are cards). At 1366 the keyboard alone: the skip link comes first, the current page is marked, every
control Tab reaches shows a focus ring, the password can be shown, a table sorts from its header, and the focus
goes back to the ⋮ button that opened a dialog, also after Tab wrapped around the dialog.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    check_accessibility,
    check_layout,
    choose_with_mouse,
    create_account,
    create_organisation,
    open_row_menu_by_keyboard,
    read_mail,
    row_menu,
    set_up_super_admin,
    shot,
    tab_through,
    tab_to,
    watch_errors,
    write_report,
)

pytestmark = pytest.mark.browser

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
WIDTHS = {1366: 768, 390: 844}
PENDING_VIEW = "Staff members >> Pending staff invitations"
CSV_FILE = "email\nquinn@example.org\nnot-an-address\n"

expect.set_options(timeout=10_000)


def test_every_screen_fits_and_passes_axe_at_1366_and_390_and_works_by_keyboard(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path, tmp_path: Path
) -> None:
    errors: list[str] = []
    findings: list[str] = []
    admin = watch_errors(new_context().new_page(), errors)
    set_up_super_admin(admin, app_server, ADMIN_NAME)
    create_organisation(admin, ORGANISATION)
    create_organisation(admin, OTHER_ORGANISATION)
    _keyboard_sorts_and_dialog_gives_focus_back(admin)
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    invite.get_by_label("Email addresses").fill(" ".join([MEMBER, *WAITING.values()]))
    invite.get_by_label("Email addresses").press("Enter")
    choose_with_mouse(admin, invite, "Role", "Access Controller")
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_text("Invited (3)", exact=True)).to_be_visible()
    invite.get_by_role("button", name="Close").click()
    subject = f"{ADMIN_NAME} invited you to {ORGANISATION}"
    links = {address: read_mail(admin, app_server, address, subject).link for address in [MEMBER, *WAITING.values()]}
    csv_path = tmp_path / "staff.csv"
    csv_path.write_text(CSV_FILE, encoding="utf-8")

    for width, height in WIDTHS.items():
        admin.set_viewport_size({"width": width, "height": height})
        screen = _Screens(admin, width, findings)
        visitor = watch_errors(new_context().new_page(), errors)
        visitor.set_viewport_size({"width": width, "height": height})
        _signed_out_screens(_Screens(visitor, width, findings), app_server, links[WAITING[width]], keyboard=width > 390)
        if width == 1366:  # the member accepts: a row in the staff list, and a spent link for the next width
            create_account(visitor, links[MEMBER], MEMBER_NAME, MEMBER)
        visitor.goto(links[MEMBER])
        expect(visitor.get_by_role("alert")).to_be_visible()
        _Screens(visitor, width, findings).check("/accept/<used token>")
        _admin_portal(screen, app_server)
        _care_portal(screen, app_server, csv_path)
        _roles_audit_and_mailbox(screen)
        shot(admin, shots_dir, f"care-audit-{width}.png")

    write_report(findings, shots_dir, "axe-every-screen.txt")
    assert not errors, f"JavaScript errors in the pages: {errors}"


class _Screens:
    """One browser page at one width: check a state (axe and layout) under a name that says where."""

    def __init__(self, page: Page, width: int, findings: list[str]) -> None:
        self.page, self.width, self.findings = page, width, findings

    def check(self, state: str) -> None:
        name = f"{state} at {self.width} px"
        check_layout(self.page, name)
        check_accessibility(self.page, name, report=self.findings)


def _keyboard_sorts_and_dialog_gives_focus_back(admin: Page) -> None:
    # A sortable column header takes the focus and sorts with Enter or Space; the focus stays on it.
    organisations = admin.get_by_role("region", name="Organisations")
    header = organisations.get_by_role("columnheader", name="Organisation")
    first_row = organisations.get_by_role("row").nth(1)
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(first_row).to_contain_text(OTHER_ORGANISATION)
    tab_to(admin, header)
    admin.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(first_row).to_contain_text(ORGANISATION)
    expect(header).to_be_focused()  # the table re-rendered its header: the focus followed it
    admin.keyboard.press("Space")
    expect(header).to_have_attribute("aria-sort", "ascending")

    # New deployment from the row menu, by keyboard; Shift+Tab wraps past the dialog's first control and Quasar's
    # trap brings it back; the server closes the dialog on Enter: the focus goes back to the ⋮ button.
    opener = admin.get_by_role("button", name=f"Actions for {ORGANISATION}", exact=True)
    open_row_menu_by_keyboard(admin, ORGANISATION, "New deployment")
    dialog = admin.get_by_role("dialog", name=f"New deployment in {ORGANISATION}")
    name = dialog.get_by_label("Deployment name")
    expect(name).to_be_focused()
    admin.keyboard.type(DEPLOYMENT)
    for _ in range(3):
        admin.keyboard.press("Shift+Tab")
    expect(dialog.locator(":focus")).to_have_count(1)  # round the ends, still in the dialog
    tab_to(admin, name)
    admin.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    # Escape after Tab went round the confirmation (Quasar closes it in the browser): the same.
    open_row_menu_by_keyboard(admin, OTHER_ORGANISATION, "Archive")
    confirm = admin.get_by_role("dialog", name=f"Archive {OTHER_ORGANISATION}?")
    for _ in range(3):
        admin.keyboard.press("Tab")
    expect(confirm.locator(":focus")).to_have_count(1)
    admin.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(admin.get_by_role("button", name=f"Actions for {OTHER_ORGANISATION}", exact=True)).to_be_focused()


def _signed_out_screens(screen: _Screens, server: AppServer, link: str, *, keyboard: bool) -> None:
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
    page.goto(link)
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    screen.check("/accept/<token>")
    if keyboard:
        tab_to(page, page.get_by_role("button", name="Show password"))


def _admin_portal(screen: _Screens, server: AppServer) -> None:
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


def _care_portal(screen: _Screens, server: AppServer, csv_path: Path) -> None:
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
    page.keyboard.press("Escape")

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


def _roles_audit_and_mailbox(screen: _Screens) -> None:
    page = screen.page
    page.get_by_role("button", name="Manage").click()
    page.get_by_role("menuitem", name="Add a new role").click()
    expect(page.get_by_role("heading", name="Edit roles")).to_be_visible()
    screen.check("/care/roles")
    page.get_by_role("button", name="Add a new role").click()
    editor = page.get_by_role("dialog", name="Add a new role")
    expect(editor.get_by_label("Role name")).to_be_visible()
    screen.check("/care/roles, Add a new role dialog")
    page.keyboard.press("Escape")
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
