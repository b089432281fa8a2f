"""What suspending and restoring an account (services/organisations/suspension.py) and changing when a grant ends
(services/organisations/grant_ends.py) mean, said as sentences (services/audit/sentences.py says the others).
Suspensions are recorded at platform level and in every organisation where the account held a grant, so the place
says which."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.organisations import naming
from services.platform.words import count

LABELS = {
    "suspend_account": "Accounts suspended",
    "restore_account": "Accounts restored",
    "set_end": "Ends of access changed",
}


def _suspend(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    where = "every access" if place == naming.PLATFORM else f"their access in {place}"
    sessions = count(int(d.get("sessions_ended") or 0), "session")
    return f"suspended the account of {target}: {where} stopped at once, {sessions} ended", f"suspend {target}"


def _moment(value: object) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%d %b %Y, %H:%M UTC").lstrip("0")
    except ValueError:
        return str(value or "does not end")


def _set_end(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    role = d.get("role", "a role")
    return (
        f"changed the end of {target}'s access as {role} in {place} from {_moment(d.get('from'))} to "
        f"{_moment(d.get('to'))}",
        f"change the end of {target}'s access as {role} in {place}",
    )


# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "suspend_account": _suspend,
    "restore_account": lambda t, p, d: (
        f"restored the account of {t}" + ("" if p == naming.PLATFORM else f": their access in {p} works again"),
        f"restore {t}",
    ),
    "set_end": _set_end,
}
