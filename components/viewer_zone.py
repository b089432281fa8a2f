"""The viewer's time zone, asked of the browser once per page; times are then formatted on the server with zoneinfo."""

import functools
import zoneinfo
from collections.abc import Awaitable, Callable
from datetime import UTC, tzinfo

from nicegui import background_tasks, ui

ASK = "Intl.DateTimeFormat().resolvedOptions().timeZone"
ANSWER_SECONDS = 5.0
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})


class ViewerZone:
    """UTC (and named so) until the browser has said which zone it is in; then `zone` is that one and the page's
    `on_known` redraws what it shows. A browser that does not answer, or names no zone we know, stays on UTC."""

    def __init__(self, on_known: Callable[[], Awaitable[None] | None]) -> None:
        self.zone: tzinfo = UTC
        self._client = ui.context.client
        self._on_known = on_known
        background_tasks.create(self._ask(), name="viewer time zone")

    async def _ask(self) -> None:
        try:
            answer = await self._client.run_javascript(ASK, timeout=ANSWER_SECONDS)
        except TimeoutError:
            return
        zone = known_zone(answer)
        if zone is None or zone is self.zone or self._client.is_deleted:
            return  # nothing to redraw (a browser on UTC is the common case on servers and in tests)
        self.zone = zone
        with self._client:
            done = self._on_known()
            if done is not None:
                await done


def known_zone(name: object) -> tzinfo | None:
    """The zone the browser named, if it is one of the IANA zones this machine knows (the name comes from the
    browser: it is checked against the list, never used to open a file)."""
    if not isinstance(name, str) or name not in _zone_names():
        return None
    return UTC if name in UTC_NAMES else zoneinfo.ZoneInfo(name)


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
