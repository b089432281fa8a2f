"""Single sign-on meets the second factor (issue 21): a provider's sign-in never skips the factor the member's roles
need. The provider's own MFA counts when its ID token asserts it (`amr`); otherwise Gatehouse's own factor step comes
before any session (an invitee without one sets it up before the acceptance is made), and the session it then opens
keeps its link for back-channel logout. Against the real provider."""

import pytest

from models import AuditEvent, Invitation, InvitationState, Session, SsoSession, StaffMember, TotpFactor
from services.access import auth, factor_login, second_factor
from services.access.totp import TotpProof
from services.errors import FieldErrors, NotAuthenticated
from services.invitations.vouched import NO_PASSWORD
from services.sso import factor_step, logout, sign_in
from services.sso.factor_step import FactorNeeded
from tests import factor_helpers, factories, sso_helpers
from tests.sso_helpers import Trust, connect

TWO_FACTOR = "urn:okta:loa:2fa:any"


provider, trust = sso_helpers.provider_fixture, sso_helpers.required_trust  # the fixtures


async def _pass_factor(needed: FactorNeeded, email: str) -> auth.CompletedLogin:
    """Give (or set up) the factor as the member would, then open the session as /sso/complete does."""
    step = (await factor_step.waiting(challenge=needed.challenge)).step
    assert step.enrol == needed.enrol
    ticket = await factor_helpers.ticket(step, email)
    return await factor_step.complete(challenge=needed.challenge, ticket=ticket)


async def _second_factor_said(email: str) -> list[str]:
    events = await AuditEvent.filter(action="sso_sign_in", outcome="ok", target=email).order_by("id")
    return [str(event.detail["second_factor"]) for event in events]


@pytest.mark.parametrize("amr", [["pwd", "mfa"], ["hwk"], ["otp", "pwd"]])
async def test_the_providers_asserted_mfa_counts_and_the_session_opens_at_once(trust: Trust, amr: list[str]) -> None:
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True, amr=amr)
    done = await sso_helpers.log_in(trust, "u-m", redirect_to="/care")
    assert isinstance(done, sign_in.SignedIn) and done.redirect_to == "/care"
    assert await _second_factor_said("m@trust.org") == ["asserted by the provider"]


async def test_without_asserted_mfa_a_member_sets_up_gatehouses_factor_before_any_session(trust: Trust) -> None:
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True, amr=["pwd"])
    needed = await sso_helpers.log_in(trust, "u-m", redirect_to="/care")
    assert isinstance(needed, FactorNeeded) and needed.enrol
    assert not await Session.exists()  # never a session before the factor
    with pytest.raises(NotAuthenticated):  # a ticket cannot be had without the factor
        await factor_step.complete(challenge=needed.challenge, ticket="")
    done = await _pass_factor(needed, "m@trust.org")
    assert done.redirect_to == "/care"
    assert await SsoSession.filter(session_id=done.session_id, subject="u-m").exists()
    session = await Session.get(id=done.session_id)
    assert (session.expires_at - session.created_at).total_seconds() <= 3600 + 5  # bounded by the ID token
    with pytest.raises(NotAuthenticated):  # spent: the same step and ticket open nothing again
        await factor_step.complete(challenge=needed.challenge, ticket="")
    assert await _second_factor_said("m@trust.org") == ["Gatehouse's own"]
    assert await AuditEvent.filter(action="enrol_second_factor", target="m@trust.org").exists()
    ended = await logout.back_channel_logout(
        organisation_id=trust.world.org.id, logout_token=trust.provider.logout_token(sub="u-m")
    )
    assert ended == 1
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=done.session_token)


async def test_a_member_with_a_factor_gives_its_code_and_a_wrong_code_opens_nothing(trust: Trust) -> None:
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    await factor_helpers.enrol("m@trust.org")
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True)  # no amr at all
    needed = await sso_helpers.log_in(trust, "u-m")
    assert isinstance(needed, FactorNeeded) and not needed.enrol
    with pytest.raises(FieldErrors):
        await factor_login.give_code(challenge=needed.challenge, code="000000")
    assert not await Session.exists()
    done = await _pass_factor(needed, "m@trust.org")
    assert (await auth.actor_for(session_token=done.session_token)).email == "m@trust.org"


async def test_the_ticket_the_factor_earns_opens_no_unlinked_session_elsewhere(trust: Trust) -> None:
    member = await factories.member("m@trust.org", "clinician", org=trust.world.org)
    ticket = await factor_login.issue_ticket(member_id=member.member_id, redirect_to="/")
    with pytest.raises(NotAuthenticated):  # /auth/complete: only the provider's sign-in opens their sessions
        await auth.complete_login(ticket=ticket)
    other = await factories.member("x@trust.org", "clinician", org=trust.world.org)
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True)
    needed = await sso_helpers.log_in(trust, "u-m")
    assert isinstance(needed, FactorNeeded)
    step = (await factor_step.waiting(challenge=needed.challenge)).step
    await factor_helpers.ticket(step, "m@trust.org")
    someone_elses = await factor_login.issue_ticket(member_id=other.member_id, redirect_to="/")
    with pytest.raises(NotAuthenticated):  # another member's ticket does not finish this sign-in
        await factor_step.complete(challenge=needed.challenge, ticket=someone_elses)
    assert not await Session.exists()


