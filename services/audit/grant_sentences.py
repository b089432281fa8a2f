"""What happens to access over time, said as sentences: an end changed or brought forward (grant_ends.py), an end
reached, warnings before it, dormancy and its restore, an organisation's end-date rules (sentences.py says the
others; account_sentences.py suspensions)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.platform.words import count, day

LABELS = {
    "grant_ended": "Access that ended on time",
    "sessions_ended": "Sessions ended with the last access",
    "set_grant_policy": "End-date rules changed",
    "end_warning": "Warnings that access ends",
    "dormant_warning": "Warnings to dormant members",
    "dormant_ended": "Dormant members' access suspended",
    "restore_access": "Dormant members' access restored",
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
    "grant_ended": lambda t, p, d: (f"ended the role {d.get('role')} of {t} in {p} at its end", ""),
    "sessions_ended": lambda t, p, d: (f"ended the sessions of {t}: no access remained", ""),
    "end_warning": lambda t, p, d: (
        f"warned {t} that the role {d.get('role')} in {p} ends in {count(int(d.get('days') or 0), 'day')}"
        + (f" (and their sponsor, {d['sponsor']})" if d.get("sponsor") else ""),
        "",
    ),
    "dormant_warning": lambda t, p, d: (
        f"warned {t}, who has not logged in for {count(int(d.get('dormant_days') or 0), 'day')}, that their access "
        f"in {p} will be suspended on {d.get('ends_on')} unless they log in",
        "",
    ),
    "dormant_ended": lambda t, p, d: (
        f"suspended the access of {t} in {p}: no log-in for {count(int(d.get('dormant_days') or 0), 'day')}",
        "",
    ),
    "restore_access": lambda t, p, d: (
        f"restored the role {d.get('role')} of {t} in {p}, suspended for dormancy"
        + (f", until {d['ends_on']}" if d.get("ends_on") else ""),
        f"restore the role {d.get('role')} of {t} in {p}",
    ),
    "set_grant_policy": lambda t, p, d: (
        f"required an end within {count(int(d['max_days']), 'day')} for {t} in {p}"
        if d.get("max_days")
        else f"stopped requiring an end for {t} in {p}",
        f"change the end-date rule for {t} in {p}",
    ),
}
