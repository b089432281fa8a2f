"""Single sign-on (issue 21 item 2) against a real OpenID Connect provider started by the tests."""

from collections.abc import AsyncIterator

import pytest

from models import AuditEvent, Invitation, InvitationState, Session, SsoConnection, StaffMember
from services.access import auth
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotAuthenticated, PermissionDenied
from services.invitations import acceptance, vouched
from services.platform import settings
from services.sso import connections, logout, sealing, sign_in
from services.sso.flows import SignInFailed
from tests import factor_helpers, factories, sso_helpers
from tests.sso_helpers import Provider, Trust, allow_loopback_issuers, connect

MFA = ["pwd", "mfa"]  # the provider asserts a multi-factor sign-in: Gatehouse asks for no factor of its own


provider = sso_helpers.provider_fixture  # the fixture


@pytest.fixture
async def trust(db: str, provider: Provider) -> AsyncIterator[Trust]:
    yield await sso_helpers.trust_of(provider)


async def _invite(trust: Trust, email: str) -> str:
    return await sso_helpers.invite(trust, email)


async def _accept_through_provider(trust: Trust, token: str, sub: str, **tamper: str) -> sign_in.SignedIn:
    done = await sso_helpers.accept(trust.provider, token, sub, **tamper)
    assert isinstance(done, sign_in.SignedIn)
    return done


async def test_connecting_needs_the_permission_is_audited_sealed_and_a_bad_issuer_is_refused_at_its_field(
    db: str, provider: Provider
) -> None:
    allow_loopback_issuers()
    world = await factories.world()
    owner = await factories.member("ow@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.member("cl@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await connect(clinician, world.org.id, provider)
    assert await AuditEvent.filter(action="set_sso", outcome="refused").count() == 1
    for issuer, problem in (
        ("http://login.example.org", "https://"),  # plain http is refused outside this machine
        (provider.issuer + "/nowhere", "could not be read"),  # no discovery document there
    ):
        with pytest.raises(FieldErrors) as refused:
            await connections.connect(
                actor=owner, organisation_id=world.org.id, name="Trust ID", issuer=issuer, client_id="c",
                client_secret="s", required=False,
            )  # fmt: skip
        assert problem in refused.value.fields["issuer"]
    assert not await SsoConnection.exists()
    await connect(owner, world.org.id, provider)
    row = await SsoConnection.get(organisation_id=world.org.id)
    assert "client secret" not in row.client_secret_sealed and row.client_secret_sealed.startswith("v1:")
    assert await AuditEvent.filter(action="set_sso", outcome="ok").count() == 1


async def test_a_new_invitee_accepts_through_the_provider_and_gets_an_account_without_a_password(trust: Trust) -> None:
    token = await _invite(trust, "new@trust.org")
    trust.provider.add_user("u-new", email="new@trust.org", email_verified=True, name="Nia New", amr=MFA)
    done = await _accept_through_provider(trust, token, "u-new")
    member = await StaffMember.get(email="new@trust.org")
    assert member.full_name == "Nia New" and member.password_hash == vouched.NO_PASSWORD
    assert await factories.holds("new@trust.org", "clinician")
    assert (await auth.actor_for(session_token=done.session_token)).email == "new@trust.org"
    assert await AuditEvent.filter(action="accept", target="new@trust.org", outcome="ok").exists()
    with pytest.raises(InvalidInput):  # no password verifies against an account made this way
        await auth.login(email="new@trust.org", password="", redirect_to="/", client="tests")


async def test_an_existing_account_accepts_as_itself_never_a_second_account(trust: Trust) -> None:
    existing = await factories.member("known@trust.org", None)  # an account whose earlier access has ended
    token = await _invite(trust, "known@trust.org")
    trust.provider.add_user("u-known", email="known@trust.org", email_verified=True, amr=MFA)
    done = await _accept_through_provider(trust, token, "u-known")
    assert await StaffMember.filter(email="known@trust.org").count() == 1
    actor = await auth.actor_for(session_token=done.session_token)
    assert actor.member_id == existing.member_id
    assert (await StaffMember.get(email="known@trust.org")).password_hash == "not-a-real-hash"  # untouched


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "someone.else@trust.org", "email_verified": True}, "other_address"),
        ({"email": "asked@trust.org", "email_verified": False}, "unverified"),
        ({"email": "asked@trust.org"}, "unverified"),
    ],
)
async def test_a_provider_asserting_another_or_an_unverified_address_accepts_nothing(
    trust: Trust, claims: dict[str, object], reason: str
) -> None:
    token = await _invite(trust, "asked@trust.org")
    trust.provider.add_user("u-asked", **claims)
    with pytest.raises(SignInFailed) as refused:
        await _accept_through_provider(trust, token, "u-asked")
    assert refused.value.reason == reason
    assert not await StaffMember.exists(email="asked@trust.org") and not await Session.exists()
    assert (await Invitation.get(email="asked@trust.org")).state == InvitationState.PENDING
    assert await AuditEvent.filter(action="sso_sign_in", outcome="refused").exists()


