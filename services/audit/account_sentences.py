"""What suspending and restoring an account (services/organisations/suspension.py) mean, said as sentences
(services/audit/sentences.py says the others; grant_sentences.py changed ends). Suspensions are recorded at platform
level and in every organisation where the account held a grant, so the place says which."""

from collections.abc import Callable
from typing import Any

from services.organisations import naming
from services.platform.words import count, plural

LABELS = {
    "suspend_account": "Accounts suspended",
    "restore_account": "Accounts restored",
}


def _suspend(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    where = "every access" if place == naming.PLATFORM else f"their access in {place}"
    sessions, dropped = int(d.get("sessions_ended") or 0), int(d.get("invitations_deleted") or 0)
    done = f"suspended the account of {target}: {where} stopped at once, {count(sessions, 'session')} ended"
    if dropped:
        done += f", {count(dropped, 'pending invitation')} they had sent {plural(dropped, 'was')} deleted"
    return done, f"suspend {target}"


# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "suspend_account": _suspend,
    "restore_account": lambda t, p, d: (
        f"restored the account of {t}" + ("" if p == naming.PLATFORM else f": their access in {p} works again"),
        f"restore {t}",
    ),
}
