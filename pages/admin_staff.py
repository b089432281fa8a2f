"""Admin Portal, Platform staff tab (Platform Support and Super Admin): the platform's grants with their end,
sponsor, last log-in and state, filtered as the Care Portal's staff list; Change end of access, Remove, Suspend
and Restore from each row (the Care Portal's dialogs: pages/care_staff.StaffView); and any account, found by
email, to suspend or restore it."""

from typing import Any, ClassVar

from nicegui import ui

from components.formatting import day
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from pages.care_staff import StaffView
from services.access.service import Actor
from services.organisations import grant_pages, platform_staff, staff

FILTERS = {
    "all": "All",
    "ending": f"Ending in {grant_pages.ENDING_WITHIN.days} days",
    "ended": "Ended",
    "suspended": "Suspended",
}
EMPTY = {
    "all": "Nobody holds a platform role.",
    "ending": f"No platform access ends within the next {grant_pages.ENDING_WITHIN.days} days.",
    "ended": "No platform access has ended yet.",
    "suspended": "No account holding a platform role is suspended.",
}
COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left", "sortable": True},
    {"name": "email", "label": "Email", "field": "email", "align": "left", "sortable": True},
    {"name": "role", "label": "Role", "field": "role", "align": "left", "sortable": True},
    {"name": "sponsor", "label": "Sponsor", "field": "sponsor", "align": "left"},
    {"name": "ends", "label": "Access ends", "field": "ends", "align": "left"},
    {"name": "last_login", "label": "Last log-in", "field": "last_login", "align": "left", "sortable": True},
    {"name": "state", "label": "State", "field": "state", "align": "left"},
]
MENU = [
    MenuItem("set_end", "Change end of access", only_if="may_set_end"),
    MenuItem("remove", "Remove", only_if="manageable"),
    MenuItem("suspend", "Suspend account", only_if="may_suspend"),
    MenuItem("restore", "Restore account", only_if="may_restore"),
]
ACCOUNT_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "email", "label": "Email", "field": "email", "align": "left"},
    {"name": "state", "label": "State", "field": "state", "align": "left"},
    {"name": "roles", "label": "Roles held", "field": "roles"},
    {"name": "last_login", "label": "Last log-in", "field": "last_login", "align": "left"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
ACCOUNT_MENU = [MENU[2], MENU[3]]
TYPE_TO_FIND = "Type part of an email address to find any account on the platform."


class PlatformStaffView(StaffView):
    """The platform's grants, one row per grant, and the account finder; refresh() reads both again."""

    columns = COLUMNS
    menu = MENU
    label = "Platform staff"
    titles: ClassVar[dict[str, str]] = {}

    def __init__(self, session: PageSession, *, show: str = "all") -> None:
        show = show if show in platform_staff.SHOWS else "all"
        self.filter = ui.select(FILTERS, label="Show", value=show, on_change=self._switch)
        self.filter.props("outlined dense").style("width: 16rem; max-width: 100%")
        super().__init__(session, 0, may_manage=True, show=show)  # no organisation: the platform's own grants
        self.list.table.mark("platform-staff")
        self.list.table.props["no-data-label"] = EMPTY[show]
        ui.label("Find any account").classes("text-h6 q-mt-lg").props('role="heading" aria-level="2"')
        ui.label(
            "Suspend or restore any account on the platform, whatever it holds and wherever: type part of its email."
        ).classes("text-body2")
        self.accounts = PagedTable(
            columns=ACCOUNT_COLUMNS,
            fetch=self._fetch_accounts,
            label="Accounts",
            sort="email",
            page_size=10,
            search_label="Find an account by email",
        )
        self.accounts.table.mark("accounts")
        self.accounts.table.props["no-data-label"] = TYPE_TO_FIND
        add_row_menu(self.accounts.table, ACCOUNT_MENU)
        self.accounts.table.on("suspend", lambda e: self._suspend(e.args))
        self.accounts.table.on("restore", lambda e: self._restore(e.args))

    async def refresh(self) -> None:
        await self.list.refresh()
        await self.accounts.refresh()

    async def _switch(self, event: Any) -> None:
        self.show = str(event.value) if event.value in platform_staff.SHOWS else "all"
        self.list.table.props["no-data-label"] = EMPTY[self.show]
        await self.list.refresh(page=1)

    async def _read(self, actor: Actor, request: PageRequest) -> tuple[list[staff.StaffRow], int]:
        return await platform_staff.platform_staff_page(
            actor=actor,
            search=request.search,
            sort=request.sort,
            descending=request.descending,
            page=request.page,
            page_size=request.page_size,
            show=self.show,
        )

    def _row(self, r: staff.StaffRow) -> dict[str, Any]:
        """The Care Portal's row, with the state in a column of its own rather than beside the name."""
        return {
            **super()._row(r),
            "name": r.name,
            "last_login": day(r.last_login) if r.last_login else "Never",
            "state": _state(suspended=r.suspended, ended=r.ended_at is not None, dormant=r.dormant),
        }

    async def _fetch_accounts(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(
            lambda a: platform_staff.accounts_page(
                actor=a, search=request.search, page=request.page, page_size=request.page_size
            )
        )
        if found is None:
            return None
        rows, total = found
        return Fetched(
            [
                {
                    "id": r.member_id,
                    "member_id": r.member_id,
                    "name": r.name or r.email,
                    "email": r.email,
                    "state": "Suspended" if r.suspended else "Active",
                    "roles": r.roles,
                    "last_login": day(r.last_login) if r.last_login else "Never",
                    "may_suspend": r.suspendable and not r.suspended,
                    "may_restore": r.suspendable and r.suspended,
                }
                for r in rows
            ],
            total,
        )


def _state(*, suspended: bool, ended: bool, dormant: bool) -> str:
    if suspended:
        return "Suspended"
    if ended:
        return "Ended"
    return "Dormant" if dormant else "Active"