async def test_a_replayed_state_and_another_browser_are_refused(trust: Trust) -> None:
    token = await _invite(trust, "twice@trust.org")
    trust.provider.add_user("u-twice", email="twice@trust.org", email_verified=True, amr=MFA)
    started = await sign_in.start_acceptance(token=token, client="tests")
    back = trust.provider.sign_in(started.url, "u-twice")
    with pytest.raises(SignInFailed) as elsewhere:
        await sign_in.complete(state=back["state"], code=back["code"], browser_token="another browser's cookie")
    assert elsewhere.value.reason == "browser"
    started = await sign_in.start_acceptance(token=token, client="tests")
    back = trust.provider.sign_in(started.url, "u-twice")
    await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)
    with pytest.raises(SignInFailed) as replayed:
        await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)
    assert replayed.value.reason == "state"
    assert await Session.filter().count() == 1


async def test_an_id_token_with_another_nonce_is_refused(trust: Trust) -> None:
    token = await _invite(trust, "nonce@trust.org")
    trust.provider.add_user("u-nonce", email="nonce@trust.org", email_verified=True)
    with pytest.raises(SignInFailed) as refused:  # the provider signs the nonce it was sent, not the one kept here
        await _accept_through_provider(trust, token, "u-nonce", nonce="a nonce of another sign-in")
    assert refused.value.reason == "token"
    assert not await StaffMember.exists(email="nonce@trust.org")


async def test_required_single_sign_on_allows_no_password_and_bounds_the_session_by_the_id_token(
    trust: Trust,
) -> None:
    password_holder = await factories.member("pw@trust.org", "clinician", org=trust.world.org)
    await StaffMember.filter(id=password_holder.member_id).update(password_hash=await auth.hash_password("x" * 12))
    auth.login_limiter.reset()
    wide = await factories.member("wide@trust.org", "clinician", org=trust.world.org)  # and access elsewhere
    await factories.grant(wide.member_id, "clinician", org=trust.world.other_org)
    await StaffMember.filter(id=wide.member_id).update(password_hash=await auth.hash_password("x" * 12))
    old_step = await auth.login(email="pw@trust.org", password="x" * 12, redirect_to="/", client="tests")
    old = await auth.complete_login(ticket=await factor_helpers.ticket(old_step, "pw@trust.org"))
    wide_step = await auth.login(email="wide@trust.org", password="x" * 12, redirect_to="/", client="tests")
    wide_session = await auth.complete_login(ticket=await factor_helpers.ticket(wide_step, "wide@trust.org"))
    await connect(trust.owner, trust.world.org.id, trust.provider, required=True)
    with pytest.raises(NotAuthenticated):  # its password session ended when single sign-on became required
        await auth.actor_for(session_token=old.session_token)
    with pytest.raises(InvalidInput, match="requires single sign-on"):
        await auth.login(email="pw@trust.org", password="x" * 12, redirect_to="/", client="tests")
    # Access beyond the organisation: its provider cannot sign them in, so its rule does not bind them either.
    assert (await auth.actor_for(session_token=wide_session.session_token)).member_id == wide.member_id
    assert await auth.login(email="wide@trust.org", password="x" * 12, redirect_to="/", client="tests")
    token = await _invite(trust, "req@trust.org")
    with pytest.raises(PermissionDenied, match="requires single sign-on"):
        await acceptance.accept_new_account(
            token=token, full_name="R", password="y" * 12, repeat="y" * 12, client="tests"
        )
    trust.provider.add_user("u-req", email="req@trust.org", email_verified=True, amr=MFA)
    done = await _accept_through_provider(trust, token, "u-req")
    assert done.max_age_seconds <= 3600  # the mock's ID tokens last an hour: the session no longer
    session = await Session.get(member__email="req@trust.org")
    assert (session.expires_at - session.created_at).total_seconds() <= 3600 + 5


