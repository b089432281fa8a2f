"""The Care Portal in real browsers: a live pending list across three browsers, and the keyboard alone.

Admin A (an Organisation Owner) watches Overview filters › Pending staff invitations. Admin B (an Access
Controller of the same organisation, in another browser) invites three people with the keyboard alone; A's list
shows them within about a second without reloading. One invitee accepts in a third browser: the row leaves A's
list and the person appears in A's staff list. A resends one invitation and deletes another from the row menu,
and imports a CSV file, with the keyboard alone; a second file goes in through the upload's file input.
axe-core checks the screens on the way (tests/browser/accessibility_walk.py checks the roles and audit pages).
"""

import json
import re
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    backdate_last_send,
    check_accessibility,
    choose_by_keyboard,
    choose_with_mouse,
    create_account,
    create_deployment,
    create_organisation,
    log_in,
    open_manage_item_by_keyboard,
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
OWNER, OWNER_NAME = "olivia.owner@example.org", "Olivia Owner"
CONTROLLER, CONTROLLER_NAME = "carl.controller@example.org", "Carl Controller"
NURSE, NURSE_NAME = "nina.nurse@example.org", "Nina Nurse"
TO_RESEND = "oscar.resend@example.org"
TO_DELETE = "paula.delete@example.org"
PENDING_VIEW = "Staff members >> Pending staff invitations"
STAFF_VIEW = "All staff members"
LIVE_TIMEOUT = 1_500  # ms: "within a second", with a little room for a loaded test machine
TIMES_SENT, DELIVERY = 8, 7  # pending row cells: selection, Email, Role, Scope, Invited by, Last sent, Expires, ...
CSV_FILE = (
    "\ufeffE-mail;Name\n"
    "quinn@example.org;Quinn\n"
    f"{NURSE};Nina\n"  # line 3: already a member
    f"{TO_RESEND};Oscar\n"  # line 4: already has a pending invitation
    "not-an-address;Broken\n"  # line 5
    "\n"
    "QUINN@example.org;Quinn again\n"  # line 7: the same address as line 2
    '"rae@example.org";"Rae, R."\n'
)

IMPORT_SUMMARY = (
    "Read 6 rows: 2 addresses added for review, 2 already known (shown apart, not sent unless you choose), "
    "2 lines with problems."
)
RING = "rgb(26, 26, 26)"  # the pop-out's focus ring (components/invite_dialog.css)

expect.set_options(timeout=10_000)


def _live_patches(server: AppServer) -> dict[str, int]:
    with urllib.request.urlopen(server.url("/healthz"), timeout=5) as response:  # noqa: S310  (our own http URL)
        return dict(json.load(response)["checks"]["events"]["live_patches"])


def _pending_row(page: Page, email: str) -> Locator:
    pending = page.get_by_role("region", name="Pending staff invitations")
    return pending.get_by_role("row").filter(has=page.get_by_role("cell", name=email, exact=True))


def _accept(page: Page, server: AppServer, email: str, name: str, subject: str) -> str:
    mail = read_mail(page, server, email, subject)
    create_account(page, mail.link, name, email)
    log_in(page, server, email)
    return mail.text


