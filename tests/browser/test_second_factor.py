"""Second factors in a real browser (issue 21): the first Super Admin (an Admin Portal role: always a second factor)
accepts her invitation by setting up an authenticator app from the key shown as text, keeps her recovery codes, and
logs in with a code. The enrolment, recovery-code and code screens are checked with axe on the way."""

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    PASSWORD,
    app_code,
    check_accessibility,
    first_admin_link,
    set_up_app,
    shot,
    watch_errors,
    write_report,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=10_000)


def test_the_first_admin_sets_up_an_app_while_accepting_and_logs_in_with_its_code(
    app_server: AppServer, new_context: Callable[..., BrowserContext], shots_dir: Path
) -> None:
    errors: list[str] = []
    report: list[str] = []
    page = watch_errors(new_context().new_page(), errors)
    email = app_server.admin_email

    page.goto(first_admin_link(app_server))
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    check_accessibility(page, "enrolment", report=report)
    shot(page, shots_dir, "enrolment.png")

    page.get_by_label("6-digit code from your app").fill("000000")
    page.get_by_role("button", name="Confirm and accept").click()
    code_field = page.get_by_label("6-digit code from your app")
    expect(code_field).to_have_attribute("aria-invalid", "true")
    expect(code_field).to_have_accessible_description("That code is not right. Enter the 6-digit code your "
                                                       "authenticator app shows now.")  # fmt: skip
    set_up_app(page, email)
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.get_by_role("list", name="Recovery codes").get_by_role("listitem")).to_have_count(10)
    check_accessibility(page, "recovery codes", report=report)
    page.get_by_role("button", name="Continue to log in").click()

    expect(page.get_by_label("Email")).to_have_value(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    check_accessibility(page, "code", report=report)
    page.get_by_label("Authentication code").fill(app_code(email))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(app_server.url("/admin"))
    expect(page.get_by_role("heading", name="Admin Portal")).to_be_visible()
    write_report(report, shots_dir, "axe-second-factor.txt")
    assert errors == []
