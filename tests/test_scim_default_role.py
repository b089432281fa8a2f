"""A token's role for users its identity provider creates without one, and SCIM Groups as roles (issue 20 item 2):
the default role follows the no-escalation rule (checked in the service, refusals audited, bad input at its field),
an owner chooses it on the Integrations page, and Groups make, rename and delete custom roles, never default ones."""

import pytest
from nicegui import ui
from nicegui.testing import User

from models import ApiToken, AuditEvent, Invitation, Role, RoleAssignment
from services.access import roles
from services.errors import FieldErrors, PermissionDenied
from services.integrations import tokens
from services.scim.people import user_id
from tests import factories
from tests.test_scim import CHECKER, USERS, _client, _error, _token, _user
from tests.ui_helpers import eventually, sign_in, table

GROUPS = "/scim/v2/Groups"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


@pytest.fixture
async def world(db: str) -> factories.World:
    return await factories.world()


async def test_a_user_created_without_a_role_gets_the_tokens_default_role(world) -> None:
    raw = await _token(world, permissions=CHECKER, default_role="supervisor")
    supervisor = await factories.role("supervisor")
    async with await _client(raw) as client:
        made = await client.post(USERS, json=_user("new@trust.org"))
        assert made.status_code == 201, made.text
        assert [r["value"] for r in made.json()["roles"]] == [str(supervisor.id)]
        unknown = await client.post(USERS, json={**_user("odd@trust.org"), "roles": [{"value": "f00-ba4"}]})
        assert "There is no role" in _error(unknown, 400)["detail"]  # a random role is named, not defaulted
    assert (await Invitation.get(email="new@trust.org")).role_id == supervisor.id
    assert not await Invitation.exists(email="odd@trust.org")


async def test_a_default_role_beyond_the_token_or_its_creator_is_refused(world) -> None:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician, admin_role = await factories.role("clinician"), await factories.role("organisation_owner")
    for role_id, why in ((clinician.id, "let it also"), (admin_role.id, "Choose a role of this place")):
        with pytest.raises(FieldErrors) as refused:
            await tokens.create(
                actor=owner,
                organisation_id=world.org.id,
                name="Okta",
                permissions=["view_patient_data"],
                days=9,
                default_role_id=role_id,
            )
        assert why in refused.value.fields["default_role"]
    lead = await factories.actor_of(owner.email)
    keeper = await roles.create_custom(
        actor=lead,
        organisation_id=world.org.id,
        name="Integrator",
        permissions=["manage_integrations", "view_staff_list", "export_patient_data"],
    )
    creator = await factories.member("int@trust.org", "organisation_staff", org=world.org)
    await RoleAssignment.create(
        member_id=creator.member_id,
        role_id=keeper.id,
        level="organisation",
        organisation_id=world.org.id,
        scope_key=f"org:{world.org.id}",
    )
    creator = await factories.actor_of("int@trust.org")
    with pytest.raises(PermissionDenied):  # may not invite anyone, so its token may not either
        await tokens.create(
            actor=creator,
            organisation_id=world.org.id,
            name="Okta",
            days=9,
            permissions=["view_patient_data", "view_staff_list", "export_patient_data"],
            default_role_id=(await factories.role("supervisor")).id,
        )
    assert await AuditEvent.exists(action="create_token", outcome="refused", actor_email="int@trust.org")
    assert not await ApiToken.exists()


async def test_groups_make_rename_and_delete_custom_roles_and_never_default_ones(world) -> None:
    raw = await _token(world, permissions=CHECKER, default_role="supervisor")
    await factories.member("m@trust.org", "clinician", org=world.org)
    member = user_id("m@trust.org")
    async with await _client(raw) as client:
        made = await client.post(GROUPS, json={"schemas": [GROUP], "displayName": "Night shift", "externalId": "e1"})
        assert made.status_code == 201, made.text
        role = await Role.get(id=int(made.json()["id"]))
        assert (role.name, role.permissions, made.json()["externalId"]) == ("Night shift", ["view_patient_data"], "e1")
        assert (await AuditEvent.get(action="create_role")).actor_email == "API token “Entra ID”"
        assert _error(await client.post(GROUPS, json={"schemas": [GROUP], "displayName": "night SHIFT"}), 409)
        ops = [
            {"op": "replace", "path": "displayName", "value": "Nights"},
            {"op": "add", "path": "members", "value": [{"value": member}]},
        ]
        changed = await client.patch(f"{GROUPS}/{role.id}", json={"schemas": [PATCH], "Operations": ops})
        assert changed.status_code == 200, changed.text
        assert changed.json()["displayName"] == "Nights" and changed.json()["members"][0]["value"] == member
        assert (await client.delete(f"{GROUPS}/{role.id}")).status_code == 204
        assert (await client.get(f"{GROUPS}/{role.id}")).status_code == 404
        assert not await RoleAssignment.exists(role_id=role.id, ended_at=None)  # its grant ended with it
        clinician = await factories.role("clinician")
        assert _error(await client.delete(f"{GROUPS}/{clinician.id}"), 400)["scimType"] == "mutability"
        rename = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Doc"}]}
        assert _error(await client.patch(f"{GROUPS}/{clinician.id}", json=rename), 400)["scimType"] == "mutability"
    assert await factories.holds("m@trust.org", "clinician")
    assert (await Role.get(id=role.id)).deleted_at is not None


async def test_an_owner_chooses_the_default_role_on_the_integrations_page(user: User) -> None:
    world = await factories.world()
    owner = await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await factories.grant(owner.member_id, "clinician", org=world.org)
    supervisor = await factories.role("supervisor")
    await user.open(f"/care/integrations?org={world.org.id}")
    await user.should_see("Role for users your identity provider creates without one (SCIM)", retries=50)
    user.find(marker="token-name").type("Okta")
    for key in ("view_patient_data", "view_staff_list", "export_patient_data", "invite_staff"):
        next(e for e in user.find(marker=f"permission-{key}").elements if isinstance(e, ui.checkbox)).value = True
    select = next(e for e in user.find(marker="token-default-role").elements if isinstance(e, ui.select))
    assert isinstance(select.options, dict) and select.options[supervisor.id] == "Supervisor"
    select.value = supervisor.id
    user.find(kind=ui.button, content="Make token").click()
    await user.should_see("I have copied it", retries=50)
    assert (await ApiToken.get(name="Okta")).default_role_id == supervisor.id
    user.find(kind=ui.button, content="I have copied it").click()
    await eventually(lambda: [r["default_role"] for r in table(user, "tokens").rows] == ["Supervisor"])
