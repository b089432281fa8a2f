"""The pop-out's CSV import: a named button that opens the file chooser, a drop area that says what it takes, and
every refusal (the wrong kind of file, too large, the upload failed) handed to the pop-out to show in place."""

from collections.abc import Awaitable, Callable

from nicegui import events, ui

from services.invitations import csv_import

UPLOAD_REFUSED = {
    413: f"That file is larger than {csv_import.LIMIT}: split it into smaller files.",
    403: "Your session has ended: sign in again, then import the file.",
}
UPLOAD_FAILED = "The file could not be uploaded. Try again."
# The browser names the files it refused and why (Quasar: failedPropValidation "accept" or "max-file-size").
REJECTED = "(entries) => emit((entries || []).map((e) => [e.file ? e.file.name : '', e.failedPropValidation]))"


def _header(hint_id: str) -> str:
    # The uploader's own header has an unnamed icon button wrapping an unlabelled file input (axe: critical). This
    # one has a named button that opens the file chooser (Enter or Space from the keyboard), described by what the
    # import takes, and keeps the input out of the accessibility tree; the card below it still takes a dropped file.
    return f"""
<div class="q-uploader__header-content row items-center no-wrap q-gutter-xs">
  <q-btn v-if="props.canAddFiles" flat no-caps icon="upload_file" label="Import csv file"
         aria-describedby="{hint_id}" @click="props.pickFiles" />
  <q-spinner v-if="props.isUploading" class="q-uploader__spinner" aria-label="Uploading the file" />
  <q-uploader-add-trigger class="hidden" />
</div>
"""


class CsvImport:
    """Hands a chosen or dropped file to on_file (bytes, name); anything refused before that to on_refusal."""

    def __init__(self, *, on_file: Callable[[bytes, str], Awaitable[None]], on_refusal: Callable[[str], None]) -> None:
        self._on_file = on_file
        self._on_refusal = on_refusal
        with ui.column().classes("w-full gap-0"):
            with ui.row().classes("w-full items-center"):
                self.upload = (
                    ui.upload(
                        label="Import csv file",
                        auto_upload=True,
                        on_upload=self._received,
                        max_files=1,
                        max_file_size=csv_import.DEFAULT_MAX_BYTES,
                    )
                    .props(f'accept="{csv_import.ACCEPTED_TYPES}" flat bordered')
                    .classes("grow")
                )
                self.spinner = ui.spinner(size="md").props('aria-label="Reading the file"')
                self.spinner.set_visibility(False)
            hint = ui.label(csv_import.WHAT_IT_TAKES).classes("text-caption text-grey-7")
        hint.props(f'id="{self.upload.html_id}-takes"')
        self.upload.add_slot("header", _header(f"{self.upload.html_id}-takes"))
        self.upload.on("rejected", self._rejected, js_handler=REJECTED)
        # The server refuses an upload over the limit (413) or without a session (403) while it streams.
        self.upload.on("failed", self._failed, js_handler="(e) => emit(e && e.xhr ? e.xhr.status : 0)")

    async def _received(self, event: events.UploadEventArguments) -> None:
        data = await event.file.read()
        self.upload.reset()
        self.spinner.set_visibility(True)
        try:
            await self._on_file(data, event.file.name)
        finally:
            self.spinner.set_visibility(False)

    def _rejected(self, event: events.GenericEventArguments) -> None:
        entries = event.args if isinstance(event.args, list) else []
        messages = [
            csv_import.refused_upload(name=str(entry[0]), too_large=entry[1] == "max-file-size")
            for entry in entries
            if isinstance(entry, list) and len(entry) == 2
        ]
        self._on_refusal(" ".join(messages) or UPLOAD_FAILED)

    def _failed(self, event: events.GenericEventArguments) -> None:
        status = event.args if isinstance(event.args, int) else 0
        self._on_refusal(UPLOAD_REFUSED.get(status, UPLOAD_FAILED))
