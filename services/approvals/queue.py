"""The approvers' queue: an organisation's invitations awaiting approval, as one viewer may see and decide them; and
the inviter's side: their invitations there approved or declined lately, by whom and why."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import ApprovalState, Invitation, InvitationState, RoleAssignment
from services.access.service import Actor, RoleInfo, Scope
from services.approvals import service as approvals
from services.invitations import pending
from services.organisations import naming
from services.platform.clock import now

SHOWN = 500  # a queue longer than this is worked from the top; the page says how many more wait
RECENT_DAYS = 7  # how long an inviter sees the outcome of their invitations in *Recently decided*
RECENT_SHOWN = 50


@dataclass(frozen=True)
class Waiting:
    id: int
    email: str
    role_name: str
    scope_name: str
    invited_by: str
    invited_at: datetime
    ends_at: datetime | None
    may_decide: bool  # the viewer may approve or decline it (not their own, nor one to themselves)
    changes_from: str = ""  # a role change (services/approvals/role_changes.py): the role the member holds until then


async def waiting(*, actor: Actor, organisation_id: int) -> tuple[list[Waiting], int]:
    """The oldest invitations awaiting approval that the actor may see (refused unless they manage some staff
    there), and how many wait in all."""
    visible = await pending.visibility_filter(actor, organisation_id)
    query = Invitation.filter(
        visible, organisation_id=organisation_id, state=InvitationState.PENDING, approval=ApprovalState.AWAITING
    )
    total = await query.count()
    rows = (
        await query.order_by("created_at", "id")
        .limit(SHOWN)
        .select_related("role", "deployment", "organisation", "invited_by")
    )
    changes = [row.replaces_grant_id for row in rows if row.replaces_grant_id is not None]
    held = dict(await RoleAssignment.filter(id__in=changes).values_list("id", "role__name")) if changes else {}
    return [_waiting(actor, row, str(held.get(row.replaces_grant_id, ""))) for row in rows], total


def _waiting(actor: Actor, row: Invitation, changes_from: str) -> Waiting:
    role, scope = RoleInfo.of(row.role), Scope.of(row)
    organisation = row.organisation.name if row.organisation else None
    return Waiting(
        id=row.id,
        email=row.email,
        role_name=role.name,
        scope_name=naming.place_name(
            organisation=organisation, deployment=row.deployment.name if row.deployment else None
        ),
        invited_by=row.invited_by.full_name if row.invited_by else "Gatehouse",
        invited_at=row.created_at,
        ends_at=row.ends_at,
        may_decide=approvals.may_approve(
            actor, role=role, scope=scope, invited_by_id=row.invited_by_id, email=row.email
        ),
        changes_from=changes_from,
    )


@dataclass(frozen=True)
class Decided:
    id: int
    email: str
    role_name: str
    scope_name: str
    approved: bool  # else declined
    decided_by: str
    reason: str  # the decline's reason ("" for an approval)
    decided_at: datetime


async def recently_decided(*, actor: Actor, organisation_id: int) -> list[Decided]:
    """The actor's own invitations in the organisation approved or declined in the last RECENT_DAYS, newest first
    (refused unless they manage some staff there, as the queue)."""
    visible = await pending.visibility_filter(actor, organisation_id)
    rows = (
        await Invitation.filter(
            visible,
            invited_by_id=actor.member_id,
            approval_decided_at__gte=now() - timedelta(days=RECENT_DAYS),
            organisation_id=organisation_id,
            approval__in=(ApprovalState.APPROVED, ApprovalState.DECLINED),
        )
        .order_by("-approval_decided_at", "-id")
        .limit(RECENT_SHOWN)
        .select_related("role", "deployment", "organisation", "approved_by")
    )
    return [
        Decided(
            id=row.id,
            email=row.email,
            role_name=row.role.name,
            scope_name=naming.place_name(
                organisation=row.organisation.name if row.organisation else None,
                deployment=row.deployment.name if row.deployment else None,
            ),
            approved=row.approval == ApprovalState.APPROVED,
            decided_by=row.approved_by.full_name or row.approved_by.email
            if row.approved_by
            else "Someone no longer here",
            reason=row.approval_reason,
            decided_at=row.approval_decided_at or row.created_at,
        )
        for row in rows
    ]
