"""Starting a review campaign (by a holder of *review access* there, or by the schedule) and reading campaigns: the
organisation's list with each one's progress, and one campaign's header."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import AccessNotice, Organisation, ReviewCampaign, ReviewItem, RoleAssignment, ScopeLevel
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import InvalidInput, NotFound, check_fields
from services.organisations import naming
from services.organisations import service as organisations
from services.platform import events, text
from services.platform.clock import now
from services.platform.words import count
from services.reviews import reviewers

TITLE_MAX = 120
DEADLINE_DAYS = (1, 90)  # a deadline at least a day away, at most 90 days
REVIEWS = "reviews"  # the change kind open pages hear
START_REFUSED = "You need the *review access* permission there to start a review."
SEE_REFUSED = "You need the *review access* permission in this organisation to see its access reviews."
NOTHING = "Nobody holds access there: there is nothing to review."
UNSEEN = "That review does not exist or you cannot see it."


@dataclass(frozen=True)
class Progress:
    total: int = 0
    decided: int = 0
    unanswered: int = 0

    @property
    def open(self) -> int:
        return self.total - self.decided - self.unanswered


@dataclass(frozen=True)
class CampaignRow:
    id: int
    organisation_id: int
    title: str
    scope: Scope
    scope_name: str
    started_by: str  # a name, or "The review schedule"
    started_at: datetime
    due_at: datetime
    closed_at: datetime | None  # set: finished and locked
    overdue_at: datetime | None  # set (while open): past its deadline, what nobody answered is with the owners
    remove_unanswered: bool
    progress: Progress
    may_export: bool  # holds *review access* where the campaign applies (the whole record)


async def start_campaign(
    *,
    actor: Actor | None,
    organisation_id: int,
    deployment_id: int | None = None,
    title: str,
    due_at: datetime,
    privileged_only: bool = False,
    once_key: str | None = None,
    leave_out: Sequence[int] = (),
) -> int | None:
    """Start a review of every live grant of the organisation (or of one deployment; privileged_only: of privileged
    roles only; leave_out: but those of these deployments), each an item with its reviewer; returns its id. actor
    None: the schedule, which names a once_key so that no second process starts the same one (None is returned
    then)."""
    scope = await _scope(organisation_id, deployment_id)
    if actor is not None and not reviewers.reviews_in(actor=actor, scope=scope):
        await audit.record(actor=actor, action="start_review", scope=scope, target=title[:80], outcome="refused")
        access.require(False, START_REFUSED)
    await organisations.require_active(organisation_id=organisation_id)
    clean = str(check_fields(title=lambda: _title(title), due_at=lambda: _deadline(due_at))["title"])
    grants = await RoleAssignment.filter(live(), grants_in(scope=scope)).select_related("role").order_by("id")
    grants = [g for g in grants if (g.role.privileged or not privileged_only) and g.deployment_id not in leave_out]
    if not grants:
        raise InvalidInput(NOTHING)
    assigned = await reviewers.assign(grants=grants)
    remove = bool((await Organisation.get(id=organisation_id)).reviews_remove_unanswered)
    try:
        async with in_transaction() as connection:
            if once_key is not None:
                await AccessNotice.create(
                    using_db=connection, key=once_key, member_id=0, organisation_id=organisation_id, created_at=now()
                )
            campaign = await ReviewCampaign.create(
                using_db=connection,
                organisation_id=organisation_id,
                deployment_id=scope.deployment_id,
                title=clean,
                started_by_id=actor.member_id if actor else None,
                scheduled=actor is None,
                started_at=now(),
                due_at=due_at,
                remove_unanswered=remove,
                privileged_only=privileged_only,
            )
            items = [
                ReviewItem(
                    campaign_id=campaign.id, assignment_id=g.id, member_id=g.member_id, reviewer_id=assigned[g.id]
                )
                for g in grants
            ]
            await ReviewItem.bulk_create(items, using_db=connection)
            detail = {"campaign": campaign.id, "items": len(items), "due_at": due_at.isoformat()}
            await audit.record(
                actor=actor, action="start_review", scope=scope, target=clean, detail=detail, connection=connection
            )
    except IntegrityError:  # the schedule's once_key: another process started this one first
        return None
    await events.publish(organisation_id=organisation_id, kind=REVIEWS)
    return campaign.id


async def campaigns_page(
    *, actor: Actor, organisation_id: int, search: str = "", page: int = 1, page_size: int = 25
) -> tuple[list[CampaignRow], int]:
    """One page of the organisation's campaigns the actor may see, newest first, with their progress."""
    query = ReviewCampaign.filter(organisation_id=organisation_id).filter(await _seen(actor, organisation_id))
    if term := text.search_term(search):
        query = query.filter(title__icontains=term)
    total = await query.count()
    size = text.page_size(page_size)
    rows = (
        await query.order_by("-started_at", "-id")
        .offset((max(1, page) - 1) * size)
        .limit(size)
        .select_related("organisation", "deployment", "started_by")
    )
    progress = await progress_of(campaign_ids=[row.id for row in rows])
    return [_row(actor, row, progress.get(row.id, Progress())) for row in rows], total


