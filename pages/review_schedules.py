"""The Reviews page's *Deployment review schedules*: the organisation's deployments the viewer reviews or may
schedule, each with its own schedule or the organisation's, changed in a small dialog by those allowed (its admins,
or whoever may change the organisation's access settings; services/reviews/deployment_schedules.py)."""

from typing import Any

from nicegui import ui

from components import dialogs
from components.data_table import DataTable
from components.form_errors import FormErrors
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from services.access.service import Actor
from services.errors import InvalidInput
from services.organisations import access_settings
from services.platform.words import count
from services.reviews import deployment_schedules as schedules
from services.reviews.deployment_schedules import DeploymentSchedule

HEADING = "Deployment review schedules"
NOTE = (
    "A deployment has the organisation's review schedule unless it has its own. With its own, the organisation's "
    "scheduled reviews leave that deployment's access out, so nothing is reviewed on two schedules. Its own schedule "
    "can be more frequent than the organisation's, never less."
)
EVERY = "Review all access every (days)"
PRIVILEGED = "Review privileged roles every (days)"
OWN = "Give it its own schedule"
COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Deployment", "field": "name", "align": "left"},
    {"name": "schedule", "label": "Review schedule", "field": "schedule", "align": "left"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
MENU = [MenuItem("change_schedule", "Change schedule", only_if="may_change")]


class DeploymentSchedules:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.found: dict[int, DeploymentSchedule] = {}

    def build(self) -> None:
        """The part, hidden until refresh finds a deployment the viewer may see."""
        with ui.column().classes("w-full q-mt-lg") as self.part:
            heading = ui.label(HEADING).classes("text-h6").props('role="heading" aria-level="2"')
            ui.label(NOTE).classes("text-body2")
            self.table = DataTable(columns=COLUMNS, rows=[], row_key="id").classes("w-full").mark("schedules")
            self.table.props(f'flat bordered dense aria-labelledby="{heading.html_id}"')
            add_row_menu(self.table, MENU)
            self.table.on("change_schedule", lambda e: self._change(int(e.args["id"])))
        self.part.set_visibility(False)

    async def refresh(self) -> None:
        """Read the schedules again (the page's live refresh)."""
        read = await self.session.run(self._read)
        if read is None:
            return
        found, settings = read
        self.found = {s.deployment_id: s for s in found}
        rows = [_row(s, settings) for s in found]
        if rows != self.table.rows:
            self.table.rows = rows
            self.table.update()
        self.part.set_visibility(bool(rows))

    async def _read(self, actor: Actor) -> tuple[list[DeploymentSchedule], access_settings.AccessSettings]:
        found = await schedules.schedules(actor=actor, organisation_id=self.organisation_id)
        return found, await access_settings.settings_of(organisation_id=self.organisation_id)

    def _change(self, deployment_id: int) -> None:
        current = self.found.get(deployment_id)
        if current is None or not current.may_change:
            return
        title = f"Review schedule of {current.name}"
        with dialogs.disposable(title) as dialog, ui.card().classes("w-96"):
            ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
            own = ui.checkbox(OWN, value=current.own)
            every = ui.input(EVERY, value=str(current.review_every_days or ""))
            privileged = ui.input(PRIVILEGED, value=str(current.privileged_review_days or ""))
            for field in (every, privileged):
                field.props('outlined dense inputmode="numeric"').classes("w-full").bind_enabled_from(own, "value")
            ui.label("Unticked: the organisation's schedule covers it.").classes("text-body2")
            errors = FormErrors({"review_every_days": every, "privileged_review_days": privileged})

            async def save() -> None:
                wanted: dict[str, int | None] = {"review_every_days": None, "privileged_review_days": None}
                if own.value:
                    problems: dict[str, str] = {}
                    for name, field in (("review_every_days", every), ("privileged_review_days", privileged)):
                        try:
                            wanted[name] = access_settings.parse_days(field.value or "")
                        except InvalidInput as problem:
                            problems[name] = str(problem)
                    if problems:
                        errors.show(problems)
                        return
                saved = await self.session.run(
                    lambda a: schedules.set_schedule(actor=a, deployment_id=deployment_id, **wanted),
                    form=errors,
                    success="Review schedule saved.",
                )
                if saved is not None:
                    dialog.close()
                    await self.refresh()

            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Save schedule", on_click=save).props("no-caps color=primary")
        dialog.open()


def _row(s: DeploymentSchedule, settings: access_settings.AccessSettings) -> dict[str, Any]:
    if s.own:
        said = f"Its own: {_periods(s.review_every_days or 0, s.privileged_review_days or 0)}"
    else:
        said = f"The organisation's: {_periods(settings.review_every_days, settings.privileged_review_days)}"
    return {"id": s.deployment_id, "name": s.name, "schedule": said, "may_change": s.may_change}


def _periods(every: int, privileged: int) -> str:
    whole = f"all access every {count(every, 'day')}" if every else "no scheduled reviews of all access"
    return f"{whole}; privileged roles every {count(privileged, 'day')}" if privileged else whole
