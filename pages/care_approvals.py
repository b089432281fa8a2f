"""Care Portal view: Invitations awaiting approval, the approvers' queue: approve, or decline with a reason; and, for
the inviter, their invitations approved or declined in the last 7 days, by whom and why (Recently decided). Live."""

from typing import Any

from nicegui import ui

from components import dialogs, formatting
from components.data_table import DataTable
from components.form_errors import FormErrors
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from services.approvals import queue
from services.approvals import service as approvals
from services.approvals.service import Decided
from services.platform.clock import now

COLUMNS: list[dict[str, Any]] = [
    {"name": "email", "label": "Email", "field": "email", "align": "left"},
    {"name": "role", "label": "Role", "field": "role", "align": "left"},
    {"name": "scope", "label": "Where", "field": "scope", "align": "left"},
    {"name": "invited_by", "label": "Invited by", "field": "invited_by", "align": "left"},
    {"name": "invited", "label": "Invited", "field": "invited", "align": "left"},
    {"name": "ends", "label": "Access ends", "field": "ends", "align": "left"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
MENU = [
    MenuItem("approve", "Approve and send", only_if="may_decide"),
    MenuItem("decline", "Decline…", only_if="may_decide"),
]
NONE_WAITING = "No invitation awaits approval here."
RECENT_COLUMNS: list[dict[str, Any]] = [
    {"name": "email", "label": "Email", "field": "email", "align": "left"},
    {"name": "role", "label": "Role", "field": "role", "align": "left"},
    {"name": "scope", "label": "Where", "field": "scope", "align": "left"},
    {"name": "outcome", "label": "Outcome", "field": "outcome", "align": "left"},
    {"name": "decided_by", "label": "Decided by", "field": "decided_by", "align": "left"},
    {"name": "reason", "label": "Reason", "field": "reason", "align": "left"},
    {"name": "decided", "label": "Decided", "field": "decided", "align": "left"},
]
RECENT = "Recently decided"
NONE_DECIDED = f"None of your invitations here was approved or declined in the last {queue.RECENT_DAYS} days."


class ApprovalView:
    """The organisation's invitations awaiting a second person, oldest first; each row says if the viewer may decide."""

    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id
        ui.label(
            "These invitations wait for a second person's approval: no email leaves before it. You may decide those "
            "you did not send, for roles you may hand out there."
        ).classes("text-body2")
        self.list = PagedTable(
            columns=COLUMNS, fetch=self._fetch, label="Invitations awaiting approval", sort="invited"
        )
        self.list.table.mark("approvals")
        self.list.table.props["no-data-label"] = NONE_WAITING
        add_row_menu(self.list.table, MENU, name_field="email")
        self.list.table.on("approve", lambda e: self._approve(int(e.args["id"])))
        self.list.table.on("decline", lambda e: self._decline(int(e.args["id"]), str(e.args["email"])))
        heading = ui.label(RECENT).classes("text-h6 q-mt-md").props('role="heading" aria-level="2"')
        ui.label(
            f"Your invitations approved or declined in the last {queue.RECENT_DAYS} days: who decided, and why a "
            "declined one was declined."
        ).classes("text-body2")
        # a DataTable: below 1024 px its rows become cards, as every other table of ours
        self.recent = DataTable(columns=RECENT_COLUMNS, rows=[], row_key="id").classes("w-full").mark("recent")
        self.recent.props(f'flat bordered dense no-data-label="{NONE_DECIDED}" aria-labelledby="{heading.html_id}"')

    async def refresh(self) -> None:
        await self.list.refresh()
        found = await self.session.run(lambda a: queue.recently_decided(actor=a, organisation_id=self.organisation_id))
        if found is not None:
            at = now()
            rows = [_decided_row(r, at) for r in found]
            if rows != self.recent.rows:
                self.recent.rows = rows
                self.recent.update()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(lambda a: queue.waiting(actor=a, organisation_id=self.organisation_id))
        if found is None:
            return None
        rows, total = found
        at = now()
        return Fetched([_row(r, at) for r in rows], total)

    async def _approve(self, invitation_id: int) -> None:
        result = await self.session.run(lambda a: approvals.approve(actor=a, invitation_ids=[invitation_id]))
        if result is not None:
            _notify(result, "Approved and sent")
            await self.refresh()

    def _decline(self, invitation_id: int, email: str) -> None:
        async def submit(reason: str, errors: FormErrors) -> bool:
            result = await self.session.run(
                lambda a: approvals.decline(actor=a, invitation_ids=[invitation_id], reason=reason), form=errors
            )
            if result is None:
                return False
            _notify(result, "Declined")
            await self.refresh()
            return True

        dialogs.ask_name(
            title=f"Decline the invitation of {email}?",
            label="Reason (the inviter is told, and the audit log keeps it)",
            action="Decline",
            on_submit=submit,
            field_name="reason",
            max_length=approvals.REASON_LENGTH,
        )


def _row(r: queue.Waiting, at: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "email": r.email,
        "role": f"{r.role_name} (a role change from {r.changes_from})" if r.changes_from else r.role_name,
        "scope": r.scope_name,
        "invited_by": r.invited_by,
        "invited": formatting.relative(r.invited_at, at),
        "ends": formatting.day(r.ends_at) if r.ends_at else "No end",
        "may_decide": r.may_decide,
    }


def _decided_row(r: queue.Decided, at: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "email": r.email,
        "role": r.role_name,
        "scope": r.scope_name,
        "outcome": "Approved and sent" if r.approved else "Declined",
        "decided_by": r.decided_by,
        "reason": r.reason,
        "decided": formatting.relative(r.decided_at, at),
    }


def _notify(result: Decided, done: str) -> None:
    if result.done:
        ui.notify(f"{done}: {', '.join(result.done)}.", type="positive")
    for email, reason in result.skipped[:5]:
        ui.notify(f"{email}: {reason}.", type="warning")
