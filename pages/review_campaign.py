"""One access review: its progress (live), its items (mine to decide, all open, decided, all) with Keep, Change role,
Set end and Remove, each with an optional comment; a finished review is read-only and offers its record as CSV and
JSON."""

from datetime import datetime
from typing import Any

from nicegui import ui

from components import dialogs, live
from components.form_errors import FormErrors
from components.formatting import exact, zone_label
from components.invite_terms import NOT_A_MOMENT
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from components.viewer_zone import ViewerZone
from services.access import roles
from services.access.service import Scope, ScopeLevel
from services.errors import DomainError
from services.reviews import campaigns, decisions, export, items

SHOWS = {"mine": "Mine to decide", "open": "All open", "decided": "Decided", "all": "All"}
COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left", "sortable": True},
    {"name": "email", "label": "Email", "field": "email", "align": "left", "classes": "break-anywhere"},
    {"name": "role", "label": "Role", "field": "role", "align": "left", "sortable": True},
    {"name": "scope", "label": "Scope", "field": "scope", "align": "left"},
    {"name": "reviewer", "label": "Reviewer", "field": "reviewer", "align": "left"},
    {"name": "decision", "label": "Decision", "field": "decision", "align": "left", "sortable": True},
    {"name": "comment", "label": "Comment", "field": "comment", "align": "left"},
]
ACTIONS: dict[str, Any] = {"name": "actions", "label": "Actions", "field": "id"}
MENU = [
    MenuItem("keep", "Keep", only_if="may_decide_live"),
    MenuItem("change", "Change role", only_if="may_decide_live"),
    MenuItem("end", "Set end", only_if="may_decide_live"),
    MenuItem("remove", "Remove", only_if="may_decide"),
]
LOCKED = "This review is finished: nothing in it can change any more."
OVERDUE = "Overdue: with the owners"
WITH_OWNERS = (
    OVERDUE + ". Its deadline has passed: what nobody answered is for the organisation's owners to decide (never their "
    "own access), and the review finishes with the last decision."
)
OWN = "Your own access: someone else decides"
EMPTY = {
    "mine": "Nothing here is waiting for your decision.",
    "open": "Every item has been decided.",
    "decided": "Nothing has been decided yet.",
    "all": "This review has no items you may see.",
}
# What each decision's dialog asks and its button says; {name} is the member's.
ASKS = {
    "keep": ("Keep the access of {name}?", "Keep access"),
    "change": ("Change the role of {name}", "Change role"),
    "end": ("Set when the access of {name} ends", "Set end"),
    "remove": ("Remove the access of {name}?", "Remove access"),
}


def progress_words(progress: campaigns.Progress) -> str:
    """'2 of 5 decided', with the unanswered when there are any."""
    said = f"{progress.decided} of {progress.total} decided"
    return said + (f", {progress.unanswered} unanswered" if progress.unanswered else "")


def status_words(found: campaigns.CampaignRow, zone: Any) -> str:
    """'Finished …', 'Overdue: with the owners' or 'Open until …'."""
    if found.closed_at is not None:
        return f"Finished {exact(found.closed_at, zone)}"
    if found.overdue_at is not None:
        return OVERDUE
    return f"Open until {exact(found.due_at, zone)}"


async def download(session: PageSession, campaign_id: int, file_format: str) -> None:
    """Send the review's record to the browser as a file (the service checks who may)."""
    found = await session.run(lambda a: export.export(actor=a, campaign_id=campaign_id, file_format=file_format))
    if found is not None:
        ui.download.content(found.content, found.filename, found.media_type)


