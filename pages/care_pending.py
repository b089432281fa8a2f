"""Care Portal view: Pending staff invitations, with resend and delete (one, several, all expired)."""

from datetime import datetime, tzinfo
from typing import Any

from nicegui import ui

from components import clock, dialogs, formatting
from components.data_table import ADDRESS_CELL, add_badge_cell, name_selection
from components.live import LiveList, View
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from components.viewer_zone import ViewerZone
from services.access.service import Actor
from services.invitations import pending, resending
from services.invitations import service as invitations
from services.invitations.pending import Audience, PendingPage, PendingRow
from services.invitations.resending import ResendResult
from services.platform.clock import now

COLUMNS: list[dict[str, Any]] = [
    {"name": "email", "label": "Email", "field": "email", "align": "left", "sortable": True, **ADDRESS_CELL},
    {"name": "role", "label": "Role", "field": "role", "align": "left"},
    {"name": "scope", "label": "Scope", "field": "scope", "align": "left"},
    {"name": "invited_by", "label": "Invited by", "field": "invited_by", "align": "left"},
    {"name": "last_sent", "label": "Last sent", "field": "last_sent", "align": "left", "sortable": True},
    {"name": "expires", "label": "Expires", "field": "expires", "align": "left", "sortable": True},
    {"name": "delivery", "label": "Delivery", "field": "delivery", "align": "left"},
    {"name": "sent", "label": "Times sent", "field": "sent"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
MENU = [
    MenuItem("resend", "Resend invitation", unless="awaiting"),  # no email leaves before approval
    MenuItem("delete", "Delete invitation"),
]
NONE_PENDING = "No pending invitations. Use Invite staff members in the Manage menu to invite someone."
NONE_FOUND = "No pending invitation matches this search. Clear the search to see them all."


class PendingView:
    """Everyone who has not accepted yet (expired ones marked), paged, searchable, sortable, live."""

    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id
        with ui.row().classes("items-center gap-2"):
            ui.button("Resend selected", icon="send", on_click=self._resend_selected).props("outline no-caps")
            ui.button("Delete selected", icon="delete", on_click=self._delete_selected).props("outline no-caps")
            ui.button("Resend all expired", icon="schedule_send", on_click=self._resend_expired).props(
                "outline no-caps"
            )
        self.list = PagedTable(
            columns=COLUMNS,
            fetch=self._fetch,
            label="Pending staff invitations",
            sort="expires",
            search_label="Search by email",
            selection="multiple",
        )
        self.list.table.mark("pending")
        add_row_menu(self.list.table, MENU, name_field="email")
        add_badge_cell(self.list.table, "expires", when="expired", label="Expired", color="negative")
        name_selection(
            self.list.table,
            every="Select every invitation on this page",
            one="Select the invitation to ",
            name_field="email",
        )
        self.list.table.on("resend", lambda e: self._resend([int(e.args["id"])]))
        self.list.table.on("delete", lambda e: self._confirm_delete([int(e.args["id"])], str(e.args["email"])))
        self._shown: PendingPage | None = None  # the reading on screen
        self.viewer = ViewerZone(on_known=self.refresh)  # a reminder's time is shown in the viewer's time zone
        # Relative times and the *expired* mark move on even when nothing changes: the rows on screen are formatted
        # again, without reading anything (changes arrive through components/live.py).
        clock.every(30, lambda: self.list.redraw(self._rows_now), owner=self.list.table)

    async def refresh(self) -> None:
        await self.list.refresh()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(lambda actor: self._page(actor, request))
        if found is None:
            return None
        empty = NONE_FOUND if request.search else NONE_PENDING
        if self.list.table.props.get("no-data-label") != empty:
            self.list.table.props["no-data-label"] = empty
        self._shown, fetched = found
        return fetched

    async def _page(self, actor: Actor, request: PageRequest) -> tuple[PendingPage, Fetched]:
        audience = await pending.visible_to(actor, self.organisation_id)  # every page's own permission check
        zone = self.viewer.zone
        view = View("pending", self.organisation_id, audience, request, zone)
        return await LiveList.read_once(view, lambda: _read(audience, request, zone))

    def _rows_now(self) -> list[dict[str, Any]] | None:
        if self._shown is None:
            return None
        return _table_rows(self._shown, now(), self.viewer.zone)

    def _selected_ids(self) -> list[int]:
        return [int(row["id"]) for row in self.list.table.selected]

    async def _resend_selected(self) -> None:
        ids = self._selected_ids()
        if not ids:
            ui.notify("Select the invitations to resend first.")
            return
        await self._resend(ids)

    async def _resend_expired(self) -> None:
        ids = await self.session.run(lambda a: pending.expired_ids(actor=a, organisation_id=self.organisation_id))
        if ids is not None and not ids:
            ui.notify("No invitation has expired.")
        elif ids:
            await self._resend(ids)

    async def _resend(self, ids: list[int]) -> None:
        result = await self.session.run(lambda a: resending.resend_each(actor=a, invitation_ids=ids))
        if result is not None:
            _notify_resend(result)
            self.list.table.selected = []
            await self.refresh()

    async def _delete_selected(self) -> None:
        ids = self._selected_ids()
        if not ids:
            ui.notify("Select the invitations to delete first.")
            return
        email = str(self.list.table.selected[0]["email"])
        self._confirm_delete(ids, email if len(ids) == 1 else "")

    def _confirm_delete(self, ids: list[int], email: str) -> None:
        """email: the address of the one invitation ("" for several)."""

        async def delete() -> bool:
            deleted = await self.session.run(lambda a: invitations.delete(actor=a, invitation_ids=ids))
            if deleted is not None:
                ui.notify(f"Deleted {formatting.count(len(deleted), 'invitation')}.", type="positive")
                self.list.table.selected = []
                await self.refresh()
            return True

        several = formatting.count(len(ids), "invitation")
        dialogs.confirm(
            title=f"Delete the invitation to {email}?" if email else f"Delete {several}?",
            message="The link stops working at once." if email else "Their links stop working at once.",
            action="Delete invitation" if email else "Delete invitations",
            on_confirm=delete,
        )


async def _read(audience: Audience, request: PageRequest, zone: tzinfo) -> tuple[PendingPage, Fetched]:
    """A page of the list read and formatted: once for all the pages that share its View (components/live.py).
    The rows hold nothing of the viewer: what they may see is the audience, part of the View."""
    found = await pending.read_page(
        audience,
        search=request.search,
        sort=request.sort,
        descending=request.descending,
        page=request.page,
        page_size=request.page_size,
        after=request.after,
        before=request.before,
    )
    sort = request.sort
    edges = (pending.edge_key(found.rows[0], sort), pending.edge_key(found.rows[-1], sort)) if found.rows else None
    return found, Fetched(_table_rows(found, now(), zone), found.total, edges, capped=found.capped)


def _table_rows(found: PendingPage, at: datetime, zone: tzinfo) -> list[dict[str, Any]]:
    return [_row(r, at, zone) for r in found.rows]


def _row(r: PendingRow, at: datetime, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": r.id,
        "email": r.email,
        "role": f"{r.role_name} (a role change from {r.changes_from})" if r.changes_from else r.role_name,
        "scope": r.scope_name,
        "invited_by": r.invited_by,
        "last_sent": formatting.relative(r.last_sent_at, at),
        "expires": "Expired" if r.expires_at <= at else formatting.relative(r.expires_at, at),
        "expired": r.expires_at <= at,
        "delivery": "Awaiting approval" if r.awaiting_approval else _delivery(r, zone),
        "sent": 0 if r.awaiting_approval else r.send_count,
        "awaiting": r.awaiting_approval,
    }


def _delivery(r: PendingRow, zone: tzinfo) -> str:
    """The newest email's delivery: 'Sent', or once the reminder went 'Reminder sent 7 Dec 2026, 14:02 GMT'."""
    words = formatting.delivery(r.delivery_state, r.delivery_error)
    if r.reminded_at is None:
        return words
    when = formatting.exact(r.reminded_at, zone)
    return f"Reminder sent {when}" if r.delivery_state == "sent" else f"{words} (reminder of {when})"


def _notify_resend(result: ResendResult) -> None:
    if result.resent:
        ui.notify(f"Resent {formatting.count(len(result.resent), 'invitation')}.", type="positive")
    for email, reason in result.skipped[:5]:
        ui.notify(f"Not resent to {email}: {reason}", type="warning", multi_line=True)
