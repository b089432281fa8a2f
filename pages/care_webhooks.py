"""Care Portal: Webhooks (issue 20 item 4). Holders of manage integrations add HTTPS endpoints for chosen events (the
signing secret shown once), switch them off and on, delete them, send a test event and read each one's delivery log.
Live: deliveries and changes made elsewhere appear without reloading."""

from typing import Any

from fastapi import Request
from nicegui import ui

from components import dialogs, formatting, live
from components.form_errors import FormErrors
from components.frame import LANGUAGE, care_page_top, frame
from components.session import PageSession
from services.webhooks import endpoints
from services.webhooks.endpoints import DeliveryRow, EndpointRow
from services.webhooks.outbox import EventType

TITLE = "Webhooks"
NOTE = (
    "Gatehouse posts the events you choose to your endpoint, signed per the Standard Webhooks convention "
    "(headers webhook-id, webhook-timestamp and webhook-signature, HMAC-SHA256 with the endpoint's secret). "
    "A delivery that fails is retried with growing pauses for about a day."
)
SHOWN_ONCE = "Copy this signing secret now: it is not shown again. Your receiver verifies each request with it."
EVENT_LABELS = {
    EventType.INVITATION_SENT: "Invitation sent",
    EventType.INVITATION_FAILED: "Invitation email failed",
    EventType.INVITATION_ACCEPTED: "Invitation accepted",
    EventType.INVITATION_EXPIRED: "Invitation expired",
    EventType.INVITATION_DELETED: "Invitation deleted",
    EventType.MEMBER_ROLE_CHANGED: "Member's role changed",
    EventType.MEMBER_REMOVED: "Member removed",
    EventType.MEMBER_ACCESS_ENDED: "Member's access ended",
}
STATES = {"queued": "Waiting", "sending": "Sending", "sent": "Delivered", "failed": "Failed"}
LOG_COLUMNS: list[dict[str, Any]] = [
    {"name": "event", "label": "Event", "field": "event", "align": "left"},
    {"name": "state", "label": "State", "field": "state", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left"},
    {"name": "attempts", "label": "Attempts", "field": "attempts", "align": "right"},
    {"name": "time", "label": "Time", "field": "time", "align": "left"},
]


def create() -> None:
    """Register /care/webhooks."""

    @ui.page("/care/webhooks", language=LANGUAGE)
    async def webhooks_page(request: Request, org: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            allowed = endpoints.may_manage(actor, organisation_id=org)
            if not care_page_top(org, allowed=allowed, refused=endpoints.REFUSED):
                return
            page = _WebhooksPage(session, org)
            changes = live.LiveList(organisation_id=org, refresh=page.refresh, held=True)
            await page.build()
            changes.release()


class _WebhooksPage:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id

    async def build(self) -> None:
        ui.label(NOTE).classes("text-body2")
        with ui.card().classes("w-full").props('role="region" aria-label="Add an endpoint"'):
            ui.label("Add an endpoint").classes("text-h6").props('role="heading" aria-level="2"')
            self.url = ui.input("Endpoint URL (https://…)").props("outlined dense").classes("w-full").mark("url")
            self.description = ui.input("Description (optional)").props("outlined dense").classes("w-full")
            heading = ui.label("Events to send").classes("text-body1")
            with ui.row().classes("w-full gap-4").props(f'role="group" aria-labelledby="{heading.html_id}"'):
                self.events = {
                    t.value: ui.checkbox(label).mark(f"event-{t.value}") for t, label in EVENT_LABELS.items()
                }
            self.errors = FormErrors({"url": self.url, "description": self.description})
            ui.button("Add endpoint", on_click=self._add).props("no-caps color=primary").mark("add")
            self.secret = ui.column().classes("w-full")
        self.list = ui.column().classes("w-full gap-4")
        await self.refresh()

    async def refresh(self) -> None:
        found = await self.session.run(lambda a: endpoints.listed(actor=a, organisation_id=self.organisation_id))
        if found is None:
            return
        logs = {row.id: await self._log(row.id) for row in found}
        self.list.clear()
        with self.list:
            ui.label("Endpoints").classes("text-h6").props('role="heading" aria-level="2"')
            if not found:
                ui.label("No endpoint yet.")
            for row in found:
                self._endpoint(row, logs.get(row.id) or [])

    async def _log(self, endpoint_id: int) -> list[DeliveryRow] | None:
        return await self.session.run(lambda a: endpoints.deliveries(actor=a, endpoint_id=endpoint_id))

    async def _add(self) -> None:
        chosen = [key for key, box in self.events.items() if box.value]
        added = await self.session.run(
            lambda a: endpoints.register(
                actor=a,
                organisation_id=self.organisation_id,
                url=self.url.value or "",
                event_types=chosen,
                description=self.description.value or "",
            ),
            form=self.errors,
        )
        if added is None:
            return
        secret, row = added
        self.url.value = self.description.value = ""
        for box in self.events.values():
            box.value = False
        self.secret.clear()
        with self.secret, ui.column().classes("w-full").props('role="status"'):
            ui.label(f"Endpoint added: {row.url}. {SHOWN_ONCE}")
            ui.input("Signing secret", value=secret).props("outlined dense readonly").classes("w-full").mark("secret")
        await self.refresh()

    def _endpoint(self, row: EndpointRow, log: list[DeliveryRow]) -> None:
        with ui.card().classes("w-full").props(f'role="region" aria-label="Endpoint {row.url}"'):
            ui.label(row.url).classes("text-body1 text-weight-medium").style("overflow-wrap: anywhere")
            if row.description:
                ui.label(row.description)
            state = "Enabled" if row.enabled else "Disabled"
            events = ", ".join(EVENT_LABELS.get(EventType(t), t) for t in row.event_types)
            ui.label(f"{state} · Events: {events} · Added by {row.created_by or 'someone no longer here'}")
            with ui.row().classes("gap-2"):
                ui.button("Send test event", on_click=lambda: self._test(row)).props("no-caps outline")
                toggle = "Enable" if not row.enabled else "Disable"
                ui.button(toggle, on_click=lambda: self._toggle(row)).props("no-caps outline")
                ui.button("Delete", on_click=lambda: self._delete(row)).props("no-caps outline color=negative")
            table = ui.table(columns=LOG_COLUMNS, rows=[_log_row(d) for d in log], row_key="id", title="Delivery log")
            table.props(f'flat dense no-data-label="No deliveries yet." aria-label="Delivery log of {row.url}"')
            table.classes("w-full").mark(f"log-{row.id}")

    async def _test(self, row: EndpointRow) -> None:
        if await self.session.run(lambda a: endpoints.send_test(actor=a, endpoint_id=row.id)):
            ui.notify("Test event queued.", type="positive")
            await self.refresh()

    async def _toggle(self, row: EndpointRow) -> None:
        await self.session.run(
            lambda a: endpoints.set_enabled(actor=a, endpoint_id=row.id, enabled=not row.enabled),
            success="Endpoint enabled." if not row.enabled else "Endpoint disabled.",
        )
        await self.refresh()

    def _delete(self, row: EndpointRow) -> None:
        async def go() -> bool:
            await self.session.run(lambda a: endpoints.delete(actor=a, endpoint_id=row.id), success="Endpoint deleted.")
            await self.refresh()
            return True

        dialogs.confirm(
            title="Delete this endpoint?",
            message=f"{row.url} gets no more events, and its delivery log is deleted.",
            action="Delete",
            on_confirm=go,
        )


def _log_row(d: DeliveryRow) -> dict[str, Any]:
    state = STATES.get(d.state, d.state)
    return {
        "id": d.id,
        "event": d.event_type,
        "state": f"{state}: {d.error}" if d.error and d.state != "sent" else state,
        "status": str(d.status) if d.status is not None else "—",
        "attempts": d.attempts,
        "time": formatting.exact(d.sent_at or d.created_at, seconds=True),
    }
