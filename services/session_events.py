"""“This session has ended”: open pages of a session listen, so that logging out in one tab empties every tab.

In-process only: pages served by another app process find out at their next action, when the service call
re-reads the (revoked) session and is refused.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from services import tokens

log = logging.getLogger(__name__)

_listeners: dict[str, set[Callable[[], None]]] = defaultdict(set)


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
    listeners = _listeners.pop(tokens.hash_token(session_token), set())
    for on_end in listeners:
        try:
            on_end()
        except Exception:  # one closed or broken page must not keep the others signed in
            log.exception("a page did not leave after its session ended")
    return len(listeners)


def listener_count(*, session_token: str) -> int:
    return len(_listeners.get(tokens.hash_token(session_token), ()))


def reset() -> None:
    """Forget every listener (tests start each app afresh)."""
    _listeners.clear()
