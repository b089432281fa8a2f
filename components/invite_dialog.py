"""The Invite staff pop-out, shared by the Admin Portal and the Care Portal."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import events, ui

from components.dialogs import disposable
from components.email_chips import EmailChips
from components.formatting import count
from services.invitations.csv_import import ImportResult
from services.invitations.service import EXPIRY_CHOICES, SendResult

DEFAULT_EXPIRY = 72
MAX_CSV_BYTES = 10 * 1024 * 1024
PROBLEMS_SHOWN = 50
TOO_LARGE = "That file is larger than 10 MB: split it into smaller files."
UPLOAD_REFUSED = {
    413: TOO_LARGE,
    403: "Your session has ended: sign in again, then import the file.",
}
UPLOAD_FAILED = "The file could not be uploaded. Try again."
# The uploader's own header has an unnamed icon button wrapping an unlabelled file input (axe: critical). This one
# has a named button that opens the file chooser (Enter or Space from the keyboard), and keeps the input out of the
# accessibility tree; the card below it still takes a dropped file.
UPLOAD_HEADER = """
<div class="q-uploader__header-content row items-center no-wrap q-gutter-xs">
  <q-btn v-if="props.canAddFiles" flat no-caps icon="upload_file" label="Import csv file" @click="props.pickFiles" />
  <q-spinner v-if="props.isUploading" class="q-uploader__spinner" aria-label="Uploading the file" />
  <q-uploader-add-trigger class="hidden" />
