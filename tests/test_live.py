"""Live lists (components/live.py): real NiceGUI clients follow an organisation through events.publish; each test
waits, with a bound, for the state it checks: every page refreshed, bursts folded, one reading per change and
View, a page's failure no one else's, other organisations untouched."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nicegui import Client, core, ui

from components import live
from components.paged_table import PageRequest
from services.access import sessions
from services.platform import events
from tests.waiting import until

REQUEST = PageRequest(search="", sort="expires", descending=False, page=1, page_size=25)
PAGE = ui.page("/live-test")  # never served: the pages' clients are built here, as NiceGUI builds a page's


class _Board:
    """The database: readings count themselves and wait for `release`; each tells the newest change it saw."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.published = 0
        self.readings = 0
        self.in_refresh = 0
        self.most_in_refresh = 0

    async def publish(self, organisation_id: int = 1, kind: str = "invitations") -> None:
        self.published += 1
        await events.publish(organisation_id=organisation_id, kind=kind)

    def read(self) -> Awaitable[int]:
        self.readings += 1
        return self._read(seen=self.published)

    async def _read(self, seen: int) -> int:
        await self.release.wait()
        return seen


class _Page:
    """An open page whose list shares a reading with the pages of the same View, as the pending list does."""

    def __init__(
        self, board: _Board, organisation_id: int | None = 1, audience: object = None, held: bool = False
    ) -> None:
        self.board = board
        self.audience = audience
        self.client = Client(PAGE)
        self.shown: list[int] = []  # the change each refresh showed
        self.refreshing = False
        self.refresh: Callable[[], Any] = self._refresh
        with self.client:
            self.live = live.LiveList(organisation_id=organisation_id, refresh=lambda: self.refresh(), held=held)

    async def _refresh(self) -> None:
        board = self.board
        board.in_refresh += 1
        board.most_in_refresh = max(board.most_in_refresh, board.in_refresh)
        self.refreshing = True
        try:
            view = live.View("pending", 1, self.audience, REQUEST)
            self.shown.append(await live.LiveList.read_once(view, board.read))
        finally:
            board.in_refresh -= 1
            self.refreshing = False


def _settled(pages: list[_Page]) -> Callable[[], bool]:
    return lambda: not any(page.live.running for page in pages)


@pytest.fixture
async def board(monkeypatch: pytest.MonkeyPatch) -> _Board:
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())  # as the app's lifespan sets it
    return _Board()


async def test_every_page_refreshes_once_from_one_reading_a_few_at_a_time(board: _Board) -> None:
    pages = [_Page(board) for _ in range(3 * live.WORKERS_PER_CHANGE)]
    await board.publish()
    await until(lambda: board.in_refresh == live.WORKERS_PER_CHANGE)  # they wait for the one reading
    board.release.set()
    await until(_settled(pages))
    assert [page.shown for page in pages] == [[1]] * len(pages)
    assert board.readings == 1
    assert board.most_in_refresh == live.WORKERS_PER_CHANGE  # the others waited their turn


async def test_a_burst_during_a_refresh_costs_one_more_refresh_with_the_newest_change(board: _Board) -> None:
    page = _Page(board)
    await board.publish()
    await until(lambda: board.in_refresh == 1)
    await board.publish()
    await board.publish()
    board.release.set()
    await until(_settled([page]))
    assert page.shown == [1, 3]
    assert board.readings == 2


async def test_a_page_still_waiting_its_turn_refreshes_once_with_the_newest_change(board: _Board) -> None:
    pages = [_Page(board) for _ in range(live.WORKERS_PER_CHANGE + 1)]
    await board.publish()
    await until(lambda: board.in_refresh == live.WORKERS_PER_CHANGE)
    (waiting,) = [page for page in pages if not page.refreshing]  # queued behind the busy tasks
    await board.publish()
    board.release.set()
    await until(_settled(pages))
    assert waiting.shown == [2]  # queued behind the busy tasks, read after the newer change: refreshed once
    assert sorted(page.shown for page in pages) == [[1, 2]] * live.WORKERS_PER_CHANGE + [[2]]
    assert board.readings == 2


async def test_a_change_heard_during_a_long_wave_is_what_the_pages_not_yet_refreshed_read(board: _Board) -> None:
    pages = [_Page(board) for _ in range(2 * live.WORKERS_PER_CHANGE * live.PAGES_PER_TURN)]
    board.release.set()
    await board.publish()
    await until(lambda: any(page.shown for page in pages), poll=0)  # only if the wave lets the loop take turns
    await board.publish()
    await until(lambda: _settled(pages)() and all(page.shown[-1:] == [2] for page in pages))
    assert any(page.shown == [2] for page in pages)  # they waited their turn and refreshed once
    assert not any(len(page.shown) > 2 for page in pages)


