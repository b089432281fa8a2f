"""Live updates cross processes: a browser on process A sees an invitation sent through process B's UI.

Both browsers drive the real UI (log in, row menu, invite pop-out); the only shortcut is the set-up rows (the
Super Admin's account, an organisation and a deployment) written straight into the shared database.
"""

import asyncio
import json
import os
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from argon2 import PasswordHasher, profiles
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from tests.browser import helpers
from tests.multiprocess.conftest import AppProcess, SmtpSink, run_async, sql, wait_for

pytestmark = [pytest.mark.multiprocess, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium-headless-shell"  # as tests/browser/conftest.py: Debian's headless Chromium
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN, PASSWORD = "ada.admin@example.org", "a long enough password"
# A Super Admin per log-in: an authenticator app's code is good once, and a few log-ins of one account within its
# 30 s step would run out of codes the app accepts (one step of drift).
SENDER, SUSPENDER = "sam.sender@example.org", "sue.suspender@example.org"
ORGANISATION, DEPLOYMENT = "North Trust", "Ward Seven Study"
INVITEE = "new.clinician@example.org"
LIVE_WITHIN_MS = 1000

expect.set_options(timeout=10_000)  # for the set-up steps; the live update itself gets LIVE_WITHIN_MS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("GATEHOUSE_SKIP_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} is missing and GATEHOUSE_SKIP_BROWSER=1")
        pytest.fail(f"{CHROMIUM} is missing: install it (apt-get install -y chromium-headless-shell)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def create_admin_and_organisation(url: str) -> None:
    """The Super Admins' accounts, one organisation and one deployment, as the app itself would store them."""
    password_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)  # the app verifies any strength
    for email in (ADMIN, SENDER, SUSPENDER):
        sql(
            url,
            """
            WITH member AS (
                INSERT INTO staff_member (email, full_name, password_hash, created_at, is_active)
                VALUES ($1, 'Ada Admin', $2, now(), true) RETURNING id
            )
            INSERT INTO role_assignment (member_id, role_id, level, scope_key, created_at)
            SELECT member.id, role.id, 'platform', 'platform', now() FROM member, role WHERE role.key = 'super_admin'
            """,
            email,
            password_hash,
        )
    sql(
        url,
        """
        WITH organisation AS (INSERT INTO organisation (name, created_at) VALUES ($1, now()) RETURNING id)
        INSERT INTO deployment (organisation_id, name, created_at) SELECT id, $2, now() FROM organisation
        """,
        ORGANISATION,
        DEPLOYMENT,
    )


def log_in(page: Page, app: AppProcess, email: str = ADMIN) -> None:
    page.goto(app.base_url + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    helpers.pass_second_factor(page, email)  # a Super Admin always has one: set up at the first log-in
    expect(page).to_have_url(app.base_url + "/admin")


def pending_cell(page: Page, organisation: str) -> Locator:
    """The organisation's Pending invitations cell in the Organisations table."""
    row = page.get_by_role("row", name=re.compile(f"^{re.escape(organisation)} "))
    return row.get_by_role("cell").nth(3)  # organisation, deployments, staff, pending


def housekeeping_leader(app: AppProcess) -> bool:
    with urllib.request.urlopen(app.base_url + "/healthz", timeout=2) as response:  # noqa: S310
        return bool(json.loads(response.read())["checks"]["housekeeping"]["leader"])


@pytest.fixture(scope="module")
def cluster(start_app: Callable[..., AppProcess], postgres_url: str) -> tuple[AppProcess, AppProcess]:
    # Housekeeping looks every second, so that an invitation written straight into the database (below)
    # is seen before it expires; the app's own invitations expire days later and are always seen in time.
    a, b = start_app("A", GATEHOUSE_HOUSEKEEPING_SECONDS="1"), start_app("B", GATEHOUSE_HOUSEKEEPING_SECONDS="1")
    a.wait_healthy()
    b.wait_healthy()
    create_admin_and_organisation(postgres_url)
    return a, b


def test_a_browser_on_a_sees_an_invitation_sent_through_b_within_a_second(
    cluster: tuple[AppProcess, AppProcess], smtp_sink: SmtpSink, browser: Browser
) -> None:
    a, b = cluster

    watcher = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sender = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(watcher, a)
    pending_on_a = pending_cell(watcher, ORGANISATION)
    expect(pending_on_a).to_have_text("0")

    log_in(sender, b, SENDER)
    sender.get_by_role("tab", name="Deployments").click()
    sender.get_by_role("button", name=f"Actions for {DEPLOYMENT}").click()
    sender.locator(".q-menu").get_by_text("Invite staff", exact=True).click()
    invite = sender.get_by_role("dialog", name="Invite staff")
    expect(invite.get_by_role("heading", name=f"Invite staff to {DEPLOYMENT} ({ORGANISATION})")).to_be_visible()
    addresses = invite.get_by_label("Email addresses")
    addresses.fill(INVITEE)
    addresses.press("Enter")
    invite.get_by_role("combobox", name="Role", exact=True).click()
    sender.get_by_role("option", name="Clinician", exact=True).click()
    send = invite.get_by_role("button", name="Send invites")
    expect(send).to_be_enabled()

    send.click()
    clicked = time.monotonic()
    expect(invite.get_by_text("Invited (1)")).to_be_visible()
    answered = time.monotonic()
    expect(pending_on_a).to_have_text("1", timeout=LIVE_WITHIN_MS)
    seen_on_a = time.monotonic()
    print(
        f"\nB answered the send after {(answered - clicked) * 1000:.0f} ms; A showed the new count "
        f"{(seen_on_a - clicked) * 1000:.0f} ms after the click ({(seen_on_a - answered) * 1000:.0f} ms after B)"
    )

    # The email itself left once, through whichever process claimed it.
    wait_for(
        lambda: smtp_sink.count(INVITEE)[1] >= 1,
        timeout=10,
        message=lambda: f"the invitation email never arrived: {smtp_sink.received}",
    )
    assert smtp_sink.count(INVITEE) == (1, 1)


def test_each_expiry_is_announced_once_across_processes_by_the_one_housekeeping_leader(
    cluster: tuple[AppProcess, AppProcess], postgres_url: str
) -> None:
    leaders = [housekeeping_leader(app) for app in cluster]
    assert sorted(leaders) == [False, True], f"housekeeping must run in exactly one process: {leaders}"
    heard = run_async(_expire_two_invitations(postgres_url))
    first, second = heard["first"], heard["second"]
    assert heard["payloads"].count(f"{first}:expired") == 1, heard
    assert heard["payloads"].count(f"{second}:expired") == 1, heard


async def _expire_two_invitations(url: str) -> dict[str, Any]:
    """Listen like a third process while two invitations of two new organisations expire a second apart."""
    payloads: list[str] = []
    listener = await asyncpg.connect(url)
    try:
        await listener.add_listener("gatehouse_events", lambda *args: payloads.append(args[3]))
        first = await _invitation_expiring(listener, "Expiring First", seconds=1.0)
        second = await _invitation_expiring(listener, "Expiring Second", seconds=2.0)
        for _ in range(160):  # bounded: the second expiry is announced about 2 s from now
            if f"{second}:expired" in payloads:
                break
            await asyncio.sleep(0.05)
        return {"first": first, "second": second, "payloads": payloads}
    finally:
        await listener.close()


async def _invitation_expiring(connection: asyncpg.Connection, organisation: str, *, seconds: float) -> int:
    organisation_id = await connection.fetchval(
        "INSERT INTO organisation (name, created_at) VALUES ($1, now()) RETURNING id", organisation
    )
    await connection.execute(
        """
        INSERT INTO invitation (email, role_id, level, organisation_id, scope_key, token_hash, state, delivery_state,
            delivery_error, lifetime_hours, send_count, sends_today, created_at, last_sent_at, expires_at)
        SELECT 'expiring@example.org', id, 'organisation', $1::int, 'org:' || $1::int, md5(random()::text),
            'pending', 'sent', '', 24, 1, 1, now(), now(), now() + make_interval(secs => $2::float8)
        FROM role WHERE key = 'clinician'
        """,
        organisation_id,
        seconds,
    )
    return int(organisation_id)


def test_an_account_suspended_through_a_is_logged_out_of_its_open_page_on_b(
    cluster: tuple[AppProcess, AppProcess], postgres_url: str, browser: Browser
) -> None:
    a, b = cluster
    organisation_id, member_page = _owner_logged_in_on(b, postgres_url, browser, "suspended.nurse@example.org")
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, a, SUSPENDER)
    admin.goto(a.base_url + f"/care?org={organisation_id}")
    admin.get_by_role("button", name="Actions for Sam Nurse", exact=True).click()
    admin.get_by_role("menuitem", name="Suspend account").click()
    admin.get_by_role("dialog").get_by_role("button", name="Suspend account").click()
    clicked = time.monotonic()
    expect(admin.get_by_role("button", name="Actions for Sam Nurse (suspended)", exact=True)).to_be_visible()

    expect(member_page).to_have_url(re.compile(r"/login"), timeout=5_000)  # the page on B left by itself
    left = time.monotonic()
    member_page.goto(b.base_url + "/admin")  # and its cookie opens nothing on B any more
    expect(member_page).to_have_url(re.compile(r"/login"))
    print(f"\nthe suspended member's page on B went to log-in {(left - clicked) * 1000:.0f} ms after the click on A")


def test_a_grant_that_reaches_its_end_logs_its_member_out_of_the_open_page_on_either_process(
    cluster: tuple[AppProcess, AppProcess], postgres_url: str, browser: Browser
) -> None:
    nurse = "temporary.nurse@example.org"
    follower = next(app for app in cluster if not housekeeping_leader(app))  # the end is seen by the other one
    _, member_page = _owner_logged_in_on(follower, postgres_url, browser, nurse)
    sql(
        postgres_url,
        "UPDATE role_assignment SET ends_at = now() + interval '1 second' "
        "WHERE member_id = (SELECT id FROM staff_member WHERE email = $1)",
        nurse,
    )
    ends = time.monotonic() + 1
    expect(member_page).to_have_url(re.compile(r"/login"), timeout=10_000)
    left = time.monotonic()
    member_page.goto(follower.base_url + "/admin")
    expect(member_page).to_have_url(re.compile(r"/login"))
    assert sql(postgres_url, "SELECT count(*) FROM role_assignment WHERE ended_at IS NOT NULL")[0][0] >= 1
    print(f"\nthe ended member's page on the follower went to log-in {(left - ends) * 1000:.0f} ms after the end")


def _owner_logged_in_on(app: AppProcess, url: str, browser: Browser, email: str) -> tuple[int, Page]:
    """A new Organisation Owner 'Sam Nurse' of the organisation, logged in on app; its id and the member's page."""
    password_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)
    sql(
        url,
        """
        WITH member AS (
            INSERT INTO staff_member (email, full_name, password_hash, created_at, is_active)
            VALUES ($1, 'Sam Nurse', $2, now(), true) RETURNING id
        )
        INSERT INTO role_assignment (member_id, role_id, level, organisation_id, scope_key, created_at)
        SELECT member.id, role.id, 'organisation', organisation.id, 'org:' || organisation.id, now()
        FROM member, role, organisation WHERE role.key = 'organisation_owner' AND organisation.name = $3
        """,
        email,
        password_hash,
        ORGANISATION,
    )
    organisation_id = sql(url, "SELECT id FROM organisation WHERE name = $1", ORGANISATION)[0][0]
    member_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    member_page.goto(app.base_url + f"/login?email={email}")
    member_page.get_by_label("Password", exact=True).fill(PASSWORD)
    member_page.get_by_role("button", name="Log in").click()
    helpers.pass_second_factor(member_page, email)
    expect(member_page.get_by_role("region", name="Organisations")).to_be_visible()  # an owner lands in /admin
    return int(organisation_id), member_page
