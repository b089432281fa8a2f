"""A small in-process sliding-window limiter (per client address, per account)."""

from collections import defaultdict, deque

from services.errors import RateLimited
from services.platform import clock

MAX_KEYS = 10_000


class Limiter:
    def __init__(self, *, attempts: int, per_seconds: float) -> None:
        self.attempts = attempts
        self.per_seconds = per_seconds
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str, message: str = "Too many attempts. Please wait a minute and try again.") -> None:
        """Count one attempt for the key; raise RateLimited past the limit (refused attempts are not counted)."""
        now = clock.now().timestamp()  # the service clock, so that tests move the window without sleeping
        hits = self._hits[key]
        while hits and hits[0] <= now - self.per_seconds:
            hits.popleft()
        if len(hits) >= self.attempts:
            raise RateLimited(message)
        hits.append(now)
        if len(self._hits) > MAX_KEYS:
            self._forget_idle(now)

    def reset(self) -> None:
        self._hits.clear()

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.per_seconds]:
            del self._hits[key]
