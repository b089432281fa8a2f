"""Menus, sortable headers and selection checkboxes keep their state while the list beside or under them updates
live; a row menu shows only the items that apply to its row.

The watcher opens the Care Portal's Manage menu or a pending invitation's ⋮ menu (or focuses a sortable header) with
the keyboard; another browser sends invitations, so the watcher's pending list updates: the menu stays open with the
same item focused (the same DOM node, not a copy), and choosing the item does what it says. Each fails on a menu or
header drawn by a NiceGUI slot template, which the page re-creates whenever the table renders.
"""

import itertools

import pytest
from playwright.sync_api import Browser, Locator, Page, StorageState, expect

from tests.browser.conftest import AppServer, NewContext
from tests.browser.helpers import (
    choose_with_mouse,
    create_organisation,
    expire,
    organisation_id,
    row_menu,
    set_up_super_admin,
    tab_to,
    watch_errors,
)

pytestmark = pytest.mark.browser

FIRST, SECOND, THIRD = "first@example.org", "second@example.org", "third@example.org"
TICKED = "ticked@example.org"  # expire() moves every pending invitation to an address: one only this test uses
DELIVERY = 7  # pending row cells: selection, Email, Role, Scope, Invited by, Last sent, Expires, Delivery, ...
expect.set_options(timeout=10_000)


def test_an_open_manage_menu_keeps_its_focused_item_when_the_pending_list_updates(
    module_app_server: AppServer, super_admin: StorageState, new_context: NewContext
) -> None:
    errors: list[str] = []
    watcher, sender, pending = _pending_list_and_sender(module_app_server, super_admin, new_context, errors, FIRST)
    tab_to(watcher, watcher.get_by_role("button", name="Manage"))
    watcher.keyboard.press("Enter")
    expect(watcher.get_by_role("menu")).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    expect(watcher.get_by_role("menuitem", name="Invite staff members")).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    roles = watcher.get_by_role("menuitem", name="Add a new role")
    expect(roles).to_be_focused()

    _invite(sender, SECOND)
    expect(_row(pending, SECOND)).to_have_count(1)
    expect(watcher.get_by_role("menu")).to_be_visible()
    expect(roles).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    expect(watcher.get_by_role("menuitem", name="Audit log")).to_be_focused()
    assert not errors, f"JavaScript errors in the pages: {errors}"


def test_an_open_row_menu_keeps_its_focused_item_while_the_pending_list_updates(
    module_app_server: AppServer, super_admin: StorageState, new_context: NewContext
) -> None:
    errors: list[str] = []
    watcher, sender, pending = _pending_list_and_sender(module_app_server, super_admin, new_context, errors, FIRST)

    tab_to(watcher, watcher.get_by_role("button", name=f"Actions for {FIRST}", exact=True))
    watcher.keyboard.press("Enter")
    menu = watcher.get_by_role("menu")
    expect(menu).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    watcher.keyboard.press("ArrowDown")
    delete = menu.get_by_role("menuitem", name="Delete invitation")
    expect(delete).to_be_focused()
    _tag(delete)

    # Rows come (the whole page is sent again) and a row changes (its delivery state, a patch of that row).
    for email in (SECOND, THIRD):
        _invite(sender, email)
        expect(_row(pending, email)).to_have_count(1)
        expect(_row(pending, email).get_by_role("cell").nth(DELIVERY)).to_have_text("sent")
        expect(menu).to_be_visible()
        expect(delete).to_be_focused()
        assert _still_tagged(delete), "the menu item was replaced"

    watcher.keyboard.press("ArrowUp")
    expect(menu.get_by_role("menuitem", name="Resend invitation")).to_be_focused()
    watcher.keyboard.press("ArrowDown")
    watcher.keyboard.press("Enter")
    confirm = watcher.get_by_role("dialog", name=f"Delete the invitation to {FIRST}?")
    confirm.get_by_role("button", name="Delete invitation").click()
    expect(watcher.get_by_role("alert").filter(has_text="Deleted 1 invitation.")).to_be_visible()
    expect(_row(pending, FIRST)).to_have_count(0)
    expect(_row(pending, SECOND)).to_have_count(1)
    assert not errors, f"JavaScript errors in the pages: {errors}"


def test_a_focused_sortable_header_keeps_the_focus_while_the_pending_list_updates(
    module_app_server: AppServer, super_admin: StorageState, new_context: NewContext
) -> None:
    errors: list[str] = []
    watcher, sender, pending = _pending_list_and_sender(module_app_server, super_admin, new_context, errors, SECOND)
    header = pending.get_by_role("columnheader", name="Email")
    expect(header).to_have_attribute("aria-sort", "none")
    tab_to(watcher, header)
    _tag(header)

    _invite(sender, FIRST)
    expect(_row(pending, FIRST)).to_have_count(1)
    expect(header).to_be_focused()
    # The same cell, not a copy the page focused again (components/frame.py's focus script would do that).
    assert _still_tagged(header), "the header cell was replaced"
    watcher.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(pending.get_by_role("row").nth(1)).to_contain_text(FIRST)
    watcher.keyboard.press("Space")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(pending.get_by_role("row").nth(1)).to_contain_text(SECOND)
    expect(pending.get_by_role("columnheader", name="Role")).not_to_have_attribute("tabindex", "0")
    assert not errors, f"JavaScript errors in the pages: {errors}"


