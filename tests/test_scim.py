"""SCIM 2.0 at /scim/v2 (issue 20 item 2): an identity provider holding an API token provisions and deprovisions
staff over HTTP, in Entra's and Okta's forms, within the token's scope (the independent checker scim2-tester runs
against a running app in tests/test_scim_checker.py)."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, Session, StaffMember
from pages import scim
from services.access import auth
from services.access import tokens as hashing
from services.integrations import tokens
from services.platform import clock
from services.scim.people import user_id
from tests import factories

USERS = "/scim/v2/Users"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
INVITE = ["invite_staff", "view_staff_list", "view_patient_data"]
CHECKER = [*INVITE, "edit_roles", "export_patient_data"]  # roles too, and what Supervisor holds


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(scim.router)
    return app


async def _client(raw: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {raw}"} if raw else {}
    transport = httpx.ASGITransport(app=_app())
    return httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test", headers=headers)


@pytest.fixture
async def world(db: str) -> AsyncIterator[factories.World]:
    yield await factories.world()


async def _token(
    world: factories.World, *, org_id: int | None = None, permissions: list[str] = INVITE, default_role: str = ""
) -> str:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    if org_id is not None:
        await factories.grant(owner.member_id, "organisation_owner", org=world.other_org)
    if set(permissions) - set(INVITE):
        await factories.grant(owner.member_id, "clinician", org=world.org)  # exports, like the roles it hands out
    owner = await factories.actor_of("owner@trust.org")
    default_role_id = (await factories.role(default_role)).id if default_role else None
    raw, _ = await tokens.create(
        actor=owner,
        organisation_id=org_id or world.org.id,
        name="Entra ID",
        permissions=permissions,
        days=30,
        default_role_id=default_role_id,
    )
    return raw


async def _signed_in(email: str) -> None:
    member = await StaffMember.get(email=email)
    _, hashed = hashing.new_token()
    at = clock.now()
    await Session.create(token_hash=hashed, member_id=member.id, last_seen_at=at, expires_at=at + auth.ABSOLUTE_TIMEOUT)


async def _open_sessions(email: str) -> int:
    return await Session.filter(member__email=email, revoked_at__isnull=True).count()


def _user(address: str) -> dict[str, Any]:
    return {"schemas": [USER], "userName": address, "active": True, "emails": [{"value": address, "primary": True}]}


def _error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["schemas"] == [ERROR] and str(body["status"]) == str(status)
    return body


@pytest.mark.data
async def test_a_user_is_provisioned_found_by_user_name_and_deprovisioned_in_entras_form(world) -> None:
    raw = await _token(world)
    clinician = await factories.role("clinician")
    async with await _client(raw) as client:
        made = await client.post(
            USERS,
            json={**_user("new@trust.org"), "roles": [{"value": "Clinician"}]},
        )
        assert made.status_code == 201, made.text
        user = made.json()
        assert user["userName"] == "new@trust.org" and user["active"] is True
        assert user["roles"][0]["value"] == str(clinician.id) and made.headers["Location"].endswith(user["id"])
        invitation = await Invitation.get(email="new@trust.org")
        assert invitation.state == InvitationState.PENDING and invitation.role_id == clinician.id
        assert await OutboxMessage.filter(recipient="new@trust.org").exists()
        assert (await AuditEvent.get(action="invite")).actor_email == "API token “Entra ID”"
        found = (await client.get(USERS, params={"filter": 'userName eq "new@trust.org"'})).json()
        assert found["totalResults"] == 1 and found["Resources"][0]["id"] == user["id"]
        assert (await client.get(USERS, params={"filter": 'userName eq "nobody@trust.org"'})).json()[
            "totalResults"
        ] == 0
        again = await client.post(USERS, json={**_user("new@trust.org"), "roles": [{"value": "Clinician"}]})
        assert _error(again, 409)["scimType"] == "uniqueness"

        await factories.member("nurse@trust.org", "clinician", org=world.org, full_name="Nina Nurse")
        await _signed_in("nurse@trust.org")
        nurse = user_id("nurse@trust.org")
        entra = {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
        patched = await client.patch(f"{USERS}/{nurse}", json=entra)
        assert patched.status_code == 200, patched.text
        assert patched.json()["active"] is False
        assert not await factories.holds("nurse@trust.org", "clinician")
        assert await _open_sessions("nurse@trust.org") == 0
        assert (await client.get(f"{USERS}/{nurse}")).json()["active"] is False  # a User until the provider deletes it

        assert (await client.delete(f"{USERS}/{user['id']}")).status_code == 204
        assert (await Invitation.get(email="new@trust.org")).state == InvitationState.DELETED
        assert (await client.get(f"{USERS}/{user['id']}")).status_code == 404


@pytest.mark.data
async def test_okta_deactivates_with_a_value_object_and_paging_lists_everyone_once(world) -> None:
    raw = await _token(world)
    for n in range(3):
        await factories.member(f"m{n}@trust.org", "clinician", org=world.org)
    await _signed_in("m1@trust.org")
    async with await _client(raw) as client:
        pages = [(await client.get(USERS, params={"startIndex": s, "count": 2})).json() for s in (1, 3)]
        seen = [r["userName"] for p in pages for r in p["Resources"]]
        assert pages[0]["totalResults"] == 4 and sorted(seen) == sorted(set(seen)) and len(seen) == 4
        okta = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
        assert (await client.patch(f"{USERS}/{user_id('m1@trust.org')}", json=okta)).json()["active"] is False
    assert not await factories.holds("m1@trust.org", "clinician") and await _open_sessions("m1@trust.org") == 0
    assert await factories.holds("m0@trust.org", "clinician")


@pytest.mark.data
async def test_groups_are_the_roles_of_the_scope_and_membership_patches_grant_and_remove(world) -> None:
    raw = await _token(world)
    await factories.member("m@trust.org", "clinician", org=world.org)
    supervisor = await factories.role("supervisor")
    async with await _client(raw) as client:
        listed = (await client.get("/scim/v2/Groups")).json()
        names = {g["displayName"] for g in listed["Resources"]}
        assert "Clinician" in names and "Supervisor" in names
        member = user_id("m@trust.org")
        add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]}
        group = await client.patch(f"/scim/v2/Groups/{supervisor.id}", json=add)
        assert group.status_code == 200, group.text
        assert await factories.holds("m@trust.org", "supervisor")  # a member of the organisation gets it at once
        remove = {"schemas": [PATCH], "Operations": [{"op": "Remove", "path": "members", "value": [{"value": member}]}]}
        assert (await client.patch(f"/scim/v2/Groups/{supervisor.id}", json=remove)).status_code == 200
        assert not await factories.holds("m@trust.org", "supervisor")
        assert await factories.holds("m@trust.org", "clinician")
        assert _error(await client.post("/scim/v2/Groups", json={"displayName": "x"}), 403)  # no *edit roles*


@pytest.mark.data
async def test_refusals_are_scim_errors_and_change_nothing(world) -> None:
    raw = await _token(world)
    await factories.member("far@north.org", "clinician", org=world.other_org)
    body = {**_user("x@trust.org"), "roles": [{"value": "Organisation owner"}]}
    async with await _client(None) as anonymous:
        _error(await anonymous.get(USERS), 401)
    async with await _client(raw) as client:
        assert _error(await client.get(f"{USERS}/{user_id('far@north.org')}"), 404)
        assert "Say which role" in _error(await client.post(USERS, json=_user("y@trust.org")), 400)["detail"]
        refused = await client.post(USERS, json=body)
        assert refused.status_code in (400, 403), refused.text
        _error(await client.post(USERS, content=b"{not json"), 400)
        _error(await client.get(USERS, params={"filter": "userName zz"}), 400)
    owner = await factories.actor_of("owner@trust.org")
    token_id = (await tokens.listed(actor=owner, organisation_id=world.org.id))[0].id
    await tokens.revoke(actor=owner, token_id=token_id)
    async with await _client(raw) as client:
        _error(await client.get(USERS), 401)
    assert not await Invitation.filter(email__in=["x@trust.org", "y@trust.org"]).exists()
    assert await factories.holds("far@north.org", "clinician")
