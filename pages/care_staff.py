"""Care Portal view: All staff members, with Change role, Remove from team, Reset second factor, and Suspend or Restore
account."""

from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Any, ClassVar

from nicegui import ui

from components import dialogs
from components.form_errors import FormErrors
from components.formatting import day, exact, zone_label
from components.invite_terms import NOT_A_MOMENT
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from components.viewer_zone import ViewerZone
from pages import care_history, care_restore
from services.access import roles
from services.access.service import Actor, Scope, ScopeLevel
from services.organisations import access_settings, factor_reset, grant_ends, staff, suspension

COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left", "sortable": True},
    {"name": "email", "label": "Email", "field": "email", "align": "left", "sortable": True},
    {"name": "role", "label": "Role", "field": "role", "align": "left", "sortable": True},
    {"name": "scope", "label": "Scope", "field": "scope", "align": "left"},
    {"name": "joined", "label": "Joined", "field": "joined", "align": "left", "sortable": True},
    {"name": "ends", "label": "Access ends", "field": "ends", "align": "left"},
    {"name": "sponsor", "label": "Sponsor", "field": "sponsor", "align": "left"},
    {"name": "last_login", "label": "Last log-in", "field": "last_login", "align": "left", "sortable": True},
]
ACTIONS: dict[str, Any] = {"name": "actions", "label": "Actions", "field": "id"}
MENU = [
    MenuItem("change_role", "Change role", only_if="manageable"),
    MenuItem("set_end", "Change end of access", only_if="may_set_end"),
    MenuItem("remove", "Remove from team", only_if="manageable"),
    MenuItem("reset_factors", "Reset second factor", only_if="resettable"),
    MenuItem("suspend", "Suspend account", only_if="may_suspend"),
    MenuItem("restore", "Restore account", only_if="may_restore"),
    MenuItem(care_restore.MENU_EVENT, care_restore.MENU_LABEL, only_if="restorable"),
    MenuItem(care_history.MENU_EVENT, care_history.MENU_LABEL),  # to every viewer of the list
]
SUSPENDED = " (suspended)"
TITLES = {"dormant": "Dormant members", "ending": "Access ending in 30 days", "ended": "Ended access"}
EMPTY = {
    "ending": f"No access here ends within the next {staff.ENDING_WITHIN.days} days.",
    "ended": "No access here has ended yet.",
}


