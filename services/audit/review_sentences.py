"""What the access review actions mean, said as sentences (services/audit/sentences.py says the others)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.platform.words import count

LABELS = {
    "start_review": "Access reviews started",
    "review_decision": "Access review decisions",
    "review_reminder": "Access review reminders",
    "review_closed": "Access reviews closed",
    "review_overdue": "Access reviews overdue: with the owners",
    "review_removed": "Access ended by a review's deadline",
    "export_review": "Access review records exported",
    "view_reviews": "Access reviews refused",
    "set_review_schedule": "Deployment review schedules changed",
}

# The review schedule's access settings (services/organisations/access_settings.py), as sentences.py says settings.
SETTINGS: dict[str, Callable[[Any, Any], str]] = {
    "review_every_days": lambda new, old: (
        f"access reviewed every {count(int(new), 'day')} (was {old})" if new else "no scheduled access reviews"
    ),
    "privileged_review_days": lambda new, old: (
        f"privileged roles reviewed every {count(int(new), 'day')} (was {old})"
        if new
        else "no scheduled reviews of privileged roles"
    ),
    "reviews_remove_unanswered": lambda new, old: (
        "access nobody answered for in a review ends at its deadline"
        if new
        else "access nobody answered for in a review no longer ends at its deadline"
    ),
}


def _on(iso: object) -> str:
    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    return f"{moment.day} {moment:%B %Y}"


def _start(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    items = count(int(d.get("items") or 0), "item")
    return (
        f"started the access review “{target}” of {place} ({items}, closing {_on(d.get('due_at'))})",
        f"start an access review of {place}",
    )


def _decision(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    role, review = d.get("role", "a role"), f"in the access review “{d.get('title', '')}”"
    done = {
        "keep": f"kept the access of {target} as {role} in {place} {review}",
        "change": f"changed the role of {target} in {place} from {role} to {d.get('to')} {review}"
        if d.get("approval") != "awaiting"
        else f"decided to change the role of {target} in {place} from {role} to {d.get('to')} {review} (it waits for "
        "a second person's approval)",
        "end": f"set the access of {target} as {role} in {place} to end on {_on(d.get('ends_at'))} {review}",
        "remove": f"took the role {role} in {place} away from {target} {review}",
    }.get(str(d.get("decision")), "")
    comment = f" (comment: “{d['comment']}”)" if d.get("comment") else ""
    return done + comment, f"decide the review of the access of {target} as {role} in {place}"


def _closed(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    unanswered = int(d.get("unanswered") or 0)
    if not unanswered:
        return f"closed the access review “{target}” of {place}: every item was decided", ""
    told = f", listed to {', '.join(d['told'])}" if d.get("told") else ""
    removed = int(d.get("removed") or 0)
    ended = f"; {count(removed, 'grant')} of them ended as the organisation chose" if removed else ""
    return (
        f"closed the access review “{target}” of {place} at its deadline with {unanswered} unanswered{told}{ended}",
        "",
    )


def _periods(said: dict[str, Any]) -> str:
    return (
        f"every grant every {count(int(said.get('every') or 0), 'day')}, privileged roles every "
        f"{count(int(said.get('privileged') or 0), 'day')}"
    )


def _schedule(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    old, new = d.get("from") or {}, d.get("to") or {}
    if new.get("every") is None:
        done = f"left the access reviews of {place} to the organisation's schedule (it had its own: {_periods(old)})"
    elif old.get("every") is None:
        done = f"gave {place} its own access review schedule: {_periods(new)} (it had the organisation's)"
    else:
        done = f"changed the access review schedule of {place} to {_periods(new)} (was {_periods(old)})"
    return done, f"change the access review schedule of {place}"


WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "start_review": _start,
    "review_decision": _decision,
    "review_reminder": lambda t, p, d: (
        f"reminded {t} of {count(int(d.get('items') or 0), 'item')} still to decide in the access review "
        f"“{d.get('title', '')}”, "
        + (
            f"overdue for {count(int(d['weeks']), 'week')}"
            if d.get("weeks")
            else f"{count(int(d.get('days') or 0), 'day')} before its deadline"
        ),
        "",
    ),
    "review_closed": _closed,
    "review_overdue": lambda t, p, d: (
        f"passed the {count(int(d.get('unanswered') or 0), 'item')} nobody answered by the deadline of the access "
        f"review “{t}” of {p} to the organisation's owners"
        + (f", told {', '.join(d['told'])}" if d.get("told") else ""),
        "",
    ),
    "review_removed": lambda t, p, d: (
        f"ended the role {d.get('role')} of {t} in {p}: nobody answered for it in the access review "
        f"“{d.get('title', '')}”",
        "",
    ),
    "export_review": lambda t, p, d: (
        f"exported the record of the access review “{t}” as {str(d.get('format', '')).upper()}",
        f"export the record of the access review “{t}”",
    ),
    "view_reviews": lambda t, p, d: (f"read the access reviews of {p}", f"read the access reviews of {p}"),
    "set_review_schedule": _schedule,
}
