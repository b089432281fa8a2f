"""The Admin Portal's lists: organisations and deployments with their counts, paged on the server."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import Deployment, Invitation, InvitationState, Organisation, RoleAssignment
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor
from services.platform import text

ORG_SORTS = {"name": "name", "created": "created_at", "archived": "archived_at"}
DEP_SORTS = {"name": "name", "organisation": "organisation__name", "created": "created_at"}
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    deployments: int
    staff: int
    pending: int
    created_at: datetime
    archived: bool


@dataclass(frozen=True)
class DeploymentRow:
    id: int
    name: str
    organisation_id: int
    organisation: str
    staff: int
    pending: int
    created_at: datetime


async def organisations_page(
    *,
    actor: Actor,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
    include_archived: bool = False,
) -> tuple[list[OrganisationRow], int]:
    """One page of the organisations the actor has Admin Portal authority over, with counts."""
    query = Organisation.filter(reach_filter(actor, "id"))
    if not include_archived:
        query = query.filter(archived_at__isnull=True)
    if term := text.search_term(search, limit=120):
        query = query.filter(name__icontains=term)
    total = await query.count()
    column = ORG_SORTS.get(sort, "name")
    orgs = await _page(query, column, descending, page, page_size)
    ids = [org.id for org in orgs]
    deployments = await _counts(Deployment.filter(organisation_id__in=ids), "organisation_id", "id")
    staff = await _counts(RoleAssignment.filter(live(), organisation_id__in=ids), "organisation_id", "member_id")
    pending = await _counts(_pending().filter(organisation_id__in=ids), "organisation_id", "id")
    rows = [
        OrganisationRow(
            o.id,
            o.name,
            deployments.get(o.id, 0),
            staff.get(o.id, 0),
            pending.get(o.id, 0),
            o.created_at,
            o.archived_at is not None,
        )
        for o in orgs
    ]
    return rows, total


async def deployments_page(
    *,
    actor: Actor,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[DeploymentRow], int]:
    """One page of the deployments of active organisations the actor has authority over, with counts."""
    query = Deployment.filter(reach_filter(actor, "organisation_id"), organisation__archived_at__isnull=True)
    term = text.search_term(search, limit=120)
    if term:
        query = query.filter(Q(name__icontains=term) | Q(organisation__name__icontains=term))
    total = await query.count()
    column = DEP_SORTS.get(sort, "name")
    deps = await _page(query.select_related("organisation"), column, descending, page, page_size)
    ids = [dep.id for dep in deps]
    staff = await _counts(RoleAssignment.filter(live(), deployment_id__in=ids), "deployment_id", "member_id")
    pending = await _counts(_pending().filter(deployment_id__in=ids), "deployment_id", "id")
    rows = [
        DeploymentRow(
            d.id, d.name, d.organisation_id, d.organisation.name, staff.get(d.id, 0), pending.get(d.id, 0), d.created_at
        )
        for d in deps
    ]
    return rows, total


def reach_filter(actor: Actor, column: str) -> Q:
    """Organisations within the actor's Admin Portal reach, as a query filter on the column."""
    reach = access.admin_reach(actor)
    filters: dict[str, list[int]] = {} if reach is None else {f"{column}__in": sorted(reach)}
    return Q(**filters)  # type: ignore[arg-type]


def _pending() -> QuerySet[Invitation]:
    return Invitation.filter(state=InvitationState.PENDING)


async def _page(query: QuerySet[M], column: str, descending: bool, page: int, page_size: int) -> list[M]:
    size = text.page_size(page_size)
    order = [f"-{column}" if descending else column, "-id" if descending else "id"]
    return await query.order_by(*order).offset((max(1, page) - 1) * size).limit(size)


async def _counts(query: QuerySet[Any], group: str, counted: str) -> dict[int, int]:
    distinct = counted != "id"
    rows = await query.annotate(n=Count(counted, distinct=distinct)).group_by(group).values(group, "n")
    return {int(row[group]): int(row["n"]) for row in rows}
