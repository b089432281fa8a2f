"""The REST API (issue 20 item 3) over HTTP to the ASGI app: a token invites (one, and a bulk of 1,000), lists
pending invitations by keyset pages, resends, deletes; changes a member's role, sets an end, removes; lists roles.
Refusals are problem details, audited; the docs list the endpoints."""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from nicegui import core
from nicegui.testing import User

from models import ApprovalState, AuditEvent, Invitation, InvitationState, RoleAssignment
from services.approvals import rules
from services.integrations import rate_limits, tokens
from services.platform import clock
from tests import factories

INVITE = ["invite_staff", "view_staff_list"]
PROBLEM = "application/problem+json"


@pytest.fixture
async def api(user: User) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=core.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as client:
        yield client


async def _token(world: factories.World, permissions: list[str] = INVITE, name: str = "HR feed") -> dict[str, str]:
    if not await factories.holds("owner@trust.org", "organisation_owner"):
        await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    owner = await factories.actor_of("owner@trust.org")
    raw, _ = await tokens.create(actor=owner, organisation_id=world.org.id, name=name, permissions=permissions, days=30)
    return {"Authorization": f"Bearer {raw}"}


async def _clinician() -> int:
    return (await factories.role("clinician")).id


async def test_a_token_invites_one_and_a_thousand_with_the_pop_outs_result(api: httpx.AsyncClient) -> None:
    world = await factories.world()
    auth = await _token(world)
    role_id = await _clinician()
    one = await api.post("/api/v1/invitations", headers=auth, json={"addresses": ["a@x.org"], "role_id": role_id})
    assert one.status_code == 200, one.text
    assert one.json()["invited"] == ["a@x.org"]
    many = [f"person{n}@example.org" for n in range(1000)] + ["not an address", "a@x.org"]
    bulk = await api.post("/api/v1/invitations", headers=auth, json={"addresses": many, "role_id": role_id})
    result = bulk.json()
    assert len(result["invited"]) == 1000 and result["replaced"] == ["a@x.org"]
    assert [p["address"] for p in result["invalid"]] == ["not an address"]
    assert await Invitation.filter(state=InvitationState.PENDING, role_id=role_id).count() == 1001
    audited = await AuditEvent.filter(action="invite").order_by("-id").first()
    assert audited is not None and audited.actor_email == "API token “HR feed”"


async def test_a_role_change_that_needs_approval_answers_202_and_changes_nothing_yet(api: httpx.AsyncClient) -> None:
    world = await factories.world()
    auth = await _token(world)
    supervisor = await factories.role("supervisor")
    owner = await factories.actor_of("owner@trust.org")
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    grant = await factories.grant(
        (await factories.member("nurse@trust.org", full_name="Nina Nurse")).member_id, "clinician", org=world.org
    )
    changed = await api.put(f"/api/v1/staff/{grant.id}/role", headers=auth, json={"role_id": supervisor.id})
    assert changed.status_code == 202, changed.text
    assert changed.json()["awaiting_approval"] is True
    assert changed.json()["detail"] == (
        "“Supervisor” needs a second person's approval: the change waits in Awaiting approval; Nina Nurse keeps "
        "“Clinician” until it is approved and accepted."
    )
    assert (await RoleAssignment.get(id=grant.id)).role_id != supervisor.id
    waiting = await Invitation.get(email="nurse@trust.org", state=InvitationState.PENDING)
    assert (waiting.approval, waiting.replaces_grant_id) == (ApprovalState.AWAITING, grant.id)
    [listed] = (await api.get("/api/v1/invitations?search=nurse", headers=auth)).json()["items"]
    assert (listed["role"], listed["changes_from"], listed["awaiting_approval"]) == ("Supervisor", "Clinician", True)


async def test_pending_invitations_come_in_keyset_pages_and_are_resent_and_deleted(api: httpx.AsyncClient) -> None:
    world = await factories.world()
    auth = await _token(world)
    addresses = [f"p{n:02}@example.org" for n in range(7)]
    await api.post("/api/v1/invitations", headers=auth, json={"addresses": addresses, "role_id": await _clinician()})
    seen: list[str] = []
    first = (await api.get("/api/v1/invitations?sort=email&page_size=3", headers=auth)).json()
    seen += [i["email"] for i in first["items"]]
    second = await api.get(f"/api/v1/invitations?sort=email&page_size=3&page=2&after={first['next']}", headers=auth)
    seen += [i["email"] for i in second.json()["items"]]
    back = await api.get(f"/api/v1/invitations?sort=email&page_size=3&before={second.json()['previous']}", headers=auth)
    assert seen == addresses[:6] and first["total"] == 7 and first["previous"] is None
    assert [i["email"] for i in back.json()["items"]] == addresses[:3]
    found = await api.get("/api/v1/invitations?search=p06", headers=auth)
    target = found.json()["items"][0]
    clock.advance(timedelta(minutes=5))
    resent = await api.post("/api/v1/invitations/resend", headers=auth, json={"ids": [target["id"]]})
    assert resent.json() == {"resent": ["p06@example.org"], "skipped": []}
    deleted = await api.delete(f"/api/v1/invitations/{target['id']}", headers=auth)
    assert deleted.json() == {"deleted": ["p06@example.org"]}
    again = await api.delete(f"/api/v1/invitations/{target['id']}", headers=auth)
    assert again.status_code == 404 and again.headers["content-type"] == PROBLEM
    bad = await api.get("/api/v1/invitations?after=nonsense", headers=auth)
    assert bad.status_code == 422 and "after" in bad.json()["errors"]


