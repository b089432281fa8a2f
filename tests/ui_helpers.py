"""Helpers for UI story tests: sign a member in through the real log-in form, wait for live changes."""

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from nicegui import ui
from nicegui.testing import User

from models import Deployment, Organisation, StaffMember
from services.access import auth
from services.access.service import Actor
from services.invitations import acceptance
from tests import factor_helpers, factories

PASSWORD = "a long enough password"


async def sign_in(
    user: User, email: str, role_key: str, *, org: Organisation | None = None, dep: Deployment | None = None
) -> Actor:
    """Create the member (with a real password) and log in through /login."""
    await _member_with_password(email, role_key, org=org, dep=dep)
    await user.open(f"/login?email={email}")
    user.find("Password").type(PASSWORD)
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("Two-step verification", retries=150)  # argon2 first, on a busy machine
    user.find("Authentication code").type(factor_helpers.code(factor_helpers.secret_of(email)))
    user.find(kind=ui.button, content="Verify").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)  # argon2 and a redirect, on a busy machine
    return await factories.actor_of(email)


async def sign_in_second(
    user: User, email: str, role_key: str, *, org: Organisation | None = None, dep: Deployment | None = None
) -> Actor:
    """Log a second user of a test in through the log-in service and the real /auth/complete endpoint, which sets
    its cookie; no form. NiceGUI's simulation routes every ui.navigate to the last user touched (see
    tests/security/test_sessions.py): a second user's log-in form was sent on by another user's page in 1 run of 8
    with three busy workers, so a test's second user skips ui.navigate."""
    await _member_with_password(email, role_key, org=org, dep=dep)
    step = await auth.login(email=email, password=PASSWORD, redirect_to="/", client="testclient")
    ticket = await factor_helpers.ticket(step, email)
    response = await user.http_client.get(f"/auth/complete?ticket={quote(ticket)}")
    assert response.status_code == 303 and auth.SESSION_COOKIE in response.cookies
    return await factories.actor_of(email)


async def _member_with_password(
    email: str, role_key: str, *, org: Organisation | None = None, dep: Deployment | None = None
) -> None:
    auth.login_limiter.reset()
    acceptance.accept_limiter.reset()
    hashed = await auth.hash_password(PASSWORD)
    actor = await factories.member(email, None, password_hash=hashed)
    await StaffMember.filter(email=email).update(password_hash=hashed)
    if not await factories.holds(email, role_key):
        await factories.grant(actor.member_id, role_key, org=org, dep=dep)
    await factor_helpers.enrol(email)  # most roles need a second factor by default: every member here has an app


def has_table(user: User, marker: str) -> bool:
    try:
        return bool(user.find(kind=ui.table, marker=marker).elements)
    except AssertionError:
        return False


def table(user: User, marker: str) -> ui.table:
    found = user.find(kind=ui.table, marker=marker).elements
    assert len(found) == 1
    return next(iter(found))


async def eventually(check: Callable[[], Any], *, within: float = 5.0) -> None:
    """Wait (bounded) for a condition the app reaches asynchronously, such as a live update.

    The bound is generous: how fast a live update arrives is the benchmarks' business (bench.live_updates), and
    two test workers on a loaded two-core machine can take more than the product's one second."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        try:
            if check():
                return
        except (AssertionError, StopIteration, KeyError):
            pass  # not there yet
        await asyncio.sleep(0.02)
    assert check(), "the expected change never arrived"


def select_labelled(user: User, label: str) -> ui.select:
    return next(s for s in user.find(kind=ui.select).elements if s.props.get("label") == label)


def option_labels(select: ui.select) -> set[str]:
    options = select.options
    return {str(v) for v in (options.values() if isinstance(options, dict) else options)}


def input_labelled(user: User, label: str) -> ui.input:
    return next(i for i in user.find(kind=ui.input).elements if i.props.get("label") == label)


def error_of(user: User, label: str) -> str:
    """The message an invalid field's aria-describedby names ("" when the field is valid)."""
    field = input_labelled(user, label)
    if field.props.get("aria-invalid") != "true" or not field.props.get("error"):
        return ""
    described = field.props["aria-describedby"]
    return next(e.text for e in user.find(kind=ui.label).elements if e.html_id == described)


async def accept_with_app(user: User, link: str, name: str) -> str:
    """Accept an invitation whose role needs a second factor as a newcomer: name and password, then set up the app
    from the key shown as text (as someone who cannot scan the QR code would). Returns the app's secret."""
    await user.open(link)
    await user.should_see("Create your account")
    user.find("Full name").type(name)
    user.find("Password").type(PASSWORD)
    user.find("Repeat password").type(PASSWORD)
    user.find(kind=ui.button, content="Continue").click()
    await user.should_see("Set up your authenticator app", retries=30)
    key = next(iter(user.find(marker="totp-key").elements))
    secret = str(key.props.get("text") or getattr(key, "text", "")).replace(" ", "")
    user.find("6-digit code from your app").type(factor_helpers.code(secret))
    user.find(kind=ui.button, content="Confirm and accept").click()
    await user.should_see("Save your recovery codes", retries=30)
    return secret


async def log_in_with_code(user: User, email: str, secret: str) -> None:
    """Log in through /login with the password, then the app's code."""
    await user.open(f"/login?email={email}")
    user.find("Password").type(PASSWORD)
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("Two-step verification", retries=150)
    user.find("Authentication code").type(factor_helpers.code(secret))
    user.find(kind=ui.button, content="Verify").click()
