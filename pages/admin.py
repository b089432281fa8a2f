"""Admin Portal: Organisations and Deployments tabs, each row with an Invite staff pop-out; for Platform Support and
Super Admin, Platform staff (pages/admin_staff.py) and the platform's audit log."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from nicegui import ui

from components import dialogs, live
from components.form_errors import FormErrors
from components.formatting import day
from components.frame import LANGUAGE, frame
from components.invite_launcher import invite_staff
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from pages.admin_staff import PlatformStaffView
from pages.audit import AuditView
from services.access import rights
from services.access import service as access
from services.access.service import Actor
from services.organisations import directory
from services.organisations import service as organisations
from services.organisations.directory import DeploymentRow, OrganisationRow

ORG_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Organisation", "field": "name", "align": "left", "sortable": True},
    {"name": "deployments", "label": "Deployments", "field": "deployments"},
    {"name": "staff", "label": "Staff", "field": "staff"},
    {"name": "pending", "label": "Pending invitations", "field": "pending"},
    {"name": "created", "label": "Created", "field": "created", "align": "left", "sortable": True},
    {"name": "archived", "label": "Archived", "field": "archived_label", "align": "left", "sortable": True},
    {"name": "actions", "label": "Actions", "field": "id"},
]
DEP_COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Deployment", "field": "name", "align": "left", "sortable": True},
    {"name": "organisation", "label": "Organisation", "field": "organisation", "align": "left", "sortable": True},
    {"name": "staff", "label": "Staff", "field": "staff"},
    {"name": "pending", "label": "Pending invitations", "field": "pending"},
    {"name": "created", "label": "Created", "field": "created", "align": "left", "sortable": True},
    {"name": "actions", "label": "Actions", "field": "id"},
]
# Each row offers only what the viewer may do there (its may_* fields, from services/access/rights.py).
ORG_MENU = [
    MenuItem("invite", "Invite staff", only_if="may_invite", unless="archived"),
    MenuItem("new_deployment", "New deployment", only_if="may_add_deployment", unless="archived"),
    MenuItem("rename", "Rename", only_if="may_rename", unless="archived"),
    MenuItem("archive", "Archive", only_if="may_archive", unless="archived"),
    MenuItem("restore", "Restore", only_if="may_restore"),
]
R = TypeVar("R")
NO_ORGANISATIONS = "No organisations to show. Switch on Show archived to see archived ones."
CREATE_ONE = "No organisations yet. Type a name in New organisation name and press Create organisation."
NO_DEPLOYMENTS = "No deployments yet. Use New deployment in an organisation's ⋮ menu on the Organisations tab."
DEP_MENU = [MenuItem("invite", "Invite staff", only_if="may_invite")]


def create() -> None:
    """Register /admin."""

    @ui.page("/admin", language=LANGUAGE)
    async def admin_page(request: Request, tab: str = "", view: str = "all") -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Admin Portal", actor, session_token=session.token):
            if not access.is_admin_portal_user(actor):
                ui.label("The Admin Portal is for platform and organisation administrators.").props('role="alert"')
                return
            await _AdminPortal(session).build(actor, tab=tab, view=view)


class _AdminPortal:
    def __init__(self, session: PageSession) -> None:
        self.session = session
        self.show_archived = False
        self.platform: PlatformStaffView | None = None

    async def build(self, actor: Actor, *, tab: str = "", view: str = "all") -> None:
        """tab "platform": open on Platform staff, filtered by view (the links of end warnings)."""
        platform = rights.may_see_platform_staff(actor=actor)
        if rights.may_invite_admin_staff(actor=actor):
            ui.button("Invite Admin Portal staff", icon="person_add", on_click=self._invite_platform).props("no-caps")
        with ui.tabs().classes("w-full").props('align="left"') as tabs:
            org_tab = ui.tab("Organisations")
            dep_tab = ui.tab("Deployments")
            staff_tab = ui.tab("Platform staff") if platform else None
            audit_tab = ui.tab("Platform audit") if platform else None
        with ui.tab_panels(tabs, value=staff_tab if tab == "platform" and staff_tab else org_tab).classes("w-full"):
            with ui.tab_panel(org_tab):
                self._organisation_tools(actor)
                self.orgs = PagedTable(columns=ORG_COLUMNS, fetch=self._fetch_orgs, label="Organisations", sort="name")
                self.orgs.table.mark("organisations")
                creator = rights.may_create_organisation(actor=actor)
                self.orgs.table.props["no-data-label"] = CREATE_ONE if creator else NO_ORGANISATIONS
                add_row_menu(self.orgs.table, ORG_MENU)
                self.orgs.table.on("invite", lambda e: self._invite(e.args, organisation=True))
                self.orgs.table.on("new_deployment", lambda e: self._new_deployment(e.args))
                self.orgs.table.on("rename", lambda e: self._rename(e.args))
                self.orgs.table.on("archive", lambda e: self._archive(e.args))
                self.orgs.table.on("restore", lambda e: self._restore(e.args))
            with ui.tab_panel(dep_tab):
                self.deps = PagedTable(columns=DEP_COLUMNS, fetch=self._fetch_deps, label="Deployments", sort="name")
                self.deps.table.mark("deployments")
                self.deps.table.props["no-data-label"] = NO_DEPLOYMENTS
                add_row_menu(self.deps.table, DEP_MENU)
                self.deps.table.on("invite", lambda e: self._invite(e.args, organisation=False))
            if staff_tab and audit_tab:
                with ui.tab_panel(staff_tab):
                    self.platform = PlatformStaffView(self.session, show=view)
                with ui.tab_panel(audit_tab):
                    await AuditView(self.session, None).build()
        changes = live.LiveList(organisation_id=None, refresh=self.reload, held=True)
        await self.reload()
        changes.release()

    async def reload(self) -> None:
        await self.orgs.refresh()
        await self.deps.refresh()
        if self.platform is not None:
            await self.platform.refresh()

    async def _fetch_orgs(self, request: PageRequest) -> Fetched | None:
        return await self._fetch(
            lambda a: directory.organisations_page(actor=a, include_archived=self.show_archived, **_paging(request)),
            _org_row,
        )

    async def _fetch_deps(self, request: PageRequest) -> Fetched | None:
        return await self._fetch(lambda a: directory.deployments_page(actor=a, **_paging(request)), _dep_row)

    async def _fetch(
        self,
        read: Callable[[Actor], Awaitable[tuple[list[R], int]]],
        to_row: Callable[[R, Actor], dict[str, Any]],
    ) -> Fetched | None:
        """One page read as the current actor, each row with what that actor may do in it."""

        async def read_as(actor: Actor) -> tuple[Actor, tuple[list[R], int]]:
            return actor, await read(actor)

        found = await self.session.run(read_as)
        if found is None:
            return None
        actor, (rows, total) = found
        return Fetched([to_row(r, actor) for r in rows], total)

    def _organisation_tools(self, actor: Actor) -> None:
        with ui.row().classes("items-end gap-4 q-mb-sm"):
            if rights.may_create_organisation(actor=actor):
                name = ui.input("New organisation name").props("outlined dense maxlength=120")

                errors = FormErrors({"name": name})

                async def create_org() -> None:
                    done = await self.session.run(
                        lambda a: organisations.create_organisation(actor=a, name=name.value or ""),
                        success="Organisation created.",
                        form=errors,
                    )
                    if done:
                        name.value = ""
                        await self.reload()

                name.on("keydown.enter", create_org)
                ui.button("Create organisation", on_click=create_org).props("no-caps")
            ui.switch("Show archived", on_change=self._toggle_archived)

    async def _toggle_archived(self, event: Any) -> None:
        self.show_archived = bool(event.value)
        await self.orgs.refresh(page=1)

    def _new_deployment(self, row: dict[str, Any]) -> None:
        async def submit(name: str, errors: FormErrors) -> bool:
            done = await self.session.run(
                lambda a: organisations.create_deployment(actor=a, organisation_id=int(row["id"]), name=name),
                success="Deployment created.",
                form=errors,
            )
            await self.reload()
            return done is not None

        dialogs.ask_name(
            title=f"New deployment in {row['name']}",
            label="Deployment name",
            action="Create deployment",
            on_submit=submit,
        )

    def _rename(self, row: dict[str, Any]) -> None:
        async def submit(name: str, errors: FormErrors) -> bool:
            await self.session.run(
                lambda a: organisations.rename_organisation(actor=a, organisation_id=int(row["id"]), name=name),
                success="Organisation renamed.",
                form=errors,
            )
            await self.reload()
            return not errors.showing

        dialogs.ask_name(
            title=f"Rename {row['name']}",
            label="Organisation name",
            action="Save",
            value=str(row["name"]),
            on_submit=submit,
        )

    def _archive(self, row: dict[str, Any]) -> None:
        async def archive() -> bool:
            await self.session.run(
                lambda a: organisations.archive_organisation(actor=a, organisation_id=int(row["id"])),
                success="Organisation archived.",
            )
            await self.reload()
            return True

        dialogs.confirm(
            title=f"Archive {row['name']}?",
            message="Nothing can be changed in an archived organisation and its invitation links stop working. "
            "Only a Super Admin can restore it.",
            action="Archive",
            on_confirm=archive,
        )

    async def _restore(self, row: dict[str, Any]) -> None:
        await self.session.run(
            lambda a: organisations.restore_organisation(actor=a, organisation_id=int(row["id"])),
            success="Organisation restored.",
        )
        await self.reload()

    async def _invite(self, row: dict[str, Any], *, organisation: bool) -> None:
        if organisation:
            await invite_staff(self.session, title=f"Invite staff to {row['name']}", organisation_id=int(row["id"]))
        else:
            await invite_staff(
                self.session,
                title=f"Invite staff to {row['name']} ({row['organisation']})",
                deployment_id=int(row["id"]),
            )

    async def _invite_platform(self) -> None:
        await invite_staff(self.session, title="Invite Admin Portal staff")


def _paging(request: PageRequest) -> dict[str, Any]:
    return {
        "search": request.search,
        "sort": request.sort,
        "descending": request.descending,
        "page": request.page,
        "page_size": request.page_size,
    }


def _org_row(r: OrganisationRow, actor: Actor) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "deployments": r.deployments,
        "staff": r.staff,
        "pending": r.pending,
        "created": day(r.created_at),
        "archived": r.archived,
        "archived_label": "Archived" if r.archived else "",
        "may_invite": rights.may_invite(actor=actor, organisation_id=r.id),
        "may_add_deployment": rights.may_add_deployment(actor=actor, organisation_id=r.id),
        "may_rename": rights.may_rename_organisation(actor=actor, organisation_id=r.id),
        "may_archive": rights.may_archive_organisation(actor=actor, organisation_id=r.id),
        "may_restore": r.archived and rights.may_restore_organisation(actor=actor),
    }


def _dep_row(r: DeploymentRow, actor: Actor) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "organisation": r.organisation,
        "organisation_id": r.organisation_id,
        "staff": r.staff,
        "pending": r.pending,
        "created": day(r.created_at),
        "may_invite": rights.may_invite_to_deployment(
            actor=actor, organisation_id=r.organisation_id, deployment_id=r.id
        ),
    }
