"""One message for all the pages that a change patches alike, instead of one per page.

A change to an organisation's list reaches every open page of it at once (components/live.py), and pages that
show the same rows compute the same patch. Sent through each page's own outbox, every page costs a wake-up of
its outbox task, its own encoding and its own emit: most of a change's server time with hundreds of open pages
(docs/PERFORMANCE-lists.md, item 4). Here the patches of one turn of the event loop are grouped by their code
and each group goes out as one Socket.IO emit to the pages' rooms: encoded once, queued on every socket.

What this gives up, and how it is made good:
- Order: a page's outbox and these messages travel separately. A patch is dropped for a page whose element
  has a whole update queued meanwhile (that update carries the newer state: the server's copy is patched in
  place first), and a page with a patch already waiting has the waiting ones sent first.
- History: NiceGUI replays a page's recent outbox messages when its socket reconnects; these are not among
  them, so the element is sent whole when the page reconnects (resend_on_reconnect).
"""

import asyncio
from dataclasses import dataclass
from typing import NamedTuple

from nicegui import Client, background_tasks, core
from nicegui.element import Element


class _Target(NamedTuple):
    client: Client
    element_id: int


_waiting: dict[str, list[_Target]] = {}  # code -> pages, in the order the codes were first given
_clients_waiting: set[str] = set()


@dataclass
class Counts:
    emitted: int = 0  # pages a patch was emitted to (/healthz)


counts = Counts()


def run_javascript(element: Element, code: str) -> None:
    """Run code in the element's page soon, in one message with the same code for other pages."""
    client = element.client
    if client.id in _clients_waiting:
        _flush()  # this page's earlier patch must arrive first
    if not _waiting:
        asyncio.get_running_loop().call_soon(_flush)
    _waiting.setdefault(code, []).append(_Target(client, element.id))
    _clients_waiting.add(client.id)


def resend_on_reconnect(element: Element) -> None:
    """Send the element whole whenever its page's socket connects again (the first connection has it already)."""
    connections = 0

    def connected() -> None:
        nonlocal connections
        connections += 1
        if connections > 1 and not element.is_deleted:
            element.update()

    element.client.on_connect(connected)


def _flush() -> None:
    batch = dict(_waiting)
    _waiting.clear()
    _clients_waiting.clear()
    for code, targets in batch.items():
        rooms = [target.client.id for target in targets if _still_wanted(target)]
        if rooms:  # tasks start in the order they are made: every socket gets the groups in order
            counts.emitted += len(rooms)
            background_tasks.create(core.sio.emit("run_javascript", {"code": code}, room=rooms), name="live push")


def _still_wanted(target: _Target) -> bool:
    client = target.client
    return not client.is_deleted and client.has_socket_connection and target.element_id not in client.outbox.updates
