"""Access reviews (/care/reviews?org=N): the organisation's review campaigns with their progress (live), Start a
review, the deployments' review schedules (pages/review_schedules.py), and one campaign's page (?campaign=M,
pages/review_campaign.py)."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import Request
from nicegui import ui

from components import dialogs, live
from components.form_errors import FormErrors
from components.formatting import day, zone_label
from components.frame import LANGUAGE, frame
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from components.viewer_zone import ViewerZone
from pages.review_campaign import CampaignView, download, progress_words, status_words
from pages.review_schedules import DeploymentSchedules
from services.access import rights
from services.access.service import Actor
from services.errors import FieldErrors
from services.reviews import campaigns

TITLE = "Access reviews"
REFUSED = campaigns.SEE_REFUSED
DEFAULT_DAYS = 14
COLUMNS: list[dict[str, Any]] = [
    {"name": "title", "label": "Review", "field": "title", "align": "left"},
    {"name": "scope", "label": "Scope", "field": "scope", "align": "left"},
    {"name": "started", "label": "Started", "field": "started", "align": "left"},
    {"name": "progress", "label": "Progress", "field": "progress", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
MENU = [
    MenuItem("open", "Open review"),
    MenuItem("export_csv", "Export CSV", only_if="may_export"),
    MenuItem("export_json", "Export JSON", only_if="may_export"),
]
NONE_YET = "No review has been started here yet. Use Start a review to begin one."
NOT_A_DAY = "Enter a date, like 2027-03-31."


def create() -> None:
    """Register /care/reviews."""

    @ui.page("/care/reviews", language=LANGUAGE)
    async def reviews_page(request: Request, org: int = 0, campaign: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            if campaign:
                ui.link("← All access reviews", f"/care/reviews?org={org}")
            else:
                ui.link("← Back to the Care Portal", f"/care?org={org}")
            if not rights.may_review_access(actor=actor, organisation_id=org):
                ui.label(REFUSED).props('role="alert"')
                return
            if campaign:
                await CampaignView(session, org, campaign).build()
            else:
                await _ReviewList(session, org).build(actor)


class _ReviewList:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def build(self, actor: Actor) -> None:
        places = await campaigns.places(actor=actor, organisation_id=self.organisation_id)
        if places:
            ui.button("Start a review", icon="add", on_click=lambda: self._start(places)).props(
                "no-caps color=primary"
            ).classes("q-my-sm")
        self.list = PagedTable(columns=COLUMNS, fetch=self._fetch, label="Review campaigns", sort="started")
        self.list.table.mark("reviews")
        self.list.table.props["no-data-label"] = NONE_YET
        add_row_menu(self.list.table, MENU, name_field="title")
        self.list.table.on("open", lambda e: ui.navigate.to(self._path(e.args)))
        self.list.table.on("export_csv", lambda e: self._export(e.args, "csv"))
        self.list.table.on("export_json", lambda e: self._export(e.args, "json"))
        self.viewer = ViewerZone(on_known=self.list.refresh)
        self.schedules = DeploymentSchedules(self.session, self.organisation_id)
        self.schedules.build()
        changes = live.LiveList(organisation_id=self.organisation_id, refresh=self._refresh, held=True)
        await self._refresh()
        changes.release()

    async def _refresh(self) -> None:
        await self.list.refresh()
        await self.schedules.refresh()

    def _path(self, row: dict[str, Any]) -> str:
        return f"/care/reviews?org={self.organisation_id}&campaign={int(row['id'])}"

    async def _export(self, row: dict[str, Any], file_format: str) -> None:
        await download(self.session, int(row["id"]), file_format)

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        found = await self.session.run(
            lambda a: campaigns.campaigns_page(
                actor=a,
                organisation_id=self.organisation_id,
                search=request.search,
                page=request.page,
                page_size=request.page_size,
            )
        )
        if found is None:
            return None
        rows, total = found
        zone = self.viewer.zone
        return Fetched(
            [
                {
                    "id": r.id,
                    "title": r.title,
                    "scope": r.scope_name,
                    "started": f"{day(r.started_at.astimezone(zone))} by {r.started_by}",
                    "progress": progress_words(r.progress),
                    "status": status_words(r, zone),
                    "may_export": r.may_export and r.closed_at is not None,  # a finished review's record
                }
                for r in rows
            ],
            total,
        )

    def _start(self, places: list[tuple[Any, str]]) -> None:
        zone = self.viewer.zone
        options = {n: label for n, (_, label) in enumerate(places)}
        first_day = datetime.now(UTC).astimezone(zone).date() + timedelta(days=DEFAULT_DAYS)
        with dialogs.disposable("Start a review") as dialog, ui.card().classes("w-96"):
            ui.label("Start a review").classes("text-h6").props('role="heading" aria-level="2"')
            ui.label("Every access held there becomes an item for its sponsor, or for whoever holds Review access.")
            title = ui.input("Title", value=f"Access review, {datetime.now(UTC):%B %Y}")
            title.props("outlined dense autofocus maxlength=120").classes("w-full")
            place = ui.select(options, label="Scope", value=0).props("outlined dense").classes("w-full")
            deadline = ui.input("Deadline", value=first_day.isoformat()).classes("w-full")
            deadline.props(f'outlined dense stack-label type="date" hint="The end of that day, {zone_label(zone)}"')
            errors = FormErrors({"title": title, "due_at": deadline})

            async def start() -> None:
                try:
                    due_at = _end_of(deadline.value, zone)
                except FieldErrors as problem:
                    errors.show(problem.fields)
                    return
                scope = places[int(place.value or 0)][0]
                started = await self.session.run(
                    lambda a: campaigns.start_campaign(
                        actor=a,
                        organisation_id=self.organisation_id,
                        deployment_id=scope.deployment_id,
                        title=title.value or "",
                        due_at=due_at,
                    ),
                    form=errors,
                )
                if started is not None:
                    ui.navigate.to(self._path({"id": started}))  # first: closing deletes the dialog and this slot
                    dialog.close()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Start review", on_click=start).props("no-caps color=primary")
        dialog.open()


def _end_of(text: str | None, zone: Any) -> datetime:
    """The end of the day entered (a date, in the viewer's zone); FieldErrors at the deadline when it is none."""
    try:
        chosen = date.fromisoformat((text or "").strip())
    except ValueError:
        raise FieldErrors({"due_at": NOT_A_DAY}) from None
    return datetime.combine(chosen, time(23, 59), tzinfo=zone)
