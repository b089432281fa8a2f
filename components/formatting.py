"""Words and times for people: counts with their plurals, relative and exact times in the viewer's time zone."""

from datetime import UTC, datetime, tzinfo

from services.platform.words import count, day, duration, plural

__all__ = ["count", "day", "delivery", "duration", "exact", "plural", "relative", "zone_label"]


def relative(moment: datetime, now: datetime) -> str:
    """'in 7 days', '3 hours ago', 'just now', rounded to the nearest unit.

    Rounded, not cut: a 7-day link read a second after it was sent is "in 7 days", not "in 6 days". Hours are
    kept up to two days, so a 24-hour link is "in 24 hours" and a 72-hour one "in 3 days".
    """
    seconds = (moment - now).total_seconds()
    amount = abs(seconds)
    minutes = round(amount / 60)
    hours = round(amount / 3600)
    if minutes < 1:
        return "in under a minute" if seconds > 0 else "just now"
    if minutes < 60:
        text = count(minutes, "minute")
    elif hours < 48:
        text = count(hours, "hour")
    else:
        text = count(round(amount / 86400), "day")
    return f"in {text}" if seconds > 0 else f"{text} ago"


def exact(moment: datetime, zone: tzinfo = UTC, *, seconds: bool = False) -> str:
    """'12 Nov 2026, 14:03 GMT': the date and time in the zone, named by its abbreviation (UTC when unknown)."""
    local = moment.astimezone(zone)
    name = local.tzname() or "UTC"
    return f"{day(local)}, {local.strftime('%H:%M:%S' if seconds else '%H:%M')} {name}"


def zone_label(zone: tzinfo) -> str:
    """How the viewer's zone is named above a list of times: 'Europe/London' or 'UTC'."""
    return str(getattr(zone, "key", None) or "UTC")


_DELIVERY = {"queued": "Waiting to send", "sent": "Sent", "failed": "Failed"}


def delivery(state: str, error: str = "") -> str:
    """An invitation email's delivery state in words: 'Waiting to send', 'Sent', 'Failed: 550 No such user'."""
    words = _DELIVERY.get(state, state.capitalize())
    return f"{words}: {error}" if error and state == "failed" else words
