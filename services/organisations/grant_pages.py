"""The grants a staff list shows, a page at a time: its views (SHOWS), search by email or name and sorting (SORTS).
The Care Portal's staff list (staff.staff_page) and the Admin Portal's Platform staff (platform_staff) read through
here."""

from datetime import timedelta

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import RoleAssignment
from services.access.liveness import live
from services.platform import text
from services.platform.clock import now

__all__ = ["ENDING_WITHIN", "SHOWS", "SORTS", "grants_page", "shown_grants"]

SORTS = {
    "name": "member__full_name",
    "email": "member__email",
    "role": "role__name",
    "joined": "created_at",
    "last_login": "member__last_login_at",
}
ENDING_WITHIN = timedelta(days=30)  # the staff list's "Access ending within 30 days"
SHOWS = ("all", "dormant", "ending", "ended")  # the staff list's views: what staff_page's `show` takes


async def grants_page(
    query: QuerySet[RoleAssignment], *, search: str, sort: str, descending: bool, page: int, size: int
) -> tuple[list[RoleAssignment], int]:
    """One page of a staff list's grants, searched by email or name and sorted by a SORTS key; and how many match."""
    if term := text.search_term(search):
        query = query.filter(Q(member__email__icontains=term) | Q(member__full_name__icontains=term))
    column, size = SORTS.get(sort, "member__full_name"), text.page_size(size)
    rows = (
        await query.order_by(f"-{column}" if descending else column, "id")
        .offset((max(1, page) - 1) * size)
        .limit(size)
        .select_related("member", "role", "deployment", "organisation", "sponsor")
    )
    return rows, await query.count()


def shown_grants(show: str, dormant_after: timedelta) -> Q:
    """The grants a staff list view shows (SHOWS): in force, of dormant members, ending soon, or ended."""
    at = now()
    if show == "ended":
        return ~live(at)
    if show == "ending":
        return live(at) & Q(ends_at__lte=at + ENDING_WITHIN)
    if show == "dormant":
        cutoff = at - dormant_after
        return live(at) & (
            Q(member__last_login_at__lte=cutoff) | Q(member__last_login_at__isnull=True, member__created_at__lte=cutoff)
        )
    return live(at)
