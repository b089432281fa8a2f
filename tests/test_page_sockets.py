"""The page-socket guard alone: each reason to refuse, the binding cookie, and frames that name another page.

The real stack (Chromium, uvicorn, NiceGUI) is covered by tests/browser/test_page_sockets.py.
"""

import json
from collections.abc import MutableMapping
from typing import Any

from services.web import page_sockets
from services.web.page_sockets import BROWSER_COOKIE, PageBinding, PageSocketGuard

PAGE = "3f1c0a52-0000-4000-8000-000000000001"
ORIGIN = "http://127.0.0.1:8080"
BOUND = PageBinding(browser="b" * 43, session="s" * 43)
OWN_COOKIES = f"{BROWSER_COOKIE}={BOUND.browser}; gatehouse_session={BOUND.session}"


class _Downstream:
    """NiceGUI's place: records whether it was called and every message it received."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"page"})
            return
        while (message := await receive())["type"] != "websocket.disconnect":
            self.received.append(message)


def _guard(downstream: _Downstream) -> PageSocketGuard:
    return PageSocketGuard(
        downstream,
        binding_of=lambda client_id: BOUND if client_id == PAGE else None,
        origins=lambda: page_sockets.allowed_origins(base_url="http://localhost:8080"),
        session_cookie="gatehouse_session",
        secure=lambda: False,
    )


def _socket(query: str = f"client_id={PAGE}&EIO=4&transport=websocket", **headers: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/_nicegui_ws/socket.io/",
        "query_string": query.encode(),
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
    }


async def _open(
    guard: PageSocketGuard, scope: dict[str, Any], frames: tuple[str, ...] = ()
) -> list[MutableMapping[str, Any]]:
    """Run the guard for one socket that sends the frames then leaves; what the guard sent to the browser."""
    incoming: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "text": frame} for frame in frames]
    incoming.append({"type": "websocket.disconnect", "code": 1000})
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    return sent


async def test_each_reason_alone_refuses_a_page_socket_before_nicegui_sees_it() -> None:
    downstream = _Downstream()
    guard = _guard(downstream)
    assert await _open(guard, _socket(origin=ORIGIN, cookie=OWN_COOKIES)) == []
    assert len(downstream.scopes) == 1  # the page's own browser, session and origin: passed on

    refused = {
        "no cookie": _socket(origin=ORIGIN),
        "another browser": _socket(origin=ORIGIN, cookie=f"{BROWSER_COOKIE}=other; gatehouse_session={BOUND.session}"),
        "another session": _socket(origin=ORIGIN, cookie=f"{BROWSER_COOKIE}={BOUND.browser}; gatehouse_session=x"),
        "no session": _socket(origin=ORIGIN, cookie=f"{BROWSER_COOKIE}={BOUND.browser}"),
        "non-ASCII cookie": _socket(origin=ORIGIN, cookie=f"{BROWSER_COOKIE}=é; gatehouse_session={BOUND.session}"),
        "another origin": _socket(origin="http://evil.example", cookie=OWN_COOKIES),
        "another port": _socket(origin="http://127.0.0.1:8081", cookie=OWN_COOKIES),
        "another scheme": _socket(origin="https://127.0.0.1:8080", cookie=OWN_COOKIES),
        "no origin": _socket(cookie=OWN_COOKIES),
        "no client id": _socket("EIO=4&transport=websocket", origin=ORIGIN, cookie=OWN_COOKIES),
        "two client ids": _socket(f"client_id={PAGE}&client_id=x&EIO=4", origin=ORIGIN, cookie=OWN_COOKIES),
    }
    for reason, scope in refused.items():
        assert await _open(guard, scope) == [{"type": "websocket.close", "code": 1008}], reason
    polling = _socket(origin=ORIGIN, cookie=OWN_COOKIES) | {"type": "http"}
    assert (await _open(guard, polling))[0]["status"] == 403
    assert len(downstream.scopes) == 1, "NiceGUI saw a refused socket"


async def test_a_second_socket_of_a_live_page_is_refused_and_a_later_one_accepted() -> None:
    downstream = _Downstream()
    guard = _guard(downstream)
    guard.live.add(PAGE)  # the page's socket is open
    assert await _open(guard, _socket(origin=ORIGIN, cookie=OWN_COOKIES)) == [{"type": "websocket.close", "code": 1008}]
    guard.live.clear()  # it closed: the page may reconnect
    assert await _open(guard, _socket(origin=ORIGIN, cookie=OWN_COOKIES)) == []
    assert not guard.live, "a closed socket still counts as live"


async def test_a_socket_for_no_page_is_left_to_nicegui_which_refuses_it_and_the_browser_reloads() -> None:
    downstream = _Downstream()
    query = "client_id=forgotten-at-restart&implicit_handshake=true&EIO=4&transport=websocket"
    assert await _open(_guard(downstream), _socket(query, origin=ORIGIN)) == []
    assert len(downstream.scopes) == 1


async def test_frames_that_do_not_name_their_own_page_never_reach_nicegui() -> None:
    downstream = _Downstream()
    own = {"client_id": PAGE, "id": 5, "listener_id": "l", "args": []}
    other = own | {"client_id": "victim"}
    passed = ("40", "2", "3", "42" + json.dumps(["event", own]), "421" + json.dumps(["ack", own]), "431[]")
    dropped = (
        "42" + json.dumps(["event", other]),
        "42" + json.dumps(["handshake", other]),
        "42" + json.dumps(["log", {"level": "error", "message": "no client id"}]),
        "42/admin," + json.dumps(["event", own]),
        "451-" + json.dumps(["event", own, {"_placeholder": True, "num": 0}]),
        "44" + json.dumps({"message": "x"}),
        "4not a packet",
        "42" + json.dumps(["event", own, "extra"]),
    )
    await _open(_guard(downstream), _socket(origin=ORIGIN, cookie=OWN_COOKIES), (*dropped[:4], *passed, *dropped[4:]))
    frames = [message["text"] for message in downstream.received if message["type"] == "websocket.receive"]
    assert frames == list(passed)


async def test_a_page_request_gets_a_binding_cookie_that_its_page_already_sees() -> None:
    downstream = _Downstream()
    page = {"type": "http", "path": "/admin", "headers": [(b"cookie", b"gatehouse_session=s")]}
    sent = await _open(_guard(downstream), page)
    seen = dict(downstream.scopes[0]["headers"])[b"cookie"].decode()
    value = seen.split(f"{BROWSER_COOKIE}=")[1]
    assert seen.startswith("gatehouse_session=s; ") and len(value) >= 43
    set_cookie = dict(sent[0]["headers"])[b"set-cookie"].decode()
    assert set_cookie == f"{BROWSER_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax"

    again = {"type": "http", "path": "/admin", "headers": [(b"cookie", f"{BROWSER_COOKIE}={value}".encode())]}
    assert b"set-cookie" not in dict((await _open(_guard(downstream), again))[0]["headers"])


def test_the_configured_origin_and_only_loopback_aliases_of_a_loopback_one() -> None:
    assert page_sockets.allowed_origins(base_url="http://localhost:8080") == {
        "http://localhost:8080",
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
    }
    assert page_sockets.allowed_origins(base_url="https://Gatehouse.example.org") == {
        "https://gatehouse.example.org:443"
    }
    assert page_sockets.normalised_origin("https://gatehouse.example.org") == "https://gatehouse.example.org:443"
    assert page_sockets.normalised_origin("http://[::1]:8080") == "http://[::1]:8080"
    for bad in ("", "null", "file://", "http://host:99999", "javascript:alert(1)", "http://h/path"):
        assert page_sockets.normalised_origin(bad) is None, bad
