"""Reviews on the organisation's schedule, run by housekeeping (one leader process): close what reached its deadline,
remind reviewers, and start the reviews that are due.

A review of every grant starts review_every_days after the organisation's last review of the whole organisation (its
creation, before the first); a review of the privileged roles' grants starts privileged_review_days after the last
review of the whole organisation of either kind, when anyone holds a privileged role. Each starts once: its
access_notice key names the organisation, the kind and the review it follows. A campaign records its kind
(review_campaign.privileged_only), whoever started it and whatever its title.

A deployment with a schedule of its own (services/reviews/deployment_schedules.py) gets its reviews the same way,
counted from its last review of the deployment, or from when its schedule was set; the organisation's scheduled
reviews leave its grants out.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import Deployment, Organisation, ReviewCampaign, RoleAssignment
from services.access.liveness import live
from services.errors import InvalidInput
from services.platform.clock import now
from services.reviews import campaigns, deadlines, overdue

log = logging.getLogger(__name__)

DEADLINE_DAYS = 14  # a scheduled review's time to answer, at most half its period
FULL_TITLE = "Scheduled access review"
PRIVILEGED_TITLE = "Scheduled review of privileged roles"


async def run_due(*, at: datetime | None = None) -> None:
    """Housekeeping's pass: close, remind, start."""
    moment = at or now()
    await deadlines.close_due(at=moment)
    await deadlines.remind_due(at=moment)
    await overdue.remind_due(at=moment)
    await start_due(at=moment)


async def start_due(*, at: datetime | None = None) -> int:
    """Start every scheduled review that is due; returns how many this process started."""
    moment = at or now()
    started = 0
    rows = await Organisation.filter(archived_at__isnull=True).values_list(
        "id", "created_at", "review_every_days", "privileged_review_days"
    )
    own = await _own_schedules()
    for organisation_id, created_at, every, privileged_every in rows:
        place = _Place(int(organisation_id), None, tuple(d for d, o, *_ in own if o == organisation_id))
        started += await _start_one(place, created_at, every, privileged_every, moment)
        for deployment_id, _, since, every_here, privileged_here in (d for d in own if d[1] == organisation_id):
            place = _Place(int(organisation_id), int(deployment_id))
            started += await _start_one(place, since, every_here, privileged_here, moment)
    return started


@dataclass(frozen=True)
class _Place:
    """Where a scheduled review applies: the organisation (leaving out the deployments with their own), or one
    deployment."""

    organisation_id: int
    deployment_id: int | None
    leave_out: tuple[int, ...] = ()

    @property
    def key(self) -> str:
        here = f"{self.organisation_id}:deployment-{self.deployment_id}" if self.deployment_id else self.organisation_id
        return f"review-start:{here}"


async def _own_schedules() -> list[tuple[int, int, datetime, int, int]]:
    """The deployments with a schedule of their own: id, organisation, since when, its two periods."""
    rows = await Deployment.filter(review_every_days__isnull=False).values_list(
        "id", "organisation_id", "review_schedule_since", "created_at", "review_every_days", "privileged_review_days"
    )
    return [(int(d), int(o), since or created, int(e or 0), int(p or 0)) for d, o, since, created, e, p in rows]


async def _start_one(place: _Place, since: datetime, every: int, privileged_every: int, moment: datetime) -> int:
    """Start the place's review of every grant when due, else its privileged review when that is due."""
    whole = await _last(place, privileged_too=False)
    if every and _due(whole, since, int(every), moment):
        return await _start(place, whole, int(every), moment, privileged_only=False)
    latest = await _last(place, privileged_too=True)
    if privileged_every and _due(latest, since, int(privileged_every), moment):
        return await _start(place, latest, int(privileged_every), moment, privileged_only=True)
    return 0


def is_privileged_only(*, campaign: ReviewCampaign) -> bool:
    """A review of the privileged roles' grants only, as the campaign recorded when it started."""
    return campaign.privileged_only


async def _last(place: _Place, *, privileged_too: bool) -> ReviewCampaign | None:
    """The latest review of the whole place (of every grant, or of either kind)."""
    reviews = ReviewCampaign.filter(organisation_id=place.organisation_id, deployment_id=place.deployment_id)
    if not privileged_too:
        reviews = reviews.filter(privileged_only=False)
    return await reviews.order_by("-started_at", "-id").first()


def _due(last: ReviewCampaign | None, since: datetime, days: int, moment: datetime) -> bool:
    return moment - max(since, last.started_at if last else since) >= timedelta(days=days)


async def _start(
    place: _Place, previous: ReviewCampaign | None, period: int, moment: datetime, *, privileged_only: bool
) -> int:
    kind = "privileged" if privileged_only else "all"
    if privileged_only and not await _privileged_held(place, moment):
        return 0
    title = f"{PRIVILEGED_TITLE if privileged_only else FULL_TITLE}, {moment:%B %Y}"
    try:
        started = await campaigns.start_campaign(
            actor=None,
            organisation_id=place.organisation_id,
            deployment_id=place.deployment_id,
            title=title,
            due_at=moment + timedelta(days=max(1, min(DEADLINE_DAYS, period // 2))),
            privileged_only=privileged_only,
            once_key=f"{place.key}:{kind}:{previous.id if previous else 0}",
            leave_out=place.leave_out,
        )
    except InvalidInput:  # nobody holds access there yet: nothing to review
        return 0
    if started is not None:
        log.info("housekeeping started the %s review %s of %s", kind, started, place)
    return 1 if started is not None else 0


async def _privileged_held(place: _Place, moment: datetime) -> bool:
    """Does anyone hold a privileged role in the place (outside the deployments it leaves out)?"""
    held = RoleAssignment.filter(live(moment), organisation_id=place.organisation_id, role__privileged=True)
    if place.deployment_id is not None:
        held = held.filter(deployment_id=place.deployment_id)
    where = await held.values_list("deployment_id", flat=True)
    return any(d is None or d not in place.leave_out for d in where)
