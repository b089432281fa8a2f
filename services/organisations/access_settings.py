"""An organisation's access settings: the days before a grant's end that its member and sponsor are warned, whether
pending invitations get a reminder, when a member counts as dormant, whether dormant members' access ends here, and
its access review schedule (services/reviews/schedule.py).

Read by the services that act on them (settings_of, no permission needed); changed by those who may change them."""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import Organisation
from services.access import rights
from services.access import service as access
from services.access.service import Actor
from services.audit import service as audit
from services.errors import InvalidInput, NotFound, check_fields
from services.organisations import service as organisations
from services.platform import events

MAX_WARNINGS = 5
WARNING_DAYS = (1, 365)  # each warning: at least a day before the end, at most a year
DORMANT_DAYS = (7, 3650)
REVIEW_DAYS = (7, 730)  # a scheduled review of every grant: at most every week, at least every two years; 0: none
PRIVILEGED_REVIEW_DAYS = (7, 365)
REFUSED = "You need the *edit roles and permissions* permission in this organisation."
_COLUMNS = (
    "end_warning_days", "invitation_reminders", "dormant_days", "end_dormant_access", "review_every_days",
    "privileged_review_days", "reviews_remove_unanswered",
)  # fmt: skip


@dataclass(frozen=True)
class AccessSettings:
    end_warning_days: tuple[int, ...]  # days before a grant's end that member and sponsor are warned, descending
    invitation_reminders: bool  # a pending 72-hour or 7-day invitation gets one reminder a day before it expires
    dormant_days: int  # no log-in for this many days: the member is dormant
    end_dormant_access: bool  # dormant members' grants here end by themselves, warned 7 days before
    review_every_days: int = 90  # a review of every grant starts this often (0: no scheduled reviews)
    privileged_review_days: int = 30  # and one of the privileged roles' grants this often (0: none)
    reviews_remove_unanswered: bool = False  # at a review's deadline, the grants nobody answered for end

    @property
    def dormant_after(self) -> timedelta:
        return timedelta(days=self.dormant_days)


async def settings_of(*, organisation_id: int) -> AccessSettings:
    """The organisation's access settings (one small read; raises NotFound for an unknown organisation)."""
    row = await Organisation.filter(id=organisation_id).values(*_COLUMNS)
    if not row:
        raise NotFound("That organisation no longer exists.")
    values = row[0]
    return AccessSettings(
        stored_days(str(values["end_warning_days"])),
        bool(values["invitation_reminders"]),
        int(values["dormant_days"]),
        bool(values["end_dormant_access"]),
        int(values["review_every_days"]),
        int(values["privileged_review_days"]),
        bool(values["reviews_remove_unanswered"]),
    )


async def update(
    *,
    actor: Actor,
    organisation_id: int,
    end_warning_days: Sequence[int],
    invitation_reminders: bool,
    dormant_days: int,
    end_dormant_access: bool,
    review_every_days: int | None = None,
    privileged_review_days: int | None = None,
    reviews_remove_unanswered: bool | None = None,
) -> AccessSettings:
    """Change the organisation's access settings (who may: rights.may_change_access_settings); returns them. The
    review schedule's settings left None stay as they are. Bad input raises FieldErrors at its field (end_warning_days,
    dormant_days, review_every_days, privileged_review_days), and changes nothing."""
    scope = await access.scope_of(organisation_id=organisation_id)
    if not rights.may_change_access_settings(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action="set_access_settings", scope=scope, outcome="refused")
        access.require(False, REFUSED)
    await organisations.require_active(organisation_id=organisation_id)
    old = await settings_of(organisation_id=organisation_id)
    every = old.review_every_days if review_every_days is None else review_every_days
    privileged = old.privileged_review_days if privileged_review_days is None else privileged_review_days
    check_fields(
        end_warning_days=lambda: check_warning_days(end_warning_days),
        dormant_days=lambda: check_dormant_days(dormant_days),
        review_every_days=lambda: check_review_days(every, REVIEW_DAYS, "every grant"),
        privileged_review_days=lambda: check_review_days(privileged, PRIVILEGED_REVIEW_DAYS, "privileged roles"),
    )
    warnings = tuple(sorted(end_warning_days, reverse=True))
    remove = old.reviews_remove_unanswered if reviews_remove_unanswered is None else bool(reviews_remove_unanswered)
    new = AccessSettings(
        warnings, bool(invitation_reminders), dormant_days, bool(end_dormant_access), every, privileged, remove
    )
    if new == old:
        return old
    async with in_transaction() as connection:
        await Organisation.filter(id=organisation_id).using_db(connection).update(**_columns(new))
        detail = {"from": _said(old), "to": _said(new)}
        await audit.record(actor=actor, action="set_access_settings", scope=scope, detail=detail, connection=connection)
    await events.publish(organisation_id=organisation_id, kind="settings")
    return new


