"""“This session has ended”, and who each live session is for live refreshes.

Open pages of a session listen, so that logging out in one tab empties every tab (in-process: pages served by
another app process find out at their next refresh or action, when the session is re-read and refused).

The actors of sessions are remembered briefly for live refreshes of read views (services.access.auth.live_actor_for).
Anything that may change who someone is or may do forgets them all, in every process: a log-out (published as
SESSION_ENDED through services.platform.events, so over PostgreSQL NOTIFY when installed), any change except the few
kinds that only move invitations, and a "resync" (the transport reconnected: notifications may have been missed).
"""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from services.access import tokens
from services.access.service import Actor
from services.platform import events

log = logging.getLogger(__name__)

SESSION_ENDED = "session-ended"
# Changes of invitations alone: nobody's session, grants or member record moves. Every other kind forgets.
KEEPS_ACTORS = frozenset({"invitations", "delivery", "expired", "purged"})

_listeners: dict[str, set[Callable[[], None]]] = defaultdict(set)


@dataclass(frozen=True)
class Remembered:
    actor: Actor
    until: datetime  # the earliest of: remembered + TTL, the session's absolute and idle ends at reading time


_actors: dict[str, Remembered] = {}
_generation = 0


def subscribe(*, session_token: str, on_end: Callable[[], None]) -> Callable[[], None]:
    """Call on_end() once when the session ends; returns the unsubscribe function (call it when the page closes)."""
    key = tokens.hash_token(session_token)  # only the hash is kept, as in the database
    _listeners[key].add(on_end)

    def unsubscribe() -> None:
        listeners = _listeners.get(key)
        if listeners is not None:
            listeners.discard(on_end)
            if not listeners:
                _listeners.pop(key, None)

    return unsubscribe


def session_ended(*, session_token: str) -> int:
    """Tell every open page of the session that it has ended; returns how many were told."""
    return sessions_ended(token_hashes=[tokens.hash_token(session_token)])


def sessions_ended(*, token_hashes: Iterable[str]) -> int:
    """Tell every open page of these sessions (by the hashes the database keeps) that it has ended."""
    forget_actors()
    told = 0
    for key in token_hashes:
        for on_end in _listeners.pop(key, set()):
            told += 1
            try:
                on_end()
            except Exception:  # one closed or broken page must not keep the others signed in
                log.exception("a page did not leave after its session ended")
    return told


def session_hash_ended(token_hash: str) -> int:
    """session_ended() for a session known by its stored hash (housekeeping ends sessions it never saw opened)."""
    return sessions_ended(token_hashes=[token_hash])


def listener_count(*, session_token: str) -> int:
    return len(_listeners.get(tokens.hash_token(session_token), ()))


def generation() -> int:
    """Take before reading a session: remember() keeps the reading only if nothing was forgotten meanwhile."""
    events.subscribe(organisation_id=events.PLATFORM_TOPIC, handler=_on_change)  # idempotent: a set
    return _generation


def remember(key: str, entry: Remembered, *, since: int) -> None:
    if since == _generation:
        _actors[key] = entry


def recall(key: str) -> Remembered | None:
    return _actors.get(key)


def forget_actors() -> None:
    global _generation
    _generation += 1
    _actors.clear()


def _on_change(kind: str) -> None:
    if kind not in KEEPS_ACTORS:  # every change reaches the platform topic too, whatever its organisation
        forget_actors()


def reset() -> None:
    """Forget every listener and actor (tests start each app afresh)."""
    _listeners.clear()
    forget_actors()
