"""A page's socket belongs to the browser and session that opened the page (docs/SECURITY.md, Sessions).

The Super Admin's /admin page is open in Chromium. A raw websocket client replays that page's socket URL (as a
proxy's access log keeps it) with no cookie, with another member's cookies, from another origin, without the
client id, and as a second socket while the page is live: each is refused before anything of the page is sent.
Polling is refused too. A member's own, legitimate socket that sends an event naming the admin's page (a click on
its Log out button) has that frame dropped. Nothing changes, and the admin's page goes on working live.
"""

import json
import re
import sqlite3
from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.browser.conftest import AppServer
from tests.browser.helpers import (
    choose_with_mouse,
    create_account,
    create_organisation,
    log_in,
    read_mail,
    row_menu,
    set_up_super_admin,
    watch_errors,
)

pytestmark = pytest.mark.browser

ORGANISATION = "St Mary's Trust"
OUTSIDER = "olga.outsider@example.org"
INTRUDER = "mallory@example.org"
REFUSED = 403
expect.set_options(timeout=10_000)


def _socket_url(server: AppServer, query: dict[str, str], *, transport: str = "websocket") -> str:
    scheme_host = server.base_url.replace("http://", "ws://" if transport == "websocket" else "http://")
    return f"{scheme_host}/_nicegui_ws/socket.io/?{urlencode(query | {'EIO': '4', 'transport': transport})}"


def _page_query(page: Page) -> dict[str, str]:
    """The query the page's own socket was opened with: what a proxy's access log shows of it."""
    query = page.evaluate("() => window.socket.io.opts.query")
    return {name: str(value) for name, value in query.items() if value is not None}


def _cookie_header(context: BrowserContext) -> str:
    return "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in context.cookies())


def _replay(url: str, *, cookies: str | None, origin: str | None, frames: tuple[str, ...] = ()) -> tuple[int, str]:
    """Open a socket as a raw client, send '40' (connect) and the frames; (HTTP status, everything received)."""
    headers = {"Cookie": cookies} if cookies else {}
    try:
        with connect(url, origin=origin, additional_headers=headers, proxy=None, open_timeout=5) as socket:  # type: ignore[arg-type]
            received = [str(socket.recv(timeout=5))]
            for frame in ("40", *frames):
                socket.send(frame)
            received += _drain(socket)
            return 101, "\n".join(received)
    except InvalidStatus as refused:
        return refused.response.status_code, refused.response.body.decode(errors="replace")


def _extensions_answered(url: str, *, cookies: str, origin: str) -> str | None:
    """Open a socket offering permessage-deflate as Chromium does; the server's Sec-WebSocket-Extensions answer."""
    headers = {"Cookie": cookies}
    with connect(url, origin=Origin(origin), additional_headers=headers, proxy=None, open_timeout=5) as socket:
        assert socket.request and socket.response
        assert "permessage-deflate" in str(socket.request.headers.get("Sec-WebSocket-Extensions"))
        return socket.response.headers.get("Sec-WebSocket-Extensions")


def _drain(socket: object) -> list[str]:
    received: list[str] = []
    try:
        while True:
            received.append(str(socket.recv(timeout=2)))  # type: ignore[attr-defined]
    except TimeoutError:
        return received


def _invitations(server: AppServer) -> int:
    connection = sqlite3.connect(server.database, timeout=10)
    try:
        return int(connection.execute("SELECT count(*) FROM invitation").fetchone()[0])
    finally:
        connection.close()


def _log_out_listener(page: Page) -> dict[str, str]:
    """The element id and click listener of the page's Log out button, as the page's own Vue app holds them."""
    return page.evaluate(
        """() => {
            const [id, element] = Object.entries(mounted_app.elements)
                .find(([, e]) => e.tag === "q-btn" && JSON.stringify(e).includes('"Log out"'));
            return { id, listener_id: element.events.find((e) => e.type === "click").listener_id };
        }"""
    )


def _signed_in_outsider(server: AppServer, admin: Page, context: BrowserContext) -> Page:
    """A second member (Organisation Editor of the organisation), signed in in a browser of their own."""
    row_menu(admin, ORGANISATION, "Invite staff")
    invite = admin.get_by_role("dialog", name="Invite staff")
    addresses = invite.get_by_label("Email addresses")
    addresses.fill(OUTSIDER)
    addresses.press("Enter")
    choose_with_mouse(admin, invite, "Role", "Organisation Editor")
    invite.get_by_role("button", name="Send invites").click()
    expect(invite.get_by_text("Invited (1)", exact=True)).to_be_visible()
    invite.get_by_role("button", name="Close").click()
    outsider = context.new_page()
    mail = read_mail(outsider, server, OUTSIDER, f"Ada Admin invited you to {ORGANISATION}")
    create_account(outsider, mail.link, "Olga Outsider", OUTSIDER)
    log_in(outsider, server, OUTSIDER)
    expect(outsider).to_have_url(server.url("/admin"))
    return outsider


