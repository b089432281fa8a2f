"""The pending-invitations list: paged, searchable, sortable, limited to what the actor may manage."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models import Deployment, Invitation, InvitationState, RoleAssignment, ScopeLevel
from services import access
from services.access import Actor, Scope
from services.clock import now

SORTS = {"email": "email", "expires": "expires_at", "last_sent": "last_sent_at", "created": "created_at"}
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PendingRow:
    id: int
    email: str
    role_name: str
    scope_name: str
    invited_by: str
    last_sent_at: datetime
    expires_at: datetime
    expired: bool
    delivery_state: str
    delivery_error: str
    send_count: int


@dataclass(frozen=True)
class PendingPage:
    rows: list[PendingRow]
    total: int
    page: int
    page_size: int


async def list_pending(
    *,
    actor: Actor,
    organisation_id: int,
    search: str = "",
    sort: str = "created",
    descending: bool = True,
    page: int = 1,
    page_size: int = 25,
) -> PendingPage:
    """One page of pending invitations (expired ones included and marked) the actor may manage."""
    query = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id)
    query = query.filter(await visibility_filter(actor, organisation_id))
    term = search.strip().lower()
    if term:
        query = query.filter(email__contains=term[:320])
    total = await query.count()
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, page)
    column = SORTS.get(sort, "created_at")
    ordering = [f"-{column}" if descending else column, "-id" if descending else "id"]
    rows = (
        await query.order_by(*ordering)
        .offset((page - 1) * page_size)
        .limit(page_size)
        .select_related("role", "deployment", "organisation", "invited_by")
    )
    at = now()
    return PendingPage([_row(invitation, at) for invitation in rows], total, page, page_size)


async def visibility_filter(actor: Actor, organisation_id: int) -> Q:
    """All of the organisation for organisation-wide managers; else only deployments they manage; else nothing."""
    if access.can_manage_staff(actor, Scope(ScopeLevel.ORGANISATION, organisation_id)):
        return Q()
    all_ids: list[int] = await Deployment.filter(organisation_id=organisation_id).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    deployment_ids = [
        dep_id
        for dep_id in all_ids
        if access.can_manage_staff(actor, Scope(ScopeLevel.DEPLOYMENT, organisation_id, dep_id))
    ]
    if not deployment_ids:
        access.require(False, "You may not see the invitations of this organisation.")
    return Q(deployment_id__in=deployment_ids)


def _row(invitation: Invitation, at: datetime) -> PendingRow:
    if invitation.deployment is not None:
        scope_name = invitation.deployment.name
    else:
        organisation_name = invitation.organisation.name if invitation.organisation else ""
        scope_name = f"{organisation_name} (whole organisation)"
    inviter = invitation.invited_by
    return PendingRow(
        id=invitation.id,
        email=invitation.email,
        role_name=invitation.role.name,
        scope_name=scope_name,
        invited_by=inviter.full_name if inviter else "Gatehouse",
        last_sent_at=invitation.last_sent_at,
        expires_at=invitation.expires_at,
        expired=invitation.expires_at <= at,
        delivery_state=invitation.delivery_state.value,
        delivery_error=invitation.delivery_error,
        send_count=invitation.send_count,
    )


async def expired_ids(*, actor: Actor, organisation_id: int) -> list[int]:
    """The pending invitations past their expiry that the actor may manage (for *Resend all expired*)."""
    query = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, expires_at__lte=now())
    ids: list[int] = await query.filter(await visibility_filter(actor, organisation_id)).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    return ids


async def already_known(*, actor: Actor, organisation_id: int, addresses: list[str]) -> tuple[set[str], set[str]]:
    """Which addresses already belong to staff of the organisation, and which have a pending invitation there."""
    visible = await visibility_filter(actor, organisation_id)
    members: set[str] = set()
    pending: set[str] = set()
    for start in range(0, len(addresses), 500):
        chunk = addresses[start : start + 500]
        found = RoleAssignment.filter(organisation_id=organisation_id, member__email__in=chunk)
        members.update(str(e) for e in await found.values_list("member__email", flat=True))
        waiting = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, email__in=chunk)
        pending.update(str(e) for e in await waiting.filter(visible).values_list("email", flat=True))
    return members, pending
