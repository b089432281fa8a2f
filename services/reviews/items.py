"""A campaign's items as a reviewer sees them: one page at a time, mine to decide, all open, or decided."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models import ReviewCampaign, ReviewItem
from services.access.liveness import is_live
from services.access.service import Actor, Scope
from services.errors import NotFound
from services.organisations import naming
from services.platform import text
from services.reviews import campaigns, reviewers

SHOWS = ("mine", "open", "decided", "all")
DECISIONS = {
    "": "Open",
    "keep": "Kept",
    "change": "Role changed",
    "end": "End set",
    "remove": "Removed",
    "unanswered": "Unanswered",
}
ANY_REVIEWER = "Anyone with review access"
THE_OWNERS = "The owners (overdue)"
RELATED = (
    "assignment__role", "assignment__member", "assignment__organisation", "assignment__deployment",
    "assignment__sponsor", "reviewer", "decided_by",
)  # fmt: skip  # what an item's row shows (the export's too)
SORTS = {"name": "assignment__member__full_name", "role": "assignment__role__name", "decision": "decision"}


@dataclass(frozen=True)
class ItemRow:
    id: int
    member_id: int
    name: str
    email: str
    role_id: int
    role_name: str
    scope_name: str
    deployment_id: int | None
    sponsor_name: str
    reviewer_name: str
    decision: str  # "" (open), keep, change, end, remove, unanswered
    decided_by: str
    decided_at: datetime | None
    comment: str
    ends_at: datetime | None  # when the grant ends by itself (None: it does not)
    access_live: bool  # the grant is still in force (else only Remove can be recorded)
    own: bool  # the viewer's own access: somebody else decides it
    may_decide: bool

    @property
    def decision_label(self) -> str:
        return DECISIONS.get(self.decision, self.decision)


async def items_page(
    *,
    actor: Actor,
    campaign_id: int,
    show: str = "open",
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[ItemRow], int]:
    """One page of the campaign's items the actor may see (reviewers.visible_items), as `show` (SHOWS) asks."""
    row = await ReviewCampaign.get_or_none(id=campaign_id)
    if row is None:
        raise NotFound(campaigns.UNSEEN)
    await campaigns.require_seen(actor=actor, campaign=row)
    seen = await reviewers.visible_items(actor=actor, campaign_scope=campaigns.scope_of(campaign=row))
    query = ReviewItem.filter(seen, campaign_id=campaign_id).filter(await _shown(actor, row, show))
    if term := text.search_term(search):
        query = query.filter(
            Q(assignment__member__email__icontains=term) | Q(assignment__member__full_name__icontains=term)
        )
    total = await query.count()
    column = SORTS.get(sort, SORTS["name"])
    size = text.page_size(page_size)
    rows = (
        await query.order_by(f"-{column}" if descending else column, "id")
        .offset((max(1, page) - 1) * size)
        .limit(size)
        .select_related(*RELATED)
    )
    owners = await _overdue(row)
    return [_item_row(actor, item, locked=row.closed_at is not None, overdue=owners) for item in rows], total


async def _overdue(row: ReviewCampaign) -> reviewers.Owners | None:
    """Who decides the open items of a review overdue with the owners (None: the review is not)."""
    if row.overdue_at is None or row.closed_at is not None:
        return None
    return await reviewers.owners_of(organisation_id=row.organisation_id)


async def _shown(actor: Actor, row: ReviewCampaign, show: str) -> Q:
    if show == "mine" and (owners := await _overdue(row)) is not None:
        return owners.decidable(decider_id=actor.member_id)
    if show == "mine":
        deployments = await reviewers.review_deployments(actor=actor, organisation_id=row.organisation_id)
        return (
            reviewers.decidable(actor=actor, organisation_id=row.organisation_id, deployments=deployments)
            if row.closed_at is None
            else Q(id=0)
        )
    if show == "open":
        return Q(decision="")
    if show == "decided":
        return ~Q(decision="")
    return Q()


def _item_row(actor: Actor, item: ReviewItem, *, locked: bool, overdue: reviewers.Owners | None) -> ItemRow:
    grant = item.assignment
    scope = Scope.of(grant)
    organisation = grant.organisation.name if grant.organisation else None
    live = is_live(grant.ended_at, grant.ends_at)
    decides = reviewers.may_decide(
        actor=actor, member_id=item.member_id, reviewer_id=item.reviewer_id, scope=scope, overdue=overdue
    )
    reviewer = item.reviewer.full_name if item.reviewer else ANY_REVIEWER
    return ItemRow(
        id=item.id,
        member_id=item.member_id,
        name=grant.member.full_name or grant.member.email,
        email=grant.member.email,
        role_id=grant.role_id,
        role_name=grant.role.name,
        scope_name=naming.place_name(
            organisation=organisation, deployment=grant.deployment.name if grant.deployment else None
        ),
        deployment_id=grant.deployment_id,
        sponsor_name=grant.sponsor.full_name if grant.sponsor else "",
        reviewer_name=THE_OWNERS if overdue is not None and not item.decision else reviewer,
        decision=item.decision,
        decided_by=item.decided_by.full_name if item.decided_by else "",
        decided_at=item.decided_at,
        comment=item.comment,
        ends_at=grant.ends_at,
        access_live=live,
        own=item.member_id == actor.member_id,
        may_decide=not locked and not item.decision and decides,
    )
