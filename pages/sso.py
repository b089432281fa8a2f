"""Single sign-on's HTTP endpoints: start a sign-in (accepting an invitation, or logging in), the provider's callback,
and its back-channel logout. Every rule is in services/sso; these only carry cookies and redirects."""

from datetime import timedelta
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from nicegui import app, ui

from components import second_factor
from components.form_errors import FormErrors
from components.frame import LANGUAGE, frame
from components.session import client_address, notify_errors
from pages.login import factor_step as factor_step_screens
from pages.login import signed_in
from services.access import factor_login, totp
from services.access.auth import CompletedLogin
from services.access.totp import TotpProof
from services.errors import DomainError, NotAuthenticated
from services.platform import settings
from services.sso import factor_step, flows, logout, sign_in

FALLBACK = "failed"


def create() -> None:
    """Register /sso/accept/{token}, /sso/login/{org}, /sso/callback, the second factor after it (/sso/factor, then
    /sso/complete) and /sso/backchannel-logout/{org}."""

    @app.get("/sso/accept/{token}", include_in_schema=False)
    async def accept(request: Request, token: str) -> Response:
        try:
            started = await sign_in.start_acceptance(token=token, client=client_address(request))
        except DomainError as problem:
            return _problem(problem)
        return _to_provider(started)

    @app.get("/sso/login/{organisation_id}", include_in_schema=False)
    async def log_in(organisation_id: int, next: str = "/") -> Response:
        try:
            started = await sign_in.start_login(organisation_id=organisation_id, redirect_to=next)
        except DomainError as problem:
            return _problem(problem)
        return _to_provider(started)

    @app.get("/sso/callback", include_in_schema=False)
    async def callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
        browser = request.cookies.get(flows.BROWSER_COOKIE, "")
        try:
            done = await sign_in.complete(state=state, code=code, browser_token=browser, error=error)
        except DomainError as problem:
            response = _problem(problem)
        else:
            response = _to_factor(done) if isinstance(done, factor_step.FactorNeeded) else _signed_in(done)
        response.delete_cookie(flows.BROWSER_COOKIE, path="/sso")
        return response

    @ui.page("/sso/factor", language=LANGUAGE)
    async def factor(request: Request) -> None:
        challenge = request.cookies.get(factor_step.COOKIE, "")
        with frame("Welcome to Gatehouse"), ui.column().classes("w-full items-center gap-4"):
            try:
                waiting = await factor_step.waiting(challenge=challenge)
            except NotAuthenticated as problem:
                ui.label(str(problem)).classes("text-negative text-body1").props('role="alert"')
                ui.link("Log in", "/login").classes("text-body1 text-weight-bold")
                return
            if waiting.accepting_as:
                _enrol_to_accept(challenge, waiting.accepting_as)
                return
            await factor_step_screens(
                waiting.step, lambda ticket: ui.navigate.to(f"/sso/complete?ticket={quote(ticket)}")
            )

    @app.get("/sso/complete", include_in_schema=False)
    async def complete(request: Request, ticket: str = "") -> Response:
        challenge = request.cookies.get(factor_step.COOKIE, "")
        try:
            done = await factor_step.complete(challenge=challenge, ticket=ticket)
        except NotAuthenticated:
            response: Response = RedirectResponse("/login", status_code=303)
        else:
            response = _signed_in(done)
        response.delete_cookie(factor_step.COOKIE, path="/sso")
        return response

    @app.post("/sso/backchannel-logout/{organisation_id}", include_in_schema=False)
    async def backchannel_logout(request: Request, organisation_id: int) -> Response:
        body = parse_qs((await request.body())[:32_768].decode("utf-8", "replace"))
        headers = {"Cache-Control": "no-store"}
        try:
            await logout.back_channel_logout(
                organisation_id=organisation_id, logout_token=body.get("logout_token", [""])[0]
            )
        except logout.LogoutRefused:
            return JSONResponse({"error": "invalid_request"}, status_code=400, headers=headers)
        return Response(status_code=200, headers=headers)


def _to_provider(started: flows.Started) -> RedirectResponse:
    # Lax: sent on the provider's top-level redirect back to /sso/callback.
    return _redirect_with_cookie(started.url, flows.BROWSER_COOKIE, started.browser_token, flows.LIFETIME)


def _redirect_with_cookie(target: str, name: str, value: str, lifetime: timedelta) -> RedirectResponse:
    """A redirect setting one of single sign-on's cookies: HttpOnly, SameSite=Lax, seen only under /sso."""
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path="/sso",
        httponly=True,
        samesite="lax",
        secure=settings.current().base_url.startswith("https://"),
    )
    return response


def _enrol_to_accept(challenge: str, email: str) -> None:
    """The invitee sets up an authenticator app; accepting makes the account, the app and the grant together."""
    enrolment = totp.new_enrolment(email=email)
    place = ui.column().classes("w-full items-center gap-4")

    async def confirm(code: str, errors: FormErrors) -> None:
        proof = TotpProof(enrolment.secret, code)
        codes = await notify_errors(lambda: sign_in.accept_with_factor(challenge=challenge, proof=proof), form=errors)
        if codes is None:
            return
        place.clear()
        with place:
            second_factor.recovery_codes(
                codes, then_label="Continue to Gatehouse", on_then=lambda: ui.navigate.to("/sso/complete")
            )

    with place:
        second_factor.enrolment_step(enrolment, confirm, action="Confirm and accept")


def _signed_in(done: sign_in.SignedIn | CompletedLogin) -> RedirectResponse:
    return signed_in(done.redirect_to, session_token=done.session_token, max_age_seconds=done.max_age_seconds)


def _to_factor(needed: factor_step.FactorNeeded) -> RedirectResponse:
    """On to Gatehouse's own second factor; the step's key rides in a cookie only /sso sees, never in a URL."""
    return _redirect_with_cookie("/sso/factor", factor_step.COOKIE, needed.challenge, factor_login.CHALLENGE_LIFETIME)


def _problem(problem: DomainError) -> RedirectResponse:
    reason = problem.reason if isinstance(problem, flows.SignInFailed) else type(problem).__name__
    return RedirectResponse(f"/login?problem={quote(reason)}", status_code=303)
