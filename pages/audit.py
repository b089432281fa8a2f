"""Audit log: who did what, where and when in an organisation (or, in the Admin Portal, at the platform); filter by
actor, action and date."""

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from components import formatting
from components.frame import LANGUAGE, care_page_top, frame
from components.paged_table import Fetched, PagedTable, PageRequest
from components.session import PageSession
from components.viewer_zone import ViewerZone
from services.access import rights
from services.audit import service as audit

COLUMNS: list[dict[str, Any]] = [
    {"name": "at", "label": "When", "field": "at", "align": "left"},
    {"name": "actor", "label": "Who", "field": "actor", "align": "left"},
    {"name": "sentence", "label": "What happened", "field": "sentence", "align": "left"},
    {"name": "outcome", "label": "Outcome", "field": "outcome", "align": "left"},
]
NOTHING_YET = "Nothing has been recorded in this organisation yet."
NOTHING_AT_PLATFORM = "Nothing has been recorded at the platform yet."
NOTHING_MATCHES = "No event matches these filters. Clear them to see every event."


def create() -> None:
    """Register /care/audit."""

    @ui.page("/care/audit", language=LANGUAGE)
    async def audit_page(request: Request, org: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Audit log", actor, session_token=session.token):
            allowed = rights.may_read_audit(actor=actor, organisation_id=org)
            if not care_page_top(org, allowed=allowed, refused=audit.READ_REFUSED):
                return
            await AuditView(session, org).build()


class AuditView:
    """An organisation's events, with exports and the evidence pack; organisation_id None: the platform's events
    (services/audit.events_page with no organisation), for the Admin Portal."""

    events_table: PagedTable

    def __init__(self, session: PageSession, organisation_id: int | None) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def build(self) -> None:
        with ui.row().classes("items-end gap-2"):
            self.action = ui.select({"": "Any action", **audit.ACTIONS}, value="", label="Action")
            self.action.props("outlined dense").style("width: 16rem; max-width: 100%").on_value_change(
                lambda: self.events_table.refresh(page=1)
            )
            self.since = ui.input("From (YYYY-MM-DD)").props("outlined dense type=date")
            self.until = ui.input("To (YYYY-MM-DD)").props("outlined dense type=date")
            for field in (self.since, self.until):
                field.on_value_change(lambda: self.events_table.refresh(page=1))
        self.zone_note = ui.label(_zone_note(UTC)).classes("text-body2 q-mt-sm").mark("zone")
        self.events_table = PagedTable(
            columns=COLUMNS,
            fetch=self._fetch,
            label="Audit events",
            sort="at",
            descending=True,
            search_label="Who (email)",
        )
        self.events_table.table.mark("audit")
        if self.organisation_id is not None:  # under the events they export, the filters above them all
            self._exports()
        self.viewer = ViewerZone(on_known=self._zone_known)
        await self.events_table.refresh()

    def _exports(self) -> None:
        with ui.row().classes("items-center gap-2 q-mt-sm"):
            ui.label("Export these events:").classes("text-body2")
            for fmt in ("csv", "json"):
                ui.button(f"{fmt.upper()}", icon="download", on_click=lambda f=fmt: self._export_log(f)).props(
                    f'flat no-caps aria-label="Export these audit events as {fmt.upper()}"'
                ).mark(f"export-log-{fmt}")
        self._evidence_pack()

    def _evidence_pack(self) -> None:
        with (
            ui.expansion("Evidence pack: who had access, how it was given, reviewed and removed")
            .classes("w-full q-mt-sm")
            .props("dense")
        ):
            ui.label(
                "One line per role each grant held at any moment of the period (all of them when no dates are "
                "given): member, role and when they held it, place, sponsor, who gave that role and who approved it, "
                "when granted, its end, last review, last log-in, how it ended; and one line per grant each "
                "suspension in the period stopped. Platform staff (Super Admin, Platform Support) are listed too, "
                "their place “Platform (every organisation)”: they can reach every organisation's data. "
                "Time-to-revoke: seconds from when access should have stopped "
                "to the last request that still succeeded (0: none after the stop). Dates are UTC days."
            ).classes("text-body2")
            with ui.row().classes("items-end gap-2"):
                since = ui.input("Pack from (YYYY-MM-DD)").props("outlined dense type=date").mark("pack-since")
                until = ui.input("Pack to (YYYY-MM-DD)").props("outlined dense type=date").mark("pack-until")
                for fmt in ("csv", "json"):
                    ui.button(
                        f"Export {fmt.upper()}",
                        icon="download",
                        on_click=lambda f=fmt: self._download("evidence", f, since=since.value, until=until.value),
                    ).props(f'no-caps outline aria-label="Export the evidence pack as {fmt.upper()}"').mark(
                        f"export-pack-{fmt}"
                    )

    def _export_log(self, fmt: str) -> None:
        who = str(self.events_table.search.value or "")
        self._download(
            "audit", fmt, since=self.since.value, until=self.until.value, action=str(self.action.value or ""), who=who
        )

    def _download(self, what: str, fmt: str, **filters: str) -> None:
        query = urlencode({"org": self.organisation_id, **{k: v for k, v in filters.items() if v}})
        ui.download.from_url(f"/care/export/{what}.{fmt}?{query}")

    async def _zone_known(self) -> None:
        self.zone_note.text = _zone_note(self.viewer.zone)
        await self.events_table.refresh()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        since, until = _day(self.since.value), _day(self.until.value)
        if until is not None:
            until += timedelta(days=1)
        found = await self.session.run(
            lambda a: audit.events_page(
                actor=a,
                organisation_id=self.organisation_id,
                actor_email=request.search,
                action=str(self.action.value or ""),
                since=since,
                until=until,
                page=request.page,
                page_size=request.page_size,
            )
        )
        if found is None:
            return None
        rows, total = found
        filtered = bool(request.search or self.action.value or since or until)
        empty = NOTHING_MATCHES if filtered else NOTHING_YET if self.organisation_id else NOTHING_AT_PLATFORM
        if self.events_table.table.props.get("no-data-label") != empty:
            self.events_table.table.props["no-data-label"] = empty
        return Fetched(
            [
                {
                    "id": f"{r.at.isoformat()}-{i}",
                    "at": formatting.exact(r.at, self.viewer.zone, seconds=True),
                    "actor": r.actor,
                    "action": r.action,
                    "outcome": r.outcome,
                    "sentence": r.sentence,
                }
                for i, r in enumerate(rows)
            ],
            total,
        )


def _zone_note(zone: tzinfo) -> str:
    return f"Times are shown in {formatting.zone_label(zone)}."


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
