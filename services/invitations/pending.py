"""The pending-invitations list: paged, searchable, sortable, limited to what the actor may manage."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypedDict, Unpack

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import ApprovalState, DeliveryState, Deployment, Invitation, InvitationState, ScopeLevel
from services.access import service as access
from services.access.service import Actor, Scope
from services.invitations.pending_sql import SEARCH_COUNT_CAP, Key, Rows
from services.organisations import naming
from services.platform import sql as sql_dialect
from services.platform import text
from services.platform.clock import now

SORTS = {"email": "email", "expires": "expires_at", "last_sent": "last_sent_at", "created": "created_at"}


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
    reminded_at: datetime | None  # when its reminder was queued (services/invitations/reminders.py); None: not yet
    awaiting_approval: bool = False  # no email yet: a second person must approve it (services/approvals)
    changes_from: str = ""  # a role change (services/approvals/role_changes.py): the role the member holds until then


@dataclass(frozen=True)
class PendingPage:
    rows: list[PendingRow]
    total: int
    page: int
    page_size: int
    capped: bool = False  # a search matching more than SEARCH_COUNT_CAP: total is the cap, and more match


@dataclass(frozen=True)
class Audience:
    """What one viewer may see of an organisation's pending list, as visible_to decided it for them."""

    organisation_id: int
    deployment_ids: tuple[int, ...] | None  # None: the whole organisation


async def visible_to(actor: Actor, organisation_id: int) -> Audience:
    """The permission check of the list: refused unless the actor manages some of the organisation."""
    visible = await _visible_deployments(actor, organisation_id)
    return Audience(organisation_id, None if visible is None else tuple(visible))


class Query(TypedDict, total=False):
    """Which page of the list: search, sort and the page window (keyset hints after/before)."""

    search: str
    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None
    before: Key | None


async def list_pending(*, actor: Actor, organisation_id: int, **query: Unpack[Query]) -> PendingPage:
    """One page of pending invitations (expired ones included and marked) the actor may manage.

    Next/previous pages come by keyset (after/before the neighbouring page's edge key), the last page from
    the end; only a jump into the middle of a long list falls back to OFFSET.
    """
    return await read_page(await visible_to(actor, organisation_id), **query)


async def read_page(audience: Audience, **query: Unpack[Query]) -> PendingPage:
    """list_pending for an audience visible_to gave: pages that share one (components/live.py) read once."""
    visible = None if audience.deployment_ids is None else list(audience.deployment_ids)
    window = _Window(
        query.get("sort", "created"),
        query.get("descending", True),
        query.get("page", 1),
        query.get("page_size", 25),
        query.get("after"),
        query.get("before"),
    )
    return await _read(audience.organisation_id, visible, text.search_term(query.get("search", "")), window)


class _Window(NamedTuple):
    """Which page: its sort, and where it is (a page number, or keyset hints after/before)."""

    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None
    before: Key | None


async def _read(organisation_id: int, visible: list[int] | None, term: str, window: _Window) -> PendingPage:
    if term and sql_dialect.is_postgres(Invitation._meta.db):
        # The LIKE pattern is a bound value: PostgreSQL's generic plan (after five runs of a prepared statement)
        # cannot see it and walks the organisation instead of reading the trigram index (6 ms became 110 ms for one
        # address among 100,000 pending); SET LOCAL keeps this transaction's plans custom, the pattern in view.
        async with in_transaction() as transaction:
            await transaction.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
            return await _paged(Rows(transaction, organisation_id, visible, term), window)
    return await _paged(Rows(Invitation._meta.db, organisation_id, visible, term), window)


async def _paged(rows_of: Rows, window: _Window) -> PendingPage:
    sort, descending, page, page_size, after, before = window
    total = await rows_of.count()
    capped = bool(rows_of.term) and total > SEARCH_COUNT_CAP  # the list's own total is kept exact by triggers
    total = SEARCH_COUNT_CAP if capped else total
    size = text.page_size(page_size)
    last_page = max(1, -(-total // size))
    page = min(max(1, page), last_page)
    column = SORTS.get(sort, "created_at")
    forward = not descending
    from_the_end = page == last_page and page > 1 and after is None and not capped  # a capped list has no end
    if before is not None or from_the_end:
        limit = size if before is not None else total - (last_page - 1) * size
        rows = list(reversed(await rows_of.page(column, not forward, before, limit)))
    else:
        rows = await rows_of.page(column, forward, after, size, offset=0 if after is not None else (page - 1) * size)
    at = now()
    return PendingPage([_row(values, at) for values in rows], total, page, size, capped)


def edge_key(row: PendingRow, sort: str) -> Key:
    """The keyset key of a row under a sort, for the next or previous page request."""
    value = {"email": row.email, "expires": row.expires_at, "last_sent": row.last_sent_at}.get(sort, row.created_at)
    return (value.isoformat() if isinstance(value, datetime) else str(value), row.id)


async def _visible_deployments(actor: Actor, organisation_id: int) -> list[int] | None:
    """None for organisation-wide managers (everything); else the deployments they manage; else refused."""
    if access.can_manage_staff(actor, Scope(ScopeLevel.ORGANISATION, organisation_id)):
        return None
    connection = Deployment._meta.db  # by hand: building the ORM query costs more than running it (every page)
    sql = sql_dialect.numbered(connection, "SELECT id FROM deployment WHERE organisation_id = ?")
    all_ids = [int(row[0]) for row in (await connection.execute_query(sql, [organisation_id]))[1]]
    deployment_ids = [
        dep_id
        for dep_id in all_ids
        if access.can_manage_staff(actor, Scope(ScopeLevel.DEPLOYMENT, organisation_id, dep_id))
    ]
    if not deployment_ids:
        access.require(False, "You may not see the invitations of this organisation.")
    return deployment_ids


async def visibility_filter(actor: Actor, organisation_id: int) -> Q:
    """All of the organisation for organisation-wide managers; else only deployments they manage; else nothing."""
    deployment_ids = await _visible_deployments(actor, organisation_id)
    return Q() if deployment_ids is None else Q(deployment_id__in=deployment_ids)


def _row(values: tuple[Any, ...], at: datetime) -> PendingRow:
    (row_id, created_at, email, role_name, deployment_id, deployment_name, organisation_name, inviter_id, inviter,
     last_sent_at, expires_at, delivery_state, delivery_error, send_count, reminded_at, approval, changes_from,
     ) = values  # fmt: skip
    scope_name = naming.place_name(
        organisation=organisation_name or "", deployment=deployment_name if deployment_id is not None else None
    )
    return PendingRow(
        id=row_id,
        created_at=created_at,
        email=email,
        role_name=role_name,
        scope_name=scope_name,
        invited_by=inviter if inviter_id is not None else "Gatehouse",
        last_sent_at=last_sent_at,
        expires_at=expires_at,
        expired=expires_at <= at,
        delivery_state=DeliveryState(delivery_state).value,
        delivery_error=delivery_error,
        send_count=send_count,
        reminded_at=reminded_at,
        awaiting_approval=approval == ApprovalState.AWAITING,
        changes_from=changes_from or "",
    )


async def expired_ids(*, actor: Actor, organisation_id: int) -> list[int]:
    """The pending invitations past their expiry that the actor may manage (for *Resend all expired*)."""
    query = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, expires_at__lte=now())
    ids: list[int] = await query.filter(await visibility_filter(actor, organisation_id)).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    return ids
