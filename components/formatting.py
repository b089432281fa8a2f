"""Human-friendly times for tables."""

from datetime import datetime


def relative(moment: datetime, now: datetime) -> str:
    """'in 3 hours', '5 minutes ago', 'just now'."""
    seconds = (moment - now).total_seconds()
    future = seconds > 0
    amount = abs(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if amount >= size:
            count = int(amount // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "in under a minute" if future else "just now"


def day(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")
