"""Who reviews what: an item's reviewer is the grant's sponsor when the sponsor holds *review access* where the grant
applies and is not its member; otherwise the item is unassigned and anyone holding *review access* there, other than
the member, decides it. Past the deadline (an overdue review) the open items are the organisation's owners' (Owners).
Nobody decides an item about their own access."""

from dataclasses import dataclass, field

from tortoise.expressions import Q

from models import Deployment, Permission, RoleAssignment, ScopeLevel, StaffMember
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, Grant, RoleInfo, Scope

REVIEW = Permission.REVIEW_ACCESS
OWNER = "organisation_owner"


@dataclass(frozen=True)
class Owners:
    """Who decides an overdue review's open items: the organisation's owners, never one about their own access; an
    item about its only owner's access (or every item, when it has no owner) goes to the holders of review access over
    the whole organisation (stand_ins)."""

    owners: frozenset[int] = frozenset()
    stand_ins: frozenset[int] = frozenset()
    emails: dict[int, str] = field(default_factory=dict)

    def decide(self, *, member_id: int, decider_id: int) -> bool:
        """May this person decide the overdue item about this member's access?"""
        if decider_id == member_id:
            return False
        return decider_id in (self.owners if self.owners - {member_id} else self.stand_ins)

    def deciders(self, *, member_id: int) -> frozenset[int]:
        """Everyone who may decide the overdue item about this member's access."""
        return (self.owners if self.owners - {member_id} else self.stand_ins) - {member_id}

    def decidable(self, *, decider_id: int) -> Q:
        """The open items of an overdue review this person may decide ("mine")."""
        if decider_id in self.owners:
            return Q(decision="") & ~Q(member_id=decider_id)
        if decider_id not in self.stand_ins or len(self.owners) > 1:
            return Q(id=0)
        only = Q(member_id__in=sorted(self.owners)) if self.owners else Q()
        return Q(decision="") & ~Q(member_id=decider_id) & only


async def owners_of(*, organisation_id: int) -> Owners:
    """The organisation's owners (active, through a live organisation-level grant) and its stand-ins."""
    owning = RoleAssignment.filter(
        live(), organisation_id=organisation_id, deployment_id=None, role__key=OWNER, member__is_active=True
    )
    found = await owning.values_list("member_id", "member__email")
    whole = Scope(ScopeLevel.ORGANISATION, organisation_id)
    stand_ins = [h for h in await holders(organisation_id=organisation_id) if reviews_in(actor=h, scope=whole)]
    return Owners(
        owners=frozenset(int(m) for m, _ in found),
        stand_ins=frozenset(h.member_id for h in stand_ins),
        emails={h.member_id: h.email for h in stand_ins} | {int(m): str(e) for m, e in found},
    )


def reviews_in(*, actor: Actor, scope: Scope) -> bool:
    """Does the actor hold *review access* in the scope (an organisation-level grant covers its deployments)?"""
    return access.has_permission(actor, REVIEW, scope)


def may_decide(
    *, actor: Actor, member_id: int, reviewer_id: int | None, scope: Scope, overdue: Owners | None = None
) -> bool:
    """May the actor decide an item about this member's grant in this scope (assigned to reviewer_id, or None; in an
    overdue review, overdue says who decides instead)?"""
    if actor.member_id == member_id or not reviews_in(actor=actor, scope=scope):
        return False
    if overdue is not None:
        return overdue.decide(member_id=member_id, decider_id=actor.member_id)
    return reviewer_id is None or reviewer_id == actor.member_id


async def assign(*, grants: list[RoleAssignment]) -> dict[int, int | None]:
    """Each grant's reviewer (by grant id): its sponsor when the sponsor may review it, else None (unassigned)."""
    sponsors: dict[int, Actor | None] = {}
    for sponsor_id in sorted({g.sponsor_id for g in grants if g.sponsor_id is not None}):
        sponsors[sponsor_id] = await _actor(sponsor_id)
    chosen: dict[int, int | None] = {}
    for grant in grants:
        sponsor = sponsors.get(grant.sponsor_id or 0)
        fits = (
            sponsor is not None
            and sponsor.member_id != grant.member_id
            and reviews_in(actor=sponsor, scope=Scope.of(grant))
        )
        chosen[grant.id] = grant.sponsor_id if fits else None
    return chosen


async def holders(*, organisation_id: int) -> list[Actor]:
    """The active members holding *review access* somewhere in the organisation through its own grants (not the
    platform's staff), each with their grants there: who reminders and the deadline's list go to."""
    rows = (
        await RoleAssignment.filter(live(), organisation_id=organisation_id, member__is_active=True)
        .select_related("role", "member")
        .order_by("member_id", "id")
    )
    by_member: dict[int, list[RoleAssignment]] = {}
    for row in rows:
        if REVIEW.value in row.role.permissions:
            by_member.setdefault(row.member_id, []).append(row)
    return [
        Actor(
            mine[0].member_id,
            mine[0].member.email,
            mine[0].member.full_name,
            tuple(Grant(RoleInfo.of(a.role), Scope.of(a), a.ends_at) for a in mine),
        )
        for mine in by_member.values()
    ]


async def review_deployments(*, actor: Actor, organisation_id: int) -> list[int]:
    """The organisation's deployments where the actor holds *review access* (all of them from the organisation)."""
    ids: list[int] = await Deployment.filter(organisation_id=organisation_id).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    return [d for d in ids if reviews_in(actor=actor, scope=Scope(ScopeLevel.DEPLOYMENT, organisation_id, int(d)))]


async def visible_items(*, actor: Actor, campaign_scope: Scope) -> Q:
    """Which items of a campaign in that scope the actor may see: all of them with *review access* there; else those
    in the deployments where they hold it and those assigned to them."""
    if reviews_in(actor=actor, scope=campaign_scope):
        return Q()
    assert campaign_scope.organisation_id is not None
    deployments = await review_deployments(actor=actor, organisation_id=campaign_scope.organisation_id)
    if campaign_scope.level is ScopeLevel.DEPLOYMENT or not deployments:
        return Q(reviewer_id=actor.member_id)
    return Q(reviewer_id=actor.member_id) | Q(assignment__deployment_id__in=deployments)


def decidable(*, actor: Actor, organisation_id: int, deployments: list[int]) -> Q:
    """The open items the actor may decide ("mine"), given the deployments where they hold *review access*."""
    at_organisation = reviews_in(actor=actor, scope=Scope(ScopeLevel.ORGANISATION, organisation_id))
    unassigned = Q(reviewer_id=None) & (Q() if at_organisation else Q(assignment__deployment_id__in=deployments))
    anyone = Q(reviewer_id=actor.member_id) | unassigned if at_organisation or deployments else Q(reviewer_id=0)
    return Q(decision="") & ~Q(member_id=actor.member_id) & anyone


async def _actor(member_id: int) -> Actor | None:
    member = await StaffMember.get_or_none(id=member_id, is_active=True)
    if member is None:
        return None
    return await access.load_actor(member_id=member.id, email=member.email, full_name=member.full_name)
