"""The garbage collector's schedule: long-lived objects frozen, a thaw and one collection every tenth round."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from services.platform import settings
from services.platform.collector import THAWS_PER_FREEZES, Collector
from tests.conftest import freeze_what_lives


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector can free it


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()
    freeze_what_lives()  # as the run had it (tests/conftest.py): a thawed heap slows every later collection


def test_a_closed_pages_cycles_are_freed_at_the_next_thaw_not_before(thawed: None) -> None:
    schedule = Collector(freeze_seconds=60)
    node = Node()
    gone = weakref.ref(node)
    assert schedule.tick() == "froze" and gc.get_freeze_count() > 0
    del node  # frozen while alive: ordinary passes no longer see it
    gc.collect()
    assert gone() is not None

    done = [schedule.tick() for _ in range(THAWS_PER_FREEZES - 1)]

    assert done == ["froze"] * (THAWS_PER_FREEZES - 2) + ["collected"]
    assert gone() is None and gc.get_freeze_count() > 0


async def test_the_schedule_freezes_at_start_and_hands_everything_back_when_stopped(thawed: None) -> None:
    schedule = Collector(freeze_seconds=3600)
    schedule.start()
    assert gc.get_freeze_count() > 0
    await schedule.stop()
    assert gc.get_freeze_count() == 0


def test_the_schedule_is_on_by_default_and_can_be_turned_off() -> None:
    assert settings.load({}).gc_freeze_seconds == 60
    assert settings.load({"GATEHOUSE_GC_FREEZE_SECONDS": "0"}).gc_freeze_seconds == 0
    with pytest.raises(settings.SettingsError, match="GATEHOUSE_GC_FREEZE_SECONDS must be a whole number, not 'soon'"):
        settings.load({"GATEHOUSE_GC_FREEZE_SECONDS": "soon"})


def test_the_static_cache_is_off_unless_on() -> None:
    assert not settings.load({}).static_cache
    assert settings.load({"GATEHOUSE_STATIC_CACHE": "ON"}).static_cache
    with pytest.raises(settings.SettingsError, match="GATEHOUSE_STATIC_CACHE must be on or off, not 'yes'"):
        settings.load({"GATEHOUSE_STATIC_CACHE": "yes"})


def test_page_sockets_compress_only_when_switched_on() -> None:
    assert not settings.load({}).ws_compression
    assert settings.load({"GATEHOUSE_WS_COMPRESSION": "on"}).ws_compression
    with pytest.raises(settings.SettingsError, match="GATEHOUSE_WS_COMPRESSION must be on or off, not 'yes'"):
        settings.load({"GATEHOUSE_WS_COMPRESSION": "yes"})
