"""The questions pages ask (services/access/rights.py and roles.invite_scopes), answered from the two rules."""

from models import Organisation
from services.access import rights, roles
from services.access.service import Scope, ScopeLevel
from tests import factories


async def test_an_organisation_is_seen_by_those_who_may_see_its_staff_somewhere_or_reach_it(db: str) -> None:
    world = await factories.world()
    contributor = await factories.member("co@trust.org", "contributor", dep=world.dep)
    supervisor = await factories.member("su@trust.org", "supervisor", dep=world.dep)
    owner = await factories.member("ow@trust.org", "organisation_owner", org=world.org)
    support = await factories.member("ps@example.org", "platform_support")
    manager = await factories.member("am@example.org", "account_manager")
    await Organisation.filter(id=world.other_org.id).update(created_by_id=manager.member_id)
    manager = await factories.actor_of("am@example.org")
    # A role without *view staff list* (Contributor) does not open the organisation: its page is the staff list.
    assert not rights.may_see_organisation(actor=contributor, organisation_id=world.org.id)
    assert rights.organisations_seen(actor=contributor) == frozenset()
    assert rights.organisations_seen(actor=supervisor) == {world.org.id}
    assert rights.organisations_seen(actor=owner) == {world.org.id}
    assert rights.organisations_seen(actor=manager) == {world.other_org.id}
    assert rights.organisations_seen(actor=support) is None
    assert rights.may_see_organisation(actor=support, organisation_id=world.other_org.id)


async def test_inviting_reading_the_audit_log_editing_roles_and_access_settings_each_have_one_answer(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    lead = await factories.member("lead@trust.org", "admin", dep=world.dep)
    staff = await factories.member("st@trust.org", "organisation_staff", org=world.org)
    org = world.org.id
    asked = {
        name: (
            rights.may_invite(actor=actor, organisation_id=org),
            rights.may_read_audit(actor=actor, organisation_id=org),
            rights.may_edit_roles(actor=actor, organisation_id=org),
            rights.may_change_access_settings(actor=actor, organisation_id=org),
        )
        for name, actor in (("controller", controller), ("lead", lead), ("staff", staff))
    }
    # A deployment Admin invites in its deployment but reads no organisation-wide log and edits no organisation role
    # (nor its access settings: those who edit its roles change them).
    assert asked == {
        "controller": (True, True, True, True),
        "lead": (True, False, False, False),
        "staff": (False, False, False, False),
    }
    assert not rights.may_invite(actor=controller, organisation_id=world.other_org.id)


async def test_only_platform_support_and_above_invite_admin_staff_and_organisation_creators_create(db: str) -> None:
    world = await factories.world()
    people = {
        "super_admin": await factories.member("sa@example.org", "super_admin"),
        "platform_support": await factories.member("ps@example.org", "platform_support"),
        "account_manager": await factories.member("am@example.org", "account_manager"),
        "organisation_owner": await factories.member("ow@trust.org", "organisation_owner", org=world.org),
    }
    assert {k for k, a in people.items() if rights.may_invite_admin_staff(actor=a)} == {
        "super_admin",
        "platform_support",
    }
    assert {k for k, a in people.items() if rights.may_create_organisation(actor=a)} == {
        "super_admin",
        "platform_support",
        "account_manager",
    }


async def test_the_pop_out_offers_the_places_where_the_actor_may_hand_out_a_role(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    lead = await factories.member("lead@trust.org", "admin", dep=world.dep2)
    nurse = await factories.member("nurse@trust.org", "clinician", org=world.org)
    org_scope = Scope(ScopeLevel.ORGANISATION, world.org.id)
    dep2_scope = Scope(ScopeLevel.DEPLOYMENT, world.org.id, world.dep2.id)

    offered = await roles.invite_scopes(actor=controller, organisation_id=world.org.id)
    assert [o.label for o in offered] == [
        "St Mary's Trust (whole organisation)",
        "Heart Failure Trial at St Mary's Trust",
        "Remote Monitoring at St Mary's Trust",
    ]
    organisation_wide = {"access_controller", "organisation_staff", "administrator", "supervisor"}
    assert {r.key for r in offered[0].roles} == organisation_wide
    assert {r.key for r in offered[1].roles} == {"administrator", "supervisor"}

    offered = await roles.invite_scopes(actor=lead, organisation_id=world.org.id)
    assert [(o.scope, o.label) for o in offered] == [(dep2_scope, "Remote Monitoring at St Mary's Trust")]

    offered = await roles.invite_scopes(actor=nurse, organisation_id=world.org.id)  # nowhere: the pop-out says so
    assert [(o.scope, o.roles) for o in offered] == [(org_scope, [])]


async def test_the_row_actions_of_the_admin_portal_and_the_staff_list_each_have_one_answer(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("ow@trust.org", "organisation_owner", org=world.org)
    editor = await factories.member("ed@trust.org", "organisation_editor", org=world.org)
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    nurse = await factories.member("nurse@trust.org", "clinician", org=world.org)
    lead = await factories.member("lead@trust.org", "admin", dep=world.dep)
    sa = await factories.member("sa@example.org", "super_admin")
    org = world.org.id
    assert rights.may_archive_organisation(actor=owner, organisation_id=org)
    assert not rights.may_archive_organisation(actor=editor, organisation_id=org)
    assert rights.may_rename_organisation(actor=editor, organisation_id=org)
    assert rights.may_add_deployment(actor=editor, organisation_id=org)
    assert not rights.may_rename_organisation(actor=editor, organisation_id=world.other_org.id)
    assert [rights.may_restore_organisation(actor=a) for a in (owner, sa)] == [False, True]
    assert rights.may_invite_to_deployment(actor=lead, organisation_id=org, deployment_id=world.dep.id)
    assert not rights.may_invite_to_deployment(actor=lead, organisation_id=org, deployment_id=world.dep2.id)
    supervisor, owner_role = await factories.role("supervisor"), await factories.role("organisation_owner")
    assert rights.may_manage_member(actor=controller, role=supervisor, scope=world.org_scope)
    assert not rights.may_manage_member(actor=controller, role=owner_role, scope=world.org_scope)
    assert not rights.may_manage_member(actor=nurse, role=supervisor, scope=world.dep_scope)
