"""The approvers' queue: an organisation's invitations awaiting approval, as one viewer may see and decide them."""

from dataclasses import dataclass
from datetime import datetime

from models import ApprovalState, Invitation, InvitationState, RoleAssignment
from services.access.service import Actor, RoleInfo, Scope
from services.approvals import service as approvals
from services.invitations import pending
from services.organisations import naming

SHOWN = 500  # a queue longer than this is worked from the top; the page says how many more wait


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
