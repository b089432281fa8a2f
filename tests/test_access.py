"""The two "who may invite whom" rules, for every default role, against PRODUCT.md's table."""

import pytest

from models import Organisation, Role
from services.access import service as access
from tests import factories

ORG_CARE = {"access_controller", "organisation_staff", "administrator", "clinician", "supervisor"}
DEP_CARE = {"administrator", "admin", "contributor", "clinician", "deployment_staff", "patient_support", "supervisor"}
NOTHING: dict[str, set[str]] = {"platform": set(), "org": set(), "dep": set(), "other_org": set(), "other_dep": set()}

# inviter role -> where it is held -> {target scope: role keys it may hand out there}
EXPECTED: dict[str, tuple[str, dict[str, set[str]]]] = {
    "super_admin": (
        "platform",
        {
            "platform": {"super_admin", "platform_support", "account_manager"},
            "org": {"organisation_owner", "organisation_editor"} | ORG_CARE,
            "dep": DEP_CARE,
            "other_org": {"organisation_owner", "organisation_editor"} | ORG_CARE,
            "other_dep": DEP_CARE,
        },
    ),
    "platform_support": (
        "platform",
        {
            "platform": {"account_manager"},
            "org": {"organisation_owner", "organisation_editor"} | ORG_CARE,
            "dep": DEP_CARE,
            "other_org": {"organisation_owner", "organisation_editor"} | ORG_CARE,
            "other_dep": DEP_CARE,
        },
    ),
    "account_manager": (
        "platform",
        {
            **NOTHING,
            "org": {"organisation_owner", "organisation_editor"} | ORG_CARE,
            "dep": DEP_CARE,
        },
    ),
    "organisation_owner": (
        "org",
        {**NOTHING, "org": {"organisation_owner", "organisation_editor"} | ORG_CARE, "dep": DEP_CARE},
    ),
    "organisation_editor": ("org", {**NOTHING, "org": ORG_CARE, "dep": DEP_CARE}),
    "access_controller": (
        "org",
        {
            **NOTHING,
            "org": {"access_controller", "organisation_staff", "administrator", "supervisor"},
            "dep": {"administrator", "supervisor"},
        },
    ),
    "organisation_staff": ("org", NOTHING),
    "administrator": ("dep", {**NOTHING, "dep": {"administrator", "supervisor"}}),
    "admin": ("dep", {**NOTHING, "dep": DEP_CARE}),
    "contributor": ("dep", NOTHING),
    "clinician": ("org", NOTHING),
    "deployment_staff": ("dep", NOTHING),
    "patient_support": ("dep", NOTHING),
    "supervisor": ("org", NOTHING),
}


@pytest.mark.parametrize("inviter", sorted(EXPECTED))
async def test_each_default_role_may_hand_out_exactly_what_product_says(db: str, inviter: str) -> None:
    world = await factories.world()
    held_at, expected = EXPECTED[inviter]
    place = {"platform": {}, "org": {"org": world.org}, "dep": {"dep": world.dep}}[held_at]
    actor = await factories.member("inviter@example.org", inviter, **place)  # type: ignore[arg-type]
    if inviter == "account_manager":
        await Organisation.filter(id=world.org.id).update(created_by_id=actor.member_id)
        actor = await factories.actor_of("inviter@example.org")
    scopes = {
        "platform": access.PLATFORM_SCOPE,
        "org": world.org_scope,
        "dep": world.dep_scope,
        "other_org": access.Scope(access.ScopeLevel.ORGANISATION, world.other_org.id),
        "other_dep": access.Scope(access.ScopeLevel.DEPLOYMENT, world.other_org.id, world.other_dep.id),
    }
    all_roles = [access.RoleInfo.of(r) for r in await Role.filter(organisation_id=None)]
    for target, scope in scopes.items():
        allowed = {r.key for r in access.grantable_roles(actor, all_roles, scope)}
        assert allowed == expected[target], f"{inviter} at {target}"


async def test_an_organisation_level_role_covers_every_deployment_of_it_but_not_another_organisation(db: str) -> None:
    world = await factories.world()
    clinician = await factories.member("c@example.org", "clinician", org=world.org)
    dep2_scope = access.Scope(access.ScopeLevel.DEPLOYMENT, world.org.id, world.dep2.id)
    other_scope = access.Scope(access.ScopeLevel.DEPLOYMENT, world.other_org.id, world.other_dep.id)
    assert access.has_permission(clinician, access.Permission.CONTACT_PATIENT, world.dep_scope)
    assert access.has_permission(clinician, access.Permission.CONTACT_PATIENT, dep2_scope)
    assert not access.permissions_in(clinician, other_scope)


async def test_custom_roles_are_handed_out_only_by_those_holding_all_their_permissions(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@example.org", "access_controller", org=world.org)
    viewer = await Role.create(
        name="Viewer",
        organisation=world.org,
        levels=["organisation", "deployment"],
        permissions=["view_patient_data", "export_patient_data"],
    )
    contact = await Role.create(
        name="Caller",
        organisation=world.org,
        levels=["organisation", "deployment"],
        permissions=["view_patient_data", "contact_patient"],
    )
    foreign = await Role.create(
        name="Viewer", organisation=world.other_org, levels=["organisation"], permissions=["view_patient_data"]
    )
    assert access.can_grant(controller, access.RoleInfo.of(viewer), world.org_scope)
    assert not access.can_grant(controller, access.RoleInfo.of(contact), world.org_scope)
    assert not access.can_grant(controller, access.RoleInfo.of(foreign), world.org_scope)


async def test_an_account_manager_reaches_only_the_organisations_it_created(db: str) -> None:
    world = await factories.world()
    manager = await factories.member("am@example.org", "account_manager")
    await Organisation.filter(id=world.org.id).update(created_by_id=manager.member_id)
    manager = await factories.actor_of("am@example.org")
    assert access.admin_rank_over(manager, world.org.id) == 3
    assert access.admin_rank_over(manager, world.other_org.id) == 0
    assert access.has_permission(manager, access.Permission.DELETE_ORGANISATION, world.org_scope)
    assert not access.has_permission(
        manager, access.Permission.DELETE_ORGANISATION, access.Scope(access.ScopeLevel.ORGANISATION, world.other_org.id)
    )
