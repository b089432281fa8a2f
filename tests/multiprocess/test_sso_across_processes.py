"""Single sign-on over real HTTP against two running app processes on one PostgreSQL database and a real OpenID
Connect provider: a member's sign-in begins in process A and comes back to process B; the provider's back-channel
logout, posted to B, ends that session in A too (issue 21 item 2)."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from services.platform import settings
from services.sso import sealing
from tests.multiprocess.conftest import SECRET, AppProcess, sql
from tests.multiprocess.test_integrations_live import create_owner_and_tokens
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
    provider.add_user("u-olive", email=OWNER, email_verified=True, name="Olive Owner")
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
