"""Custom roles: names, permissions, who may edit them, and what deleting one does."""

import pytest

from models import AuditEvent, Invitation, InvitationState, Role, RoleAssignment
from services.access import roles
from services.access.liveness import live
from services.errors import InvalidInput, PermissionDenied
from services.invitations import service as invitations
from tests import factories


async def test_a_custom_role_always_views_patient_data_and_has_a_unique_name(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    role = await roles.create_custom(
        actor=controller, organisation_id=world.org.id, name=" Phone  Support ", permissions=["export_patient_data"]
    )
    assert role.name == "Phone Support"
    assert {p.value for p in role.permissions} == {"export_patient_data", "view_patient_data"}
    for name, problem in (("phone support", "already exists"), ("Clinician", "already exists"), ("", "name")):
        with pytest.raises(InvalidInput, match=problem):
            await roles.create_custom(actor=controller, organisation_id=world.org.id, name=name, permissions=[])
    with pytest.raises(PermissionDenied, match="permissions you hold"):
        await roles.create_custom(
            actor=controller, organisation_id=world.org.id, name="Caller", permissions=["contact_patient"]
        )
    super_admin = await factories.member("sa@g.org", "super_admin")
    with pytest.raises(InvalidInput, match="care permissions"):
        await roles.create_custom(
            actor=super_admin, organisation_id=world.org.id, name="Boss", permissions=["delete_organisation"]
        )
    other = await roles.create_custom(
        actor=super_admin,
        organisation_id=world.other_org.id,
        name="Phone Support",
        permissions=[],
    )
    assert other.organisation_id == world.other_org.id


async def test_only_those_who_edit_roles_in_that_organisation_may_change_roles(db: str) -> None:
    world = await factories.world()
    supervisor = await factories.member("sup@trust.org", "supervisor", org=world.org)
    foreign = await factories.member("ac@north.org", "access_controller", org=world.other_org)
    for actor in (supervisor, foreign):
        with pytest.raises(PermissionDenied):
            await roles.create_custom(actor=actor, organisation_id=world.org.id, name="X", permissions=[])
    assert await AuditEvent.filter(action="create_role", outcome="refused").count() == 2


async def test_deleting_a_role_takes_it_from_members_and_deletes_its_pending_invitations(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    role = await roles.create_custom(actor=controller, organisation_id=world.org.id, name="Reader", permissions=[])
    member = await factories.member("reader@trust.org")
    await RoleAssignment.create(
        member_id=member.member_id,
        role_id=role.id,
        level="organisation",
        organisation_id=world.org.id,
        scope_key=f"org:{world.org.id}",
    )
    await invitations.send(
        actor=controller,
        addresses=["new@example.org"],
        role_id=role.id,
        lifetime_hours=24,
        organisation_id=world.org.id,
    )
    edited = await roles.update_custom(
        actor=controller, role_id=role.id, name="Viewer", permissions=["export_patient_data"]
    )
    assert edited.name == "Viewer"
    await roles.delete_custom(actor=controller, role_id=role.id)
    assert (await Role.get(id=role.id)).deleted_at is not None
    assert role.id not in [r.id for r in await roles.available_in(organisation_id=world.org.id)]
    assert not await RoleAssignment.filter(live(), member_id=member.member_id).exists()
    assert await RoleAssignment.filter(member_id=member.member_id, ended_at__isnull=False).exists()  # as history
    assert (await Invitation.get(email="new@example.org")).state == InvitationState.DELETED
    deleted = await AuditEvent.get(action="delete_role")
    assert deleted.detail == {"assignments_removed": 1, "invitations_deleted": 1}
