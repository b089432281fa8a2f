"""What changing a grant's end or ending it now (services/organisations/grant_ends.py) mean, said as sentences
(services/audit/sentences.py says the others; account_sentences.py suspensions)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.platform.words import day

LABELS = {
    "set_end": "Ends of access changed",
    "end_now": "Access ended early",
}


def when(value: object) -> str:
    """An end as the audit detail keeps it (ISO 8601, or "does not end"), in words: '1 Mar 2027, 17:00 UTC'."""
    try:
        moment = datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        return "no end"
    return f"{day(moment)}, {moment:%H:%M} UTC"


def _set_end(t: str, p: str, d: dict[str, Any]) -> tuple[str, str]:
    access = f"the {d.get('role')} access of {t} in {p}"
    return (
        f"changed the end of {access} from {when(d.get('from'))} to {when(d.get('to'))}",
        f"change the end of {access}",
    )


def _end_now(t: str, p: str, d: dict[str, Any]) -> tuple[str, str]:
    access = f"the {d.get('role')} access of {t} in {p}"
    return f"ended {access} now (it was to end: {when(d.get('from'))})", f"end {access}"


# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "set_end": _set_end,
    "end_now": _end_now,
}
