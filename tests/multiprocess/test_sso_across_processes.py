"""Single sign-on over real HTTP against two running app processes on one PostgreSQL database and a real OpenID
Connect provider: a member's sign-in begins in process A and comes back to process B; the provider's back-channel
logout, posted to B, ends that session in A too (issue 21 item 2); an account SCIM made ready for single sign-on in
A signs in through B, and deprovisioning in B ends its session in A (issue 20 item 2)."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from services.platform import settings
from services.sso import sealing
from tests.multiprocess.conftest import SECRET, AppProcess, sql
from tests.multiprocess.test_integrations_live import SCIM_JSON, client, create_owner_and_tokens
from tests.sso_helpers import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

pytestmark = [pytest.mark.multiprocess]
OWNER = "olive.owner@sso.example.org"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def _connect(url: str, organisation_id: int, provider: Provider) -> None:
    settings.configure(settings.current().model_copy(update={"secret": SECRET}))  # the apps' secret seals it
    sealed = sealing.seal(CLIENT_SECRET, organisation_id=organisation_id)
    sql(
        url,
        "INSERT INTO sso_connection (organisation_id, name, issuer, client_id, client_secret_sealed, required, "
        "email_domains, created_at, updated_at) "
        "VALUES ($1, 'SSO Trust ID', $2, $3, $4, true, '[]'::jsonb, now(), now())",
        organisation_id,
        provider.issuer,
        CLIENT_ID,
        sealed,
    )


def _scim_user(address: str) -> dict[str, object]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": address, "active": True,
        "emails": [{"value": address, "primary": True}], "roles": [{"value": "Clinician"}],
    }  # fmt: skip


def _signed_in(app: AppProcess, browser: httpx.Client) -> bool:
    page = browser.get(f"{app.base_url}/care")
    return page.status_code == 200 and "Log out" in page.text


def test_a_sign_in_finishes_in_another_process_and_a_back_channel_logout_there_ends_it_everywhere(
    start_app: Callable[..., AppProcess], postgres_url: str, provider: Provider
) -> None:
    # One base URL for both, as behind their proxy: the redirect URI of a sign-in is the same whichever process ends it.
    shared = {"GATEHOUSE_SSO_LOOPBACK": "on", "GATEHOUSE_BASE_URL": "http://localhost:8080"}
    first, second = (start_app(name, **shared) for name in ("sso-A", "sso-B"))
    first.wait_healthy()
    second.wait_healthy()
    place = create_owner_and_tokens(postgres_url, "SSO Trust", OWNER)
    _connect(postgres_url, place.organisation_id, provider)
    # The provider asserts MFA: an owner needs a second factor, which Gatehouse would otherwise ask first.
    provider.add_user("u-olive", email=OWNER, email_verified=True, name="Olive Owner", amr=["pwd", "mfa"])
    with httpx.Client(timeout=10) as browser:
        to_provider = browser.get(f"{first.base_url}/sso/login/{place.organisation_id}?next=/care")
        assert to_provider.status_code == 303, to_provider.text
        back = provider.sign_in(to_provider.headers["location"], "u-olive")
        callback = browser.get(f"{second.base_url}/sso/callback", params=back)  # the flow is in the database
        assert callback.status_code == 303 and callback.headers["location"] == "/care"
        assert _signed_in(first, browser)
        ended = httpx.post(
            f"{second.base_url}/sso/backchannel-logout/{place.organisation_id}",
            data={"logout_token": provider.logout_token(sub="u-olive")},
            timeout=10,
        )
        assert ended.status_code == 200
        assert not _signed_in(first, browser)
    assert sql(postgres_url, "SELECT count(*) FROM session WHERE revoked_at IS NULL")[0][0] == 0


def test_scim_under_required_sso_makes_an_account_that_signs_in_through_the_provider_in_another_process(
    start_app: Callable[..., AppProcess], postgres_url: str, provider: Provider
) -> None:
    shared = {"GATEHOUSE_SSO_LOOPBACK": "on", "GATEHOUSE_BASE_URL": "http://localhost:8080"}
    first, second = (start_app(name, **shared) for name in ("scim-A", "scim-B"))
    first.wait_healthy()
    second.wait_healthy()
    place = create_owner_and_tokens(postgres_url, "SCIM Trust", "olive.owner@scim.example.org")
    _connect(postgres_url, place.organisation_id, provider)
    address = "sam.clinician@scim.example.org"
    with client(first, place.token) as scim:
        created = scim.post("/scim/v2/Users", headers=SCIM_JSON, json=_scim_user(address))
        assert created.status_code == 201, created.text
    kinds = sql(postgres_url, "SELECT kind FROM outbox_message WHERE recipient = $1", address)
    assert [row[0] for row in kinds] == ["sso_ready"]  # no invitation, no password link
    assert not sql(postgres_url, "SELECT id FROM invitation WHERE email = $1", address)
    provider.add_user("u-sam", email=address, email_verified=True, amr=["pwd", "mfa"])
    with httpx.Client(timeout=10) as browser:
        to_provider = browser.get(f"{first.base_url}/sso/login/{place.organisation_id}?next=/care")
        back = provider.sign_in(to_provider.headers["location"], "u-sam")
        callback = browser.get(f"{second.base_url}/sso/callback", params=back)
        assert callback.status_code == 303 and callback.headers["location"] == "/care"
        assert _signed_in(first, browser)
        with client(second, place.token) as scim:  # deprovisioned in B: the session ends in A too
            gone = scim.delete(f"/scim/v2/Users/{created.json()['id']}")
            assert gone.status_code == 204, gone.text
        assert not _signed_in(first, browser)