def test_a_ticked_selection_checkbox_keeps_the_focus_while_the_pending_list_updates(
    module_app_server: AppServer, super_admin: StorageState, new_context: NewContext
) -> None:
    errors: list[str] = []
    watcher, sender, pending = _pending_list_and_sender(module_app_server, super_admin, new_context, errors, TICKED)
    box = pending.get_by_role("checkbox", name=f"Select the invitation to {TICKED}", exact=True)
    tab_to(watcher, box)
    watcher.keyboard.press("Space")
    expect(box).to_have_attribute("aria-checked", "true")
    _tag(box)

    _invite(sender, SECOND)
    expect(_row(pending, SECOND)).to_have_count(1)
    expect(box).to_be_focused()
    assert _still_tagged(box), "the checkbox was replaced"
    expect(box).to_have_attribute("aria-checked", "true")
    expect(pending.get_by_role("checkbox", name=f"Select the invitation to {SECOND}", exact=True)).to_have_attribute(
        "aria-checked", "false"
    )
    expect(pending.get_by_role("checkbox", name="Select every invitation on this page")).to_be_visible()

    # The badge cell: an invitation whose link ran out shows Expired once the list refreshes for the next change.
    expire(module_app_server, TICKED)
    _invite(sender, THIRD)
    expect(_row(pending, THIRD)).to_have_count(1)
    expect(_row(pending, TICKED).get_by_text("Expired", exact=True)).to_be_visible()
    expect(_row(pending, SECOND).get_by_text("Expired", exact=True)).to_have_count(0)
    expect(box).to_be_focused()
    assert not errors, f"JavaScript errors in the pages: {errors}"


def test_an_archived_organisations_menu_offers_only_restore(
    module_app_server: AppServer, super_admin: StorageState, new_context: NewContext
) -> None:
    errors: list[str] = []
    admin = watch_errors(new_context(super_admin).new_page(), errors)
    organisation = "Archived Trust"
    admin.goto(module_app_server.url("/admin"))
    create_organisation(admin, organisation)
    row_menu(admin, organisation, "Archive")
    admin.get_by_role("dialog", name=f"Archive {organisation}?").get_by_role("button", name="Archive").click()
    expect(admin.get_by_role("alert").filter(has_text="Organisation archived.")).to_be_visible()
    admin.get_by_role("switch", name="Show archived").click()

    admin.get_by_role("button", name=f"Actions for {organisation}", exact=True).click()
    items = admin.get_by_role("menu").get_by_role("menuitem")
    expect(items).to_have_text(["Restore"])
    items.first.click()
    expect(admin.get_by_role("alert").filter(has_text="Organisation restored.")).to_be_visible()
    admin.get_by_role("button", name=f"Actions for {organisation}", exact=True).click()
    expect(items).to_have_text(["Invite staff", "New deployment", "Rename", "Archive"])
    assert not errors, f"JavaScript errors in the pages: {errors}"


@pytest.fixture(scope="module")
def super_admin(module_app_server: AppServer, browser: Browser) -> StorageState:
    """The module's app, its first Super Admin signed in once: each test's browsers start from this sign-in."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        set_up_super_admin(context.new_page(), module_app_server, "Ada Admin")
        return context.storage_state()
    finally:
        context.close()


def _pending_list_and_sender(
    server: AppServer, signed_in: StorageState, new_context: NewContext, errors: list[str], email: str
) -> tuple[Page, Page, Locator]:
    """The Super Admin in two browsers, in an organisation of the test's own: one sends from the Admin Portal's
    Invite staff (an invitation to email first), the other watches the Care Portal's pending list, which shows it."""
    organisation = f"Trust {next(_numbers)}"
    watcher = watch_errors(new_context(signed_in).new_page(), errors)
    sender = watch_errors(new_context(signed_in).new_page(), errors)
    sender.goto(server.url("/admin"))
    create_organisation(sender, organisation)
    row_menu(sender, organisation, "Invite staff")
    _invite(sender, email)
    watcher.goto(server.url(f"/care?org={organisation_id(server, organisation)}&view=pending"))
    pending = watcher.get_by_role("region", name="Pending staff invitations")
    expect(_row(pending, email)).to_have_count(1)
    return watcher, sender, pending


_numbers = itertools.count(1)


def _invite(sender: Page, email: str) -> None:
    invite = sender.get_by_role("dialog", name="Invite staff")
    invite.get_by_label("Email addresses").fill(email)
    invite.get_by_label("Email addresses").press("Enter")
    choose_with_mouse(sender, invite, "Role", "Clinician")
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_role("status").filter(has_text="Invited (1)")).to_contain_text(email)


def _tag(node: Locator) -> None:
    """Mark the DOM node itself: a copy the page draws in its place does not carry the mark."""
    node.evaluate("node => { node.gatehouseProbe = true; }")


def _still_tagged(node: Locator) -> bool:
    return bool(node.evaluate("node => node.gatehouseProbe === true"))


def _row(pending: Locator, email: str) -> Locator:
    return pending.get_by_role("row").filter(has=pending.page.get_by_role("cell", name=email, exact=True))
