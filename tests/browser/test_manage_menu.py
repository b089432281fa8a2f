"""The Care Portal's Manage menu stays open, with its focused item, while the list beside it updates live."""

from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    choose_with_mouse,
    create_organisation,
    log_in,
    row_menu,
    set_up_super_admin,
    tab_to,
    watch_errors,
)

ORGANISATION = "St Mary's Trust"
expect.set_options(timeout=10_000)


def test_an_open_manage_menu_keeps_its_focused_item_when_the_pending_list_updates(
    app_server: AppServer, new_context: Callable[[], BrowserContext]
) -> None:
    errors: list[str] = []
    watcher = watch_errors(new_context().new_page(), errors)
    set_up_super_admin(watcher, app_server, "Ada Admin")
    create_organisation(watcher, ORGANISATION)
    watcher.goto(app_server.url("/care?org=1&view=pending"))
    pending = watcher.get_by_role("region", name="Pending staff invitations")
    expect(pending.get_by_text("No data available")).to_be_visible()
    tab_to(watcher, watcher.get_by_role("button", name="Manage"))
    watcher.keyboard.press("Enter")
    expect(watcher.get_by_role("menu")).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    expect(watcher.get_by_role("menuitem", name="Invite staff members")).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    roles = watcher.get_by_role("menuitem", name="Add a new role")
    expect(roles).to_be_focused()

    # Someone else invites a person to the organisation: the watcher's list shows the row at once.
    sender = watch_errors(new_context().new_page(), errors)
    log_in(sender, app_server, app_server.admin_email)
    expect(sender).to_have_url(app_server.url("/admin"))
    row_menu(sender, ORGANISATION, "Invite staff")
    invite = sender.get_by_role("dialog", name="Invite staff")
    invite.get_by_label("Email addresses").fill("nora@example.org")
    invite.get_by_label("Email addresses").press("Enter")
    choose_with_mouse(sender, invite, "Role", "Clinician")
    invite.get_by_role("button", name="Send invites").click()
    expect(pending.get_by_role("cell", name="nora@example.org", exact=True)).to_be_visible()

    expect(watcher.get_by_role("menu")).to_be_visible()
    expect(roles).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    expect(watcher.get_by_role("menuitem", name="Audit log")).to_be_focused()
    assert not errors, f"JavaScript errors in the pages: {errors}"