def test_a_live_pending_list_across_three_browsers_with_resend_delete_and_import_by_keyboard(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path, tmp_path: Path
) -> None:
    errors: list[str] = []
    findings: list[str] = []

    # The Super Admin sets up the organisation and invites A (Organisation Owner) and B (Access Controller).
    admin = watch_errors(new_context().new_page(), errors)
    set_up_super_admin(admin, app_server, ADMIN_NAME)
    create_organisation(admin, ORGANISATION)
    create_deployment(admin, ORGANISATION, DEPLOYMENT)
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    for email, role in ((OWNER, "Organisation Owner"), (CONTROLLER, "Access Controller")):
        invite.get_by_label("Email addresses").fill(email)
        invite.get_by_label("Email addresses").press("Enter")
        choose_with_mouse(admin, invite, "Role", role)
        invite.get_by_role("button", name="Send invites").click()
        # Sent once the chip is gone (the pop-out clears the field after sending) and the summary names the address.
        expect(invite.get_by_label(f"Address {email}", exact=True)).to_have_count(0)
        expect(invite.get_by_role("status").filter(has_text="Invited (1)")).to_contain_text(email)
    invite.get_by_role("button", name="Close").click()

    a = watch_errors(new_context().new_page(), errors)
    # Playwright turns on its file-chooser interception when a listener is added, asynchronously: a key pressed
    # right after expect_file_chooser() can beat it and the chooser goes unseen. A listener from the start avoids it.
    a.on("filechooser", lambda _chooser: None)
    _accept(a, app_server, OWNER, OWNER_NAME, f"{ADMIN_NAME} invited you to {ORGANISATION}")
    expect(a).to_have_url(app_server.url("/admin"))
    b = watch_errors(new_context().new_page(), errors)
    _accept(b, app_server, CONTROLLER, CONTROLLER_NAME, f"{ADMIN_NAME} invited you to {ORGANISATION}")
    expect(b).to_have_url(app_server.url("/care"))

    # A opens the Care Portal and switches the Overview filters to the pending invitations: none left.
    a.goto(app_server.url("/care"))
    staff = a.get_by_role("region", name=STAFF_VIEW)
    expect(staff.get_by_role("cell", name=CONTROLLER, exact=True)).to_be_visible()
    check_accessibility(a, "/care, All staff members", report=findings)
    choose_with_mouse(a, a.locator("main"), "Overview filters", PENDING_VIEW)
    pending = a.get_by_role("region", name="Pending staff invitations")
    expect(pending.get_by_text("No pending invitations. Use Invite staff members in the Manage menu")).to_be_visible()
    chosen = a.locator(".q-select").filter(has_text=PENDING_VIEW).locator(".q-field__native")
    assert chosen.evaluate("(n) => n.scrollWidth <= n.clientWidth"), "the chosen overview is cut short"
    a.evaluate("() => { window.gatehouseNotReloaded = true; }")

    # B, keyboard only: Manage › Invite staff members, three addresses, Supervisor, 24 hours, Send invites.
    expect(b.get_by_role("heading", name="Care Portal")).to_be_visible()
    open_manage_item_by_keyboard(b, "Invite staff members")
    invite = b.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_role("heading", name="Invite staff members")).to_be_visible()
    type_addresses(b, invite.get_by_label("Email addresses"), NURSE, TO_RESEND, TO_DELETE)
    expect(invite.get_by_text("3 valid addresses", exact=True)).to_be_visible()
    where = invite.get_by_role("combobox", name="Where")
    tab_to(b, where)
    expect(where).to_have_value(f"{ORGANISATION} (whole organisation)")  # one name per scope
    b.keyboard.press("Tab")
    choose_by_keyboard(b, invite.get_by_role("combobox", name="Role", exact=True), "Supervisor")
    b.keyboard.press("Tab")
    choose_by_keyboard(b, invite.get_by_role("combobox", name="Link expires after"), "24 hours")
    check_accessibility(b, "/care, Invite staff members pop-out, filled in", report=findings)
    send = invite.get_by_role("button", name="Send invites")
    tab_to(b, send)
    b.keyboard.press("Enter")
    sent_at = time.monotonic()
    expect(invite.get_by_text("Invited (3)", exact=True)).to_be_visible()

    # A's list shows the three new rows within about a second, without reloading.
    for email in (NURSE, TO_RESEND, TO_DELETE):
        expect(_pending_row(a, email)).to_have_count(1, timeout=LIVE_TIMEOUT)
    print(f"three rows in A's pending list {time.monotonic() - sent_at:.2f} s after B pressed Send invites")
    assert _live_patches(app_server)["emitted"] > 0  # the patches went out through Socket.IO
    expect(_pending_row(a, NURSE).get_by_role("cell").nth(TIMES_SENT)).to_have_text("1")
    expect(_pending_row(a, NURSE).get_by_role("cell").nth(DELIVERY)).to_have_text("Sent")  # the worker, live
    b.keyboard.press("Escape")
    expect(invite).to_be_hidden()
    expect(b.get_by_role("button", name="Manage")).to_be_focused()  # the focus goes back to where it came from
    shot(a, shots_dir, "care-pending-live.png")

    # A third browser: the nurse accepts; the row leaves A's list at once.
    c = watch_errors(new_context().new_page(), errors)
    mail = read_mail(c, app_server, NURSE, f"{CONTROLLER_NAME} invited you to {ORGANISATION}")
    assert f"has invited you to join {ORGANISATION} (whole organisation) as Supervisor." in mail.text, mail.text
    create_account(c, mail.link, NURSE_NAME, NURSE)
    expect(_pending_row(a, NURSE)).to_have_count(0, timeout=LIVE_TIMEOUT)
    expect(_pending_row(a, TO_RESEND)).to_have_count(1)
    assert a.evaluate("() => window.gatehouseNotReloaded") is True, "A's page reloaded"
    check_accessibility(a, "/care, Pending staff invitations", report=findings)

    # A, keyboard only: resend one invitation from its row menu (a resend needs a minute since the last send)...
    backdate_last_send(app_server, TO_RESEND, minutes=2)
    tab_to(a, a.get_by_role("button", name=f"Actions for {TO_RESEND}"))
    a.keyboard.press("Enter")
    menu = a.get_by_role("menu")
    expect(menu).to_be_focused()
    check_accessibility(a, "/care, a pending row's menu open", report=findings)
    a.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Resend invitation")).to_be_focused()
    a.keyboard.press("Enter")
    expect(a.get_by_role("alert").filter(has_text="Resent 1 invitation.")).to_be_visible()
    expect(_pending_row(a, TO_RESEND).get_by_role("cell").nth(TIMES_SENT)).to_have_text("2")

    # ...and delete another, confirming in the dialog (the focus starts on Cancel).
    tab_to(a, a.get_by_role("button", name=f"Actions for {TO_DELETE}"))
    a.keyboard.press("Enter")
    expect(menu).to_be_focused()
    a.keyboard.press("ArrowDown")
    a.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Delete invitation")).to_be_focused()
    a.keyboard.press("Enter")
    confirm = a.get_by_role("dialog", name=f"Delete the invitation to {TO_DELETE}?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    check_accessibility(a, "/care, delete confirmation", report=findings)
    a.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Delete invitation")).to_be_focused()
    a.keyboard.press("Enter")
    expect(a.get_by_role("alert").filter(has_text="Deleted 1 invitation.")).to_be_visible()
    expect(_pending_row(a, TO_DELETE)).to_have_count(0)
    expect(confirm).to_be_hidden()

    # Back to All staff members (keyboard): the nurse who accepted is there.
    overview = a.get_by_role("combobox", name="Overview filters")
    tab_to(a, overview, backwards=True)
    choose_by_keyboard(a, overview, STAFF_VIEW)
    expect(staff.get_by_role("cell", name=NURSE, exact=True)).to_be_visible()
    expect(staff.get_by_role("row").filter(has_text=NURSE)).to_contain_text("Supervisor")

    # A imports a CSV file with the keyboard: Import csv file is a button; the browser's file chooser opens.
    csv_path = tmp_path / "staff.csv"
    csv_path.write_text(CSV_FILE, encoding="utf-8")
    open_manage_item_by_keyboard(a, "Invite staff members")
    invite = a.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_label("Email addresses")).to_be_focused()
    import_button = invite.get_by_role("button", name="Import csv file")
    tab_to(a, import_button)
    with a.expect_file_chooser() as chooser:
        a.keyboard.press("Enter")
    chooser.value.set_files(csv_path)
    expect(invite.get_by_text(IMPORT_SUMMARY)).to_be_visible()
    # Known people are kept apart, each with what sending would do, and are not chips: they go only when ticked.
    members = invite.get_by_role("group", name="Already members (1): not sent unless you tick the box")
    expect(members).to_contain_text(f"Line 3: {NURSE} — Holds Supervisor in St Mary's Trust (whole organisation)")
    expect(members.get_by_role("checkbox")).to_have_attribute("aria-checked", "false")
    invited = invite.get_by_role("group", name=re.compile(r"^Already have a pending invitation \(1\)"))
    expect(invited).to_contain_text(f"Line 4: {TO_RESEND} — Invited as Supervisor")
    expect(invite.get_by_text("Line 5: not-an-address", exact=False)).to_be_visible()
    expect(invite.get_by_text("Line 7: QUINN@example.org", exact=False)).to_be_visible()
    for address in ("quinn@example.org", "rae@example.org"):
        expect(invite.get_by_label(f"Address {address}", exact=True)).to_be_visible()
    expect(invite.get_by_label(f"Address {NURSE}", exact=True)).to_have_count(0)
    expect(invite.get_by_text("2 valid addresses", exact=True)).to_be_visible()
    check_accessibility(a, "/care, pop-out with an import report and known people kept apart", report=findings)
    shot(a, shots_dir, "care-import-report.png", element=".q-dialog .q-card")

    # Another file through the upload's file input itself: tab-separated, with a header; the report is replaced.
    tsv_path = tmp_path / "more.tsv"
    tsv_path.write_text("email\tname\nsam@example.org\tSam\nbad@@example\tBad\n", encoding="utf-8")
    invite.locator("input[type=file]").set_input_files(tsv_path)
    expect(invite.get_by_text("Read 2 rows: 1 address added for review, 1 line with problems.")).to_be_visible()
    expect(invite.get_by_text("Line 3: bad@@example", exact=False)).to_be_visible()
    expect(invite.get_by_label("Address sam@example.org", exact=True)).to_be_visible()
    # A workbook is told what it is, in the pop-out (role="alert"), not in a passing notification.
    xlsx_path = tmp_path / "staff.xlsx"
    xlsx_path.write_bytes(b"PK\x03\x04 a workbook")
    invite.locator("input[type=file]").set_input_files(xlsx_path)
    expect(invite.get_by_role("alert").filter(has_text="“staff.xlsx” is an Excel workbook: save it as")).to_be_visible()

    _chips_keep_the_focus(a, invite)
    _send_leaves_the_invalid_ones_to_correct(a, invite, findings)
    _a_large_send_asks_first(a, invite, findings)
    a.keyboard.press("Escape")
    expect(invite).to_be_hidden()

    write_report(findings, shots_dir, "axe-care-portal-live.txt")
    assert not errors, f"JavaScript errors in the pages: {errors}"


