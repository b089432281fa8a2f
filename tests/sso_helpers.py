"""A real OpenID Connect provider for the tests (oidc-provider-mock, in a thread on a free port), and the steps a
browser takes there: sign in as a subject, come back with a code. The mock has no back-channel logout, so its Flask
app gets one test route that signs a logout_token with the provider's own key (the one its JWKS publishes)."""

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import flask
import httpx
import oidc_provider_mock
import pytest
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

from models import OutboxMessage
from services.access.service import Actor
from services.invitations import acceptance
from services.invitations import service as invitations
from services.platform import settings
from services.sso import connections, logout, sign_in
from services.sso.factor_step import FactorNeeded
from tests import factories

CLIENT_ID = "gatehouse-tests"
CLIENT_SECRET = "a client secret the provider accepts"
_BROWSER = httpx.Client()  # one for the run: each new client reads the CA bundle again (30 ms of CPU)


@dataclass(frozen=True)
class Provider:
    issuer: str

    def add_user(self, sub: str, **claims: Any) -> None:
        """The provider's account `sub`, with these claims (email, email_verified, name...)."""
        _BROWSER.put(f"{self.issuer}/users/{sub}", json=claims).raise_for_status()

    def sign_in(self, authorization_url: str, sub: str) -> dict[str, str]:
        """Sign in at the provider as `sub`; returns the callback's query (state and code)."""
        answer = _BROWSER.post(authorization_url, data={"sub": sub}, follow_redirects=False)
        assert answer.status_code in (302, 303), answer.text[:500]
        return {name: values[0] for name, values in parse_qs(urlsplit(answer.headers["location"]).query).items()}

    def logout_token(self, **claims: Any) -> str:
        """A logout_token for Gatehouse signed by the provider, with these claims over the usual ones."""
        answer = _BROWSER.post(f"{self.issuer}/test/logout-token", json=claims)
        answer.raise_for_status()
        return answer.text


def _logout_token_route(app: flask.Flask) -> None:
    @app.post("/test/logout-token")
    def logout_token() -> str:
        key = RSAKey.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))
        claims = {
            "iss": flask.request.host_url.rstrip("/"),
            "aud": CLIENT_ID,
            "iat": int(time.time()),
            "exp": int(time.time()) + 120,
            "jti": str(uuid.uuid4()),
            "events": {logout.EVENT: {}},
        } | (flask.request.get_json() or {})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


@pytest.fixture(name="provider")
def provider_fixture() -> Iterator[Provider]:
    """The provider, for a test module that names it (`provider = sso_helpers.provider_fixture`)."""
    with running_provider() as running:
        yield running


@pytest.fixture(name="trust")
async def required_trust(db: str, provider: Provider) -> AsyncIterator["Trust"]:
    """An organisation requiring single sign-on through the provider (`trust = sso_helpers.required_trust`)."""
    yield await trust_of(provider, required=True)


@contextmanager
def running_provider() -> Iterator[Provider]:
    app = oidc_provider_mock.app(require_nonce=True)
    _logout_token_route(app)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = werkzeug.serving.make_server("localhost", port, app, threaded=True)
    # a short poll: shutdown() waits up to one poll interval, half a second by default, after every test
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Provider(f"http://localhost:{port}")
    finally:
        server.shutdown()
        thread.join(5)


def allow_loopback_issuers() -> None:
    settings.configure(settings.current().model_copy(update={"sso_loopback": True}))


async def connect(
    owner: Actor,
    organisation_id: int,
    provider: Provider,
    *,
    required: bool = False,
    mfa_acr_values: tuple[str, ...] = (),
) -> None:
    await connections.connect(
        actor=owner,
        organisation_id=organisation_id,
        name="Trust ID",
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        required=required,
        email_domains=["trust.org"],
        mfa_acr_values=mfa_acr_values,
    )


@dataclass
class Trust:
    """An organisation (world.org) whose owner connected the test provider."""

    provider: Provider
    world: factories.World
    owner: Actor


async def trust_of(provider: Provider, *, required: bool = False) -> Trust:
    allow_loopback_issuers()
    world = await factories.world()
    owner = await factories.member("ow@trust.org", "organisation_owner", org=world.org)
    await connect(owner, world.org.id, provider, required=required)
    return Trust(provider, world, owner)


async def invite(trust: Trust, email: str, role: str = "clinician") -> str:
    """Invite email to the organisation as role; returns the link's token."""
    chosen = await factories.role(role)
    await invitations.send(
        actor=trust.owner, addresses=[email], role_id=chosen.id, lifetime_hours=72, organisation_id=trust.world.org.id
    )
    return factories.token_of(await OutboxMessage.get(recipient=email))


async def accept(provider: Provider, token: str, sub: str, **tamper: str) -> sign_in.SignedIn | FactorNeeded:
    """Accept the invitation by signing in at the provider as sub (tamper: parameters changed on the way there)."""
    acceptance.accept_limiter.reset()
    started = await sign_in.start_acceptance(token=token, client="tests")
    back = provider.sign_in(_with(started.url, **tamper) if tamper else started.url, sub)
    return await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)


async def log_in(trust: Trust, sub: str, redirect_to: str = "/") -> sign_in.SignedIn | FactorNeeded:
    """Log in through the organisation's provider as sub."""
    started = await sign_in.start_login(organisation_id=trust.world.org.id, redirect_to=redirect_to)
    back = trust.provider.sign_in(started.url, sub)
    return await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | params
    return urlunsplit(parts._replace(query=urlencode(query)))
