"""Stories of single sign-on (issue 21 item 2) with a real OpenID Connect provider: an owner connects it, a required
single sign-on invitee accepts through it with no password form, and the provider's back-channel logout ends the
session over HTTP; a member whose provider asserts no MFA gives Gatehouse's own code before any session."""

from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from nicegui import ui
from nicegui.testing import User

from models import Session, SsoConnection
from pages.sso_settings import ACR_LABEL
from services.access import auth
from tests import factor_helpers, factories, sso_helpers
from tests.sso_helpers import CLIENT_ID, CLIENT_SECRET, Provider, allow_loopback_issuers, connect, running_provider
from tests.ui_helpers import error_of, input_labelled, sign_in


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[Provider]:
    monkeypatch.setenv("GATEHOUSE_SSO_LOOPBACK", "on")  # read by the app the `user` fixture starts
    allow_loopback_issuers()
    with running_provider() as running:
        yield running


async def test_an_owner_connects_the_provider_and_a_bad_issuer_is_refused_at_its_field(
    provider: Provider, user: User
) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/sso?org={world.org.id}")
    await user.should_see("Register Gatehouse at your provider")
    values = {
        "Provider name (the button says Sign in with …)": "Trust ID",
        "Issuer URL (https://…)": "http://login.example.org",
        "Client ID": CLIENT_ID,
        "Client secret": CLIENT_SECRET,
        ACR_LABEL: "urn:okta:loa:2fa:any",
    }
    for label, value in values.items():
        input_labelled(user, label).value = value
    user.find(kind=ui.button, content="Save single sign-on").click()
    await user.should_see("The issuer URL must start with https://.")
    assert "https://" in error_of(user, "Issuer URL (https://…)")
    input_labelled(user, "Issuer URL (https://…)").value = provider.issuer
    user.find(kind=ui.button, content="Save single sign-on").click()
    await user.should_see("Single sign-on saved.")
    assert (await SsoConnection.get(organisation_id=world.org.id)).mfa_acr_values == "urn:okta:loa:2fa:any"
    await user.open(f"/login?org={world.org.id}")
    await user.should_see("Sign in with Trust ID")


async def test_a_required_sso_invitee_sees_no_password_form_and_accepts_through_the_provider(
    provider: Provider, user: User
) -> None:
    trust = await sso_helpers.trust_of(provider, required=True)
    world, token = trust.world, await sso_helpers.invite(trust, "nia@trust.org")
    await user.open(f"/accept/{token}")
    await user.should_see("no Gatehouse password is needed")
    await user.should_not_see("Create your account")
    await user.should_not_see(kind=ui.input)  # no name, no password: nothing to type
    link = next(iter(user.find(kind=ui.link, content="Sign in with Trust ID").elements))
    to_provider = await user.http_client.get(link.props["href"])
    assert to_provider.status_code == 303
    provider.add_user("u-nia", email="nia@trust.org", email_verified=True, name="Nia Clinician", amr=["mfa"])
    back = provider.sign_in(to_provider.headers["location"], "u-nia")
    signed_in = await user.http_client.get(f"/sso/callback?{urlencode(back)}")
    assert signed_in.status_code == 303 and auth.SESSION_COOKIE in signed_in.cookies
    await user.open("/care")
    await user.should_see(kind=ui.button, content="Log out")
    await user.should_see(f"Clinician — {world.org.name}")

    ended = await user.http_client.post(
        f"/sso/backchannel-logout/{world.org.id}", data={"logout_token": provider.logout_token(sub="u-nia")}
    )
    assert ended.status_code == 200 and ended.headers["cache-control"] == "no-store"
    refused = await user.http_client.post(f"/sso/backchannel-logout/{world.org.id}", data={"logout_token": "x.y.z"})
    assert refused.status_code == 400
    await user.open("/care")
    await user.should_see(kind=ui.button, content="Log in")


async def test_a_failed_sign_in_says_why_on_the_log_in_page(provider: Provider, user: User) -> None:
    replayed = await user.http_client.get("/sso/callback?state=spent&code=c")
    assert replayed.status_code == 303 and replayed.headers["location"] == "/login?problem=state"
    await user.open(replayed.headers["location"])
    await user.should_see("That sign-in has expired or was already used. Please start again.")


