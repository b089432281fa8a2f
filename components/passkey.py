"""Passkey ceremonies in the page: enrol_passkey (name it, then navigator.credentials.create) and verify_passkey
(navigator.credentials.get), each a labelled button with its messages (role="status" while waiting, role="alert"
for a problem). The browser side is components/passkey.js, run through ui.run_javascript; every rule and message
is the service's (services/access/passkeys.py). Whose passkey it is comes from the caller: a member id, or an async
function returning the current one (None: the page has already been sent elsewhere, so nothing happens)."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nicegui import ui

from components.form_errors import FormErrors
from components.session import notify_errors
from services.access import passkey_ceremony, passkeys
from services.access.passkeys import PasskeyRow

SCRIPT = "<script>\n" + Path(__file__).with_name("passkey.js").read_text(encoding="utf-8") + "</script>"
# Longer than the ceremony the browser is told about: the person may take the whole of it and still be heard.
ANSWER_TIMEOUT = passkey_ceremony.CEREMONY_TIMEOUT_MS / 1000 + 30
ASK_CREATE = "gatehousePasskeys.create("  # what the page runs (tests answer these in NiceGUI's simulated browser)
ASK_GET = "gatehousePasskeys.get("
WAITING_CREATE = "Follow your browser's steps to make the passkey: touch your security key, or use your device's lock."
WAITING_GET = "Follow your browser's steps to use your passkey: touch your security key, or use your device's lock."

MemberSource = int | Callable[[], Awaitable[int | None]]
Done = Callable[[PasskeyRow], Awaitable[None] | None]


def install() -> None:
    """Add the ceremonies' script to every page once (main.py), as components/frame.py adds its own."""
    ui.add_head_html(SCRIPT, shared=True)


def enrol_passkey(*, member: MemberSource, on_done: Done, action: str = "Add a passkey") -> None:
    """A name field and a button that makes a passkey for the member and keeps it; on_done gets it."""
    with ui.column().classes("w-full gap-2 passkey-ceremony"):
        label = ui.input("Name of the passkey (optional)", placeholder="such as Work laptop").mark("passkey-label")
        label.props(f"outlined dense maxlength={passkeys.MAX_LABEL}").classes("w-full").style("max-width: 24rem")
        status = _status()
        errors = FormErrors({"label": label})

        async def enrol() -> None:
            name = await notify_errors(lambda: _checked(label.value or ""), form=errors)
            if name is None:
                return
            added = await _ceremony(
                member,
                errors,
                status,
                start=lambda member_id: passkeys.registration_options(member_id=member_id),
                ask=(ASK_CREATE, WAITING_CREATE),
                finish=lambda member_id, answer: passkeys.finish_registration(
                    member_id=member_id, answer=answer, label=name
                ),
            )
            if added is not None:
                label.value = ""
                status.text = f"Passkey “{added.label}” added."
                await _call(on_done, added)

        ui.button(action, icon="key", on_click=_one_at_a_time(enrol)).props("no-caps color=primary").mark("add-passkey")


def verify_passkey(*, member: MemberSource, on_done: Done, action: str = "Use your passkey") -> None:
    """A button that asks the browser for one of the member's passkeys and verifies it; on_done gets the one used."""
    with ui.column().classes("w-full gap-2 passkey-ceremony"):
        status = _status()
        errors = FormErrors({})

        async def verify() -> None:
            used = await _ceremony(
                member,
                errors,
                status,
                start=lambda member_id: passkeys.authentication_options(member_id=member_id),
                ask=(ASK_GET, WAITING_GET),
                finish=lambda member_id, answer: passkeys.finish_authentication(member_id=member_id, answer=answer),
            )
            if used is not None:
                status.text = f"Confirmed with your passkey “{used.label}”."
                await _call(on_done, used)

        ui.button(action, icon="key", on_click=_one_at_a_time(verify)).props("no-caps color=primary").mark(
            "use-passkey"
        )


async def _ceremony(
    member: MemberSource,
    errors: FormErrors,
    status: ui.label,
    *,
    start: Callable[[int], Awaitable[str]],
    ask: tuple[str, str],
    finish: Callable[[int, dict[str, Any]], Awaitable[PasskeyRow]],
) -> PasskeyRow | None:
    """One ceremony: the service's options, the browser's answer (ask: the call and what to say meanwhile), the
    service's verdict; None when anything was refused (said in the form's alert)."""
    member_id = await _member_id(member)
    if member_id is None:
        return None
    options = await notify_errors(lambda: start(member_id), form=errors)
    if options is None:
        return None
    answer = await _ask(ask[0], options, status, ask[1])
    return await notify_errors(lambda: finish(member_id, answer), form=errors)


def _one_at_a_time(ceremony: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """A click while the browser still asks is ignored: it would start a second ceremony, which the browser refuses."""
    busy = False

    async def run() -> None:
        nonlocal busy
        if busy:
            return
        busy = True
        try:
            await ceremony()
        finally:
            busy = False

    return run


def _status() -> ui.label:
    return ui.label().props('role="status"').classes("text-body2").mark("passkey-status")


async def _checked(label: str) -> str:
    return passkeys.check_label(label=label)


async def _ask(call: str, options: str, status: ui.label, waiting: str) -> dict[str, Any]:
    """Run one ceremony in the browser; its answer, or an error answer when the browser said nothing in time."""
    status.text = waiting
    try:
        answer = await ui.run_javascript(f"{call}{options})", timeout=ANSWER_TIMEOUT)
    except TimeoutError:
        answer = {"error": "NoAnswer"}
    finally:
        status.text = ""
    return answer if isinstance(answer, dict) else {"error": "NoAnswer"}


async def _member_id(member: MemberSource) -> int | None:
    return member if isinstance(member, int) else await member()


async def _call(on_done: Done, row: PasskeyRow) -> None:
    result = on_done(row)
    if result is not None:
        await result
