"""Opening an invitation link: see the invitation, then set a name and password (or log in)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from urllib.parse import quote

from fastapi import Request
from nicegui import ui

from components import formatting, second_factor
from components.form_errors import FormErrors
from components.frame import LANGUAGE, frame
from components.passkey import first_passkey
from components.password import password_input
from components.session import PageSession, client_address, notify_errors
from components.viewer_zone import ViewerZone
from services.access import auth, passkey_enrolment, tokens, totp
from services.access.factors import Proof
from services.access.service import Actor
from services.access.totp import TotpProof
from services.errors import DomainError, NotAuthenticated
from services.invitations import acceptance
from services.invitations.acceptance import AcceptedAccount, InvitationPreview
from services.platform.clock import now
from services.sso.connections import Offer

NEEDS_FACTOR_NOTE = (
    "This role needs a second factor: after this step you set up a passkey or an authenticator app on your phone, "
    "before the invitation is accepted."
)


def create() -> None:
    """Register /accept/{token}; request logs (uvicorn's access log, when switched on) show its token redacted."""
    tokens.redact_logs()

    @ui.page("/accept/{token}", language=LANGUAGE)
    async def accept_page(request: Request, token: str) -> None:
        client = client_address(request)
        try:
            invitation = await acceptance.preview(token=token, client=client)
        except DomainError as problem:
            with frame("Invitation"):
                ui.label(str(problem)).classes("text-body1").props('role="alert"')
                with ui.row().classes("items-center gap-2 q-mt-md"):
                    ui.label("Already have an account?").classes("text-body1")
                    ui.link("Log in", "/login").classes("text-body1 text-weight-bold")
            return
        session = PageSession(request)
        with frame("You are invited to Gatehouse"):
            _describe(invitation)
            someone = await _signed_in(session)
            if someone is not None and not acceptance.addressed_to(invitation=invitation, actor=someone):
                _someone_else(session, token, invitation, someone)
                return
            offer = invitation.single_sign_on
            if offer is not None:
                _single_sign_on(token, offer)
                if offer.required:
                    return  # accepted through the provider only: no password is set, no password log-in offered
            if invitation.has_account:
                await _accept_with_account(someone, token, invitation, client)
            else:
                _new_account_form(token, invitation, client)


def _describe(invitation: InvitationPreview) -> None:
    def said(zone: tzinfo) -> str:
        expires = formatting.exact(invitation.expires_at, zone)
        left = formatting.relative(invitation.expires_at, now())
        return (
            f"{invitation.inviter_name} invited {invitation.email} to {invitation.scope_name} "
            f"as {invitation.role_name}. This invitation is valid until {expires} ({left})."
        )

    def terms(zone: tzinfo) -> str:
        ends = (
            f"Your access ends on {formatting.exact(invitation.ends_at, zone)}."
            if invitation.ends_at
            else "Your access does not end on a set date."
        )
        sponsor = f" Your sponsor, accountable for this access, is {invitation.sponsor_name}."
        return ends + (sponsor if invitation.sponsor_name else "")

    def show_in_viewer_zone() -> None:
        description.text = said(viewer.zone)
        access.text = terms(viewer.zone)

    description = ui.label(said(UTC)).classes("text-body1").mark("invitation")
    access = ui.label(terms(UTC)).classes("text-body1 q-mb-md").mark("access-terms")
    viewer = ViewerZone(on_known=show_in_viewer_zone)


async def _signed_in(session: PageSession) -> Actor | None:
    try:
        return await auth.actor_for(session_token=session.token)
    except NotAuthenticated:
        return None


def _someone_else(session: PageSession, token: str, invitation: InvitationPreview, actor: Actor) -> None:
    """The link was opened in a browser logged in as another account: say so, and offer to log out first."""

    async def log_out_and_continue() -> None:
        await auth.logout(session_token=session.token)
        ui.navigate.to(f"/accept/{token}")

    ui.label(
        f"You are logged in as {actor.email}, but this invitation is for {invitation.email}. "
        f"Log out first to accept it as {invitation.email}; your access as {actor.email} stays as it is."
    ).classes("text-body1").props('role="alert"').mark("someone-else")
    with ui.row().classes("items-center gap-2"):
        ui.button("Log out and continue", on_click=log_out_and_continue).props("no-caps color=primary")
        ui.link("Back to Gatehouse", "/").classes("text-body1")


def _single_sign_on(token: str, offer: Offer) -> None:
    with ui.card().classes("w-full max-w-md").props('role="region" aria-label="Single sign-on"'):
        ui.label("Accept with your organisation's sign-in").classes("text-h6").props('role="heading" aria-level="2"')
        if offer.required:
            ui.label(f"{offer.name} signs you in here: no Gatehouse password is needed.").classes("text-body1")
        ui.link(f"Sign in with {offer.name}", f"/sso/accept/{token}").classes("text-body1 text-weight-bold").mark(
            "sso-accept"
        )


def _new_account_form(token: str, invitation: InvitationPreview, client: str) -> None:
    def create(proof: Proof | None) -> Awaitable[AcceptedAccount]:
        return acceptance.accept_new_account(
            token=token, full_name=name.value or "", password=password.value or "", repeat=repeat.value or "",
            client=client, enrolment=proof,
        )  # fmt: skip

    async def submit() -> None:
        logging_in = f"/login?email={quote(invitation.email)}&ready=1"
        if not invitation.needs_second_factor:
            if await notify_errors(lambda: create(None), form=errors):
                ui.navigate.to(logging_in)
            return
        checked = acceptance.check_new_account(
            token=token, full_name=name.value or "", password=password.value or "", repeat=repeat.value or "",
            client=client,
        )  # fmt: skip
        if await notify_errors(lambda: checked, form=errors):
            card.set_visibility(False)
            with place:
                invitee = Invitee(invitation.email, name.value or "", None)
                _enrol(invitee, create, then="Continue to log in", on_then=lambda: ui.navigate.to(logging_in))

    with ui.column().classes("w-full gap-4") as place, ui.card().classes("w-full max-w-md") as card:
        ui.label("Create your account").classes("text-h6").props('role="heading" aria-level="2"')
        if invitation.needs_second_factor:
            ui.label(NEEDS_FACTOR_NOTE).classes("text-body2")
        ui.input("Email", value=invitation.email).props("outlined readonly").classes("w-full")
        name = ui.input("Full name").props('outlined autocomplete="name"').classes("w-full")
        password = (
            password_input("Password")
            .props(f'outlined autocomplete="new-password" hint="At least {auth.MIN_PASSWORD} characters"')
            .classes("w-full")
        )
        repeat = (
            ui.input("Repeat password", password=True)
            .props('outlined autocomplete="new-password"')
            .classes("w-full")
            .on("keydown.enter", submit)
        )
        errors = FormErrors({"full_name": name, "password": password, "repeat": repeat})
        label = "Continue" if invitation.needs_second_factor else "Create account"
        ui.button(label, on_click=submit).props("no-caps color=primary").classes("w-full")


def _enrol(
    who: "Invitee",
    accept: Callable[[Proof], Awaitable[AcceptedAccount]],
    *,
    then: str,
    on_then: Callable[[], None],
) -> None:
    """Set up a passkey or the authenticator app; its proof goes with the acceptance (one transaction), then the
    recovery codes show once."""
    enrolment = totp.new_enrolment(email=who.email)
    place = ui.column().classes("w-full gap-4")

    async def confirm(code: str, errors: FormErrors) -> None:
        done = await notify_errors(lambda: accept(TotpProof(enrolment.secret, code)), form=errors)
        if done is not None:
            accepted(done)

    def accepted(done: AcceptedAccount) -> None:
        place.clear()
        with place:
            second_factor.recovery_codes(done.recovery_codes, then_label=then, on_then=on_then)

    def passkey() -> None:
        first_passkey(
            start=lambda: passkey_enrolment.new_enrolment(
                email=who.email, full_name=who.full_name, member_id=who.member_id
            ),
            finish=accept,
            on_done=accepted,
            action="Set up a passkey and accept",
        )

    with place:
        second_factor.passkey_enrolment_step(passkey)
        second_factor.enrolment_step(enrolment, confirm, action="Confirm and accept")


@dataclass(frozen=True)
class Invitee:
    """Whom the first factor is for: the invited address, their name, and their member id when they have an account."""

    email: str
    full_name: str
    member_id: int | None


async def _accept_with_account(actor: Actor | None, token: str, invitation: InvitationPreview, client: str) -> None:
    if actor is None:
        ui.label(f"{invitation.email} already has an account. Log in to accept this invitation.")
        ui.button(
            "Log in to accept",
            on_click=lambda: ui.navigate.to(
                f"/login?email={quote(invitation.email)}&redirect_to={quote('/accept/' + token)}"
            ),
        ).props("no-caps color=primary")
        return

    async def accept() -> None:
        done = await notify_errors(lambda: acceptance.accept_as_member(actor=actor, token=token, client=client))
        if done:
            button.delete()
            accepted()

    def accepted() -> None:
        ui.label(f"Invitation accepted: you now hold {invitation.role_name} at {invitation.scope_name}.").props(
            'role="status"'
        )
        ui.link("Continue to Gatehouse", "/")

    if await acceptance.must_enrol(actor=actor, invitation=invitation):
        ui.label(NEEDS_FACTOR_NOTE).classes("text-body1")
        _enrol(
            Invitee(actor.email, actor.full_name, actor.member_id),
            lambda proof: acceptance.accept_as_member(actor=actor, token=token, client=client, enrolment=proof),
            then="Continue to Gatehouse",
            on_then=lambda: ui.navigate.to("/"),
        )
        return
    button = ui.button(f"Accept as {actor.email}", on_click=accept).props("no-caps color=primary")
