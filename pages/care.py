"""Care Portal: the organisation's staff and pending invitations, with the Invite staff members menu."""

from fastapi import Request
from nicegui import ui

from components import live
from components.frame import LANGUAGE, frame
from components.invite_launcher import invite_care_staff
from components.manage_menu import ManageMenu
from components.session import PageSession
from pages import care_history
from pages.care_approvals import ApprovalView
from pages.care_pending import PendingView
from pages.care_restore import suspension_notes
from pages.care_staff import StaffView
from services.access import rights
from services.access.service import Actor
from services.integrations import token_places
from services.organisations import staff
from services.webhooks import endpoints as webhooks

MANAGE = {
    "invite": "Invite staff members",
    "roles": "Add a new role",
    "audit": "Audit log",
    "settings": "Access settings",
    "sso": "Single sign-on",
    "reviews": "Access reviews",
    "integrations": "Integrations",
    "webhooks": "Webhooks",
}
VIEWS = {
    "staff": "All staff members",
    "pending": "Staff members >> Pending staff invitations",
    "approvals": "Staff members >> Awaiting approval",
    "dormant": "Staff members >> Dormant members",
    "ending": "Staff members >> Access ending in 30 days",
    "ended": "Staff members >> Ended access",
}
INVITERS_VIEWS = ("pending", "approvals")


def create() -> None:
    """Register /care."""

    @ui.page("/care", language=LANGUAGE)
    async def care_page(request: Request, org: int | None = None, view: str = "staff") -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Care Portal", actor, session_token=session.token):
            await suspension_notes(actor)
            choices = await staff.my_organisations(actor=actor)
            current = next((o for o in choices if o.id == org), choices[0] if choices else None)
            if current is not None:
                await _CarePortal(session, actor, current.id, view).build({o.id: o.name for o in choices})
            await _my_access(actor)
            await care_history.earlier_access(actor)


class _CarePortal:
    def __init__(self, session: PageSession, actor: Actor, organisation_id: int, view: str) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.may_invite = rights.may_invite(actor=actor, organisation_id=organisation_id)
        self.may_edit_roles = rights.may_edit_roles(actor=actor, organisation_id=organisation_id)
        self.may_change_settings = rights.may_change_access_settings(actor=actor, organisation_id=organisation_id)
        self.may_audit = rights.may_read_audit(actor=actor, organisation_id=organisation_id)
        self.may_review = rights.may_review_access(actor=actor, organisation_id=organisation_id)
        self.may_suspend = rights.may_suspend_accounts(actor=actor)
        self.may_manage_webhooks = webhooks.may_manage(actor, organisation_id=organisation_id)
        self.may_integrate = token_places.may_manage_any(actor=actor, organisation_id=organisation_id)
        # Everyone who sees the staff list has its filters; pending invitations and approvals are for who invites.
        self.views = VIEWS if self.may_invite else {k: v for k, v in VIEWS.items() if k not in INVITERS_VIEWS}
        self.view = view if view in self.views else "staff"

    async def build(self, organisations: dict[int, str]) -> None:
        with ui.row().classes("w-full items-center gap-4 q-mb-sm"):
            if len(organisations) > 1:
                ui.select(
                    organisations,
                    label="Organisation",
                    value=self.organisation_id,
                    on_change=lambda e: ui.navigate.to(f"/care?org={e.value}"),
                ).props("outlined dense")
            # Wide enough for "Staff members >> Pending staff invitations" whole; never wider than a phone.
            ui.select(self.views, label="Overview filters", value=self.view, on_change=self._switch).props(
                "outlined dense"
            ).style("width: 24rem; max-width: 100%")
            self._menu()
        self.body = ui.column().classes("w-full")
        changes = live.LiveList(organisation_id=self.organisation_id, refresh=self._refresh, held=True)
        await self._show()
        changes.release()

    def _menu(self) -> None:
        offered = {key: label for key, label in MANAGE.items() if self._manage_rights()[key]}
        if offered:
            ManageMenu("Manage", offered, self._manage).mark("manage").style("margin-left: auto")  # at the row's end

    def _manage_rights(self) -> dict[str, bool]:
        return {
            "invite": self.may_invite,
            "roles": self.may_edit_roles,
            "audit": self.may_audit,
            "settings": self.may_change_settings,
            "sso": self.may_change_settings,
            "reviews": self.may_review,
            "webhooks": self.may_manage_webhooks,
            "integrations": self.may_integrate,
        }

    async def _manage(self, key: str) -> None:
        if key == "invite":
            await invite_care_staff(self.session, organisation_id=self.organisation_id)
        elif key == "roles":  # the menu item says "Add a new role": the page opens with the form
            ui.navigate.to(f"/care/roles?org={self.organisation_id}&add=1")
        else:
            ui.navigate.to(f"/care/{key}?org={self.organisation_id}")

    async def _switch(self, event: object) -> None:
        self.view = str(getattr(event, "value", "staff"))
        await self._show()

    async def _show(self) -> None:
        self.body.clear()
        with self.body:
            if self.view == "pending":
                self.current: PendingView | StaffView | ApprovalView = PendingView(self.session, self.organisation_id)
            elif self.view == "approvals":
                self.current = ApprovalView(self.session, self.organisation_id)
            else:
                may_manage = self.may_invite or self.may_suspend
                show = self.view if self.view in staff.SHOWS else "all"
                self.current = StaffView(self.session, self.organisation_id, may_manage=may_manage, show=show)
        await self.current.refresh()

    async def _refresh(self) -> None:
        await self.current.refresh()


async def _my_access(actor: Actor) -> None:
    rows = await staff.my_access(actor=actor)
    opened = not rows or len(rows) < 4
    access_list = ui.expansion("Your access", icon="badge", value=opened).classes("w-full q-mt-md")

    def show_rows() -> None:
        with access_list:
            if not rows:
                ui.label("You hold no role yet.")
            for row in rows:
                ui.label(f"{row.role_name} — {row.scope_name}").classes("text-body1").props('data-testid="my-role"')

    def first_opened() -> None:
        if not access_list.default_slot.children:
            show_rows()

    if opened:
        show_rows()
    else:  # a long list is built when first opened: most open pages never show it
        access_list.on_value_change(first_opened)
