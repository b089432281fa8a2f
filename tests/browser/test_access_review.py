"""One whole access review in real browsers (issue 19 item 2).

The Super Admin sets up an organisation with two members: Max, an Access Controller (who holds review access), and
Nora, a Supervisor; the Super Admin invited both, so she sponsors both grants and reviews both. She starts a review
from Manage › Access reviews while Max watches the list in another browser: the review appears there, and its
progress follows each decision without reloading. By keyboard she tries to remove Max (refused, said in the dialog:
he is the last who can manage the staff), keeps him with a comment, and changes Nora's role; the last decision
finishes the review, which turns read-only and exports its record as CSV and JSON. axe-core checks each screen.
"""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    check_accessibility,
    choose_with_mouse,
    create_account,
    create_organisation,
    log_in,
    open_manage_item_by_keyboard,
    open_row_menu_by_keyboard,
    read_mail,
    row_menu,
    set_up_super_admin,
    shot,
    tab_to,
    watch_errors,
    write_report,
)

pytestmark = pytest.mark.browser

ADMIN_NAME = "Ada Admin"
ORGANISATION = "St Mary's Trust"
MAX, MAX_NAME = "max.controller@example.org", "Max Controller"
NORA, NORA_NAME = "nora.nurse@example.org", "Nora Nurse"
LIVE_TIMEOUT = 3_000  # ms: within a second, with room for a loaded test machine

expect.set_options(timeout=10_000)


def _invite(admin: Page, members: tuple[tuple[str, str], ...]) -> None:
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    for email, role in members:
        invite.get_by_label("Email addresses").fill(email)
        invite.get_by_label("Email addresses").press("Enter")
        choose_with_mouse(admin, invite, "Role", role)
        invite.get_by_role("button", name="Send invites").click()
        expect(invite.get_by_role("status").filter(has_text="Invited (1)")).to_contain_text(email)
    invite.get_by_role("button", name="Close").click()


def _progress(page: Page, text: str) -> None:
    reviews = page.get_by_role("region", name="Review campaigns")
    expect(reviews.get_by_role("cell", name=text, exact=True)).to_be_visible(timeout=LIVE_TIMEOUT)


