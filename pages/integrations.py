"""Care Portal: Integrations, the organisation's API tokens: make one (shown once), list them live, revoke one."""

from datetime import datetime
from typing import Any

from fastapi import Request
from nicegui import ui

from components import dialogs, formatting, live
from components.form_errors import FormErrors
from components.frame import LANGUAGE, care_page_top, frame
from components.paged_table import Fetched, PagedTable, PageRequest
from components.row_menu import MenuItem, add_row_menu
from components.session import PageSession
from services.integrations import token_places, tokens
from services.integrations.token_places import TokenPlace
from services.platform.clock import now

TITLE = "Integrations"
DEFAULT_DAYS = "90"
SHOWN_ONCE = (
    "Copy this token now and keep it in your integration's secret store: it is shown only this once and cannot be "
    "seen again. Anyone who has it can act with its permissions until it expires or is revoked."
)
NO_TOKENS = "No API token has been made for this organisation yet."
DEFAULT_ROLE = "Role for users your identity provider creates without one (SCIM)"
NO_DEFAULT = "None: refuse such users"
COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": "Name", "field": "name", "align": "left"},
    {"name": "prefix", "label": "Starts with", "field": "prefix", "align": "left"},
    {"name": "place", "label": "Where", "field": "place", "align": "left"},
    {"name": "permissions", "label": "Permissions", "field": "permissions", "align": "left"},
    {"name": "default_role", "label": "Role for users created without one", "field": "default_role", "align": "left"},
    {"name": "created_by", "label": "Created by", "field": "created_by", "align": "left"},
    {"name": "created", "label": "Created", "field": "created", "align": "left"},
    {"name": "expires", "label": "Expires", "field": "expires", "align": "left"},
    {"name": "last_used", "label": "Last used", "field": "last_used", "align": "left"},
    {"name": "state", "label": "State", "field": "state", "align": "left"},
    {"name": "actions", "label": "Actions", "field": "id"},
]
MENU = [MenuItem("revoke", "Revoke…", unless="revoked")]


