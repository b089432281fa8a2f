"""Live lists: refresh a page's data when its organisation changes, and stop listening when it closes.

A page refreshes at once, and once more afterwards if changes arrived meanwhile, so a burst of changes costs
it at most two refreshes. The pages refreshing for the same change share one reading of identical lists:
whoever asks first reads, the others wait for that reading (services.pending.shared_reads); each page still
asks with its own user's permissions, its actor remembered for live refreshes (components.session.live_refresh).
docs/PERFORMANCE-lists.md measures this with 200 and 500 open pages.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import Client, background_tasks, ui

from components import session
from services import events, pending, session_events

Refresh = Callable[[], Awaitable[None]]


class _Follower:
    """One page's refresh, run for the latest change it heard."""

    def __init__(self, client: Client, refresh: Refresh) -> None:
        self.client = client
        self.refresh = refresh
        self.wave: dict[Any, Any] = {}  # readings shared by the pages refreshing for the same change
        self.running = False
        self.again = False

    def changed(self, wave: dict[Any, Any]) -> None:
        self.wave = wave
        if self.running:
            self.again = True  # folded: one more refresh when this one ends
            return
        self.running = True
        background_tasks.create(self._run(), name="live refresh")

    async def _run(self) -> None:
        try:
            while not self.client.is_deleted:  # the page may have closed meanwhile
                self.again = False
                with self.client, pending.shared_reads(self.wave), session.live_refresh():
                    await self.refresh()
                if not self.again:
                    break
        finally:
            self.running = False


_waves: dict[int, dict[Any, Any]] = {}


def follow(*, organisation_id: int | None, refresh: Refresh) -> None:
    """Call refresh() after changes in the organisation (None: platform-wide), bursts folded."""
    client = ui.context.client
    topic = events.PLATFORM_TOPIC if organisation_id is None else organisation_id
    follower = _Follower(client, refresh)

    def changed(kind: str) -> None:
        if kind != session_events.SESSION_ENDED:  # a log-out somewhere: no list changed
            follower.changed(_wave(topic))

    client.on_delete(events.subscribe(organisation_id=topic, handler=changed))


def _wave(topic: int) -> dict[Any, Any]:
    """The readings of one change, shared by its pages: events hands a change to every page in one go, so the
    pages' handlers share one wave until the event loop moves on; a reading started before a change never is."""
    wave = _waves.get(topic)
    if wave is None:
        wave = _waves[topic] = {}
        asyncio.get_running_loop().call_soon(_waves.pop, topic, None)
    return wave
