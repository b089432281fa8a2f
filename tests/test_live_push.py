"""Live patches: pages patched alike share one message; order per page and whole updates win over old patches."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from nicegui import core

from components import live_push
from tests.waiting import until


@dataclass
class _Outbox:
    updates: dict[int, object] = field(default_factory=dict)
    messages: list[object] = field(default_factory=list)


@dataclass
class _Client:
    id: str
    is_deleted: bool = False
    has_socket_connection: bool = True
    outbox: _Outbox = field(default_factory=_Outbox)


@dataclass
class _Element:
    client: _Client
    id: int = 7


class _Socket:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, list[str]]] = []
        self.queued = asyncio.Event()  # a real emit returns once its per-socket sends are queued
        self.queued.set()
        self.returned = 0

    async def emit(self, event: str, data: dict[str, Any], room: list[str]) -> None:
        self.sent.append((event, data["code"], room))
        await self.queued.wait()
        self.returned += 1


@pytest.fixture
async def socket(monkeypatch: pytest.MonkeyPatch) -> _Socket:
    fake = _Socket()
    monkeypatch.setattr(core, "sio", fake)
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())  # as the app's lifespan sets it
    return fake


async def test_pages_given_the_same_patch_in_one_turn_get_one_message(socket: _Socket) -> None:
    pages = [_Element(_Client(f"page-{n}")) for n in range(3)]
    for page in pages:
        live_push.run_javascript(page, "patch(1)")  # type: ignore[arg-type]
    live_push.run_javascript(_Element(_Client("other")), "patch(2)")  # type: ignore[arg-type]
    await until(lambda: socket.returned == 2)
    assert socket.sent == [
        ("run_javascript", "patch(1)", ["page-0", "page-1", "page-2"]),
        ("run_javascript", "patch(2)", ["other"]),
    ]


async def test_a_page_gets_its_patches_in_the_order_they_were_made(socket: _Socket) -> None:
    first, second = _Element(_Client("a")), _Element(_Client("b"))
    live_push.run_javascript(second, "patch(2)")  # type: ignore[arg-type]
    live_push.run_javascript(first, "patch(1)")  # type: ignore[arg-type]
    live_push.run_javascript(second, "patch(1)")  # type: ignore[arg-type]  # b's second: after its first
    await until(lambda: socket.returned == 3)
    assert [(code, room) for _, code, room in socket.sent] == [
        ("patch(2)", ["b"]),
        ("patch(1)", ["a"]),
        ("patch(1)", ["b"]),
    ]


async def test_no_patch_for_pages_closed_offline_or_with_the_whole_element_queued(socket: _Socket) -> None:
    queued = _Client("queued")
    queued.outbox.updates[7] = object()  # the whole table is on its way: it holds the newer state
    targets = [_Client("closed", is_deleted=True), _Client("offline", has_socket_connection=False), queued]
    for client in [*targets, _Client("open")]:
        live_push.run_javascript(_Element(client), "patch(1)")  # type: ignore[arg-type]
    live_push.run_javascript(_Element(_Client("later")), "patch(2)")  # type: ignore[arg-type]  # sent after them
    await until(lambda: socket.returned == 2)
    assert socket.sent == [("run_javascript", "patch(1)", ["open"]), ("run_javascript", "patch(2)", ["later"])]


async def test_nothing_is_sent_when_every_page_has_gone(socket: _Socket) -> None:
    live_push.run_javascript(_Element(_Client("closed", is_deleted=True)), "patch(1)")  # type: ignore[arg-type]
    live_push.run_javascript(_Element(_Client("later")), "patch(2)")  # type: ignore[arg-type]
    await until(lambda: socket.returned == 1)
    assert socket.sent == [("run_javascript", "patch(2)", ["later"])]


class _Reconnecting:
    def __init__(self) -> None:
        self.client = self
        self.handlers: list[Any] = []
        self.is_deleted = False
        self.updates = 0

    def on_connect(self, handler: Any) -> None:
        self.handlers.append(handler)

    def update(self) -> None:
        self.updates += 1

    def connect(self) -> None:
        for handler in self.handlers:
            handler()


def test_a_page_that_reconnects_gets_the_element_whole_as_patches_are_not_replayed() -> None:
    table = _Reconnecting()
    live_push.resend_on_reconnect(table)  # type: ignore[arg-type]
    table.connect()
    assert table.updates == 0  # the first connection: the page was just built with it
    table.connect()
    table.connect()
    assert table.updates == 2
