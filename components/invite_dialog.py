"""The Invite staff pop-out, shared by the Admin Portal and the Care Portal."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from nicegui import ui

from components import invite_report
from components.dialogs import disposable
from components.email_chips import EmailChips
from components.invite_import import CsvImport
from components.invite_known import KnownAddresses
from components.invite_terms import AccessTerms, AccessTermsFields
from services.errors import DomainError, FieldErrors
from services.invitations import service as invitations
from services.invitations.review import ImportReview
from services.invitations.service import EXPIRY_CHOICES, Progress, SendResult

DEFAULT_EXPIRY = 72
STYLE = Path(__file__).with_name("invite_dialog.css")
# A JSON string can hold nothing that ends the template's {{ }} or starts a tag once these are escaped.
_TEMPLATE_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "{": "\\u007b", "}": "\\u007d"})

SendHandler = Callable[[list[str], int, int, int, Progress, AccessTerms], Awaitable[SendResult | None]]
# (file, its name, index of the chosen scope, the chosen role's id if any, the viewer's zone): the review of the file
ImportHandler = Callable[[bytes, str, int, int | None, tzinfo], Awaitable[ImportReview | None]]


@dataclass(frozen=True)
class RoleChoice:
    id: int
    name: str
    summary: str = ""  # what the role allows, in one line
    longest_days: int | None = None  # the organisation requires an end within this many days (None: optional)


@dataclass(frozen=True)
class ScopeChoice:
    """Where the invitations would apply, with the roles the user may hand out there."""

    label: str
    roles: list[RoleChoice]
    place: str = ""  # the scope as a sentence names it ("Heart Failure Trial at St Mary's Trust")
    key: str = ""  # the scope's key, to tell what a send would do to addresses already known there


def install() -> None:
    """Add the pop-out's styles (focus rings on the chips' × and on Send invites) to every page once."""
    ui.add_css(STYLE, shared=True)


def open_invite_dialog(
    *,
    title: str,
    scopes: list[ScopeChoice],
    on_send: SendHandler,
    on_import: ImportHandler | None = None,
    sponsor: str = "",
) -> ui.dialog:
    """Open the pop-out: addresses, (where,) role, expiry, access end and sponsor (default: sponsor, the inviter's
    address), and Send invites, enabled only when it can send.

    on_send receives (addresses, role id, lifetime hours, index of the chosen scope, progress callback, AccessTerms);
    a DomainError it raises is shown in the pop-out (a FieldErrors at the end or sponsor field).
    """
    dialog = disposable("Invite staff")  # QDialog itself is the role="dialog", aria-modal element
    with dialog, ui.card().classes("w-full max-w-xl invite-pop-out"):
        _InviteForm(dialog, title, scopes, on_send, on_import, sponsor)
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
        sponsor: str,
    ) -> None:
        self.scopes = scopes
        self.on_send = on_send
        self.on_import = on_import
        self.sending = False
        self.role_names = {role.id: role.name for scope in scopes for role in scope.roles}
        self.role_longest = {role.id: role.longest_days for scope in scopes for role in scope.roles}
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        self.chips = EmailChips(on_change=self._update_button)
        self.chips.input.props("autofocus")  # opened from a menu by keyboard, typing goes straight to the addresses
        if on_import is not None:
            CsvImport(on_file=self._import, on_refusal=self._refuse)
        self.known = KnownAddresses(on_change=self._update_button)
        where_options = {index: scope.label for index, scope in enumerate(scopes)}
        self.where = ui.select(where_options, label="Where", value=0 if scopes else None).props("outlined dense")
        self.where.classes("w-full").on_value_change(self._scope_changed).set_visibility(len(scopes) > 1)
        self.role = ui.select({}, label="Role").props("outlined dense").classes("w-full")
        self.role_note = ui.label().classes("text-caption text-negative").props('role="alert"')
        self.role_note.props(f'id="{self.role_note.html_id}-note"').set_visibility(False)
        self.role.on_value_change(self._role_changed)
        self.no_roles = ui.label("You may not hand out any role here.").classes("text-negative")
        self.expiry = ui.select(EXPIRY_CHOICES, label="Link expires after", value=DEFAULT_EXPIRY)
        self.expiry.props("outlined dense").classes("w-full")
        self.terms = AccessTermsFields(sponsor)
        self.report = ui.column().classes("w-full gap-1").props('role="status" aria-live="polite"')
        self.alert = ui.column().classes("w-full gap-1").props('role="alert"')
        self.confirmation = ui.column().classes("w-full gap-2").props('role="group"')
        with ui.row().classes("w-full justify-end gap-2") as self.actions:
            ui.button("Close", on_click=dialog.close).props("flat no-caps")
            self.send_button = ui.button("Send invites", on_click=self._send_clicked).props("no-caps color=primary")
        self.missing = ui.label().classes("text-caption text-grey-8 self-end")
        self.missing.props(f'id="{self.missing.html_id}-missing"')
        self.send_button.props(f'aria-describedby="{self.missing.html_id}-missing"')
        self._scope_changed()

    def _scope(self) -> ScopeChoice | None:
        return self.scopes[self.where.value] if self.where.value is not None and self.scopes else None

    def _scope_changed(self) -> None:
        """Offer the place's roles; keep the chosen role if it is offered there, or say at the field that it is not."""
        scope = self._scope()
        roles = scope.roles if scope else []
        previous = self.role.value
        offered = [role.id for role in roles]
        keep = previous if previous in offered else (offered[0] if len(offered) == 1 else None)
        self.role.set_options({role.id: role.name for role in roles}, value=keep)
        self.role.add_slot("option", _role_option([role.summary for role in roles]))
        if previous is not None and keep is None and scope is not None:
            self._role_problem(f"{self.role_names[previous]} is not offered for {scope.label}: choose another role.")
        self.no_roles.set_visibility(not roles)
        self._role_changed()

    def _role_changed(self) -> None:
        if self.role.value is not None:
            self._role_problem("")
        scope = self._scope()
        role = (int(self.role.value), self.role_names[self.role.value]) if self.role.value is not None else None
        self.known.set_context(role=role, scope_key=scope.key if scope else "", place=scope.place if scope else "")
        self.terms.require_end(self.role_longest.get(self.role.value) if self.role.value is not None else None)
        self._update_button()

    def _role_problem(self, text: str) -> None:
        self.role_note.set_text(text)
        self.role_note.set_visibility(bool(text))
        if text:
            self.role.props(f'aria-describedby="{self.role_note.html_id}-note" aria-invalid="true"')
        else:
            self.role.props(remove="aria-describedby aria-invalid")

    def _missing(self) -> str:
        """What Send invites still needs, said next to it ("" when it can send)."""
        scope = self._scope()
        if self.sending:
            return "Sending…"
        if scope is None or not scope.roles:
            return "You may not hand out any role here."
        needs = []
        if self.chips.invalid_count and not self.chips.valid_addresses and not self.known.chosen:
            needs.append("correct the addresses marked invalid or add a valid one")
        elif not self.chips.valid_addresses and not self.known.chosen:
            needs.append("add at least one address")
        if self.role.value is None:
            needs.append("choose a role")
        text = " and ".join(needs)
        return f"{text[:1].upper()}{text[1:]}." if text else ""

    def _update_button(self) -> None:
        missing = self._missing()
        self.send_button.set_enabled(not missing)
        self.missing.set_text(missing)

    def _addresses(self) -> tuple[list[str], int]:
        """Every address to send (invalid ones too: the result names them and why) and how many are valid."""
        chosen = self.known.chosen
        return self.chips.all_addresses + chosen, len(self.chips.valid_addresses) + len(chosen)

    async def _send_clicked(self) -> None:
        if self._missing():
            return
        _, count = self._addresses()
        if invitations.needs_confirmation(count=count):
            self._ask_first(count)
        else:
            await self._send()

    def _ask_first(self, count: int) -> None:
        """Above the threshold: say how many, which role and where, and send only on a second, deliberate press."""
        scope = self._scope()
        role = self.role_names[self.role.value]
        place = (scope.place or scope.label) if scope else ""
        self.actions.set_visibility(False)
        self.confirmation.clear()
        with self.confirmation:
            question = ui.label(f"Send {count:,} invitations as {role} for {place}?").classes("text-subtitle1")
            with ui.row().classes("w-full justify-end gap-2"):
                cancel = ui.button("Cancel", on_click=self._cancel_confirmation).props("flat no-caps")
                ui.button(f"Send {count:,} invitations", on_click=self._confirmed).props("no-caps color=primary")
        self.confirmation.props(f'aria-labelledby="{question.html_id}"')
        _focus(cancel)

    def _cancel_confirmation(self) -> None:
        self.confirmation.clear()
        self.actions.set_visibility(True)
        _focus(self.send_button)

    async def _confirmed(self) -> None:
        self.confirmation.clear()
        self.actions.set_visibility(True)
        await self._send()

    async def _send(self) -> None:
        if self.sending:
            return
        addresses, _ = self._addresses()
        self.sending = True
        self._update_button()
        self.alert.clear()
        progress = invite_report.Progress(self.report, len(addresses))
        try:
            terms = self.terms.read()
            result = await self.on_send(
                addresses,
                int(self.role.value),
                int(self.expiry.value),
                int(self.where.value or 0),
                progress.update,
                terms,
            )
        except FieldErrors as refusal:
            self.report.clear()
            self.terms.show(refusal)
            result = None
        except DomainError as refusal:
            self.report.clear()
            self._refuse(str(refusal))
            result = None
        finally:
            self.sending = False
        if result is not None:
            self.chips.remove_addresses(result.handled)
            self.known.remove_addresses(result.handled)
            invite_report.show_sent(self.report, result, kept_apart=self.known.left)
            if result.stopped:
                self._refuse(result.stopped)
        self._update_button()
        # Send invites is disabled while sending: the focus goes back to the addresses (marked if any is invalid).
        self.chips.focus()

    async def _import(self, data: bytes, name: str) -> None:
        assert self.on_import is not None
        self.alert.clear()
        try:
            role_id = int(self.role.value) if self.role.value is not None else None
            found = await self.on_import(data, name, int(self.where.value or 0), role_id, self.terms.viewer.zone)
        except DomainError as refusal:
            self._refuse(str(refusal))
            return
        if found is not None:
            self.terms.imported(found.result.ends)
            await self.chips.add_many(found.new)
            self.known.add(found)
            invite_report.show_import(self.report, found)

    def _refuse(self, message: str) -> None:
        """A refusal stays in the pop-out, announced at once, until the next action."""
        self.alert.clear()
        with self.alert, ui.row().classes("w-full items-center no-wrap gap-2 q-pa-sm rounded bg-red-1"):
            ui.icon("error", color="negative").props('aria-hidden="true"')
            ui.label(message).classes("text-body2")


def _focus(button: ui.button) -> None:
    # QBtn has no focus method of its own; the client's, since the clicked button may just have been removed.
    button.client.run_javascript(f"getHtmlElement({button.id})?.focus()")


def _role_option(summaries: list[str]) -> str:
    """Each role with its one-line summary below; the summary is the option's description, its name stays the name."""
    data = json.dumps(summaries).translate(_TEMPLATE_SAFE)
    return (
        '<q-item v-bind="props.itemProps" :aria-describedby="props.itemProps.id + \'-summary\'">'
        "<q-item-section><q-item-label>{{ props.opt.label }}</q-item-label>"
        f'<q-item-label caption aria-hidden="true" :id="props.itemProps.id + \'-summary\'">'
        f"{{{{ {data}[props.opt.value] }}}}</q-item-label></q-item-section></q-item>"
    )
