"""SCIM in an organisation whose single sign-on is required (issue 20 item 2): creating a user creates the account ready
for single sign-on (no password, the grant, an email saying to sign in through the provider) instead of an invitation;
elsewhere, and for an account that exists already, an invitation as before. The person then signs in through the real
provider, Gatehouse's own second factor first when the provider asserts none."""

from email import message_from_bytes, policy
from typing import Any

import httpx
from fastapi import FastAPI

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, Session, StaffMember
from pages import scim
from services.integrations import tokens
from services.invitations.vouched import NO_PASSWORD
from services.mail import templates
from services.platform import settings
from services.scim.people import user_id
from services.sso import sign_in
from services.sso.factor_step import FactorNeeded
from tests import factories, sso_helpers
from tests.sso_helpers import Trust, connect

USERS = "/scim/v2/Users"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


provider, trust = sso_helpers.provider_fixture, sso_helpers.required_trust  # the fixtures


async def _client(trust: Trust) -> httpx.AsyncClient:
    owner = await factories.actor_of("ow@trust.org")
    raw, _ = await tokens.create(
        actor=owner, organisation_id=trust.world.org.id, name="Entra ID",
        permissions=["invite_staff", "view_staff_list", "view_patient_data"], days=30, default_role_id=None,
    )  # fmt: skip
    app = FastAPI()
    app.include_router(scim.router)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://gatehouse.test",
        headers={"Authorization": f"Bearer {raw}"},
    )


def _user(address: str) -> dict[str, Any]:
    return {
        "schemas": [USER], "userName": address, "active": True, "emails": [{"value": address, "primary": True}],
        "roles": [{"value": "Clinician"}],
    }  # fmt: skip


async def test_under_required_sso_a_created_user_is_an_account_ready_for_it_and_signs_in_there(trust: Trust) -> None:
    async with await _client(trust) as client:
        made = await client.post(USERS, json=_user("New@trust.org"))
        assert made.status_code == 201, made.text
        assert made.json()["active"] is True and made.json()["id"] == user_id("new@trust.org")
        member = await StaffMember.get(email="new@trust.org")
        assert member.password_hash == NO_PASSWORD and await factories.holds("new@trust.org", "clinician")
        assert not await Invitation.exists(email="new@trust.org")
        email = await OutboxMessage.get(recipient="new@trust.org")
        assert email.kind == "sso_ready" and email.link_seed is None
        rendered = templates.render(
            email.kind, recipient=email.recipient, context=email.context, link=None, settings=settings.current()
        )
        message = message_from_bytes(rendered, policy=policy.default)
        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert "sign in with Trust ID" in text and f"/login?org={trust.world.org.id}" in text
        provisioned = await AuditEvent.get(action="provision_sso", target="new@trust.org")
        assert provisioned.actor_email == "API token “Entra ID”" and provisioned.detail["role"] == "Clinician"
        again = await client.post(USERS, json=_user("new@trust.org"))
        assert again.status_code == 409

    trust.provider.add_user("u-new", email="new@trust.org", email_verified=True)  # no MFA asserted
    needed = await sso_helpers.log_in(trust, "u-new")
    assert isinstance(needed, FactorNeeded) and needed.enrol  # its clinical role needs a factor: set up first
    assert not await Session.exists()
    trust.provider.add_user("u-new", email="new@trust.org", email_verified=True, amr=["pwd", "mfa"])
    assert isinstance(await sso_helpers.log_in(trust, "u-new"), sign_in.SignedIn)

    async with await _client(trust) as client:  # deprovisioning ends the grant as for anyone
        assert (await client.delete(f"{USERS}/{user_id('new@trust.org')}")).status_code == 204
    assert not await factories.holds("new@trust.org", "clinician")


async def test_an_existing_account_is_still_invited_under_required_sso(trust: Trust) -> None:
    await factories.member("known@trust.org", "clinician", org=trust.world.other_org)  # an account elsewhere
    async with await _client(trust) as client:
        assert (await client.post(USERS, json=_user("known@trust.org"))).status_code == 201
    invitation = await Invitation.get(email="known@trust.org")
    assert invitation.state == InvitationState.PENDING
    assert invitation.organisation_id == trust.world.org.id  # the account joins only by accepting, as anywhere
    assert not await AuditEvent.exists(action="provision_sso")


async def test_where_sso_is_not_required_a_created_user_is_invited_as_before(trust: Trust) -> None:
    await connect(trust.owner, trust.world.org.id, trust.provider, required=False)
    async with await _client(trust) as client:
        assert (await client.post(USERS, json=_user("plain@trust.org"))).status_code == 201
    assert (await Invitation.get(email="plain@trust.org")).state == InvitationState.PENDING
    assert (await OutboxMessage.get(recipient="plain@trust.org")).kind == "invitation"
    assert not await StaffMember.exists(email="plain@trust.org")