async def test_a_page_that_keeps_hearing_changes_lets_the_pages_queued_behind_it_go_first(
    board: _Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "WORKERS_PER_CHANGE", 1)  # one task: who refreshes next is the queue's order alone
    pages = [_Page(board) for _ in range(3)]
    order: list[int] = []

    def refreshing_hears_a_change(number: int) -> Callable[[], Awaitable[None]]:
        async def refresh() -> None:  # a steady stream: every refresh hears another change, up to seven
            order.append(number)
            if board.published < 7:
                await board.publish()
            await pages[number]._refresh()

        return refresh

    for number, page in enumerate(pages):
        page.refresh = refreshing_hears_a_change(number)
    board.release.set()
    await board.publish()
    await until(lambda: board.published == 7 and _settled(pages)())
    assert sorted(order[:3]) == [0, 1, 2]  # each refreshed once before any refreshed again
    assert all(page.shown[-1] == 7 for page in pages)  # and each ended with the newest change


async def test_one_page_failing_is_reported_and_the_others_still_refresh(
    board: _Board, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr(core.app, "handle_exception", reported.append)
    pages = [_Page(board) for _ in range(3)]

    async def broken() -> None:
        raise RuntimeError("this page's list could not be read")

    pages[0].refresh = broken
    board.release.set()
    await board.publish()
    await until(lambda: _settled(pages)() and len(reported) == 1)
    assert [str(problem) for problem in reported] == ["this page's list could not be read"]
    assert [page.shown for page in pages] == [[], [1], [1]]
    await board.publish()  # the next change tries the failing page again
    await until(lambda: _settled(pages)() and len(reported) == 2)
    assert [page.shown for page in pages] == [[], [1, 2], [1, 2]]


async def test_other_organisations_get_nothing_and_platform_lists_hear_every_change(board: _Board) -> None:
    ours, theirs, platform = _Page(board, 1), _Page(board, 2), _Page(board, None)
    board.release.set()
    await board.publish(organisation_id=1)
    await until(lambda: bool(ours.shown and platform.shown) and _settled([ours, theirs, platform])())
    assert theirs.shown == []
    assert ours.shown == platform.shown == [1]


async def test_a_change_during_a_pages_first_reading_is_refreshed_for_once_it_is_done(board: _Board) -> None:
    listening, missed, other = _Page(board), _Page(board, held=True), _Page(board, held=True)
    board.release.set()
    await board.publish()  # committed while two pages read for the first time: heard, held
    await board.publish()
    await until(lambda: bool(listening.shown) and _settled([listening])())  # the change was worked through
    assert missed.shown == other.shown == [] and not missed.live.running
    missed.live.release()
    other.live.release()
    await until(lambda: bool(missed.shown and other.shown) and _settled([missed, other])())
    assert missed.shown == other.shown == [2]  # once each, with the newest change
    await board.publish()
    await until(lambda: len(missed.shown) == 2)  # released: every later change as usual
    assert missed.shown == [2, 3]


async def test_log_outs_and_closed_pages_refresh_nothing(board: _Board) -> None:
    open_page, closed = _Page(board), _Page(board)
    closed.client.delete()
    board.release.set()
    await board.publish(kind=sessions.SESSION_ENDED)  # someone logged out: no list changed
    await board.publish()
    await until(lambda: bool(open_page.shown) and _settled([open_page])())
    assert open_page.shown == [2] and closed.shown == []


async def test_pages_share_a_reading_only_with_an_equal_view(board: _Board) -> None:
    everything = [_Page(board, audience=None) for _ in range(3)]
    one_deployment = [_Page(board, audience=(7,)) for _ in range(3)]
    board.release.set()
    await board.publish()
    await until(lambda: all(page.shown for page in everything + one_deployment))
    assert board.readings == 2  # one per audience, never one per page


async def test_outside_a_live_refresh_every_call_reads(board: _Board) -> None:
    board.release.set()
    view = live.View("pending", 1, None, REQUEST)
    assert [await live.LiveList.read_once(view, board.read) for _ in range(2)] == [0, 0]
    assert board.readings == 2  # a page being built or a user's action reads for itself
