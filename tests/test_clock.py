"""One clock for all open pages (components/clock.py): each element that asked is called every period in its own
page, a failing page stops no other, and an element removed from its page, or a page that closed, is called no more."""

import asyncio

import pytest
from nicegui import Client, core, ui

from components import clock
from tests.waiting import until

PAGE = ui.page("/clock-test")  # never served: the pages' clients are built here, as NiceGUI builds a page's
PERIOD = 0.01  # seconds: its own clock, no other test's


class _Page:
    """An open page with one element asking to be called every period; counts its calls and the page they ran in."""

    def __init__(self, fail: bool = False) -> None:
        self.client = Client(PAGE)
        self.calls = 0
        self.in_own_page = True
        with self.client:
            self.element = ui.label("times")
        clock.every(PERIOD, self._called, owner=self.element)
        self.fail = fail

    async def _called(self) -> None:
        self.calls += 1
        self.in_own_page = self.in_own_page and ui.context.client is self.client
        if self.fail:
            raise RuntimeError("this page's redraw failed")


@pytest.fixture(autouse=True)
async def app_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "loop", asyncio.get_running_loop())  # as the app's lifespan sets it
    monkeypatch.setattr(core.app, "handle_exception", lambda _problem: None)  # a failing page is logged, not raised


async def test_every_page_is_called_every_period_in_its_own_page_and_a_failing_one_stops_no_other() -> None:
    pages = [_Page(), _Page(fail=True), _Page()]
    await until(lambda: all(page.calls >= 2 for page in pages))
    assert all(page.in_own_page for page in pages)


async def test_an_element_removed_from_its_page_or_a_closed_page_is_called_no_more() -> None:
    removed, closed, staying = _Page(), _Page(), _Page()
    await until(lambda: removed.calls > 0 and closed.calls > 0)
    removed.element.delete()  # another view shown in its place
    closed.client.delete()
    calls = (removed.calls, closed.calls)
    mark = staying.calls
    await until(lambda: staying.calls >= mark + 2)  # two more periods went by
    assert (removed.calls, closed.calls) == calls
