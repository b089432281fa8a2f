"""Sessions: a new one at every log-in, dead in every tab at log-out, and ended by the idle and absolute limits."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_navigate import UserNavigate

from models import StaffMember
from services.access import auth, sessions
from services.errors import NotAuthenticated
from services.platform import clock
from tests import factor_helpers
from tests.security.helpers import MICROSECOND, PASSWORD, member_with_password
from tests.ui_helpers import PASSWORD as UI_PASSWORD
from tests.ui_helpers import eventually, sign_in, sign_in_second


async def _log_in(email: str = "nurse@trust.org") -> str:
    ticket = await factor_helpers.ticket(
        await auth.login(email=email, password=PASSWORD, redirect_to="/care", client="c"), email
    )
    return (await auth.complete_login(ticket=ticket)).session_token


async def test_each_log_in_gets_a_brand_new_session_whatever_cookie_the_browser_brought(user: User) -> None:
    user.http_client.cookies.set(auth.SESSION_COOKIE, "planted-by-an-attacker", domain="test.local")
    await sign_in(user, "nurse@trust.org", "supervisor")
    first = user.http_client.cookies.get(auth.SESSION_COOKIE)
    assert first and first != "planted-by-an-attacker"
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token="planted-by-an-attacker")

    ticket = await factor_helpers.ticket(
        await auth.login(email="nurse@trust.org", password=UI_PASSWORD, redirect_to="/care", client="c"),
        "nurse@trust.org",
    )
    response = await user.http_client.get(f"/auth/complete?ticket={ticket}")
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/care"
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    second = response.cookies.get(auth.SESSION_COOKIE)
    assert second and second not in (first, "planted-by-an-attacker")
    assert (await user.http_client.get(f"/auth/complete?ticket={ticket}")).headers["location"] == "/login"


async def test_logging_out_in_one_tab_sends_every_open_tab_of_that_session_to_log_in(
    user: User, create_user: Callable[[], User], monkeypatch: pytest.MonkeyPatch
) -> None:
    navigated: list[tuple[str, str]] = []
    simulated = UserNavigate.to

    def record(self: UserNavigate, target: Any, new_tab: bool = False) -> None:
        # The simulation routes every ui.navigate to the last user touched: record which page was sent where.
        navigated.append((ui.context.client.id, str(target)))
        simulated(self, target, new_tab)

    monkeypatch.setattr(UserNavigate, "to", record)
    await sign_in(user, "nurse@trust.org", "supervisor")
    token = user.http_client.cookies.get(auth.SESSION_COOKIE)
    assert token
    other_tab = create_user()
    other_tab.http_client.cookies.set(auth.SESSION_COOKIE, token)
    await other_tab.open("/care")
    await other_tab.should_see("Your access")
    other_browser = create_user()
    await sign_in_second(other_browser, "nurse@trust.org", "supervisor")
    await other_browser.open("/care")
    await user.open("/care")
    assert sessions.listener_count(session_token=token) >= 2  # both tabs listen (and pages passed through)

    other_tab_page, other_browser_page = other_tab.client, other_browser.client
    assert other_tab_page is not None and other_browser_page is not None
    user.find(kind=ui.button, content="Log out").click()

    await eventually(lambda: (other_tab_page.id, "/login") in navigated)
    assert (other_browser_page.id, "/login") not in navigated  # the member's other browser has its own session
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=token)
    reopened = await other_tab.open("/care")  # a reload of the old tab is sent to log in too
    await eventually(lambda: any(page == reopened.id and to.startswith("/login") for page, to in navigated))
    await other_browser.open("/care")
    await other_browser.should_see("Your access")
    assert sessions.listener_count(session_token=token) == 0


async def test_a_session_dies_exactly_at_the_idle_limit(db: str, frozen_clock: datetime) -> None:
    await member_with_password("nurse@trust.org", "supervisor")
    token = await _log_in()

    clock.advance(auth.IDLE_TIMEOUT - MICROSECOND)
    assert (await auth.actor_for(session_token=token)).email == "nurse@trust.org"  # activity: the idle clock restarts
    clock.advance(auth.IDLE_TIMEOUT - MICROSECOND)
    assert (await auth.actor_for(session_token=token)).email == "nurse@trust.org"
    clock.advance(auth.IDLE_TIMEOUT)
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=token)


async def test_a_busy_session_dies_exactly_at_the_absolute_limit(db: str, frozen_clock: datetime) -> None:
    await member_with_password("nurse@trust.org", "supervisor")
    token = await _log_in()
    step = timedelta(minutes=20)
    elapsed = timedelta()
    while elapsed + step < auth.ABSOLUTE_TIMEOUT:
        clock.advance(step)
        elapsed += step
        await auth.actor_for(session_token=token)

    clock.advance(auth.ABSOLUTE_TIMEOUT - elapsed - MICROSECOND)
    assert (await auth.actor_for(session_token=token)).email == "nurse@trust.org"
    clock.advance(MICROSECOND)
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=token)


async def test_a_deactivated_member_is_signed_out_everywhere_at_once(db: str) -> None:
    await member_with_password("nurse@trust.org", "supervisor")
    ended_sessions = [await _log_in(), await _log_in()]
    await StaffMember.filter(email="nurse@trust.org").update(is_active=False)
    for token in ended_sessions:
        with pytest.raises(NotAuthenticated):
            await auth.actor_for(session_token=token)
    with pytest.raises(auth.InvalidInput):
        await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="c")


async def test_the_session_ended_signal_reaches_every_listener_once_and_only_of_that_session(db: str) -> None:
    heard: list[str] = []
    stop_a = sessions.subscribe(session_token="session-a", on_end=lambda: heard.append("a1"))
    sessions.subscribe(session_token="session-a", on_end=lambda: heard.append("a2"))
    sessions.subscribe(session_token="session-b", on_end=lambda: heard.append("b"))
    stop_a()

    await auth.logout(session_token="session-a")
    await auth.logout(session_token="session-a")

    assert heard == ["a2"]
    assert sessions.listener_count(session_token="session-b") == 1
