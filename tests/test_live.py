"""Live refreshes: the pages of one change are worked through by a few tasks, each page refreshed for the
latest change it heard, a burst folded into at most one more refresh, one page's failure no one else's."""

import asyncio
from collections import Counter
from typing import Any

import pytest
from nicegui import core

from components import live
from services.invitations import pending


class _Client:
    is_deleted = False

    def __enter__(self) -> None:
        pass

    def __exit__(self, *_: object) -> None:
        pass


class _Page:
    """A page whose refresh waits for the change's shared reading, as a pending list's does."""

    def __init__(self, release: asyncio.Event) -> None:
        self.release = release
        self.follower = live._Follower(_Client(), self.refresh)  # type: ignore[arg-type]
        self.readings: list[dict[Any, Any]] = []
        self.turns: list[int] = []

    async def refresh(self) -> None:
        readings = pending._shared_reads.get()
        assert readings is not None
        self.readings.append(readings)
        self.turns.append(loop_turns[0])
        running.append(self)
        await self.release.wait()
        running.remove(self)


running: list[_Page] = []
loop_turns = [0]


def _change(pages: list[_Page]) -> "live._Wave":
    """One change heard by every page, as events hands it over: all in one turn of the event loop."""
    wave = live._wave(1)
    for page in pages:
        page.follower.changed(wave)
    return wave


async def _turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


@pytest.fixture
async def release(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())  # as the app's lifespan sets it
    running.clear()
    return asyncio.Event()


async def test_every_page_refreshes_once_with_no_more_refreshing_at_a_time_than_the_wave_has_tasks(
    release: asyncio.Event,
) -> None:
    pages = [_Page(release) for _ in range(3 * live.WORKERS_PER_WAVE)]
    wave = _change(pages)
    await _turns()
    assert len(running) == live.WORKERS_PER_WAVE  # the others wait their turn
    release.set()
    await _turns()
    assert [len(page.readings) for page in pages] == [1] * len(pages)
    assert all(page.readings[0] is wave.readings for page in pages)
    assert not any(page.follower.running for page in pages)


async def test_a_change_during_a_refresh_costs_one_more_and_a_burst_no_more_than_that(release: asyncio.Event) -> None:
    page = _Page(release)
    first = _change([page])
    await _turns()
    assert running == [page]
    second = _change([page])  # a burst, while the first refresh waits for its reading
    await _turns()
    third = _change([page])
    await _turns()
    release.set()
    await _turns()
    assert page.readings == [first.readings, third.readings]
    assert second is not third


async def test_a_page_still_waiting_its_turn_refreshes_once_with_the_newest_change(release: asyncio.Event) -> None:
    pages = [_Page(release) for _ in range(live.WORKERS_PER_WAVE + 1)]
    _change(pages)
    await _turns()
    last = pages[-1]
    assert last.readings == []  # queued behind the busy tasks
    newer = _change([last])
    release.set()
    await _turns()
    assert last.readings == [newer.readings]  # read after the newer change: no second refresh needed


async def test_the_event_loop_gets_a_turn_every_few_pages_of_a_long_wave(release: asyncio.Event) -> None:
    def count_turns() -> None:
        loop_turns[0] += 1
        if any(page.follower.running for page in pages):
            asyncio.get_running_loop().call_soon(count_turns)

    pages = [_Page(release) for _ in range(2 * live.WORKERS_PER_WAVE * live.PAGES_PER_TURN)]
    release.set()
    _change(pages)
    count_turns()
    await _turns(10)
    assert all(len(page.readings) == 1 for page in pages)
    per_turn = Counter(turn for page in pages for turn in page.turns)
    assert max(per_turn.values()) == live.WORKERS_PER_WAVE * live.PAGES_PER_TURN  # other work got in between
    assert len(per_turn) == 2


async def test_one_page_failing_is_reported_and_the_others_still_refresh(
    release: asyncio.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr(core.app, "handle_exception", reported.append)
    pages = [_Page(release) for _ in range(3)]

    async def broken() -> None:
        raise RuntimeError("this page's list could not be read")

    pages[0].follower.refresh = broken
    release.set()
    _change(pages)
    await _turns()
    assert [str(problem) for problem in reported] == ["this page's list could not be read"]
    assert [len(page.readings) for page in pages] == [0, 1, 1]
    assert not pages[0].follower.running  # the next change refreshes it again
