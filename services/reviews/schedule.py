"""Reviews on the organisation's schedule, run by housekeeping (one leader process): close what reached its deadline,
remind reviewers, and start the reviews that are due.

A review of every grant starts review_every_days after the organisation's last review of the whole organisation (its
creation, before the first); a review of the privileged roles' grants starts privileged_review_days after the last
review of the whole organisation of either kind, when anyone holds a privileged role. Each starts once: its
access_notice key names the organisation, the kind and the review it follows. A campaign records its kind
(review_campaign.privileged_only), whoever started it and whatever its title.
"""

import logging
from datetime import datetime, timedelta

from models import Organisation, ReviewCampaign, RoleAssignment
from services.access.liveness import live
from services.errors import InvalidInput
from services.platform.clock import now
from services.reviews import campaigns, deadlines

log = logging.getLogger(__name__)

DEADLINE_DAYS = 14  # a scheduled review's time to answer, at most half its period
FULL_TITLE = "Scheduled access review"
PRIVILEGED_TITLE = "Scheduled review of privileged roles"


async def run_due(*, at: datetime | None = None) -> None:
    """Housekeeping's pass: close, remind, start."""
    moment = at or now()
    await deadlines.close_due(at=moment)
    await deadlines.remind_due(at=moment)
    await start_due(at=moment)


async def start_due(*, at: datetime | None = None) -> int:
    """Start every scheduled review that is due; returns how many this process started."""
    moment = at or now()
    started = 0
    rows = await Organisation.filter(archived_at__isnull=True).values_list(
        "id", "created_at", "review_every_days", "privileged_review_days"
    )
    for organisation_id, created_at, every, privileged_every in rows:
        whole = await _last(int(organisation_id), privileged_too=False)
        if every and _due(whole, created_at, int(every), moment):
            started += await _start(int(organisation_id), whole, int(every), moment, privileged_only=False)
            continue
        latest = await _last(int(organisation_id), privileged_too=True)
        if privileged_every and _due(latest, created_at, int(privileged_every), moment):
            started += await _start(int(organisation_id), latest, int(privileged_every), moment, privileged_only=True)
    return started


def is_privileged_only(*, campaign: ReviewCampaign) -> bool:
    """A review of the privileged roles' grants only, as the campaign recorded when it started."""
    return campaign.privileged_only


async def _last(organisation_id: int, *, privileged_too: bool) -> ReviewCampaign | None:
    """The organisation's latest review of the whole organisation (of every grant, or of either kind)."""
    reviews = ReviewCampaign.filter(organisation_id=organisation_id, deployment_id=None)
    if not privileged_too:
        reviews = reviews.filter(privileged_only=False)
    return await reviews.order_by("-started_at", "-id").first()


def _due(last: ReviewCampaign | None, created_at: datetime, days: int, moment: datetime) -> bool:
    return moment - (last.started_at if last else created_at) >= timedelta(days=days)


async def _start(
    organisation_id: int, previous: ReviewCampaign | None, period: int, moment: datetime, *, privileged_only: bool
) -> int:
    kind = "privileged" if privileged_only else "all"
    if (
        privileged_only
        and not await RoleAssignment.filter(
            live(moment), organisation_id=organisation_id, role__privileged=True
        ).exists()
    ):
        return 0
    title = f"{PRIVILEGED_TITLE if privileged_only else FULL_TITLE}, {moment:%B %Y}"
    try:
        started = await campaigns.start_campaign(
            actor=None,
            organisation_id=organisation_id,
            title=title,
            due_at=moment + timedelta(days=max(1, min(DEADLINE_DAYS, period // 2))),
            privileged_only=privileged_only,
            once_key=f"review-start:{organisation_id}:{kind}:{previous.id if previous else 0}",
        )
    except InvalidInput:  # nobody holds access there yet: nothing to review
        return 0
    if started is not None:
        log.info("housekeeping started the %s review %s of organisation %s", kind, started, organisation_id)
    return 1 if started is not None else 0