def test_one_whole_review_decided_by_keyboard_followed_live_and_exported(
    app_server: AppServer, new_context: Callable[[], BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    findings: list[str] = []
    ada = watch_errors(new_context().new_page(), errors)
    set_up_super_admin(ada, app_server, ADMIN_NAME)
    create_organisation(ada, ORGANISATION)
    _invite(ada, ((MAX, "Access Controller"), (NORA, "Supervisor")))
    subject = f"{ADMIN_NAME} invited you to {ORGANISATION}"
    max_page = watch_errors(new_context().new_page(), errors)
    create_account(max_page, read_mail(max_page, app_server, MAX, subject).link, MAX_NAME, MAX)
    create_account(max_page, read_mail(max_page, app_server, NORA, subject).link, NORA_NAME, NORA)
    log_in(max_page, app_server, MAX)

    # Max opens the organisation's reviews: none yet.
    expect(max_page.get_by_role("heading", name="Care Portal")).to_be_visible()
    open_manage_item_by_keyboard(max_page, "Access reviews")
    expect(max_page.get_by_role("heading", name="Access reviews")).to_be_visible()
    expect(max_page.get_by_text("No review has been started here yet.", exact=False)).to_be_visible()
    check_accessibility(max_page, "/care/reviews, no review yet", report=findings)

    # Ada starts a review of the whole organisation.
    ada.goto(app_server.url("/care"))
    expect(ada.get_by_role("region", name="All staff members").get_by_text(NORA, exact=True)).to_be_visible()
    open_manage_item_by_keyboard(ada, "Access reviews")
    ada.get_by_role("button", name="Start a review").click()
    start = ada.get_by_role("dialog", name="Start a review")
    expect(start.get_by_label("Title")).to_be_focused()
    check_accessibility(ada, "/care/reviews, Start a review dialog", report=findings)
    ada.keyboard.press("Control+A")
    ada.keyboard.type("Spring review")
    tab_to(ada, start.get_by_role("button", name="Start review"))
    ada.keyboard.press("Enter")
    expect(ada.get_by_role("heading", name="Spring review")).to_be_visible()
    expect(ada.get_by_text("0 of 2 decided, 2 open.")).to_be_visible()
    _progress(max_page, "0 of 2 decided")  # Max's list, live
    items = ada.get_by_role("region", name="Review items")
    expect(items.get_by_role("cell", name=NORA, exact=True)).to_be_visible()
    check_accessibility(ada, "/care/reviews, a review's items", report=findings)

    # Removing Max would leave nobody to manage the staff: refused, said in the dialog; then he is kept.
    open_row_menu_by_keyboard(ada, MAX_NAME, "Remove")
    remove = ada.get_by_role("dialog", name=f"Remove the access of {MAX_NAME}?")
    tab_to(ada, remove.get_by_role("button", name="Remove access"))
    ada.keyboard.press("Enter")
    expect(remove.get_by_role("alert")).to_contain_text("nobody able to manage its staff")
    check_accessibility(ada, "/care/reviews, a refused decision", report=findings)
    ada.keyboard.press("Escape")
    expect(remove).to_be_hidden()
    open_row_menu_by_keyboard(ada, MAX_NAME, "Keep")
    keep = ada.get_by_role("dialog", name=f"Keep the access of {MAX_NAME}?")
    tab_to(ada, keep.get_by_label("Comment (optional)"))
    ada.keyboard.type("Runs the staff list")
    tab_to(ada, keep.get_by_role("button", name="Keep access"))
    ada.keyboard.press("Enter")
    expect(keep).to_be_hidden()
    expect(ada.get_by_text("1 of 2 decided, 1 open.")).to_be_visible()
    _progress(max_page, "1 of 2 decided")

    # Nora's role changes; the last decision finishes the review, here and in Max's list.
    open_row_menu_by_keyboard(ada, NORA_NAME, "Change role")
    change = ada.get_by_role("dialog", name=f"Change the role of {NORA_NAME}")
    choose_with_mouse(ada, change, "New role", "Organisation Staff")
    check_accessibility(ada, "/care/reviews, Change role dialog", report=findings)
    change.get_by_role("button", name="Change role").click()
    expect(ada.get_by_text("This review is finished: nothing in it can change any more.")).to_be_visible()
    expect(ada.get_by_text("2 of 2 decided, 0 open.")).to_be_visible()
    _progress(max_page, "2 of 2 decided")
    expect(max_page.get_by_role("region", name="Review campaigns").get_by_text("Finished", exact=False)).to_be_visible()
    expect(items.get_by_role("button", name=f"Actions for {NORA_NAME}")).to_have_count(0)  # read-only
    check_accessibility(ada, "/care/reviews, a finished review", report=findings)
    shot(ada, shots_dir, "review-finished.png")

    with ada.expect_download() as csv_download:
        ada.get_by_role("button", name="Export CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    record = csv_download.value.path().read_text(encoding="utf-8-sig")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(record))}
    assert (rows[MAX]["decision"], rows[MAX]["comment"]) == ("keep", "Runs the staff list")
    assert (rows[NORA]["role"], rows[NORA]["outcome"]) == ("Supervisor", "Role changed to Organisation Staff")
    assert rows[NORA]["decided_by"] == app_server.admin_email
    with ada.expect_download() as json_download:
        ada.get_by_role("button", name="Export JSON").click()
    exported = json.loads(json_download.value.path().read_text(encoding="utf-8"))
    assert exported["review"]["title"] == "Spring review" and exported["review"]["closed_at"]
    write_report(findings, shots_dir, "axe-access-review.txt")
    assert not errors, f"JavaScript errors in the pages: {errors}"
