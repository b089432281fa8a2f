"""The platform's own staff (grants at platform scope: Super Admin, Platform Support, Account Manager) and every
account on the platform, for the Admin Portal's Platform staff tab: Platform Support and Super Admin only.

The rows are the Care Portal's (staff.StaffRow, staff.staff_row): what a viewer may do to one is decided as there
(Change end of access: grant_ends; Remove: staff.remove_from_team; Suspend and Restore: suspension).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q

from models import RoleAssignment, StaffMember
from services.access import rights
from services.access import service as access
from services.access.liveness import live
from services.access.service import PLATFORM_SCOPE, Actor, ScopeLevel
from services.audit import service as audit
from services.organisations import grant_pages, staff
from services.platform import text

SHOWS = ("all", "ending", "ended", "suspended")  # the tab's filters: what platform_staff_page's `show` takes
DORMANT_AFTER = timedelta(days=90)  # the platform has no settings of its own: an organisation's default dormant_days
REFUSED = "Only Platform Support and Super Admins may see the platform's staff and look up accounts."


@dataclass(frozen=True)
class AccountRow:
    member_id: int
    name: str
    email: str
    suspended: bool
    roles: int  # grants in force, anywhere
    last_login: datetime | None
    suspendable: bool  # may the actor suspend or restore it (rights.may_suspend)


async def platform_staff_page(
    *,
    actor: Actor,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
    show: str = "all",
) -> tuple[list[staff.StaffRow], int]:
    """One page of the grants held at the platform, one row per grant: in force ("all"), ending within
    grant_pages.ENDING_WITHIN ("ending"), ended ("ended"), or in force for a suspended account ("suspended")."""
    await _require(actor)
    if show == "suspended":
        shown = live() & Q(member__is_active=False)
    else:
        shown = grant_pages.shown_grants(show if show in SHOWS else "all", DORMANT_AFTER)
    query = RoleAssignment.filter(shown, level=ScopeLevel.PLATFORM.value)
    rows, total = await grant_pages.grants_page(
        query, search=search, sort=sort, descending=descending, page=page, size=page_size
    )
    ranks = await staff.platform_ranks({a.member_id for a in rows})
    return [staff.staff_row(a, actor, ranks, DORMANT_AFTER) for a in rows], total


async def accounts_page(
    *, actor: Actor, search: str, page: int = 1, page_size: int = 10
) -> tuple[list[AccountRow], int]:
    """The accounts anywhere on the platform whose email or name holds the search, to suspend or restore them;
    none until something is typed."""
    await _require(actor)
    term = text.search_term(search)
    if not term:
        return [], 0
    query = StaffMember.filter(Q(email__icontains=term) | Q(full_name__icontains=term))
    total = await query.count()
    size = text.page_size(page_size)
    members = await query.order_by("email", "id").offset((max(1, page) - 1) * size).limit(size)
    ids = {m.id for m in members}
    held: list[int] = await RoleAssignment.filter(live(), member_id__in=ids).values_list(  # type: ignore[assignment]
        "member_id", flat=True
    )
    ranks = await staff.platform_ranks(ids)
    return [
        AccountRow(
            m.id,
            m.full_name,
            m.email,
            not m.is_active,
            held.count(m.id),
            m.last_login_at,
            rights.may_suspend(actor=actor, member_id=m.id, member_platform_rank=ranks.get(m.id, 0)),
        )
        for m in members
    ], total


async def _require(actor: Actor) -> None:
    if rights.may_see_platform_staff(actor=actor):
        return
    await audit.record(actor=actor, action="list_staff", scope=PLATFORM_SCOPE, outcome="refused")
    access.require(False, REFUSED)