class CampaignView:
    """The review's header (its progress follows every change) and its items, one page at a time."""

    def __init__(self, session: PageSession, organisation_id: int, campaign_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.campaign_id = campaign_id
        self.show = "mine"

    async def build(self) -> None:
        changes = live.LiveList(organisation_id=self.organisation_id, refresh=self.refresh, held=True)
        try:
            actor = await self.session.actor()
            found = await campaigns.campaign(actor=actor, campaign_id=self.campaign_id) if actor else None
        except DomainError as problem:
            ui.label(str(problem)).props('role="alert"')
            return
        if found is None or found.organisation_id != self.organisation_id:
            ui.label("That review does not exist or you cannot see it.").props('role="alert"')
            return
        self.viewer = ViewerZone(on_known=self.refresh)
        ui.label(found.title).classes("text-h6").props('role="heading" aria-level="2"')
        self.about = ui.label().classes("text-body1")
        self.progress = ui.linear_progress(value=0, show_value=False, size="12px").classes("q-my-sm")
        self.progress.props('aria-label="Progress of the review"')
        self.counts = ui.label().classes("text-body1").props('aria-live="polite"')
        self.locked = ui.label(LOCKED).classes("text-body1 text-weight-medium").props('role="status"')
        self.overdue = ui.label(WITH_OWNERS).classes("text-body1 text-weight-medium").props('role="status"')
        with ui.row().classes("gap-2") as self.exports:
            ui.button("Export CSV", icon="download", on_click=lambda: download(self.session, self.campaign_id, "csv"))
            ui.button("Export JSON", icon="download", on_click=lambda: download(self.session, self.campaign_id, "json"))
        for button in self.exports:
            button.props("no-caps outline color=primary")
        self.filter = ui.select(SHOWS, label="Show", value=self.show, on_change=self._switch).props("outlined dense")
        self.filter.style("width: 14rem; max-width: 100%")
        self.list = PagedTable(
            columns=[*COLUMNS, ACTIONS], fetch=self._fetch, label="Review items", sort="name", search_label="Search"
        )
        self.list.table.mark("items")
        add_row_menu(self.list.table, MENU)
        for kind in ASKS:
            self.list.table.on(kind, lambda e, kind=kind: self._decide(kind, e.args))
        self._header(found)
        await self.list.refresh()
        changes.release()

    async def refresh(self) -> None:
        found = await self.session.run(lambda a: campaigns.campaign(actor=a, campaign_id=self.campaign_id))
        if found is not None:
            self._header(found)
        await self.list.refresh()

    def _header(self, found: campaigns.CampaignRow) -> None:
        zone, progress = self.viewer.zone, found.progress
        if found.closed_at:
            when = f"finished {exact(found.closed_at, zone)}"
        elif found.overdue_at:
            when = f"overdue since {exact(found.due_at, zone)}"
        else:
            when = f"closes {exact(found.due_at, zone)}"
        self.about.text = f"{found.scope_name}. Started by {found.started_by}; {when}."
        self.progress.value = (
            round((progress.decided + progress.unanswered) / progress.total, 3) if progress.total else 1
        )
        self.counts.text = progress_words(progress) + f", {progress.open} open."
        self.locked.set_visibility(found.closed_at is not None)
        self.overdue.set_visibility(found.closed_at is None and found.overdue_at is not None)
        self.exports.set_visibility(found.closed_at is not None and found.may_export)
        if found.closed_at is not None and self.show == "mine":
            self.show = self.filter.value = "all"

    async def _switch(self, event: Any) -> None:
        self.show = str(event.value) if event.value in SHOWS else "mine"
        await self.list.refresh(page=1)

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(
            lambda a: items.items_page(
                actor=a,
                campaign_id=self.campaign_id,
                show=self.show,
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
        if self.list.table.props.get("no-data-label") != EMPTY[self.show]:
            self.list.table.props["no-data-label"] = EMPTY[self.show]
        return Fetched([self._cells(r) for r in rows], total)

    def _cells(self, r: items.ItemRow) -> dict[str, Any]:
        decided = f"{r.decision_label} by {r.decided_by}" if r.decided_by else r.decision_label
        if not r.access_live and not r.decision:
            decided = "Open: access already ended"
        return {
            "id": r.id,
            "name": r.name,
            "email": r.email,
            "role": r.role_name,
            "role_id": r.role_id,
            "scope": r.scope_name,
            "deployment_id": r.deployment_id,
            "reviewer": OWN if r.own and not r.decision else r.reviewer_name,
            "decision": decided,
            "comment": r.comment,
            "ends_at": r.ends_at.isoformat() if r.ends_at else "",
            "may_decide": r.may_decide,
            "may_decide_live": r.may_decide and r.access_live,
        }

    async def _decide(self, kind: str, row: dict[str, Any]) -> None:
        actor = await self.session.actor()
        if actor is None:
            return
        title, action = (text.format(name=row["name"]) for text in ASKS[kind])
        options: dict[int, str] = {}
        if kind == "change":
            deployment_id = row.get("deployment_id")
            scope = (
                Scope(ScopeLevel.DEPLOYMENT, self.organisation_id, int(deployment_id))
                if deployment_id
                else Scope(ScopeLevel.ORGANISATION, self.organisation_id)
            )
            held = row.get("role_id")
            options = {r.id: r.name for r in await roles.grantable(actor=actor, scope=scope) if r.id != held}
        with dialogs.disposable(title) as dialog, ui.card().classes("w-96"):
            ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
            ui.label(f"{row['role']} in {row['scope']}.")
            fields = _DecisionFields(kind, options, self.viewer)
            errors = FormErrors(fields.checked())

            async def submit() -> None:
                chosen = fields.read(errors)
                if chosen is None:
                    return
                done = await self.session.run(
                    lambda a: decisions.decide(actor=a, item_id=int(row["id"]), decision=kind, **chosen),
                    form=errors,
                )
                if done is not None:
                    dialogs.tell(done.message, waiting=done.message != decisions.RECORDED)
                    dialog.close()
                    await self.refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                button = ui.button(action, on_click=submit)
                button.props(f"no-caps color={'negative' if kind == 'remove' else 'primary'}")
                if fields.role is not None:
                    button.bind_enabled_from(fields.role, "value", backward=lambda v: v is not None)
        dialog.open()


class _DecisionFields:
    """A decision's fields: the new role (Change role), the end (Set end), and a comment for every decision."""

    def __init__(self, kind: str, options: dict[int, str], viewer: ViewerZone) -> None:
        self.kind, self.zone = kind, viewer.zone
        self.role: ui.select | None = None
        self.ends: ui.input | None = None
        if kind == "change":
            self.role = ui.select(options, label="New role").props("outlined dense").classes("w-full")
            if not options:
                ui.label("You may not hand out another role here.").classes("text-negative")
        if kind == "end":
            self.ends = ui.input("Access ends").props('outlined dense stack-label type="datetime-local"')
            self.ends.props(f'hint="In your time zone ({zone_label(self.zone)})"').classes("w-full")
        self.comment = ui.textarea("Comment (optional)").props("outlined dense autogrow maxlength=500")
        self.comment.classes("w-full")

    def checked(self) -> dict[str, ui.input]:
        """The fields a refusal may name (the new role's refusals are said in the form's alert)."""
        return {"comment": self.comment} | ({"ends_at": self.ends} if self.ends is not None else {})

    def read(self, errors: FormErrors) -> dict[str, Any] | None:
        """The decision's arguments as entered; None (the error shown at its field) when the end is no moment."""
        chosen: dict[str, Any] = {"comment": self.comment.value or ""}
        if self.role is not None:
            chosen["role_id"] = int(self.role.value) if self.role.value is not None else None
        if self.ends is not None:
            text = (self.ends.value or "").strip()
            try:
                chosen["ends_at"] = datetime.fromisoformat(text).replace(tzinfo=self.zone) if text else None
            except ValueError:
                errors.show({"ends_at": NOT_A_MOMENT})
                return None
        return chosen