async def test_a_role_that_needs_no_factor_signs_in_directly(trust: Trust) -> None:
    await second_factor.set_policy(actor=trust.owner, organisation_id=trust.world.org.id, role_ids=[])
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    trust.provider.add_user("u-m", email="m@trust.org", email_verified=True)
    assert isinstance(await sso_helpers.log_in(trust, "u-m"), sign_in.SignedIn)
    assert await _second_factor_said("m@trust.org") == ["not needed"]


async def test_an_invitee_without_a_factor_sets_one_up_and_only_then_is_the_acceptance_made(trust: Trust) -> None:
    token = await sso_helpers.invite(trust, "new@trust.org")
    trust.provider.add_user("u-new", email="new@trust.org", email_verified=True, name="Nia New", amr=["pwd"])
    needed = await sso_helpers.accept(trust.provider, token, "u-new")
    assert isinstance(needed, FactorNeeded) and needed.enrol
    assert (await factor_step.waiting(challenge=needed.challenge)).accepting_as == "new@trust.org"
    assert not await StaffMember.exists(email="new@trust.org") and not await Session.exists()
    assert (await Invitation.get(email="new@trust.org")).state == InvitationState.PENDING
    with pytest.raises(NotAuthenticated):  # nothing to open before the factor
        await factor_step.complete(challenge=needed.challenge)
    wrong = TotpProof(factor_helpers.proof("new@trust.org").secret, "000000")
    with pytest.raises(FieldErrors):  # a wrong code: nothing is made
        await sign_in.accept_with_factor(challenge=needed.challenge, proof=wrong)
    assert not await StaffMember.exists(email="new@trust.org")
    codes = await sign_in.accept_with_factor(challenge=needed.challenge, proof=factor_helpers.proof("new@trust.org"))
    assert len(codes) == 10
    member = await StaffMember.get(email="new@trust.org")
    assert member.password_hash == NO_PASSWORD and await TotpFactor.exists(member_id=member.id)
    assert await factories.holds("new@trust.org", "clinician") and not await Session.exists()
    accepted = await AuditEvent.get(action="accept", target="new@trust.org")
    assert accepted.detail["second_factor"] == "totp enrolled" and accepted.detail["via"] == "single sign-on"
    with pytest.raises(NotAuthenticated):  # accepted once
        await sign_in.accept_with_factor(challenge=needed.challenge, proof=factor_helpers.proof("new@trust.org"))
    done = await factor_step.complete(challenge=needed.challenge)
    assert (await auth.actor_for(session_token=done.session_token)).email == "new@trust.org"
    assert await SsoSession.filter(session_id=done.session_id, subject="u-new").exists()
    with pytest.raises(NotAuthenticated):
        await factor_step.complete(challenge=needed.challenge)


async def test_an_invitee_whose_provider_asserts_mfa_accepts_at_once(trust: Trust) -> None:
    token = await sso_helpers.invite(trust, "mfa@trust.org")
    trust.provider.add_user("u-mfa", email="mfa@trust.org", email_verified=True, amr=["pwd", "mfa"])
    assert isinstance(await sso_helpers.accept(trust.provider, token, "u-mfa"), sign_in.SignedIn)
    assert await factories.holds("mfa@trust.org", "clinician")
    assert not await TotpFactor.exists(member__email="mfa@trust.org")


async def test_an_existing_member_with_a_factor_accepts_then_gives_it_before_the_session(trust: Trust) -> None:
    await factories.member("known@trust.org", None)  # an account whose earlier access ended, its factor kept
    await factor_helpers.enrol("known@trust.org")
    token = await sso_helpers.invite(trust, "known@trust.org")
    trust.provider.add_user("u-known", email="known@trust.org", email_verified=True)
    needed = await sso_helpers.accept(trust.provider, token, "u-known")
    assert isinstance(needed, FactorNeeded) and not needed.enrol
    assert await factories.holds("known@trust.org", "clinician") and not await Session.exists()
    done = await _pass_factor(needed, "known@trust.org")
    assert done.redirect_to == "/" and await SsoSession.filter(session_id=done.session_id).exists()


async def test_an_acr_the_organisation_names_counts_as_mfa_and_a_bad_one_is_refused_at_its_field(trust: Trust) -> None:
    with pytest.raises(FieldErrors) as refused:
        await connect(trust.owner, trust.world.org.id, trust.provider, required=True, mfa_acr_values=("two words",))
    assert "is not an acr value" in refused.value.fields["mfa_acr_values"]
    await connect(trust.owner, trust.world.org.id, trust.provider, required=True, mfa_acr_values=(TWO_FACTOR,))
    saved = await AuditEvent.filter(action="set_sso").order_by("-id").first()
    assert saved is not None and saved.detail["mfa_acr_values"] == TWO_FACTOR
    await factories.member("m@trust.org", "clinician", org=trust.world.org)
    for acr, opens in ((TWO_FACTOR, True), ("urn:okta:loa:1fa:any", False)):
        trust.provider.add_user("u-m", email="m@trust.org", email_verified=True, acr=acr)
        assert isinstance(await sso_helpers.log_in(trust, "u-m"), sign_in.SignedIn if opens else FactorNeeded)
