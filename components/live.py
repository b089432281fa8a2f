"""Live lists: refresh a page's data when its organisation changes, and stop listening when it closes."""

import asyncio
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui

from services import events

COALESCE_SECONDS = 0.05


def follow(*, organisation_id: int | None, refresh: Callable[[], Awaitable[None]]) -> None:
    """Call refresh() after changes in the organisation (None: platform-wide), bursts folded into one."""
    client = ui.context.client
    pending = False

    async def run_refresh() -> None:
        nonlocal pending
        await asyncio.sleep(COALESCE_SECONDS)  # fold a burst of changes into one query and one update
        pending = False
        if not client.is_deleted:  # the page may have closed while we waited
            with client:
                await refresh()

    def changed(_kind: str) -> None:
        nonlocal pending
        if not pending:
            pending = True
            background_tasks.create(run_refresh(), name="live refresh")

    topic = events.PLATFORM_TOPIC if organisation_id is None else organisation_id
    unsubscribe = events.subscribe(organisation_id=topic, handler=changed)
    client.on_delete(unsubscribe)
