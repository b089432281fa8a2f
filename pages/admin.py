"""Admin Portal: Organisations and Deployments tabs, each row with an Invite staff pop-out."""

from typing import Any

from fastapi import Request
from nicegui import ui

from components.frame import frame
from components.invite_dialog import RoleChoice, open_invite_dialog
from components.row_menu import add_row_menu
from components.session import PageSession
from services import access, invitations, organisations, roles
from services.access import Actor
from services.invitations import SendResult

ORG_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Organisation", "field": "name", "align": "left", "sortable": True},
    {"name": "created", "label": "Created", "field": "created", "align": "left", "sortable": True},
    {"name": "actions", "label": "", "field": "id"},
]
DEP_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Deployment", "field": "name", "align": "left", "sortable": True},
    {"name": "organisation", "label": "Organisation", "field": "organisation", "align": "left", "sortable": True},
    {"name": "created", "label": "Created", "field": "created", "align": "left", "sortable": True},
    {"name": "actions", "label": "", "field": "id"},
]


def create() -> None:
    """Register /admin."""

    @ui.page("/admin")
    async def admin_page(request: Request) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Admin Portal", actor, session_token=session.token):
            if not access.is_admin_portal_user(actor):
                ui.label("The Admin Portal is for platform and organisation administrators.").props('role="alert"')
                return
            await _AdminView(session).build(actor)


class _AdminView:
    def __init__(self, session: PageSession) -> None:
        self.session = session

    async def build(self, actor: Actor) -> None:
        with ui.tabs().classes("w-full") as tabs:
            org_tab = ui.tab("Organisations")
            dep_tab = ui.tab("Deployments")
        with ui.tab_panels(tabs, value=org_tab).classes("w-full"):
            with ui.tab_panel(org_tab):
                self._organisation_tools(actor)
                self.org_table = ui.table(columns=ORG_COLUMNS, rows=[], row_key="id").classes("w-full")
                self.org_table.props('aria-label="Organisations"').mark("organisations")
                add_row_menu(self.org_table, [("invite", "Invite staff"), ("new_deployment", "New deployment")])
                self.org_table.on("invite", lambda e: self._invite(e.args, organisation=True))
                self.org_table.on("new_deployment", lambda e: self._new_deployment(e.args))
            with ui.tab_panel(dep_tab):
                self.dep_table = ui.table(columns=DEP_COLUMNS, rows=[], row_key="id").classes("w-full")
                self.dep_table.props('aria-label="Deployments"').mark("deployments")
                add_row_menu(self.dep_table, [("invite", "Invite staff")])
                self.dep_table.on("invite", lambda e: self._invite(e.args, organisation=False))
        await self.reload(actor)

    async def reload(self, actor: Actor | None = None) -> None:
        actor = actor or await self.session.actor()
        if actor is None:
            return
        orgs = await organisations.visible_organisations(actor=actor)
        self.org_table.rows = [
            {"id": o.id, "name": o.name, "created": o.created_at.strftime("%Y-%m-%d")} for o in orgs if not o.archived
        ]
        deps = await organisations.visible_deployments(actor=actor)
        self.dep_table.rows = [
            {
                "id": d.id,
                "name": d.name,
                "organisation": d.organisation_name,
                "created": d.created_at.strftime("%Y-%m-%d"),
            }
            for d in deps
        ]

    def _organisation_tools(self, actor: Actor) -> None:
        if not access.has_permission(actor, access.Permission.CREATE_ORGANISATION, access.PLATFORM_SCOPE):
            return
        with ui.row().classes("items-end gap-2"):
            name = ui.input("New organisation name").props("outlined dense")

            async def create_org() -> None:
                done = await self.session.run(
                    lambda a: organisations.create_organisation(actor=a, name=name.value or ""),
                    success="Organisation created.",
                )
                if done:
                    name.value = ""
                    await self.reload()

            name.on("keydown.enter", create_org)
            ui.button("Create organisation", on_click=create_org).props("no-caps")

    def _new_deployment(self, row: dict[str, Any]) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"New deployment in {row['name']}").classes("text-h6")
            name = ui.input("Deployment name").props("outlined dense autofocus")

            async def create_dep() -> None:
                done = await self.session.run(
                    lambda a: organisations.create_deployment(
                        actor=a, organisation_id=int(row["id"]), name=name.value or ""
                    ),
                    success="Deployment created.",
                )
                if done:
                    dialog.close()
                    await self.reload()

            name.on("keydown.enter", create_dep)
            with ui.row():
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Create deployment", on_click=create_dep).props("no-caps")
        dialog.open()

    async def _invite(self, row: dict[str, Any], *, organisation: bool) -> None:
        actor = await self.session.actor()
        if actor is None:
            return
        target = {"organisation_id": int(row["id"])} if organisation else {"deployment_id": int(row["id"])}
        scope = await access.scope_of(**target)
        choices = [RoleChoice(r.id, r.name) for r in await roles.grantable(actor=actor, scope=scope)]

        async def send(addresses: list[str], role_id: int, hours: int) -> SendResult | None:
            result = await self.session.run(
                lambda a: invitations.send(
                    actor=a, addresses=addresses, role_id=role_id, lifetime_hours=hours, **target
                )
            )
            if result is not None:
                await self.reload()
            return result

        where = row["name"] if organisation else f"{row['name']} ({row['organisation']})"
        open_invite_dialog(title=f"Invite staff to {where}", roles=choices, on_send=send)
