"""Accounts and removal: an invitation is no access, an existing account's password is never set through a link,
and removing (or changing) a member's role ends the invitations they sent there."""

import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, RoleAssignment, StaffMember
from services.access import auth
from services.access import service as access
from services.access.service import Actor
from services.errors import InvalidInput, LinkInvalid, PermissionDenied
from services.invitations import acceptance, pending
from services.mail.worker import MailWorker
from services.organisations import staff
from tests import factor_helpers, factories
from tests.faults.smtp_server import ScriptedSmtp
from tests.security.helpers import PASSWORD, accept, invite, latest_token, owner_and_world, relay_settings


async def test_an_invitation_gives_no_access_before_it_is_accepted(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["newcomer@example.org", "mo@example.org"], "admin")
    mo = await factories.member("mo@example.org", "supervisor", org=world.other_org)  # an account, made elsewhere

    with pytest.raises(InvalidInput, match="do not match"):
        await auth.login(email="newcomer@example.org", password=PASSWORD, redirect_to="/", client="c")
    assert access.permissions_in(mo, world.dep_scope) == frozenset()
    assert not access.can_manage_staff(mo, world.dep_scope)
    with pytest.raises(PermissionDenied):
        await pending.list_pending(actor=mo, organisation_id=world.org.id)
    assert await RoleAssignment.filter(deployment_id=world.dep.id).count() == 0

    await acceptance.accept_as_member(
        enrolment=factor_helpers.proof(), actor=mo, token=await latest_token("mo@example.org"), client="c"
    )
    mo = await factories.actor_of("mo@example.org")
    assert access.can_manage_staff(mo, world.dep_scope)


async def test_a_member_written_differently_gets_the_role_never_a_password_link(db: str) -> None:
    world, owner = await owner_and_world()
    await factories.member("ann@example.org", "supervisor", dep=world.dep2, password_hash="original")
    result = await invite(owner, world, ["ANN@Example.ORG", "ann@ＥＸＡＭＰＬＥ.org"])
    assert (result.invited, result.role_added) == ([], ["ann@example.org"])
    assert await Invitation.all().count() == 0
    assert not await OutboxMessage.filter(link_seed__isnull=False).exists()
    assert (await StaffMember.get(email="ann@example.org")).password_hash == "original"


async def test_an_account_elsewhere_written_differently_gets_one_link_that_only_logging_in_accepts(db: str) -> None:
    world, owner = await owner_and_world()
    await factories.member("ann@example.org", "supervisor", org=world.other_org, password_hash="original")
    result = await invite(owner, world, ["ANN@Example.ORG", "ann@ＥＸＡＭＰＬＥ.org"])
    assert (result.invited, result.role_added) == (["ann@example.org"], [])
    token = await latest_token("ann@example.org")

    with pytest.raises(PermissionDenied, match="log in to accept"):
        await accept(token, name="Mallory")

    assert (await StaffMember.get(email="ann@example.org")).password_hash == "original"
    assert not await RoleAssignment.filter(member__email="ann@example.org", organisation_id=world.org.id).exists()
    ann = await factories.actor_of("ann@example.org")
    await acceptance.accept_as_member(enrolment=factor_helpers.proof(), actor=ann, token=token, client="c")
    assert access.permissions_in(await factories.actor_of("ann@example.org"), world.dep_scope)


async def test_a_link_sent_before_the_address_had_an_account_cannot_set_its_password(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["late@example.org"])
    await invite(owner, world, ["late@example.org"], organisation_id=world.org.id)
    to_deployment, to_organisation = await Invitation.filter(email="late@example.org").order_by("id")
    await accept(await _token_of(to_organisation.id), name="Late Comer")
    original = (await StaffMember.get(email="late@example.org")).password_hash

    with pytest.raises(PermissionDenied, match="log in to accept"):
        await acceptance.accept_new_account(enrolment=factor_helpers.proof(),
            token=await _token_of(to_deployment.id), full_name="Mallory", password="another password!",
            repeat="another password!", client="c",
        )  # fmt: skip

    assert (await StaffMember.get(email="late@example.org")).password_hash == original
    assert (await Invitation.get(id=to_deployment.id)).state == InvitationState.PENDING


async def _token_of(invitation_id: int) -> str:
    return factories.token_of(await OutboxMessage.get(invitation_id=invitation_id))


async def _controller_with_invitations(world: factories.World) -> tuple[Actor, Actor]:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    await factories.grant(controller.member_id, "organisation_owner", org=world.other_org)
    controller = await factories.actor_of("ac@trust.org")
    await invite(controller, world, ["dep@example.org"], "supervisor")
    await invite(controller, world, ["org@example.org"], "supervisor", organisation_id=world.org.id)
    await invite(controller, world, ["north@example.org"], "clinician", organisation_id=world.other_org.id)
    await invite(owner, world, ["owners@example.org"])
    return owner, controller


async def test_removing_a_member_deletes_the_pending_invitations_they_sent_there_and_only_there(db: str) -> None:
    world = await factories.world()
    owner, controller = await _controller_with_invitations(world)
    links = {email: await latest_token(email) for email in ("dep@example.org", "org@example.org")}

    for assignment in await RoleAssignment.filter(member_id=controller.member_id, organisation_id=world.org.id):
        await staff.remove_from_team(actor=owner, assignment_id=assignment.id)

    states = dict(await Invitation.all().values_list("email", "state"))
    assert states == {
        "dep@example.org": InvitationState.DELETED,
        "org@example.org": InvitationState.DELETED,
        "north@example.org": InvitationState.PENDING,  # another organisation: not this removal's business
        "owners@example.org": InvitationState.PENDING,
    }
    for token in links.values():
        with pytest.raises(LinkInvalid):
            await acceptance.preview(token=token, client="c")
    removal = await AuditEvent.get(action="remove_member")
    assert (removal.target, removal.detail["invitations_deleted"]) == ("ac@trust.org", 2)
    listed = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    assert [row.email for row in listed.rows] == ["owners@example.org"]
    relay = ScriptedSmtp()
    try:
        await MailWorker(relay_settings(await relay.start())).run_until_empty()
    finally:
        await relay.stop()
    assert sorted(relay.recipients) == ["north@example.org", "owners@example.org"]  # theirs never leave


async def test_changing_a_members_role_ends_the_pending_invitations_they_sent_there(db: str) -> None:
    world = await factories.world()
    owner, controller = await _controller_with_invitations(world)
    [assignment] = await RoleAssignment.filter(member_id=controller.member_id, organisation_id=world.org.id)
    supervisor = await factories.role("supervisor")

    await staff.change_role(actor=owner, assignment_id=assignment.id, role_id=supervisor.id)

    still_pending = await Invitation.filter(state=InvitationState.PENDING).values_list("email", flat=True)
    assert sorted(still_pending) == ["north@example.org", "owners@example.org"]
