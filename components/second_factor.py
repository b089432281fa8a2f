"""The second-factor screens: set up an authenticator app (a QR code and the same key as text), give a code, and
the recovery codes shown once. Each is keyboard-usable with labelled fields; the caller does the service call."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.form_errors import FormErrors
from services.access.totp import Enrolment

CODE_LABEL = "6-digit code from your app"
QR_ALT = "QR code to scan with your authenticator app. The same key is written below it."
PASSKEY_ABOUT = (
    "Your access needs a second factor. A passkey uses this device's fingerprint, face or screen lock, or a security "
    "key, and works on this site only. No such device? Set up an authenticator app instead, below."
)
CODE_HINT = "Enter the code your authenticator app shows, or one of your recovery codes."
RECOVERY_HINT = "No passkey with you? Enter one of your recovery codes instead."
APPS = "an authenticator app (such as Microsoft Authenticator, Google Authenticator, 1Password or FreeOTP)"


def enrolment_step(enrolment: Enrolment, on_code: Callable[[str, FormErrors], Awaitable[None]], *, action: str) -> None:
    """Set up the app: scan the QR code or type the key, then confirm with the code it shows (offered after
    passkey_enrolment_step, the other choice)."""
    with ui.card().classes("w-full max-w-md").mark("enrolment"):
        ui.label("Set up your authenticator app").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(f"Or use your phone: open {APPS} and scan this QR code.").classes("text-body1")
        ui.image(enrolment.qr_svg).props(f'alt="{QR_ALT}" fit=contain').classes("w-56").style("max-height: 14rem")
        ui.label("Cannot scan it? Type this key into the app instead (time-based):").classes("text-body1")
        ui.label(enrolment.grouped_secret).classes("text-h6 break-all").mark("totp-key")
        _code_form(on_code, label=CODE_LABEL, action=action)


def passkey_enrolment_step(passkey: Callable[[], None]) -> None:
    """Set up a passkey as the first factor (passkey: builds its ceremony, components/passkey.first_passkey); shown
    above enrolment_step, which offers the app instead."""
    with ui.card().classes("w-full max-w-md").mark("passkey-enrolment"):
        ui.label("Set up a passkey").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(PASSKEY_ABOUT).classes("text-body1")
        passkey()


def code_step(
    on_code: Callable[[str, FormErrors], Awaitable[None]],
    *,
    app: bool = True,
    passkey: Callable[[], None] | None = None,
) -> None:
    """Ask for the code of the member's app (when they have one), or a recovery code; passkey (when they have one)
    builds "Use your passkey" above the code."""
    with ui.card().classes("w-full max-w-sm").mark("code-step"):
        ui.label("Two-step verification").classes("text-h6").props('role="heading" aria-level="2"')
        if passkey is not None:
            ui.label("Confirm it is you with your passkey.").classes("text-body1")
            passkey()
        ui.label(CODE_HINT if app else RECOVERY_HINT).classes("text-body1")
        _code_form(on_code, label="Authentication code" if app else "Recovery code", action="Verify")


def recovery_codes(codes: list[str], *, then_label: str, on_then: Callable[[], Awaitable[None] | None]) -> None:
    """The recovery codes, shown this once, and where to go next."""
    with ui.card().classes("w-full max-w-md").mark("recovery-codes"):
        ui.label("Save your recovery codes").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(
            "Each code lets you log in once if you lose your phone. They are shown only now: print them or keep them "
            "in a password manager."
        ).classes("text-body1").props('role="status"')
        with ui.column().classes("gap-1").props('role="list" aria-label="Recovery codes"'):
            for code in codes:
                ui.label(code).classes("text-body1 text-weight-bold").props('role="listitem"')
        ui.button(then_label, on_click=on_then).props("no-caps color=primary").classes("w-full")


def _code_form(on_code: Callable[[str, FormErrors], Awaitable[None]], *, label: str, action: str) -> None:
    async def submit() -> None:
        await on_code(code.value or "", errors)

    code = (
        ui.input(label)
        .props('outlined autocomplete="one-time-code" autofocus spellcheck=false')
        .classes("w-full")
        .on("keydown.enter", submit)
    )
    errors = FormErrors({"code": code})
    ui.button(action, on_click=submit).props("no-caps color=primary").classes("w-full")