async def test_a_member_logs_in_through_the_provider_only_when_they_hold_access_there(trust: Trust) -> None:
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    await factories.member("out@trust.org", "clinician", org=trust.world.other_org)
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True, amr=MFA)
    trust.provider.add_user("u-out", email="out@trust.org", email_verified=True)
    for sub, works in (("u-m", True), ("u-out", False)):
        started = await sign_in.start_login(organisation_id=trust.world.org.id, redirect_to="/care")
        back = trust.provider.sign_in(started.url, sub)
        if works:
            done = await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)
            assert isinstance(done, sign_in.SignedIn) and done.redirect_to == "/care"
        else:
            with pytest.raises(SignInFailed, match="no access in this organisation"):
                await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)


async def test_an_account_with_access_beyond_the_organisation_is_never_signed_in_by_its_provider(trust: Trust) -> None:
    both = await factories.member("both@trust.org", "clinician", org=trust.world.org)
    await factories.grant(both.member_id, "clinician", org=trust.world.other_org)
    root = await factories.member("root@trust.org", "super_admin")
    await factories.grant(root.member_id, "clinician", org=trust.world.org)
    for sub, email in (("u-both", "both@trust.org"), ("u-root", "root@trust.org")):
        trust.provider.add_user(sub, email=email, email_verified=True)
        started = await sign_in.start_login(organisation_id=trust.world.org.id)
        back = trust.provider.sign_in(started.url, sub)
        with pytest.raises(SignInFailed, match="Log in with your Gatehouse password instead"):
            await sign_in.complete(state=back["state"], code=back["code"], browser_token=started.browser_token)
    elsewhere = await factories.member("elsewhere@trust.org", "clinician", org=trust.world.other_org)
    token = await _invite(trust, "elsewhere@trust.org")
    trust.provider.add_user("u-elsewhere", email="elsewhere@trust.org", email_verified=True)
    with pytest.raises(SignInFailed, match="outside this organisation"):
        await _accept_through_provider(trust, token, "u-elsewhere")
    assert (await Invitation.get(email="elsewhere@trust.org")).state == InvitationState.PENDING  # nothing spent
    assert not await Session.filter(member_id=elsewhere.member_id).exists()
    refusals = await AuditEvent.filter(action="sso_sign_in", outcome="refused")
    assert [event.detail["reason"] for event in refusals] == ["beyond"] * 3


async def test_back_channel_logout_ends_the_sessions_of_that_subject_only(trust: Trust) -> None:
    token = await _invite(trust, "bye@trust.org")
    trust.provider.add_user("u-bye", email="bye@trust.org", email_verified=True, amr=MFA)
    done = await _accept_through_provider(trust, token, "u-bye")
    trust.provider.add_user("u-stay", email="stay@trust.org", email_verified=True, amr=MFA)
    other = await _accept_through_provider(trust, await _invite(trust, "stay@trust.org"), "u-stay")
    for forged in (
        {"sub": "u-bye", "aud": "another client"},
        {"sub": "u-bye", "events": {}},
        {"sub": "u-bye", "nonce": "n"},
        {"aud": "gatehouse-tests"},  # neither sub nor sid
    ):
        with pytest.raises(logout.LogoutRefused):
            await logout.back_channel_logout(
                organisation_id=trust.world.org.id, logout_token=trust.provider.logout_token(**forged)
            )
    with pytest.raises(logout.LogoutRefused):  # signed by someone else
        await logout.back_channel_logout(organisation_id=trust.world.other_org.id, logout_token="a.b.c")
    assert (await auth.actor_for(session_token=done.session_token)).email == "bye@trust.org"
    ended = await logout.back_channel_logout(
        organisation_id=trust.world.org.id, logout_token=trust.provider.logout_token(sub="u-bye")
    )
    assert ended == 1
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=done.session_token)
    assert (await auth.actor_for(session_token=other.session_token)).email == "stay@trust.org"
    rows, _ = await audit.events_page(actor=trust.owner, organisation_id=trust.world.org.id, page_size=50)
    said = [row.sentence for row in rows]
    place = "St Mary's Trust (whole organisation)"
    assert f"Gatehouse was told by the identity provider of {place} that u-bye logged out: 1 session ended." in said
    assert f"Ow connected {place} to the identity provider Trust ID ({trust.provider.issuer})." in said


def test_a_sealed_client_secret_opens_only_for_its_organisation_and_under_the_same_app_secret() -> None:
    sealed = sealing.seal("s3cret", organisation_id=7)
    assert "s3cret" not in sealed and sealing.unseal(sealed, organisation_id=7) == "s3cret"
    with pytest.raises(InvalidInput, match="GATEHOUSE_SECRET changed"):
        sealing.unseal(sealed, organisation_id=8)  # copied to another organisation's row
    settings.configure(settings.current().model_copy(update={"secret": "another secret of enough length, really"}))
    with pytest.raises(InvalidInput, match="enter it again"):
        sealing.unseal(sealed, organisation_id=7)