</div>
"""

SendHandler = Callable[[list[str], int, int, int], Awaitable[SendResult | None]]
ImportHandler = Callable[[bytes, int], Awaitable[tuple[ImportResult, list[str]] | None]]


@dataclass(frozen=True)
class RoleChoice:
    id: int
    name: str


@dataclass(frozen=True)
class ScopeChoice:
    """Where the invitations would apply, with the roles the user may hand out there."""

    label: str
    roles: list[RoleChoice]


def open_invite_dialog(
    *, title: str, scopes: list[ScopeChoice], on_send: SendHandler, on_import: ImportHandler | None = None
) -> ui.dialog:
    """Open the pop-out: addresses, (where,) role, expiry, and Send invites, enabled only when it can send.

    on_send receives (addresses, role id, lifetime hours, index of the chosen scope).
    """
    dialog = disposable("Invite staff")  # QDialog itself is the role="dialog", aria-modal element
    with dialog, ui.card().classes("w-full max-w-xl"):
        _InviteForm(dialog, title, scopes, on_send, on_import)
    dialog.open()
    return dialog


class _InviteForm:
    def __init__(
        self,
        dialog: ui.dialog,
        title: str,
        scopes: list[ScopeChoice],
        on_send: SendHandler,
        on_import: ImportHandler | None,
    ) -> None:
        self.scopes = scopes
        self.on_send = on_send
        self.on_import = on_import
        self.sending = False
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        self.chips = EmailChips(on_change=self._update_button)
        self.chips.input.props("autofocus")  # opened from a menu by keyboard, typing goes straight to the addresses
        if on_import is not None:
            self._import_control()
        where_options = {index: scope.label for index, scope in enumerate(scopes)}
        self.where = ui.select(where_options, label="Where", value=0 if scopes else None).props("outlined dense")
        self.where.classes("w-full").on_value_change(self._scope_changed).set_visibility(len(scopes) > 1)
        self.role = ui.select({}, label="Role").props("outlined dense").classes("w-full")
        self.role.on_value_change(self._update_button)
        self.no_roles = ui.label("You may not hand out any role here.").classes("text-negative")
        self.expiry = ui.select(EXPIRY_CHOICES, label="Link expires after", value=DEFAULT_EXPIRY)
        self.expiry.props("outlined dense").classes("w-full")
        self.report = ui.column().classes("w-full gap-1").props('role="status" aria-live="polite"')
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Close", on_click=dialog.close).props("flat no-caps")
            self.send_button = ui.button("Send invites", on_click=self._send).props("no-caps color=primary")
        self._scope_changed()

    def _scope_changed(self) -> None:
        roles = self.scopes[self.where.value].roles if self.where.value is not None else []
        self.role.set_options({role.id: role.name for role in roles}, value=roles[0].id if len(roles) == 1 else None)
        self.no_roles.set_visibility(not roles)
        self._update_button()

    def _update_button(self) -> None:
        ready = bool(self.chips.valid_addresses) and self.role.value is not None and not self.sending
        self.send_button.set_enabled(ready)

    async def _send(self) -> None:
        if self.sending or not self.chips.valid_addresses or self.role.value is None:
            return
        self.sending = True
        self._update_button()
        try:
            result = await self.on_send(
                self.chips.valid_addresses, int(self.role.value), int(self.expiry.value), int(self.where.value or 0)
            )
        finally:
            self.sending = False
        if result is not None:
            self.chips.clear()
            self._show_result(result)
            # Send invites is disabled now: keep the keyboard focus in the pop-out, ready for more addresses.
            self.chips.input.run_method("focus")
        self._update_button()

    def _show_result(self, result: SendResult) -> None:
        self.report.clear()
        sections = (
            ("Invited", result.invited),
            ("Replaced a pending invitation", result.replaced),
            ("Already in this organisation: role added, notice sent", result.role_added),
            ("Already had this role", result.already_had_role),
            ("Invalid", [f"{address} ({reason})" for address, reason in result.invalid]),
        )
        with self.report:
            for heading, addresses in sections:
                if addresses:
                    ui.label(f"{heading} ({len(addresses):,})").classes("text-subtitle2")
                    more = f" and {len(addresses) - 20:,} more" if len(addresses) > 20 else ""
                    ui.label(", ".join(addresses[:20]) + more).classes("text-body2 break-all")

    def _import_control(self) -> None:
        async def handle(event: events.UploadEventArguments) -> None:
            assert self.on_import is not None
            data = await event.file.read()
            upload.reset()
            spinner.set_visibility(True)
            try:
                imported = await self.on_import(data, int(self.where.value or 0))
            finally:
                spinner.set_visibility(False)
            if imported is not None:
                result, notes = imported
                await self.chips.add_many(result.addresses)
                self._show_import_report(result, notes)

        with ui.row().classes("w-full items-center"):
            upload = (
                ui.upload(
                    label="Import csv file",
                    auto_upload=True,
                    on_upload=handle,
                    max_files=1,
                    max_file_size=MAX_CSV_BYTES,
                    on_rejected=lambda: ui.notify(TOO_LARGE),  # the browser never sends a file over the limit
                )
                .props('accept=".csv,.txt,.tsv,text/csv,text/plain" flat bordered')
                .classes("grow")
            )
            # The server refuses an upload over the limit (413) or without a session (403) while it streams.
            upload.on("failed", _upload_failed, js_handler="(e) => emit(e && e.xhr ? e.xhr.status : 0)")
            upload.add_slot("header", UPLOAD_HEADER)
            spinner = ui.spinner(size="md").props('aria-label="Reading the file"')
            spinner.set_visibility(False)

    def _show_import_report(self, result: ImportResult, notes: list[str]) -> None:
        self.report.clear()
        with self.report:
            ui.label(
                f"Read {count(result.total_rows, 'row')}: {count(len(result.addresses), 'address')} added for review, "
                f"{count(len(result.problems), 'line')} with problems."
            ).classes("text-body2")
            for note in notes:
                ui.label(note).classes("text-caption")
            for problem in result.problems[:PROBLEMS_SHOWN]:
                ui.label(f"Line {problem.line}: {problem.value} — {problem.reason}").classes(
                    "text-caption text-negative"
                )
            if len(result.problems) > PROBLEMS_SHOWN:
                ui.label(f"… and {count(len(result.problems) - PROBLEMS_SHOWN, 'more line')} with problems.").classes(
                    "text-caption"
                )


def _upload_failed(event: events.GenericEventArguments) -> None:
    status = event.args if isinstance(event.args, int) else 0
    ui.notify(UPLOAD_REFUSED.get(status, UPLOAD_FAILED), type="warning")
