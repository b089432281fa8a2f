"""Talking to an OpenID Connect provider: its discovery document, its keys, the authorization URL (with PKCE), the
code exchange (Authlib's OAuth client on httpx2) and the checks of what it signs (joserfc against its JWKS)."""

import functools
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import ClaimsOption

from services.errors import InvalidInput
from services.platform import settings
from services.platform.clock import now

TIMEOUT_SECONDS = 10.0
SCOPE = "openid email profile"
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_SECONDS = 60  # clocks of the provider and of Gatehouse may differ by this much
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
UNREACHABLE = "The provider's discovery document could not be read at {url}. Check the issuer URL."


class ProviderError(Exception):
    """The provider answered something unusable, or what it signed failed a check; the message is for the logs."""


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Client:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str


def check_issuer_url(issuer: str) -> str:
    """The issuer URL trimmed; InvalidInput unless https (or http on this machine with GATEHOUSE_SSO_LOOPBACK=on)."""
    url = (issuer or "").strip().rstrip("/")
    if not url:
        raise InvalidInput("Enter the issuer URL of your provider, such as https://login.example.org.")
    parts = urlsplit(url)
    loopback = settings.current().sso_loopback and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not parts.hostname or parts.username or parts.query or parts.fragment or len(url) > 500:
        raise InvalidInput("Enter the issuer as a plain URL, such as https://login.example.org.")
    if parts.scheme != "https" and not loopback:
        raise InvalidInput("The issuer URL must start with https://.")
    return url


async def discover(issuer: str) -> Discovery:
    """Fetch and check the discovery document (it must name this issuer); InvalidInput when it cannot be used."""
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        document = await _get_json(url)
        found = Discovery(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
        )
    except (ProviderError, KeyError, TypeError):
        raise InvalidInput(UNREACHABLE.format(url=url)) from None
    if found.issuer.rstrip("/") != issuer:
        raise InvalidInput(f"The discovery document names another issuer ({found.issuer[:100]}), not {issuer}.")
    return found


def authorization_url(client: Client, found: Discovery, *, state: str, nonce: str, code_verifier: str) -> str:
    """Where to send the browser: the authorization code flow with state, nonce and an S256 PKCE challenge."""
    oauth = _oauth(client)
    url, _ = oauth.create_authorization_url(
        found.authorization_endpoint, state=state, nonce=nonce, code_verifier=code_verifier
    )
    return str(url)


async def exchange(client: Client, found: Discovery, *, code: str, code_verifier: str) -> str:
    """Trade the code for tokens at the token endpoint; returns the ID token as it came."""
    async with _oauth(client) as oauth:
        try:
            token = await oauth.fetch_token(
                found.token_endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier
            )
        except Exception as problem:  # Authlib's OAuthError, httpx2's transport errors, a body that is not JSON
            raise ProviderError(f"the token endpoint refused the code: {problem}") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderError("the token response had no id_token")
    return id_token


async def verified_claims(
    token: str, found: Discovery, *, values: dict[str, Any], present: tuple[str, ...] = ("exp",)
) -> dict[str, Any]:
    """The claims of a JWT signed with one of the provider's keys, after checking iss, iat, the exact `values` (aud:
    one of its audiences) and that each of `present` is there (exp and nbf are also checked against the clock, with
    LEEWAY_SECONDS); ProviderError for anything else."""
    keys = KeySet.import_key_set(await _get_json(found.jwks_uri))  # type: ignore[arg-type]
    try:
        decoded = jwt.decode(token, keys, algorithms=SIGNING_ALGORITHMS)
        checks: dict[str, ClaimsOption] = {
            "iss": {"essential": True, "value": found.issuer},
            "iat": {"essential": True},
        }
        checks |= {name: {"essential": True, "value": value} for name, value in values.items()}
        checks |= {name: {"essential": True} for name in present}
        registry = jwt.JWTClaimsRegistry(
            now=int(now().timestamp()),
            leeway=LEEWAY_SECONDS,
            **checks,
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as problem:
        raise ProviderError(f"the token failed a check: {problem}") from None
    return dict(decoded.claims)


@functools.cache
def _tls() -> ssl.SSLContext:
    # One for every request to a provider: each new client would otherwise build its own, reading the whole CA
    # bundle again (about 30 ms of CPU, several times per sign-in).
    return ssl.create_default_context()


def _oauth(client: Client) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client.client_id,
        client_secret=client.client_secret,
        scope=SCOPE,
        redirect_uri=client.redirect_uri,
        code_challenge_method="S256",
        timeout=TIMEOUT_SECONDS,
        verify=_tls(),
    )


async def _get_json(url: str) -> dict[str, Any]:
    try:
        async with httpx2.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=_tls()) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
    except (httpx2.HTTPError, ValueError) as problem:
        raise ProviderError(f"{url}: {problem}") from None
    if not isinstance(document, dict):
        raise ProviderError(f"{url}: not a JSON object")
    return document
