"""Passkey ceremonies in the page: enrol_passkey and first_passkey (name it, then navigator.credentials.create: one
added on Your security, or a first factor that the caller's service call enrols), verify_passkey and answer_passkey
(navigator.credentials.get: a member's check, or the caller's log-in step), each a labelled button with its messages
(role="status" while waiting, role="alert" for a problem). The browser side is components/passkey.js, run through
ui.run_javascript; every rule and message is the service's (services/access/passkeys.py). Whose passkey it is comes
from the caller: a member id, or an async function returning the current one (None: the page has already been sent
elsewhere, so nothing happens)."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from nicegui import ui

from components.form_errors import FormErrors
from components.session import notify_errors
from services.access import passkey_ceremony, passkeys
from services.access.passkey_ceremony import CeremonyCancelled
from services.access.passkey_enrolment import PasskeyEnrolment, PasskeyProof
from services.access.passkeys import PasskeyRow

SCRIPT = "<script>\n" + Path(__file__).with_name("passkey.js").read_text(encoding="utf-8") + "</script>"
# Longer than the ceremony the browser is told about: the person may take the whole of it and still be heard.
ANSWER_TIMEOUT = passkey_ceremony.CEREMONY_TIMEOUT_MS / 1000 + 30
ASK_CREATE = "gatehousePasskeys.create("  # what the page runs (tests answer these in NiceGUI's simulated browser)
ASK_GET = "gatehousePasskeys.get("
WAITING_CREATE = "Follow your browser's steps to make the passkey: touch your security key, or use your device's lock."
WAITING_GET = "Follow your browser's steps to use your passkey: touch your security key, or use your device's lock."

T = TypeVar("T")
MemberSource = int | Callable[[], Awaitable[int | None]]
Done = Callable[[PasskeyRow], Awaitable[None] | None]


def install() -> None:
    """Add the ceremonies' script to every page once (main.py), as components/frame.py adds its own."""
    ui.add_head_html(SCRIPT, shared=True)


def enrol_passkey(*, member: MemberSource, on_done: Done, action: str = "Add a passkey") -> None:
    """A name field and a button that makes a passkey for the member and keeps it; on_done gets it."""

    async def make(name: str, errors: FormErrors, status: ui.label) -> PasskeyRow | None:
        member_id = await _member_id(member)
        if member_id is None:
            return None
        added = await _ceremony(
            errors,
            status,
            start=lambda: passkeys.registration_options(member_id=member_id),
            ask=(ASK_CREATE, WAITING_CREATE),
            finish=lambda answer: passkeys.finish_registration(member_id=member_id, answer=answer, label=name),
        )
        if added is not None:
            status.text = f"Passkey “{added.label}” added."
        return added

    _named_ceremony(make, on_done, action=action, marker="add-passkey")


def first_passkey(
    *,
    start: Callable[[], Awaitable[PasskeyEnrolment]],
    finish: Callable[[PasskeyProof], Awaitable[T]],
    on_done: Callable[[T], Awaitable[None] | None],
    action: str = "Set up a passkey",
) -> None:
    """A name field and a button that makes a member's first passkey: start gives the ceremony (the service's), finish
    is the caller's service call that enrols the proof (with the recovery codes, or the whole acceptance)."""

    async def make(name: str, errors: FormErrors, status: ui.label) -> T | None:
        enrolment = await notify_errors(start, form=errors)
        if enrolment is None:
            return None
        return await _ceremony(
            errors,
            status,
            start=lambda: _options(enrolment),
            ask=(ASK_CREATE, WAITING_CREATE),
            finish=lambda answer: finish(enrolment.proof(answer, name)),
        )

    _named_ceremony(make, on_done, action=action, marker="set-up-passkey")


def verify_passkey(*, member: MemberSource, on_done: Done, action: str = "Use your passkey") -> None:
    """A button that asks the browser for one of the member's passkeys and verifies it; on_done gets the one used."""

    async def start() -> str:
        member_id = await _member_id(member)
        return await passkeys.authentication_options(member_id=member_id) if member_id is not None else ""

    async def confirmed(used: PasskeyRow) -> None:
        status.text = f"Confirmed with your passkey “{used.label}”."
        await _call(on_done, used)

    async def finish(answer: dict[str, Any]) -> PasskeyRow:
        member_id = await _member_id(member)
        if member_id is None:
            raise CeremonyCancelled(passkey_ceremony.CANCELLED)
        return await passkeys.finish_authentication(member_id=member_id, answer=answer)

    status = answer_passkey(start=start, finish=finish, on_done=confirmed, action=action)


def answer_passkey(
    *,
    start: Callable[[], Awaitable[str]],
    finish: Callable[[dict[str, Any]], Awaitable[T]],
    on_done: Callable[[T], Awaitable[None] | None],
    action: str = "Use your passkey",
) -> ui.label:
    """A button that runs navigator.credentials.get with start's options (empty: nothing happens) and hands the answer
    to finish (the caller's service call); on_done gets its result. Returns the ceremony's status line."""
    with ui.column().classes("w-full gap-2 passkey-ceremony"):
        status = _status()
        errors = FormErrors({})

        async def verify() -> None:
            done = await _ceremony(errors, status, start=start, ask=(ASK_GET, WAITING_GET), finish=finish)
            if done is not None:
                await _call(on_done, done)

        ui.button(action, icon="key", on_click=_one_at_a_time(verify)).props("no-caps color=primary").mark(
            "use-passkey"
        )
    return status


def _named_ceremony(
    make: Callable[[str, FormErrors, ui.label], Awaitable[T | None]],
    on_done: Callable[[T], Awaitable[None] | None],
    *,
    action: str,
    marker: str,
) -> None:
    """The passkey's name field, its status and alert, and the button that runs make(name, errors, status)."""
    with ui.column().classes("w-full gap-2 passkey-ceremony"):
        label = ui.input("Name of the passkey (optional)", placeholder="such as Work laptop").mark("passkey-label")
        label.props(f"outlined dense maxlength={passkeys.MAX_LABEL}").classes("w-full").style("max-width: 24rem")
        status = _status()
        errors = FormErrors({"label": label})

        async def run() -> None:
            name = await notify_errors(lambda: _checked(label.value or ""), form=errors)
            if name is None:
                return
            done = await make(name, errors, status)
            if done is not None:
                label.value = ""
                await _call(on_done, done)

        ui.button(action, icon="key", on_click=_one_at_a_time(run)).props("no-caps color=primary").mark(marker)


async def _options(enrolment: PasskeyEnrolment) -> str:
    return enrolment.options


async def _ceremony(
    errors: FormErrors,
    status: ui.label,
    *,
    start: Callable[[], Awaitable[str]],
    ask: tuple[str, str],
    finish: Callable[[dict[str, Any]], Awaitable[T]],
) -> T | None:
    """One ceremony: the service's options, the browser's answer (ask: the call and what to say meanwhile), the
    service's verdict; None when anything was refused (said in the form's alert)."""
    options = await notify_errors(start, form=errors)
    if not options:
        return None
    answer = await _ask(ask[0], options, status, ask[1])
    return await notify_errors(lambda: finish(answer), form=errors)


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


async def _call(on_done: Callable[[T], Awaitable[None] | None], done: T) -> None:
    result = on_done(done)
    if result is not None:
        await result
