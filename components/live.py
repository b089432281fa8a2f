"""Live lists: one path for every list that follows its organisation's changes (docs/LIVE-LISTS.md).

subscribe → read once → format → diff → push:
- `LiveList` subscribes a page to its organisation's changes and runs the page's refresh for each change: at
  once, and once more afterwards if changes arrived meanwhile (after the pages still waiting their turn), so a
  burst costs a page at most two refreshes.
- Within that refresh, `LiveList.read_once(view, read)` reads and formats once for every page refreshing for
  the same change with an equal `View` (the sharing key: list, organisation, what the viewer may see, search,
  sort, page window, time zone); the others await that reading. Each page still asks with its own user's permissions
  (its actor remembered for live refreshes, components.session.live_refresh); a reading started before a
  change is never shared with a page refreshing for that change.
- components/paged_table.py diffs what the page shows against the shared page (once per pair of readings) and
  components/live_push.py pushes the patch, one message for the pages patched alike.

The pages of one change are worked through by a few tasks, not a task each: once the shared reading is there,
a page's refresh never waits, so one task refreshes page after page, and a page that does wait (its own
reading, an actor to look up) holds up only its task. Every few pages the event loop gets a turn: the patches
so far go out, and a change heard meanwhile is what the pages still waiting their turn read.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, TypeVar

from nicegui import Client, background_tasks, core, ui

from components import session
from components.paged_table import PageRequest
from services.access import sessions
from services.platform import events

T = TypeVar("T")
Refresh = Callable[[], Awaitable[None]]
WORKERS_PER_CHANGE = 8
PAGES_PER_TURN = 32  # then the event loop takes a turn: a newer change is heard, patches so far go out


@dataclass(frozen=True)
class View:
    """What pages share one reading of a change by: equal Views are shown equal rows. Never which page asks."""

    list: str  # which list, e.g. "pending"
    organisation_id: int
    audience: Hashable  # what the viewer may see, as the service decided it for them (part of the key)
    request: PageRequest  # search, sort, direction, page window
    zone: tzinfo = UTC  # the time zone the rows' exact times are written in (the viewer's)


class _Change:
    """The pages refreshing for one change of a topic, and the readings they share by View."""

    def __init__(self) -> None:
        self.readings: dict[View, asyncio.Future[Any]] = {}
        self.pages: deque[LiveList] = deque()

    async def read_once(self, view: View, read: Callable[[], Awaitable[T]]) -> T:
        if view not in self.readings:  # else another page refreshing for this change reads (or has read) it
            self.readings[view] = asyncio.ensure_future(read())  # a task: a page that goes away cancels no one
        found: T = await asyncio.shield(self.readings[view])
        return found

    def start(self) -> None:
        for _ in range(min(WORKERS_PER_CHANGE, len(self.pages))):
            background_tasks.create(self._work(), name="live refresh")

    async def _work(self) -> None:
        done = 0
        while self.pages:
            page = self.pages.popleft()
            if await page.run():  # changes came during its refresh: once more, after the pages still waiting
                self.pages.append(page)
            done += 1
            if not done % PAGES_PER_TURN:
                await asyncio.sleep(0)


_refreshing_for: ContextVar[_Change | None] = ContextVar("live_refreshing_for", default=None)
_changes: dict[int, _Change] = {}


class LiveList:
    """A page's live list(s): refresh() runs after each change of the organisation (None: platform-wide).

    Made before the page's first reading, held: a change committed while the page reads for the first time would
    otherwise be heard by nobody (the reading may predate it and the page was not yet listening). Changes heard
    while held wait for release(), which refreshes once if any came."""

    def __init__(
        self, *, organisation_id: int | None, refresh: Refresh, client: Client | None = None, held: bool = False
    ) -> None:
        self.client = client or ui.context.client
        self.refresh = refresh
        self.topic = events.PLATFORM_TOPIC if organisation_id is None else organisation_id
        self.change: _Change | None = None  # the latest change heard: its readings are the freshest
        self.running = False
        self.again = False
        self.held = held
        self.missed = False  # a change was heard while held
        self.client.on_delete(events.subscribe(organisation_id=self.topic, handler=self._heard))

    def release(self) -> None:
        """The page's first reading is done: refresh now for the changes heard while held, and for each from now."""
        self.held = False
        if self.missed:
            self.missed = False
            self._heard("missed")

    @staticmethod
    async def read_once(view: View, read: Callable[[], Awaitable[T]]) -> T:
        """read() (the reading and its formatting) once for all pages with this View refreshing for one change.

        Outside a live refresh (a page being built, a user's action) it is read() itself: an action must see
        its own write, which a reading shared with pages that started before it might not show.
        """
        change = _refreshing_for.get()
        return await read() if change is None else await change.read_once(view, read)

    def _heard(self, kind: str) -> None:
        if kind == sessions.SESSION_ENDED:  # a log-out somewhere: no list changed
            return
        if self.held:
            self.missed = True
            return
        change = _change(self.topic)
        self.change = change
        if self.running:
            self.again = True  # folded: one more refresh when this one ends
            return
        self.running = True
        change.pages.append(self)

    async def run(self) -> bool:
        """Refresh once for the newest change heard; True when another came meanwhile (the page is due again).

        Not a loop here: under a steady stream of changes a page would refresh again and again while the pages
        queued behind it on the same task waited for the stream to stop (seen: lists kept 20-40 s)."""
        again = False
        try:
            if self.change is not None and not self.client.is_deleted:  # the page may have closed meanwhile
                self.again = False
                token = _refreshing_for.set(self.change)
                try:
                    with self.client, session.live_refresh():
                        await self.refresh()
                finally:
                    _refreshing_for.reset(token)
        except Exception as problem:  # one page's failure is logged; the other pages still refresh
            core.app.handle_exception(problem)
        # A change heard during the refresh is owed a refresh even when this one failed: never lose it.
        again = self.again and not self.client.is_deleted
        self.running = again
        return again


def _change(topic: int) -> _Change:
    """The change being heard, shared by its pages: events hands a change to every page in one go, so the pages'
    handlers share one _Change until the event loop moves on; a reading started before a change never is."""
    change = _changes.get(topic)
    if change is None:
        change = _changes[topic] = _Change()
        asyncio.get_running_loop().call_soon(_start, topic)
    return change


def forget_unstarted() -> None:
    """Drop changes heard but not yet started. For tests: each runs its own event loop, and a change scheduled on a
    loop that ended would keep every later page of its topic (the same organisation id) from ever refreshing."""
    _changes.clear()


def _start(topic: int) -> None:
    change = _changes.pop(topic, None)
    if change is not None:
        change.start()