def create() -> None:
    """Register /care/integrations."""

    @ui.page("/care/integrations", language=LANGUAGE)
    async def integrations_page(request: Request, org: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            places = await token_places.places(actor=actor, organisation_id=org)
            if not care_page_top(org, allowed=bool(places), refused=tokens.REFUSED):
                return
            page = _TokensPage(session, org, places)
            changes = live.LiveList(organisation_id=org, refresh=page.refresh, held=True)
            await page.refresh()
            changes.release()


class _TokensPage:
    def __init__(self, session: PageSession, organisation_id: int, places: list[TokenPlace]) -> None:
        self.session = session
        self.organisation_id = organisation_id
        self.places = {index: place for index, place in enumerate(places)}
        with ui.card().classes("w-full q-mb-md").props("flat bordered"):
            ui.label("Make an API token").classes("text-h6").props('role="heading" aria-level="2"')
            self._form()
        ui.label("API tokens").classes("text-h6").props('role="heading" aria-level="2"')
        self.list = PagedTable(columns=COLUMNS, fetch=self._fetch, label="API tokens", sort="created", descending=True)
        self.list.table.mark("tokens")
        self.list.table.props["no-data-label"] = NO_TOKENS
        add_row_menu(self.list.table, MENU, name_field="name")
        self.list.table.on("revoke", lambda e: self._revoke(int(e.args["id"]), str(e.args["name"])))

    def _form(self) -> None:
        self.name = ui.input("Name (what uses it, such as Entra ID provisioning)").props("outlined dense maxlength=80")
        self.name.classes("w-full").style("max-width: 36rem").mark("token-name")
        labels = {index: place.label for index, place in self.places.items()}
        self.place = ui.select(labels, label="Where it acts", value=0, on_change=self._show_permissions)
        self.place.props("outlined dense").classes("w-full").style("max-width: 36rem").mark("token-place")
        self.permissions_group = ui.row().classes("w-full gap-4").props('role="group" aria-label="What it may do"')
        self.boxes: dict[str, ui.checkbox] = {}
        self.default_role = ui.select({0: NO_DEFAULT}, label=DEFAULT_ROLE, value=0).mark("token-default-role")
        self.default_role.props("outlined dense").classes("w-full").style("max-width: 36rem")
        self._show_permissions()
        self.days = ui.input("Expires after (days)", value=DEFAULT_DAYS).mark("token-days")
        self.days.props(f'outlined dense inputmode="numeric" hint="From 1 to {tokens.LONGEST_DAYS} days"')
        self.days.style("width: 16rem; max-width: 100%")
        # a permissions problem: in the form's alert
        self.errors = FormErrors({"name": self.name, "days": self.days, "default_role": self.default_role})
        ui.button("Make token", on_click=self._make).props("no-caps color=primary").classes("q-mt-sm")

    def _show_permissions(self) -> None:
        place = self.places[int(self.place.value or 0)]
        self.permissions_group.clear()
        with self.permissions_group:
            ui.label("What it may do:").classes("text-body2 w-full")
            self.boxes = {key: ui.checkbox(label).mark(f"permission-{key}") for key, label in place.permissions.items()}
        self.default_role.set_options({0: NO_DEFAULT, **place.roles}, value=0)

    async def _make(self) -> None:
        place = self.places[int(self.place.value or 0)]
        chosen = [key for key, box in self.boxes.items() if box.value]
        made = await self.session.run(
            lambda a: tokens.create(
                actor=a,
                organisation_id=self.organisation_id,
                deployment_id=place.deployment_id,
                name=self.name.value or "",
                permissions=chosen,
                days=_days(self.days.value),
                default_role_id=int(self.default_role.value or 0) or None,
            ),
            form=self.errors,
        )
        if made is None:
            return
        raw, row = made
        self.name.value = ""
        for box in self.boxes.values():
            box.value = False
        self.default_role.value = 0
        _show_once(raw, row.name)
        await self.refresh()

    async def refresh(self) -> None:
        await self.list.refresh()

    async def _fetch(self, request: PageRequest) -> Fetched | None:
        rows = await self.session.run(lambda a: tokens.listed(actor=a, organisation_id=self.organisation_id))
        if rows is None:
            return None
        at = now()
        start = (request.page - 1) * request.page_size
        return Fetched([_row(r, at) for r in rows[start : start + request.page_size]], len(rows))

    def _revoke(self, token_id: int, name: str) -> None:
        async def go() -> bool:
            revoked = await self.session.run(lambda a: tokens.revoke(actor=a, token_id=token_id))
            if revoked is None:
                return False
            ui.notify(f"Revoked: {revoked}. Calls made with it are refused from now on.", type="positive")
            await self.refresh()
            return True

        dialogs.confirm(
            title=f"Revoke the token “{name}”?",
            message="Whatever uses it stops working at once, everywhere. This cannot be undone.",
            action="Revoke",
            on_confirm=go,
        )


def _show_once(raw: str, name: str) -> None:
    title = f"Your new token “{name}”"
    with dialogs.disposable(title) as dialog, ui.card().classes("w-full").style("max-width: 40rem"):
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(SHOWN_ONCE).props('role="alert"').classes("text-body1 text-negative")
        field = ui.input("API token", value=raw).props("outlined dense readonly").classes("w-full").mark("new-token")
        field.props["aria-readonly"] = "true"
        with ui.row().classes("w-full justify-end"):
            ui.button("Copy token", icon="content_copy", on_click=lambda: _copy(raw)).props("no-caps outline autofocus")
            ui.button("I have copied it", on_click=dialog.close).props("no-caps color=primary")
    dialog.props("persistent")
    dialog.open()


def _copy(raw: str) -> None:
    ui.clipboard.write(raw)
    ui.notify("Copied to the clipboard.", type="positive")


def _row(r: tokens.TokenRow, at: datetime) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "prefix": f"{r.prefix}…",
        "place": r.place,
        "permissions": ", ".join(r.permissions),
        "default_role": r.default_role or "None",
        "created_by": r.created_by,
        "created": formatting.relative(r.created_at, at),
        "expires": formatting.day(r.expires_at),
        "last_used": formatting.relative(r.last_used_at, at) if r.last_used_at else "Never",
        "state": "Revoked" if r.revoked else ("Expired" if r.expires_at <= at else "Active"),
        "revoked": r.revoked,
    }


def _days(value: str | None) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return 0
