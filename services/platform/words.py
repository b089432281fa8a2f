"""Counts with their plurals, for every sentence people read (pages through components/formatting.py, audit)."""

from datetime import datetime

# Nouns whose plural is not the noun + "s".
_PLURALS = {"address": "addresses", "person": "people", "entry": "entries", "is": "are", "was": "were"}


def plural(number: int, noun: str) -> str:
    """The noun as the number wants it: plural(1, "line") is "line", plural(2, "line") is "lines"."""
    return noun if number == 1 else _PLURALS.get(noun, noun + "s")


def count(number: int, noun: str) -> str:
    """'1 line', '2 lines', '1,250 addresses'."""
    return f"{number:,} {plural(number, noun)}"


def duration(hours: int) -> str:
    """A link's lifetime: '24 hours', '72 hours', '7 days' (whole days beyond three)."""
    return count(hours // 24, "day") if hours > 72 and hours % 24 == 0 else count(hours, "hour")


def day(moment: datetime) -> str:
    """'12 Nov 2026': the moment's date, as the moment is given (in its own zone)."""
    return moment.strftime("%d %b %Y").lstrip("0")