class StaffView:
    """The organisation's staff, one row per role held, paged on the server."""

    columns = COLUMNS  # and the row menu: pages/admin_staff.py lists the platform's grants with its own
    menu = MENU
    label = "All staff members"
    titles: ClassVar[dict[str, str]] = TITLES  # a view's own heading over the table (Platform staff keeps its one)

    def __init__(self, session: PageSession, organisation_id: int, *, may_manage: bool, show: str = "all") -> None:
        """may_manage: may the viewer manage staff somewhere in the organisation (rights.may_invite) or suspend
        accounts (rights.may_suspend_accounts); each row then offers only what the viewer may do there
        (StaffRow.manageable, StaffRow.suspendable). show: which grants (staff.SHOWS)."""
        self.session = session
        self.organisation_id = organisation_id
        self.show = show
        self.list = PagedTable(
            columns=[*self.columns, ACTIONS],  # the Care Portal offers every viewer Access history (MENU)
            fetch=self._fetch,
            label=self.titles.get(show, self.label),
            sort="name",
            search_label="Search by name or email",
        )
        self.list.table.mark("staff")
        self.viewer = ViewerZone(on_known=self.refresh)  # ends are shown in the viewer's time zone
        self.list.table.props["no-data-label"] = EMPTY.get(show) or (
            "Nobody holds a role here yet. Use Invite staff members in the Manage menu to invite someone."
            if may_manage
            else "Nobody holds a role here yet."
        )
        add_row_menu(self.list.table, self.menu)  # each row offers what the service says the viewer may do there
        self.list.table.on("change_role", lambda e: self._change_role(e.args))
        self.list.table.on("remove", lambda e: self._remove(e.args))
        self.list.table.on("set_end", lambda e: self._set_end(e.args))
        self.list.table.on("reset_factors", lambda e: self._reset_factors(e.args))
        self.list.table.on("suspend", lambda e: self._suspend(e.args))
        self.list.table.on("restore", lambda e: self._restore(e.args))
        self.list.table.on(
            care_restore.MENU_EVENT,
            lambda e: care_restore.confirm_restore(self.session, e.args, self.viewer.zone, self.refresh),
        )
        self.list.table.on(
            care_history.MENU_EVENT,
            lambda e: care_history.show_history(session, organisation_id, e.args, self.viewer.zone),
        )

    async def refresh(self) -> None:
        if self.show == "dormant":  # the organisation's dormant period may have changed since the last refresh
            days = (await access_settings.settings_of(organisation_id=self.organisation_id)).dormant_days
            self.list.table.props["no-data-label"] = f"Nobody here has gone {days} days without logging in."
        await self.list.refresh()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(lambda a: self._read(a, request))
        if found is None:
            return None
        rows, total = found
        return Fetched([self._row(r) for r in rows], total)

    async def _read(self, actor: Actor, request: PageRequest) -> tuple[list[staff.StaffRow], int]:
        """One page of this view's grants, as the service lets the actor see them (the platform's: admin_staff)."""
        return await staff.staff_page(
            actor=actor,
            organisation_id=self.organisation_id,
            search=request.search,
            sort=request.sort,
            descending=request.descending,
            page=request.page,
            page_size=request.page_size,
            show=self.show,
        )

    def _row(self, r: staff.StaffRow) -> dict[str, Any]:
        """A grant as the table shows it, with what its row menu may offer."""
        return {
            "id": r.assignment_id,
            "name": r.name + (SUSPENDED if r.suspended else ""),
            "member_id": r.member_id,
            "email": r.email,
            "role": r.role_name,
            "role_id": r.role_id,
            "scope": r.scope_name,
            "deployment_id": r.deployment_id,
            "joined": day(r.joined),
            "ends": self._ends(r),
            "sponsor": r.sponsor_name,
            "last_login": _last_login(r),
            "manageable": r.manageable and not r.suspended,
            "may_set_end": r.may_set_end and not r.suspended,
            "ends_at": r.ends_at.isoformat() if r.ends_at else "",
            "may_suspend": r.suspendable and not r.suspended,
            "may_restore": r.suspendable and r.suspended,
            "resettable": r.resettable and not r.suspended,
            "restorable": r.restorable,
        }

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
                    lambda a: staff.change_role(actor=a, assignment_id=int(row["id"]), role_id=int(choice.value))
                )
                if done:
                    dialogs.tell(done.message, waiting=done.awaiting)
                    dialog.close()
                    await self.refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("no-caps color=primary").bind_enabled_from(
                    choice, "value", backward=lambda v: v is not None
                )
        dialog.open()

    def _remove(self, row: dict[str, Any]) -> None:
        self._confirm_then(
            lambda a: staff.remove_from_team(actor=a, assignment_id=int(row["id"])),
            title=f"Remove {row['name']} from the team?",
            message=f"{row['email']} loses the role {row['role']} ({row['scope']}). "
            "Invitations they sent there that are still pending are deleted.",
            action="Remove from team",
            success=f"{row['email']} no longer holds {row['role']} there.",
        )

    def _ends(self, row: staff.StaffRow) -> str:
        if suspended := care_restore.suspended_words(row, self.viewer.zone):
            return suspended
        if row.ended_at is not None:
            return f"Ended {exact(row.ended_at, self.viewer.zone)}"
        return exact(row.ends_at, self.viewer.zone) if row.ends_at else "Does not end"

    def _set_end(self, row: dict[str, Any]) -> None:
        zone = self.viewer.zone
        current = datetime.fromisoformat(row["ends_at"]).astimezone(zone) if row.get("ends_at") else None
        title = f"Change when {row['name']}'s access ends"
        with dialogs.disposable(title) as dialog, ui.card().classes("w-96"):
            ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
            ui.label(f"{row['role']} in {row['scope']}. Currently: {row['ends']}.")
            ends = ui.input("Access ends", value=current.strftime("%Y-%m-%dT%H:%M") if current else "")
            hint = f"In your time zone ({zone_label(zone)}); empty: access does not end"
            ends.props(f'outlined dense stack-label type="datetime-local" hint="{hint}"').classes("w-full")
            errors = FormErrors({"ends_at": ends})

            async def save() -> None:
                text = (ends.value or "").strip()
                try:
                    moment = datetime.fromisoformat(text).replace(tzinfo=zone) if text else None
                except ValueError:
                    errors.show({"ends_at": NOT_A_MOMENT})
                    return
                done = await self.session.run(
                    lambda a: grant_ends.set_end(actor=a, assignment_id=int(row["id"]), ends_at=moment),
                    success="End of access changed.",
                    form=errors,
                )
                if done:
                    dialog.close()
                    await self.refresh()

            def end_now() -> None:
                dialog.close()
                with self.list.table.parent_slot or nullcontext():  # the question outlives this dialog
                    self._end_now(row)

            with ui.row().classes("w-full items-center"):
                ui.button("End now", on_click=end_now).props("flat no-caps color=negative")
                ui.space()
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save", on_click=save).props("no-caps color=primary")
        dialog.open()

    def _end_now(self, row: dict[str, Any]) -> None:
        self._confirm_then(
            lambda a: grant_ends.end_now(actor=a, assignment_id=int(row["id"])),
            title=f"End {row['name']}'s access now?",
            message=f"{row['email']} loses the role {row['role']} ({row['scope']}) at once; it stays in their history. "
            "Their sessions end if they hold nothing else.",
            action="End access now",
            success=f"{row['email']} no longer holds {row['role']} there.",
        )

    def _reset_factors(self, row: dict[str, Any]) -> None:
        self._confirm_then(
            lambda a: factor_reset.reset(
                actor=a, member_id=int(row["member_id"]), organisation_id=self.organisation_id
            ),
            title=f"Reset the second factor of {row['name']}?",
            message=f"{row['email']} loses their authenticator app, passkeys and recovery codes, is logged out "
            "everywhere and is emailed. At their next log-in they set up an authenticator app again.",
            action="Reset second factor",
            success=f"The second factor of {row['email']} is reset: every session has ended.",
        )

    def _suspend(self, row: dict[str, Any]) -> None:
        self._confirm_then(
            lambda a: suspension.suspend(actor=a, member_id=int(row["member_id"])),
            title=f"Suspend the account of {row['name']}?",
            message=f"{row['email']} loses every role they hold, in every organisation, at once, and is logged out "
            "everywhere. Invitations they sent that are still pending are deleted. Restoring the account gives the "
            "roles back.",
            action="Suspend account",
            success=f"{row['email']} is suspended: every session has ended.",
        )

    def _restore(self, row: dict[str, Any]) -> None:
        self._confirm_then(
            lambda a: suspension.restore(actor=a, member_id=int(row["member_id"])),
            title=f"Restore the account of {str(row['name']).removesuffix(SUSPENDED)}?",
            message=f"{row['email']} gets back every role they held and may log in again.",
            action="Restore account",
            success=f"{row['email']} is restored and may log in again.",
        )

    def _confirm_then(
        self, call: Callable[[Actor], Awaitable[object]], *, title: str, message: str, action: str, success: str
    ) -> None:
        """Ask first; on yes, make the call as the viewer, say how it went, and read the list again."""

        async def confirmed() -> bool:
            await self.session.run(call, success=success)
            await self.refresh()
            return True

        dialogs.confirm(title=title, message=message, action=action, on_confirm=confirmed)


def _last_login(row: staff.StaffRow) -> str:
    if row.last_login is None:
        return "Dormant: never logged in" if row.dormant else "Never"
    return f"Dormant: last {day(row.last_login)}" if row.dormant else day(row.last_login)
