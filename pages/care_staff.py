"""Care Portal view: All staff members, with Change role and Remove from team."""

from typing import Any

from nicegui import ui

from components import dialogs
from components.formatting import day, exact
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from components.viewer_zone import ViewerZone
from services.access import roles
from services.access.service import Scope, ScopeLevel
from services.organisations import staff

COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left", "sortable": True},
    {"name": "email", "label": "Email", "field": "email", "align": "left", "sortable": True},
    {"name": "role", "label": "Role", "field": "role", "align": "left", "sortable": True},
    {"name": "scope", "label": "Scope", "field": "scope", "align": "left"},
    {"name": "joined", "label": "Joined", "field": "joined", "align": "left", "sortable": True},
    {"name": "ends", "label": "Access ends", "field": "ends", "align": "left"},
    {"name": "sponsor", "label": "Sponsor", "field": "sponsor", "align": "left"},
]
ACTIONS: dict[str, Any] = {"name": "actions", "label": "Actions", "field": "id"}
MENU = [
    MenuItem("change_role", "Change role", only_if="manageable"),
    MenuItem("remove", "Remove from team", only_if="manageable"),
]


class StaffView:
    """The organisation's staff, one row per role held, paged on the server."""

    def __init__(self, session: PageSession, organisation_id: int, *, may_manage: bool) -> None:
        """may_manage: may the viewer manage staff somewhere in the organisation (rights.may_invite); each row
        then offers its actions only where the viewer may change that role (StaffRow.manageable)."""
        self.session = session
        self.organisation_id = organisation_id
        self.list = PagedTable(
            columns=[*COLUMNS, ACTIONS] if may_manage else COLUMNS,
            fetch=self._fetch,
            label="All staff members",
            sort="name",
            search_label="Search by name or email",
        )
        self.list.table.mark("staff")
        self.viewer = ViewerZone(on_known=self.refresh)  # ends are shown in the viewer's time zone
        self.list.table.props["no-data-label"] = (
            "Nobody holds a role here yet. Use Invite staff members in the Manage menu to invite someone."
            if may_manage
            else "Nobody holds a role here yet."
        )
        if may_manage:
            add_row_menu(self.list.table, MENU)
        self.list.table.on("change_role", lambda e: self._change_role(e.args))
        self.list.table.on("remove", lambda e: self._remove(e.args))

    async def refresh(self) -> None:
        await self.list.refresh()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(
            lambda a: staff.staff_page(
                actor=a,
                organisation_id=self.organisation_id,
                search=request.search,
                sort=request.sort,
                descending=request.descending,
                page=request.page,
                page_size=request.page_size,
            )
        )
        if found is None:
            return None
        rows, total = found
        return Fetched(
            [
                {
                    "id": r.assignment_id,
                    "name": r.name,
                    "email": r.email,
                    "role": r.role_name,
                    "role_id": r.role_id,
                    "scope": r.scope_name,
                    "deployment_id": r.deployment_id,
                    "joined": day(r.joined),
                    "ends": exact(r.ends_at, self.viewer.zone) if r.ends_at else "Does not end",
                    "sponsor": r.sponsor_name,
                    "manageable": r.manageable,
                }
                for r in rows
            ],
            total,
        )

    async def _change_role(self, row: dict[str, Any]) -> None:
        actor = await self.session.actor()
        if actor is None:
            return
        deployment_id = row.get("deployment_id")
        scope = (
            Scope(ScopeLevel.DEPLOYMENT, self.organisation_id, int(deployment_id))
            if deployment_id
            else Scope(ScopeLevel.ORGANISATION, self.organisation_id)
        )
        options = {r.id: r.name for r in await roles.grantable(actor=actor, scope=scope) if r.id != row.get("role_id")}
        with dialogs.disposable(f"Change the role of {row['name']}") as dialog, ui.card().classes("w-96"):
            ui.label(f"Change the role of {row['name']}").classes("text-h6").props('role="heading" aria-level="2"')
            ui.label(f"Now: {row['role']} ({row['scope']})")
            choice = ui.select(options, label="New role").props("outlined dense").classes("w-full")
            if not options:
                ui.label("You may not hand out another role here.").classes("text-negative")

            async def save() -> None:
                if choice.value is None:
                    return
                done = await self.session.run(
                    lambda a: staff.change_role(actor=a, assignment_id=int(row["id"]), role_id=int(choice.value)),
                    success="Role changed.",
                )
                if done:
                    dialog.close()
                    await self.refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("no-caps color=primary").bind_enabled_from(
                    choice, "value", backward=lambda v: v is not None
                )
        dialog.open()

    def _remove(self, row: dict[str, Any]) -> None:
        async def remove() -> bool:
            await self.session.run(
                lambda a: staff.remove_from_team(actor=a, assignment_id=int(row["id"])),
                success=f"{row['email']} no longer holds {row['role']} there.",
            )
            await self.refresh()
            return True

        dialogs.confirm(
            title=f"Remove {row['name']} from the team?",
            message=f"{row['email']} loses the role {row['role']} ({row['scope']}). "
            "Invitations they sent there that are still pending are deleted.",
            action="Remove from team",
            on_confirm=remove,
        )
