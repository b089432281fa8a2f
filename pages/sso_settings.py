"""Care Portal: Single sign-on. Those who may change the organisation's access settings connect its OpenID Connect
provider (issuer, client ID and secret, the email domains the log-in page offers it for) and may make it required."""

from fastapi import Request
from nicegui import ui

from components.form_errors import FormErrors
from components.frame import LANGUAGE, care_page_top, frame
from components.session import PageSession
from services.access import rights
from services.sso import connections
from services.sso.connections import ConnectionView

TITLE = "Single sign-on"
NOTE = (
    "Connect your organisation's OpenID Connect provider (Entra ID, Okta, Google Workspace...). Invitees may then "
    "accept by signing in there, and members log in there. The provider must assert each person's address as verified."
)
REQUIRED = "Require single sign-on: invitees set no password, members log in only through the provider"
REQUIRED_NOTE = (
    "Sessions then end when the provider's ID token expires or the provider logs the person out (back-channel "
    "logout). Members' sessions opened with a password end when you save."
)
SAVED = "Single sign-on saved."
ACR_LABEL = "acr values that mean multi-factor sign-in (optional, space-separated)"
ACR_NOTE = (
    "Roles that need a second factor skip Gatehouse's own when the provider's ID token says a multi-factor sign-in: "
    "an amr of mfa, hwk, swk, otp or fpt, or one of these acr values (e.g. urn:okta:loa:2fa:any). Otherwise members "
    "give Gatehouse's own factor after signing in there."
)


def create() -> None:
    """Register /care/sso."""

    @ui.page("/care/sso", language=LANGUAGE)
    async def sso_page(request: Request, org: int = 0) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            allowed = rights.may_change_access_settings(actor=actor, organisation_id=org)
            if not care_page_top(org, allowed=allowed, refused=connections.REFUSED):
                return
            current = await session.run(lambda a: connections.view(actor=a, organisation_id=org))
            _SsoForm(session, org).build(current if isinstance(current, ConnectionView) else None)


class _SsoForm:
    def __init__(self, session: PageSession, organisation_id: int) -> None:
        self.session = session
        self.organisation_id = organisation_id

    def build(self, current: ConnectionView | None) -> None:
        ui.label(NOTE).classes("text-body2")
        with ui.card().classes("w-full").props('role="region" aria-label="Provider"'):
            ui.label("Your provider").classes("text-h6").props('role="heading" aria-level="2"')
            self.name = self._field("Provider name (the button says Sign in with …)", current.name if current else "")
            self.issuer = self._field("Issuer URL (https://…)", current.issuer if current else "")
            self.client_id = self._field("Client ID", current.client_id if current else "")
            secret_label = "Client secret (leave empty to keep the saved one)" if current else "Client secret"
            self.secret = ui.input(secret_label, password=True).props('outlined dense autocomplete="off"')
            self.secret.classes("w-full").mark("client-secret")
            domains = " ".join(current.email_domains) if current else ""
            self.domains = self._field("Email domains offered on the log-in page (optional, e.g. example.org)", domains)
            acr = " ".join(current.mfa_acr_values) if current else ""
            self.acr = self._field(ACR_LABEL, acr)
            ui.label(ACR_NOTE).classes("text-body2")
            self.required = ui.checkbox(REQUIRED, value=current.required if current else False).mark("sso-required")
            ui.label(REQUIRED_NOTE).classes("text-body2")
            self.errors = FormErrors(
                {
                    "name": self.name,
                    "issuer": self.issuer,
                    "client_id": self.client_id,
                    "client_secret": self.secret,
                    "email_domains": self.domains,
                    "mfa_acr_values": self.acr,
                }
            )
            with ui.row().classes("gap-2"):
                ui.button("Save single sign-on", on_click=self.save).props("no-caps color=primary")
                if current:
                    ui.button("Remove single sign-on", on_click=self.remove).props("no-caps flat color=negative")
        with ui.card().classes("w-full").props('role="region" aria-label="Register Gatehouse at your provider"'):
            ui.label("Register Gatehouse at your provider").classes("text-h6").props('role="heading" aria-level="2"')
            ui.label(f"Redirect URI: {connections.callback_url()}").classes("text-body1").mark("redirect-uri")
            logout_uri = connections.logout_url(organisation_id=self.organisation_id)
            ui.label(f"Back-channel logout URI: {logout_uri}").classes("text-body1").mark("logout-uri")

    def _field(self, label: str, value: str) -> ui.input:
        return ui.input(label, value=value).props("outlined dense").classes("w-full")

    async def save(self) -> None:
        saved = await self.session.run(
            lambda a: connections.connect(
                actor=a,
                organisation_id=self.organisation_id,
                name=self.name.value or "",
                issuer=self.issuer.value or "",
                client_id=self.client_id.value or "",
                client_secret=self.secret.value or "",
                required=bool(self.required.value),
                email_domains=connections.parse_domains(self.domains.value or ""),
                mfa_acr_values=(self.acr.value or "").split(),
            ),
            form=self.errors,
        )
        if saved is not None:
            self.secret.value = ""
            ui.notify(SAVED, type="positive")

    async def remove(self) -> None:
        removed = await self.session.run(
            lambda a: connections.disconnect(actor=a, organisation_id=self.organisation_id)
        )
        if removed is not None:
            ui.navigate.to(f"/care/sso?org={self.organisation_id}")
