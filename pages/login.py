"""Log in: the form, the second factor (a passkey or a code, or setting up a passkey or an app first), and the
endpoint that turns a one-time ticket into a session cookie."""

from collections.abc import Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui

from components import second_factor
from components.form_errors import FormErrors
from components.frame import LANGUAGE, frame
from components.passkey import answer_passkey, first_passkey
from components.password import password_input
from components.session import client_address, notify_errors
from services.access import auth, factor_login, totp
from services.access.factor_login import LoginStep
from services.access.totp import TotpProof
from services.errors import NotAuthenticated
from services.platform import settings
from services.sso import connections as sso
from services.sso import sign_in

NO_SSO_FOR_DOMAIN = "No organisation offers single sign-on for this address: log in with your password."


def create() -> None:
    """Register /login and /auth/complete."""

    @ui.page("/login", language=LANGUAGE)
    async def login_page(
        request: Request, redirect_to: str = "/", email: str = "", ready: str = "", org: int = 0, problem: str = ""
    ) -> None:
        with frame("Welcome to Gatehouse"):
            if ready:
                ui.label("Your account is ready. Please log in.").classes("text-positive text-body1").props(
                    'role="status"'
                )
            if problem:
                said = sign_in.PROBLEMS.get(problem, sign_in.FAILED)
                ui.label(said).classes("text-negative text-body1").props('role="alert"').mark("sso-problem")
            offer = await sso.offer_for(organisation_id=org) if org > 0 else None
            if offer is not None:
                sso_link(offer, redirect_to)
            _login_form(redirect_to, email, client_address(request))

    @app.get("/auth/complete", include_in_schema=False)
    async def complete(ticket: str = "", next: str = "") -> RedirectResponse:
        try:
            done = await auth.complete_login(ticket=ticket)
        except NotAuthenticated:
            return RedirectResponse("/login", status_code=303)
        # A target that carries a token (an invitation link) is never stored with the ticket: it comes in the URL.
        target = auth.safe_redirect(next) if next else done.redirect_to
        return signed_in(target, session_token=done.session_token, max_age_seconds=done.max_age_seconds)


def sso_link(offer: sso.Offer, redirect_to: str = "/") -> None:
    """The organisation's "Sign in with <provider>", a plain link to where the sign-in starts."""
    target = f"/sso/login/{offer.organisation_id}?next={quote(auth.storable_redirect(redirect_to), safe='')}"
    ui.link(f"Sign in with {offer.name}", target).classes("text-body1 text-weight-bold").mark("sso-login")


def signed_in(target: str, *, session_token: str, max_age_seconds: int) -> RedirectResponse:
    """Send the browser on with its new session cookie (a log-in, or a single sign-on)."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        session_token,
        max_age=max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.current().base_url.startswith("https://"),
    )
    return response


def _login_form(redirect_to: str, email: str, client: str) -> None:
    def go(ticket: str) -> None:
        target = auth.safe_redirect(redirect_to)
        following = f"&next={quote(target, safe='')}" if target != auth.storable_redirect(target) else ""
        ui.navigate.to(f"/auth/complete?ticket={quote(ticket)}{following}")

    async def submit() -> None:
        step = await notify_errors(
            lambda: auth.login(
                email=email_input.value or "", password=password.value or "", redirect_to=redirect_to, client=client
            ),
            form=errors,
        )
        if step is None:
            return
        if step.ticket:
            go(step.ticket)
            return
        card.delete()
        with place:
            await factor_step(step, go)

    async def find_sso() -> None:
        offered.clear()
        offers = await sso.offers_for_email(email=email_input.value or "")
        if not offers:
            errors.show({"email": NO_SSO_FOR_DOMAIN})
            return
        errors.show({})
        with offered:
            for offer in offers:
                sso_link(offer, redirect_to)

    with ui.column().classes("w-full gap-4") as place, ui.card().classes("w-full max-w-sm") as card:
        email_input = (
            ui.input("Email", value=email).props('outlined autocomplete="username" type=email').classes("w-full")
        )
        password = (
            password_input("Password")
            .props('outlined autocomplete="current-password"')
            .classes("w-full")
            .on("keydown.enter", submit)
        )
        errors = FormErrors({"email": email_input, "password": password})
        ui.button("Log in", on_click=submit).props("no-caps color=primary").classes("w-full")
        ui.button("Use single sign-on", on_click=find_sso).props("no-caps flat color=primary").classes("w-full")
        offered = ui.column().classes("w-full gap-1").props('aria-live="polite"')


async def factor_step(step: LoginStep, go: Callable[[str], None]) -> None:
    """The second factor after a right password or a provider's sign-in: give a code (or a passkey), or set up a
    factor first; go() receives the log-in ticket it earns."""
    if step.enrol:
        await _enrol(step.challenge, go)
    else:
        _ask_code(step, go)


def _ask_code(step: factor_login.LoginStep, go: Callable[[str], None]) -> None:
    challenge = step.challenge

    async def check(code: str, errors: FormErrors) -> None:
        ticket = await notify_errors(lambda: factor_login.give_code(challenge=challenge, code=code), form=errors)
        if ticket:
            go(ticket)

    def passkey() -> None:
        answer_passkey(
            start=lambda: factor_login.passkey_options(challenge=challenge),
            finish=lambda answer: factor_login.give_passkey(challenge=challenge, answer=answer),
            on_done=go,
        )

    second_factor.code_step(check, app=step.app, passkey=passkey if step.passkey else None)


async def _enrol(challenge: str, go: Callable[[str], None]) -> None:
    enrolment = totp.new_enrolment(email=await factor_login.email_of(challenge=challenge))
    place = ui.column().classes("w-full gap-4")

    async def confirm(code: str, errors: FormErrors) -> None:
        proof = TotpProof(enrolment.secret, code)
        codes = await notify_errors(lambda: factor_login.enrol(challenge=challenge, proof=proof), form=errors)
        if codes is not None:
            show_codes(codes)

    def show_codes(codes: list[str]) -> None:
        place.clear()
        with place:
            second_factor.recovery_codes(codes, then_label="Continue to Gatehouse", on_then=finish)

    async def finish() -> None:
        ticket = await notify_errors(lambda: factor_login.finish_enrolment(challenge=challenge))
        if ticket:
            go(ticket)

    def passkey() -> None:
        first_passkey(
            start=lambda: factor_login.passkey_enrolment_for(challenge=challenge),
            finish=lambda proof: factor_login.enrol(challenge=challenge, proof=proof),
            on_done=show_codes,
        )

    with place:
        second_factor.passkey_enrolment_step(passkey)
        second_factor.enrolment_step(enrolment, confirm, action="Confirm and continue")