def test_a_replayed_page_socket_url_without_the_pages_browser_and_session_gets_nothing_and_changes_nothing(
    app_server: AppServer, new_context: Callable[[], BrowserContext]
) -> None:
    errors: list[str] = []
    admin_context, outsider_context = new_context(), new_context()
    admin = watch_errors(admin_context.new_page(), errors)
    set_up_super_admin(admin, app_server, "Ada Admin")
    create_organisation(admin, ORGANISATION)
    _signed_in_outsider(app_server, admin, outsider_context)
    admin.bring_to_front()
    expect(
        admin.get_by_role("region", name="Organisations").get_by_role("cell", name=ORGANISATION, exact=True)
    ).to_be_visible()
    query, owner_cookies, outsider_cookies = (
        _page_query(admin),
        _cookie_header(admin_context),
        _cookie_header(outsider_context),
    )
    url, origin, before = _socket_url(app_server, query), app_server.base_url, _invitations(app_server)

    attempts = {
        "no cookie": _replay(url, cookies=None, origin=origin),
        "another member's cookies": _replay(url, cookies=outsider_cookies, origin=origin),
        "another origin": _replay(url, cookies=owner_cookies, origin="http://evil.example"),
        "no origin": _replay(url, cookies=owner_cookies, origin=None),
        "no client id in the query": _replay(
            _socket_url(app_server, {k: v for k, v in query.items() if k != "client_id"}),
            cookies=owner_cookies,
            origin=origin,
            frames=(f'42["handshake",{{"client_id":"{query["client_id"]}","tab_id":"{query["tab_id"]}"}}]',),
        ),
        "a second socket while the page is live": _replay(url, cookies=owner_cookies, origin=origin),
    }
    for attempt, (status, received) in attempts.items():
        assert status == REFUSED, f"{attempt}: the socket was accepted and received:\n{received}"
        assert ORGANISATION not in received and "gatehouse" not in received.lower(), (attempt, received)
    polling = httpx.get(_socket_url(app_server, query, transport="polling"), headers={"Cookie": owner_cookies})
    assert polling.status_code == REFUSED and ORGANISATION not in polling.text

    # A member's own socket is accepted; a frame on it naming the admin's page (its Log out click) is dropped.
    own_page = httpx.get(app_server.url("/care"), headers={"Cookie": outsider_cookies})
    own = re.search(r"['\"]client_id['\"]: ?['\"]([0-9a-f-]+)", own_page.text)
    assert own_page.status_code == 200 and own, own_page.text[:500]
    target = _log_out_listener(admin)
    click = {"client_id": query["client_id"], "id": int(target["id"]), "listener_id": target["listener_id"], "args": []}
    forged = "42" + json.dumps(["event", click])
    barrier = f'421["ack",{{"client_id":"{own.group(1)}","next_message_id":0}}]'
    status, received = _replay(
        _socket_url(
            app_server, {"client_id": own.group(1), "implicit_handshake": "true", "tab_id": "t", "document_id": "d"}
        ),
        cookies=outsider_cookies,
        origin=origin,
        frames=(forged, barrier),
    )
    assert status == 101 and "431[" in received, received  # accepted: its own page, its own browser and session

    # Its socket offers permessage-deflate as Chromium does; by default the server declines (GATEHOUSE_WS_COMPRESSION).
    another = re.search(
        r"['\"]client_id['\"]: ?['\"]([0-9a-f-]+)",
        httpx.get(app_server.url("/care"), headers={"Cookie": outsider_cookies}).text,
    )
    assert another, "no page"
    socket_url = _socket_url(
        app_server, {"client_id": another.group(1), "implicit_handshake": "true", "tab_id": "u", "document_id": "e"}
    )
    assert _extensions_answered(socket_url, cookies=outsider_cookies, origin=origin) is None

    # Nothing changed, and the admin's page still works live over its own socket.
    assert _invitations(app_server) == before
    create_organisation(admin, "Still signed in")
    expect(admin).to_have_url(app_server.url("/admin"))
    assert not errors, errors