def _chips_keep_the_focus(page: Page, invite: Locator) -> None:
    """A chip's × shows a ring when focused; removing a chip (× or Backspace) leaves the focus in the field."""
    field = invite.get_by_label("Email addresses")
    remove = invite.get_by_role("button", name="Remove sam@example.org")
    tab_to(page, remove)
    assert RING in remove.evaluate("(e) => getComputedStyle(e).boxShadow"), "the focused × shows no ring"
    page.keyboard.press("Enter")
    expect(invite.get_by_label("Address sam@example.org", exact=True)).to_have_count(0)
    expect(field).to_be_focused()
    page.keyboard.type("oops")
    page.keyboard.press("Enter")
    expect(invite.get_by_label("Invalid address oops: missing @", exact=True)).to_be_visible()
    expect(field).to_have_value("")  # the server has emptied the field: what is typed next is not cut by it
    page.keyboard.type("extra@example.org")
    page.keyboard.press("Enter")
    expect(invite.get_by_label("Address extra@example.org", exact=True)).to_be_visible()
    expect(field).to_have_value("")
    page.keyboard.press("Backspace")  # in the empty field: takes the last chip
    expect(invite.get_by_label("Address extra@example.org", exact=True)).to_have_count(0)
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")


def _send_leaves_the_invalid_ones_to_correct(page: Page, invite: Locator, findings: list[str]) -> None:
    """Send says what it misses; focused it shows a ring, not a veil; the invalid address stays, named, in focus."""
    send = invite.get_by_role("button", name="Send invites")
    expect(send).to_be_disabled()
    expect(send).to_have_accessible_description("Choose a role.")
    role = invite.get_by_role("combobox", name="Role", exact=True)
    role.click()
    supervisor = page.get_by_role("option", name="Supervisor", exact=True)
    expect(supervisor).to_have_accessible_description("Sees the staff list, views patient data, exports patient data")
    expect(supervisor).to_contain_text("Sees the staff list")  # seen too, below the name
    supervisor.click()
    expect(role).to_have_value("Supervisor")
    expect(send).to_be_enabled()
    tab_to(page, send)
    assert send.evaluate("(e) => getComputedStyle(e).outlineStyle") == "solid", "the focused Send invites has no ring"
    assert send.evaluate("(e) => getComputedStyle(e.querySelector('.q-focus-helper')).opacity") == "0"
    page.keyboard.press("Enter")
    status = invite.get_by_role("status").filter(has_text="Invited (2)")
    expect(status).to_contain_text("Not invited, still in the field to correct (1)oops (missing @)")
    expect(status).to_contain_text(f"Kept apart, not sent (you did not tick them) (2){NURSE}, {TO_RESEND}")
    expect(invite.get_by_label("Invalid address oops: missing @", exact=True)).to_be_visible()
    expect(invite.get_by_label("Address quinn@example.org", exact=True)).to_have_count(0)
    field = invite.get_by_label("Email addresses")
    expect(field).to_be_focused()
    expect(field).to_have_accessible_description(re.compile("oops: missing @"))
    check_accessibility(page, "/care, pop-out after a send with an invalid address left", report=findings)


def _a_large_send_asks_first(page: Page, invite: Locator, findings: list[str]) -> None:
    """Above 50 addresses Send asks, naming count, role and place; the outcome stays in the pop-out."""
    page.keyboard.press("Backspace")  # the invalid address goes; the focus stays
    field = invite.get_by_label("Email addresses")
    field.fill(" ".join(f"bulk{n}@example.org" for n in range(51)))
    page.keyboard.press("Enter")
    expect(invite.get_by_text("51 valid addresses", exact=False)).to_be_visible()
    tab_to(page, invite.get_by_role("button", name="Send invites"))
    page.keyboard.press("Enter")
    question = invite.get_by_role(
        "group", name=f"Send 51 invitations as Supervisor for {ORGANISATION} (whole organisation)?"
    )
    expect(question.get_by_role("button", name="Cancel")).to_be_focused()
    check_accessibility(page, "/care, pop-out asking before a send of 51", report=findings)
    page.keyboard.press("Tab")
    expect(question.get_by_role("button", name="Send 51 invitations")).to_be_focused()
    page.keyboard.press("Enter")
    expect(invite.get_by_role("status").filter(has_text="Invited (51)")).to_be_visible()
    expect(field).to_be_focused()
