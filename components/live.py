"""Live lists: refresh a page's data when its organisation changes, and stop listening when it closes.

A page refreshes at once, and once more afterwards if changes arrived meanwhile, so a burst of changes costs
it at most two refreshes. The pages refreshing for the same change share one reading of identical lists:
whoever asks first reads, the others wait for that reading (services.invitations.pending.shared_reads); each page still
asks with its own user's permissions, its actor remembered for live refreshes (components.session.live_refresh).

The pages of one change are worked through by a few tasks, not a task each: once the shared reading is there,
a page's refresh never waits, so one task refreshes page after page, and a page that does wait (its own
reading, an actor to look up) holds up only its task. Every few pages the event loop gets a turn: the patches
so far go out, and a change heard meanwhile is what the pages still waiting their turn read (without it, a
burst's second change waited for the whole first wave, then took a wave of its own). docs/PERFORMANCE-lists.md
measures this with 200 and 500 open pages.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import Client, background_tasks, core, ui

from components import session
from services.access import sessions as session_events
from services.invitations import pending
from services.platform import events

Refresh = Callable[[], Awaitable[None]]
WORKERS_PER_WAVE = 8
PAGES_PER_TURN = 32  # then the event loop takes a turn: a newer change is heard, patches so far go out


class _Follower:
    """One page's refresh, run for the latest change it heard."""

    def __init__(self, client: Client, refresh: Refresh) -> None:
        self.client = client
        self.refresh = refresh
        self.wave: _Wave | None = None  # the latest change heard: its readings are the freshest
        self.running = False
        self.again = False

    def changed(self, wave: "_Wave") -> None:
        self.wave = wave
        if self.running:
            self.again = True  # folded: one more refresh when this one ends
            return
        self.running = True
        wave.pages.append(self)

    async def run(self) -> None:
        try:
            while self.wave is not None and not self.client.is_deleted:  # the page may have closed meanwhile
                self.again = False
                with self.client, pending.shared_reads(self.wave.readings), session.live_refresh():
                    await self.refresh()
                if not self.again:
                    break
        except Exception as problem:  # one page's failure is logged; the other pages still refresh
            core.app.handle_exception(problem)
        finally:
            self.running = False


class _Wave:
    """The pages refreshing for one change of a topic, and the readings they share."""

    def __init__(self) -> None:
        self.readings: dict[Any, Any] = {}
        self.pages: deque[_Follower] = deque()

    def start(self) -> None:
        for _ in range(min(WORKERS_PER_WAVE, len(self.pages))):
            background_tasks.create(self._work(), name="live refresh")

    async def _work(self) -> None:
        done = 0
        while self.pages:
            await self.pages.popleft().run()
            done += 1
            if not done % PAGES_PER_TURN:
                await asyncio.sleep(0)


_waves: dict[int, _Wave] = {}


def follow(*, organisation_id: int | None, refresh: Refresh) -> None:
    """Call refresh() after changes in the organisation (None: platform-wide), bursts folded."""
    client = ui.context.client
    topic = events.PLATFORM_TOPIC if organisation_id is None else organisation_id
    follower = _Follower(client, refresh)

    def changed(kind: str) -> None:
        if kind != session_events.SESSION_ENDED:  # a log-out somewhere: no list changed
            follower.changed(_wave(topic))

    client.on_delete(events.subscribe(organisation_id=topic, handler=changed))


def _wave(topic: int) -> _Wave:
    """The wave of one change, shared by its pages: events hands a change to every page in one go, so the
    pages' handlers share one wave until the event loop moves on; a reading started before a change never is."""
    wave = _waves.get(topic)
    if wave is None:
        wave = _waves[topic] = _Wave()
        asyncio.get_running_loop().call_soon(_start, topic)
    return wave


def _start(topic: int) -> None:
    wave = _waves.pop(topic, None)
    if wave is not None:
        wave.start()
