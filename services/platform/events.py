"""Publish/subscribe of "something changed in organisation X", for live lists.

In-process by default; PostgreSQL LISTEN/NOTIFY can be installed as the transport so that several
app processes see each other's changes. Subscribers are called with the change kind.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None] | None]
PLATFORM_TOPIC = 0  # organisation id used for platform-wide changes (organisation list, admin roles)

_subscribers: dict[int, set[Handler]] = defaultdict(set)
_remote_publish: Callable[[int, str], Awaitable[None]] | None = None


def subscribe(*, organisation_id: int, handler: Handler) -> Callable[[], None]:
    """Call handler(kind) on every change in the organisation; returns the unsubscribe function."""
    _subscribers[organisation_id].add(handler)
    return lambda: _subscribers[organisation_id].discard(handler)


async def publish(*, organisation_id: int | None, kind: str) -> None:
    """Announce a committed change to the organisation's lists and to the platform-wide (admin) lists."""
    for topic in {PLATFORM_TOPIC, PLATFORM_TOPIC if organisation_id is None else organisation_id}:
        if _remote_publish is not None:
            await _remote_publish(topic, kind)
        else:
            deliver_local(topic, kind)


def deliver_local(topic: int, kind: str) -> None:
    """Run this process's handlers for one change (also the entry point for remote notifications)."""
    for handler in list(_subscribers.get(topic, ())):
        try:
            result = handler(kind)
            if asyncio.iscoroutine(result):
                asyncio.get_running_loop().create_task(result)
        except Exception:  # a broken page must not stop the others from hearing the change
            log.exception("event handler failed")


def install_remote(publisher: Callable[[int, str], Awaitable[None]] | None) -> None:
    """Route publications through another transport (PostgreSQL NOTIFY), or back to in-process."""
    global _remote_publish
    _remote_publish = publisher


def topics() -> list[int]:
    """The topics this process has subscribers for (a reconnected transport tells them to resync)."""
    return [topic for topic, handlers in _subscribers.items() if handlers]


def reset() -> None:
    """Forget every subscriber (tests start each app afresh)."""
    _subscribers.clear()