def parse_warning_days(text: str) -> tuple[int, ...]:
    """The warning days typed as "14, 7, 1" (commas or spaces between), checked (check_warning_days); "" is none."""
    parts = [part for part in re.split(r"[\s,;]+", text or "") if part]
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise InvalidInput(f"“{part[:20]}” is not a whole number of days: give days such as 14, 7, 1.")
    return check_warning_days([int(part) for part in parts])


def check_warning_days(days: Sequence[int]) -> tuple[int, ...]:
    """Refuse (InvalidInput) more than MAX_WARNINGS days, a day given twice, or one outside WARNING_DAYS; returns
    them from the earliest warning to the last (descending)."""
    low, high = WARNING_DAYS
    if len(days) > MAX_WARNINGS:
        raise InvalidInput(f"Give at most {MAX_WARNINGS} warning days.")
    for day in days:
        if isinstance(day, bool) or not isinstance(day, int) or not low <= day <= high:
            raise InvalidInput(f"Each warning must be between {low} and {high} days before the end: {day} is not.")
    repeated = sorted({day for day in days if list(days).count(day) > 1}, reverse=True)
    if repeated:
        raise InvalidInput(f"Give each warning day once: {repeated[0]} is there more than once.")
    return tuple(sorted(days, reverse=True))


def check_dormant_days(days: int) -> None:
    """Refuse (InvalidInput) a dormant period outside DORMANT_DAYS."""
    low, high = DORMANT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
        raise InvalidInput(f"A member can count as dormant after {low} to {high:,} days without a log-in.")


def check_review_days(days: int, allowed: tuple[int, int], what: str) -> None:
    """Refuse (InvalidInput) a review period outside the allowed range; 0 (no scheduled reviews) is always allowed."""
    low, high = allowed
    if isinstance(days, bool) or not isinstance(days, int) or not (days == 0 or low <= days <= high):
        raise InvalidInput(f"Review {what} every {low} to {high:,} days, or give 0 for no scheduled reviews.")


def parse_days(text: str) -> int:
    """A number of days as typed (a whole number); raises InvalidInput otherwise."""
    clean = (text or "").strip()
    if not clean.isascii() or not clean.isdigit():
        raise InvalidInput("Give a whole number of days, such as 90.")
    return int(clean)


def stored_days(text: str) -> tuple[int, ...]:
    """The warning days as stored ("14,7,1"), farthest first; anything unreadable or out of range is left out."""
    days = {int(part) for part in text.split(",") if part.strip().isdigit()}
    return tuple(sorted((day for day in days if WARNING_DAYS[0] <= day <= WARNING_DAYS[1]), reverse=True))


def _columns(settings: AccessSettings) -> dict[str, Any]:
    return {**asdict(settings), "end_warning_days": ",".join(str(day) for day in settings.end_warning_days)}


def _said(settings: AccessSettings) -> dict[str, Any]:
    return {**asdict(settings), "end_warning_days": list(settings.end_warning_days)}