async def campaign(*, actor: Actor, campaign_id: int) -> CampaignRow:
    """One campaign the actor may see, with its progress (NotFound when it is not there or not theirs to see)."""
    row = await ReviewCampaign.get_or_none(id=campaign_id).select_related("organisation", "deployment", "started_by")
    if row is None:
        raise NotFound(UNSEEN)
    await require_seen(actor=actor, campaign=row)
    return _row(actor, row, (await progress_of(campaign_ids=[row.id])).get(row.id, Progress()))


async def places(*, actor: Actor, organisation_id: int) -> list[tuple[Scope, str]]:
    """Where the actor may start a review: the whole organisation and each deployment where they hold review access."""
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        return []
    found = []
    whole = Scope(ScopeLevel.ORGANISATION, organisation_id)
    if reviewers.reviews_in(actor=actor, scope=whole):
        found.append((whole, naming.place_name(organisation=organisation.name)))
    for deployment in await organisation.deployments.all().order_by("name"):
        scope = Scope(ScopeLevel.DEPLOYMENT, organisation_id, deployment.id)
        if reviewers.reviews_in(actor=actor, scope=scope):
            found.append((scope, naming.place_name(organisation=organisation.name, deployment=deployment.name)))
    return found


async def progress_of(*, campaign_ids: list[int]) -> dict[int, Progress]:
    """Each campaign's item counts: all, decided, unanswered at the deadline (one grouped query)."""
    if not campaign_ids:
        return {}
    counts = (
        await ReviewItem.filter(campaign_id__in=campaign_ids)
        .annotate(n=Count("id"))
        .group_by("campaign_id", "decision")
        .values_list("campaign_id", "decision", "n")
    )
    tally: dict[int, dict[str, int]] = {}
    for campaign_id, decision, n in counts:
        tally.setdefault(int(campaign_id), {})[str(decision)] = int(n)
    return {
        cid: Progress(
            sum(by.values()), sum(n for d, n in by.items() if d not in ("", "unanswered")), by.get("unanswered", 0)
        )
        for cid, by in tally.items()
    }


def scope_of(*, campaign: ReviewCampaign) -> Scope:
    """Where a campaign applies: its organisation, or one deployment."""
    if campaign.deployment_id is None:
        return Scope(ScopeLevel.ORGANISATION, campaign.organisation_id)
    return Scope(ScopeLevel.DEPLOYMENT, campaign.organisation_id, campaign.deployment_id)


def grants_in(*, scope: Scope) -> Q:
    """The grants a campaign in that scope covers (with live(): those it reviews)."""
    if scope.level is ScopeLevel.DEPLOYMENT:
        return Q(deployment_id=scope.deployment_id)
    return Q(organisation_id=scope.organisation_id)


async def _scope(organisation_id: int, deployment_id: int | None) -> Scope:
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id)
    if scope.organisation_id != organisation_id:  # a deployment of another organisation
        access.require(False, "That deployment does not exist or you cannot see it.")
    return scope


async def _seen(actor: Actor, organisation_id: int) -> Q:
    """The campaigns of the organisation the actor may see (refused, and audited, when none may be)."""
    whole = Scope(ScopeLevel.ORGANISATION, organisation_id)
    if reviewers.reviews_in(actor=actor, scope=whole):
        return Q()
    deployments = await reviewers.review_deployments(actor=actor, organisation_id=organisation_id)
    if not deployments:
        await audit.record(actor=actor, action="view_reviews", scope=whole, outcome="refused")
        access.require(False, SEE_REFUSED)
    assigned = ReviewItem.filter(reviewer_id=actor.member_id).distinct().values_list("campaign_id", flat=True)
    mine = [int(c) for c in await assigned]  # type: ignore[call-overload]
    return Q(deployment_id__in=deployments) | Q(deployment_id=None) | Q(id__in=mine)


async def require_seen(*, actor: Actor, campaign: ReviewCampaign) -> None:
    """Refuse (NotFound) a campaign that is not in the actor's list of the organisation's campaigns."""
    if not await ReviewCampaign.filter(await _seen(actor, campaign.organisation_id), id=campaign.id).exists():
        raise NotFound(UNSEEN)


def _row(actor: Actor, row: ReviewCampaign, progress: Progress) -> CampaignRow:
    scope = scope_of(campaign=row)
    deployment = row.deployment.name if row.deployment else None
    return CampaignRow(
        id=row.id,
        organisation_id=row.organisation_id,
        title=row.title,
        scope=scope,
        scope_name=naming.place_name(organisation=row.organisation.name, deployment=deployment),
        started_by=row.started_by.full_name if row.started_by else "The review schedule",
        started_at=row.started_at,
        due_at=row.due_at,
        closed_at=row.closed_at,
        overdue_at=row.overdue_at,
        remove_unanswered=row.remove_unanswered,
        progress=progress,
        may_export=reviewers.reviews_in(actor=actor, scope=scope),
    )


def _title(title: str) -> str:
    clean = " ".join((title or "").split())
    if not clean:
        raise InvalidInput("Give the review a title.")
    if not clean.isprintable():
        raise InvalidInput("A title cannot contain control or invisible characters.")
    if len(clean) > TITLE_MAX:
        raise InvalidInput(f"A title can be at most {TITLE_MAX} characters long.")
    return clean


def _deadline(due_at: datetime) -> None:
    low, high = DEADLINE_DAYS
    if not timedelta(days=low) <= due_at - now() <= timedelta(days=high):
        raise InvalidInput(f"Give a deadline at least {count(low, 'day')} and at most {count(high, 'day')} away.")