async def test_the_log_in_page_offers_the_provider_by_email_domain(provider: Provider, user: User) -> None:
    world = await factories.world()
    owner = await factories.member("ow@trust.org", "organisation_owner", org=world.org)
    await connect(owner, world.org.id, provider)  # offered for trust.org addresses
    await user.open("/login")
    input_labelled(user, "Email").value = "someone@elsewhere.org"
    user.find(kind=ui.button, content="Use single sign-on").click()
    await user.should_see("No organisation offers single sign-on for this address")
    assert "No organisation offers single sign-on" in error_of(user, "Email")
    input_labelled(user, "Email").value = "Nia@Trust.org"
    user.find(kind=ui.button, content="Use single sign-on").click()
    await user.should_see("Sign in with Trust ID")
    link = next(iter(user.find(kind=ui.link, content="Sign in with Trust ID").elements))
    assert link.props["href"].startswith(f"/sso/login/{world.org.id}?next=")
    assert error_of(user, "Email") == ""


async def test_a_sign_in_without_the_providers_mfa_asks_for_the_code_before_the_session(
    provider: Provider, user: User
) -> None:
    world = (await sso_helpers.trust_of(provider, required=True)).world
    await factories.member("nia@trust.org", "clinician", org=world.org)
    await factor_helpers.enrol("nia@trust.org")
    provider.add_user("u-nia", email="nia@trust.org", email_verified=True, amr=["pwd"])
    to_provider = await user.http_client.get(f"/sso/login/{world.org.id}?next=/care")
    back = provider.sign_in(to_provider.headers["location"], "u-nia")
    called_back = await user.http_client.get(f"/sso/callback?{urlencode(back)}")
    assert called_back.status_code == 303 and called_back.headers["location"] == "/sso/factor"
    assert auth.SESSION_COOKIE not in called_back.cookies and "challenge" not in called_back.headers["location"]
    await user.open("/sso/factor")
    await user.should_see("Two-step verification")
    user.find("Authentication code").type(factor_helpers.code(factor_helpers.secret_of("nia@trust.org")))
    user.find(kind=ui.button, content="Verify").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)
    await user.should_see(f"Clinician — {world.org.name}")
    ended = await user.http_client.post(
        f"/sso/backchannel-logout/{world.org.id}", data={"logout_token": provider.logout_token(sub="u-nia")}
    )
    assert ended.status_code == 200  # the session the factor step opened is linked to the provider's sign-in
    await user.open("/care")
    await user.should_see(kind=ui.button, content="Log in")


async def test_the_factor_page_without_a_sign_in_under_way_says_so(provider: Provider, user: User) -> None:
    await user.open("/sso/factor")
    await user.should_see("That log-in has expired. Please log in again.")
    assert (await user.http_client.get("/sso/complete?ticket=forged")).headers["location"] == "/login"


async def test_an_invitee_whose_provider_asserts_no_mfa_sets_up_an_app_then_accepts(
    provider: Provider, user: User
) -> None:
    trust = await sso_helpers.trust_of(provider, required=True)
    world, token = trust.world, await sso_helpers.invite(trust, "sam@trust.org")
    provider.add_user("u-sam", email="sam@trust.org", email_verified=True, name="Sam Clinician")
    to_provider = await user.http_client.get(f"/sso/accept/{token}")
    back = provider.sign_in(to_provider.headers["location"], "u-sam")
    called_back = await user.http_client.get(f"/sso/callback?{urlencode(back)}")
    assert called_back.headers["location"] == "/sso/factor" and auth.SESSION_COOKIE not in called_back.cookies
    await user.open("/sso/factor")
    await user.should_see("Set up your authenticator app")
    key = next(iter(user.find(marker="totp-key").elements))
    secret = str(key.props.get("text") or getattr(key, "text", "")).replace(" ", "")
    user.find("6-digit code from your app").type(factor_helpers.code(secret))
    user.find(kind=ui.button, content="Confirm and accept").click()
    await user.should_see("Save your recovery codes", retries=30)
    assert not await Session.exists(), "no session before the codes are seen and Continue is chosen"
    user.find(kind=ui.button, content="Continue to Gatehouse").click()
    await user.should_see(kind=ui.button, content="Log out", retries=150)
    await user.should_see(f"Clinician — {world.org.name}")
