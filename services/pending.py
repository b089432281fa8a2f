"""The pending-invitations list: paged, searchable, sortable, limited to what the actor may manage."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import Deployment, Invitation, InvitationState, RoleAssignment, ScopeLevel
from services import access, text
from services.access import Actor, Scope
from services.clock import now

SORTS = {"email": "email", "expires": "expires_at", "last_sent": "last_sent_at", "created": "created_at"}
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PendingRow:
    id: int
    created_at: datetime
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


Key = tuple[str, int]  # (the sort column's value as text, id): where a page starts or ends


async def list_pending(
    *,
    actor: Actor,
    organisation_id: int,
    search: str = "",
    sort: str = "created",
    descending: bool = True,
    page: int = 1,
    page_size: int = 25,
    after: Key | None = None,
    before: Key | None = None,
) -> PendingPage:
    """One page of pending invitations (expired ones included and marked) the actor may manage.

    Next/previous pages come by keyset (after/before the neighbouring page's edge key), the last page from
    the end; only a jump into the middle of a long list falls back to OFFSET.
    """
    query = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id)
    query = query.filter(await visibility_filter(actor, organisation_id))
    term = text.search_term(search).lower()
    if term:
        query = query.filter(email__contains=term[:320])
    total = await query.count()
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    last_page = max(1, -(-total // size))
    page = min(max(1, page), last_page)
    column = SORTS.get(sort, "created_at")
    forward = not descending
    if before is not None or (page == last_page and page > 1 and after is None):
        query, forward = _from_edge(query, column, before, not forward), not forward
        limit = size if before is not None else total - (last_page - 1) * size
        rows = list(reversed(await _ordered(query, column, forward).limit(limit)))
    else:
        start = _from_edge(query, column, after, forward) if after is not None else query.offset((page - 1) * size)
        rows = await _ordered(start, column, forward).limit(size)
    at = now()
    return PendingPage([_row(invitation, at) for invitation in rows], total, page, size)


def edge_key(row: PendingRow, sort: str) -> Key:
    """The keyset key of a row under a sort, for the next or previous page request."""
    value = {"email": row.email, "expires": row.expires_at, "last_sent": row.last_sent_at}.get(sort, row.created_at)
    return (value.isoformat() if isinstance(value, datetime) else str(value), row.id)


def _from_edge(query: QuerySet[Invitation], column: str, key: Key | None, ascending: bool) -> QuerySet[Invitation]:
    if key is None:
        return query
    raw, key_id = key
    value: object = raw if column == "email" else datetime.fromisoformat(raw)
    op = "gt" if ascending else "lt"
    beyond: dict[str, object] = {f"{column}__{op}": value}
    tied: dict[str, object] = {column: value, f"id__{op}": key_id}
    return query.filter(Q(**beyond) | Q(**tied))  # type: ignore[arg-type]


def _ordered(query: QuerySet[Invitation], column: str, ascending: bool) -> QuerySet[Invitation]:
    ordering = [column, "id"] if ascending else [f"-{column}", "-id"]
    return query.order_by(*ordering).select_related("role", "deployment", "organisation", "invited_by")


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
        created_at=invitation.created_at,
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
        found = RoleAssignment.filter(organisation_id=organisation_id, member__email__in=chunk).filter(visible)
        members.update(str(e) for e in await found.values_list("member__email", flat=True))
        waiting = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, email__in=chunk)
        pending.update(str(e) for e in await waiting.filter(visible).values_list("email", flat=True))
    return members, pending
