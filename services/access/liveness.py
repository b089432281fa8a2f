"""Which grants are in force: not ended, and with no end or an end still to come (every access check asks this)."""

from datetime import datetime

from tortoise.expressions import Q

from services.platform.clock import now


def live(at: datetime | None = None) -> Q:
    """The grants in force at that moment (default now): a grant whose end has come is refused at once, even
    before housekeeping marks it ended."""
    moment = at or now()
    return Q(ended_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=moment))


def is_live(ended_at: datetime | None, ends_at: datetime | None, at: datetime | None = None) -> bool:
    """live() for one row's columns, for rows read by SQL."""
    return ended_at is None and (ends_at is None or ends_at > (at or now()))