async def test_staff_are_listed_and_a_role_changed_an_end_set_and_a_member_removed(api: httpx.AsyncClient) -> None:
    world = await factories.world()
    auth = await _token(world)
    await factories.member("nurse@trust.org", "clinician", org=world.org, full_name="Nina Nurse")
    listed = (await api.get("/api/v1/staff?search=nurse", headers=auth)).json()
    [grant] = listed["items"]
    assert (grant["email"], grant["role"], listed["total"]) == ("nurse@trust.org", "Clinician", 1)
    supervisor = await factories.role("supervisor")
    changed = await api.put(
        f"/api/v1/staff/{grant['assignment_id']}/role", headers=auth, json={"role_id": supervisor.id}
    )
    assert changed.status_code == 200, changed.text
    ends = (clock.now() + timedelta(days=30)).isoformat()
    ended = await api.put(f"/api/v1/staff/{grant['assignment_id']}/end", headers=auth, json={"ends_at": ends})
    assert ended.json()["member"] == "nurse@trust.org"
    assignment = await RoleAssignment.get(id=grant["assignment_id"])
    assert assignment.role_id == supervisor.id and assignment.ends_at is not None
    removed = await api.delete(f"/api/v1/staff/{grant['assignment_id']}", headers=auth)
    assert removed.status_code == 200 and (await RoleAssignment.get(id=grant["assignment_id"])).ended_at is not None
    roles = (await api.get("/api/v1/roles", headers=auth)).json()
    by_key = {r["key"]: r for r in roles}
    assert by_key["clinician"]["grantable"] and "super_admin" not in by_key


async def test_refusals_are_problem_details_and_audited(api: httpx.AsyncClient) -> None:
    world = await factories.world()
    auth = await _token(world, permissions=["view_staff_list"])
    body = {"addresses": ["a@x.org"], "role_id": await _clinician()}
    none = await api.get("/api/v1/staff")
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Bearer")
    assert none.headers["content-type"] == PROBLEM and set(none.json()) >= {"type", "title", "status", "detail"}
    lacking = await api.post("/api/v1/invitations", headers=auth, json=body)
    assert lacking.status_code == 403 and lacking.json()["status"] == 403
    admin_role = await factories.role("organisation_editor")
    full = await _token(world, name="Entra ID")
    above = await api.post("/api/v1/invitations", headers=full, json={**body, "role_id": admin_role.id})
    assert above.status_code == 403
    malformed = await api.post(
        "/api/v1/invitations",
        headers=full,
        content=b"{not json",
    )
    assert malformed.status_code == 422 and malformed.headers["content-type"] == PROBLEM
    await tokens.revoke(actor=await factories.actor_of("owner@trust.org"), token_id=(await _row_id("HR feed")))
    revoked = await api.get("/api/v1/staff", headers=auth)
    assert revoked.status_code == 401
    refused = await AuditEvent.filter(action="api_call", outcome="refused").order_by("id")
    assert [(e.detail or {}).get("reason") for e in refused] == ["no token", "revoked"]
    assert await AuditEvent.filter(action="invite", outcome="refused").count() == 2
    assert not await Invitation.filter(email="a@x.org").exists()


async def _row_id(name: str) -> int:
    from models import ApiToken

    return (await ApiToken.filter(name=name).order_by("id").first()).id  # type: ignore[union-attr]


async def test_the_docs_list_the_endpoints_and_nothing_else(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/api/openapi.json")).json()
    assert set(schema["paths"]) == {
        "/api/v1/invitations",
        "/api/v1/invitations/resend",
        "/api/v1/invitations/{invitation_id}",
        "/api/v1/staff",
        "/api/v1/staff/{assignment_id}/role",
        "/api/v1/staff/{assignment_id}/end",
        "/api/v1/staff/{assignment_id}",
        "/api/v1/roles",
    }
    docs = await api.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text


async def test_past_its_limit_a_token_gets_429_with_retry_after_until_the_next_window(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await factories.world()
    auth = await _token(world)
    monkeypatch.setattr(rate_limits, "CALLS_PER_WINDOW", 3)
    answers = [(await api.get("/api/v1/roles", headers=auth)).status_code for _ in range(4)]
    limited = await api.get("/api/v1/roles", headers=auth)
    assert answers == [200, 200, 200, 429] and limited.headers["content-type"] == PROBLEM
    assert 1 <= int(limited.headers["retry-after"]) <= rate_limits.WINDOW_SECONDS
    clock.advance(timedelta(seconds=rate_limits.WINDOW_SECONDS))
    assert (await api.get("/api/v1/roles", headers=auth)).status_code == 200
