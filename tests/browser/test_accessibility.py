"""axe-core on the screens the two story tests do not reach (roles, audit log, the empty pop-out); sorting by keyboard.

The story tests (test_admin_portal.py, test_care_portal.py) check /login, /accept/<token>, /admin (both tabs,
the pop-out open), /care (staff, pending, menus, dialogs, the pop-out) and /dev/mailbox as they go. Here the
Super Admin opens the rest: the Care Portal with two organisations, the pop-out before anything is typed, Edit
roles with its dialog, the audit log, and a dead invitation link. No serious or critical finding may remain.
Before that, a table is sorted from its column header with the keyboard alone.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    check_accessibility,
    choose_with_mouse,
    create_deployment,
    create_organisation,
    first_admin_link,
    set_up_super_admin,
    shot,
    tab_to,
    watch_errors,
    write_report,
)

pytestmark = pytest.mark.browser

ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
DEPLOYMENT = "Heart Failure Trial"
OTHER_ORGANISATION = "Northwind Health"

expect.set_options(timeout=10_000)


def test_the_care_portal_roles_and_audit_screens_have_no_serious_accessibility_problems(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    findings: list[str] = []
    admin = watch_errors(new_context().new_page(), errors)
    set_up_super_admin(admin, app_server, ADMIN_NAME)
    create_organisation(admin, ORGANISATION)
    create_deployment(admin, ORGANISATION, DEPLOYMENT)
    create_organisation(admin, OTHER_ORGANISATION)

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
    expect(first_row).to_contain_text(OTHER_ORGANISATION)

    # A used invitation link: the plain message, nothing else.
    admin.goto(first_admin_link(app_server))
    expect(admin.get_by_role("alert")).to_be_visible()
    check_accessibility(admin, "/accept/<used token>", report=findings)

    # The Care Portal of a Super Admin: an organisation choice, the overview filters, Manage.
    admin.goto(app_server.url("/care"))
    expect(admin.get_by_role("region", name="All staff members")).to_be_visible()
    choose_with_mouse(admin, admin.locator("main"), "Organisation", ORGANISATION)
    expect(admin.get_by_role("combobox", name="Organisation")).to_have_value(ORGANISATION)
    check_accessibility(admin, "/care as Super Admin, two organisations", report=findings)
    admin.get_by_role("button", name="Manage").click()
    expect(admin.get_by_role("menu")).to_be_visible()
    check_accessibility(admin, "/care, Manage menu open", report=findings)
    admin.get_by_role("menuitem", name="Invite staff members").click()
    invite = admin.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_role("button", name="Import csv file")).to_be_visible()
    choose_with_mouse(admin, invite, "Where", f"{DEPLOYMENT} at {ORGANISATION}")
    check_accessibility(admin, "/care, Invite staff members pop-out, nothing typed yet", report=findings)
    invite.get_by_label("Email addresses").fill("not-an-address")
    invite.get_by_label("Email addresses").press("Enter")
    expect(invite.get_by_label("Invalid address not-an-address", exact=False)).to_be_visible()
    check_accessibility(admin, "/care, pop-out with an invalid address", report=findings)
    invite.get_by_role("button", name="Close").click()
    expect(invite).to_be_hidden()

    # Edit roles, and its dialog.
    admin.get_by_role("button", name="Manage").click()
    admin.get_by_role("menuitem", name="Add a new role").click()
    expect(admin.get_by_role("heading", name="Edit roles")).to_be_visible()
    editor = admin.get_by_role("dialog", name="Add a new role")
    expect(editor.get_by_label("Role name")).to_be_visible()  # the menu item opens the add form itself
    editor.get_by_role("button", name="Cancel").click()
    expect(editor).to_be_hidden()
    check_accessibility(admin, "/care/roles, no custom role", report=findings)
    admin.get_by_role("button", name="Add a new role").click()
    editor.get_by_label("Role name").fill("Research Nurse")
    editor.get_by_role("checkbox", name="Contact patient").click()
    check_accessibility(admin, "/care/roles, Add a new role dialog", report=findings)
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_hidden()
    expect(admin.get_by_text("Research Nurse", exact=True)).to_be_visible()
    check_accessibility(admin, "/care/roles, one custom role", report=findings)
    shot(admin, shots_dir, "care-roles.png")

    # The audit log of the organisation.
    admin.get_by_role("link", name="← Back to the Care Portal").click()
    admin.get_by_role("button", name="Manage").click()
    admin.get_by_role("menuitem", name="Audit log").click()
    expect(admin.get_by_role("heading", name="Audit log")).to_be_visible()
    audit = admin.get_by_role("region", name="Audit events")
    expect(audit.get_by_role("row").nth(1)).to_be_visible()
    check_accessibility(admin, "/care/audit", report=findings)
    shot(admin, shots_dir, "care-audit.png")

    write_report(findings, shots_dir, "axe-care-screens.txt")
    assert not errors, f"JavaScript errors in the pages: {errors}"
