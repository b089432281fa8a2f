"""Sign-ins under way: state, nonce and PKCE verifier kept server-side (single use, ten minutes, any process may
finish them), the browser bound by a cookie, and the provider's answer checked (code exchange, then the ID token's
signature, issuer, audience, expiry and nonce)."""

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from models import SsoConnection, SsoFlow
from services.access import auth, tokens
from services.errors import DomainError, NotFound
from services.invitations import addresses as emails
from services.platform.clock import now
from services.sso import connections, provider

log = logging.getLogger(__name__)
LIFETIME = timedelta(minutes=10)
BROWSER_COOKIE = "gatehouse_sso"
NO_SSO = "This organisation has no single sign-on."
# ID token `amr` values (RFC 8176) by which a provider asserts more than a password: Gatehouse then asks for no factor
# of its own. "mfa" is what Entra ID and Okta send; the others name a second factor itself.
MFA_METHODS = frozenset({"mfa", "hwk", "swk", "otp", "fpt"})
UNREACHABLE = "The organisation's identity provider cannot be reached just now. Please try again in a moment."


# Why a sign-in failed, as the log-in page says it (services/sso/sign_in.py raises those from no_sso on).
MESSAGES = {
    "state": "That sign-in has expired or was already used. Please start again.",
    "browser": "That sign-in began in another browser. Please start again here.",
    "denied": "The identity provider did not sign you in. Please try again.",
    "token": "The identity provider's answer could not be trusted. Please try again.",
    "audience": "The identity provider's answer was meant for another application.",
    "provider": UNREACHABLE,
    "no_sso": NO_SSO,
    "unverified": "Your identity provider has not verified your email address, so it cannot be used.",
    "other_address": "Your identity provider signed you in with another address than the one this invitation is for.",
    "not_member": "Your identity provider signed you in, but you hold no access in this organisation.",
    "subject_taken": "Your identity provider's account is already linked to another Gatehouse account.",
    "suspended": auth.SUSPENDED_LOGIN,
    "beyond": (
        "This account also holds access outside this organisation, so the organisation's identity provider cannot sign "
        "it in. Log in with your Gatehouse password instead."
    ),
}


class SignInFailed(DomainError):
    """A sign-in that came back unusable; `reason` (a key of MESSAGES) names why, for the audit log and the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(MESSAGES[reason])
        self.reason = reason


@dataclass(frozen=True)
class Started:
    url: str  # the provider's authorization URL, for the browser
    browser_token: str  # for the binding cookie: only its hash is kept with the flow


@dataclass(frozen=True)
class Proven:
    """What the organisation's provider vouched for, in a checked ID token."""

    organisation_id: int
    subject: str
    sid: str | None
    email: str  # canonical
    email_verified: bool
    full_name: str
    expires_at: datetime  # the ID token's exp
    mfa: bool  # the provider asserted a multi-factor sign-in (`amr`: MFA_METHODS; or an `acr` the organisation named)
    invitation_token_hash: str | None
    redirect_to: str


async def start(*, organisation_id: int, invitation_token_hash: str | None = None, redirect_to: str = "/") -> Started:
    """Begin a sign-in with the organisation's provider (for an invitation, when its link's hash is given)."""
    row = await SsoConnection.get_or_none(organisation_id=organisation_id)
    if row is None:
        raise NotFound(NO_SSO)
    client = await connections.client_of(row)
    found = await _discover(row.issuer)
    state, nonce, browser = (secrets.token_urlsafe(32) for _ in range(3))
    verifier = secrets.token_urlsafe(64)  # 86 characters: within PKCE's 43 to 128
    await SsoFlow.filter(expires_at__lt=now() - timedelta(days=1)).delete()  # flows nobody finished
    await SsoFlow.create(
        state_hash=tokens.hash_token(state),
        browser_hash=tokens.hash_token(browser),
        nonce=nonce,
        code_verifier=verifier,
        organisation_id=organisation_id,
        invitation_token_hash=invitation_token_hash,
        redirect_to=auth.storable_redirect(redirect_to),
        expires_at=now() + LIFETIME,
    )
    url = provider.authorization_url(client, found, state=state, nonce=nonce, code_verifier=verifier)
    return Started(url, browser)


async def finish(*, state: str, code: str, browser_token: str, error: str = "") -> Proven:
    """Spend the flow (once), check the browser is the one that began it, trade the code and check the ID token."""
    key = tokens.hash_token(state or "")
    flow = await SsoFlow.get_or_none(state_hash=key)
    won = await SsoFlow.filter(state_hash=key, used_at=None, expires_at__gt=now()).update(used_at=now())
    if not won or flow is None:
        raise SignInFailed("state")
    if not hmac.compare_digest(flow.browser_hash, tokens.hash_token(browser_token or "")):
        raise SignInFailed("browser")
    if error or not code:
        raise SignInFailed("denied")
    row = await SsoConnection.get_or_none(organisation_id=flow.organisation_id)
    if row is None:
        raise NotFound(NO_SSO)
    client = await connections.client_of(row)
    found = await _discover(row.issuer)
    try:
        id_token = await provider.exchange(client, found, code=code, code_verifier=flow.code_verifier)
        claims = await provider.verified_claims(
            id_token, found, values={"aud": row.client_id, "nonce": flow.nonce}, present=("exp", "sub")
        )
    except provider.ProviderError as problem:
        log.warning("single sign-on for organisation %s refused: %s", flow.organisation_id, problem)
        raise SignInFailed("token") from None
    _check_authorized_party(claims, row.client_id)
    return _proven(flow, claims, mfa_acr_values=row.mfa_acr_values.split())


def _check_authorized_party(claims: dict[str, Any], client_id: str) -> None:
    audiences = claims.get("aud")
    if isinstance(audiences, list) and len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInFailed("audience")


def _proven(flow: SsoFlow, claims: dict[str, Any], *, mfa_acr_values: list[str]) -> Proven:
    email = str(claims.get("email") or "")
    return Proven(
        organisation_id=flow.organisation_id,
        subject=str(claims["sub"])[:255],
        sid=str(claims["sid"])[:255] if claims.get("sid") else None,
        email=emails.canonical(email.strip()) if email else "",
        email_verified=claims.get("email_verified") is True,
        full_name=str(claims.get("name") or "")[:200],
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        mfa=_asserts_mfa(claims.get("amr")) or claims.get("acr") in mfa_acr_values,
        invitation_token_hash=flow.invitation_token_hash,
        redirect_to=flow.redirect_to,
    )


def _asserts_mfa(amr: Any) -> bool:
    return isinstance(amr, list) and any(isinstance(method, str) and method in MFA_METHODS for method in amr)


async def _discover(issuer: str) -> provider.Discovery:
    try:
        return await provider.discover(issuer)
    except DomainError:
        raise SignInFailed("provider") from None
