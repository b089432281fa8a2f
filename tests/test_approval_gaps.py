"""No way around two-person approval (issue 19 item 1): a role change to a covered role, from the staff list, the
REST API's service or an access review, waits as an invitation awaiting approval and the member keeps their role
until it is approved and accepted; SCIM gives covered roles only through invitations that wait; a custom role that
people hold is not given a covered permission. Every path is audited in a sentence."""

import pytest

from models import (
    ApprovalState,
    AuditEvent,
    Invitation,
    InvitationState,
    MessageKind,
    OutboxMessage,
    Role,
    RoleAssignment,
    RoleChange,
)
from services.access import roles
from services.access.service import RoleInfo
from services.approvals import queue, rules
from services.approvals import service as approvals
from services.audit import service as audit
from services.errors import FieldErrors, LinkInvalid
from services.integrations import tokens
from services.invitations import acceptance
from services.invitations import service as invitations
from services.organisations import grant_ends, staff
from services.reviews import decisions
from services.scim import people
from tests import factor_helpers, factories
from tests.review_helpers import NURSE, item_of, start, team

MAX = "max@trust.org"


async def _trust(
    world: factories.World, *, permissions: tuple[str, ...] = ()
) -> tuple[factories.Actor, factories.Actor, RoleAssignment]:
    """An access controller who changes roles, an owner who approves (Supervisor needs approval, and roles holding
    the permissions given), and Max, Organisation Staff."""
    inviter = await factories.member("ac@trust.org", "access_controller", org=world.org, full_name="Ann Inviter")
    approver = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    supervisor = await factories.role("supervisor")
    await rules.set_rules(
        actor=approver, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=list(permissions)
    )
    max_ = await factories.member(MAX, full_name="Max Rossi")
    grant = await factories.grant(max_.member_id, "organisation_staff", org=world.org, sponsor_id=inviter.member_id)
    return inviter, approver, grant


async def _roles_of(email: str) -> list[str]:
    return sorted(
        str(n)
        for n in await RoleAssignment.filter(member__email=email, ended_at=None).values_list("role__key", flat=True)
    )


async def _accept(token: str) -> None:
    """Max accepts from the approved email, logged in (Supervisor needs a second factor: set up on the way)."""
    actor = await factories.actor_of(MAX)
    await acceptance.accept_as_member(actor=actor, token=token, client="t", enrolment=factor_helpers.proof())


async def _sentences(actor: factories.Actor, organisation_id: int, action: str) -> list[str]:
    rows, _ = await audit.events_page(actor=actor, organisation_id=organisation_id, action=action, page_size=50)
    return [row.sentence for row in reversed(rows)]


@pytest.mark.data
async def test_a_change_to_a_covered_role_waits_and_the_member_keeps_their_role_until_approved_and_accepted(
    db: str,
) -> None:
    world = await factories.world()
    inviter, approver, grant = await _trust(world)
    supervisor = await factories.role("supervisor")
    changed = await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)
    assert changed.awaiting and changed.message == (
        "“Supervisor” needs a second person's approval: the change waits in Awaiting approval; Max Rossi keeps "
        "“Organisation Staff” until it is approved and accepted."
    )
    assert await _roles_of(MAX) == ["organisation_staff"]
    waiting = await Invitation.get(email=MAX, state=InvitationState.PENDING)
    assert (waiting.approval, waiting.role_id, waiting.replaces_grant_id) == (
        ApprovalState.AWAITING,
        supervisor.id,
        grant.id,
    )
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION).exists()
    [queued], _ = await queue.waiting(actor=approver, organisation_id=world.org.id)
    assert (queued.role_name, queued.changes_from, queued.may_decide) == ("Supervisor", "Organisation Staff", True)
    assert (await _sentences(approver, world.org.id, "change_role"))[-1] == (
        "Ann Inviter asked to change the role of Max Rossi (max@trust.org) in St Mary's Trust (whole organisation) "
        "from Organisation Staff to Supervisor, which waits for a second person's approval."
    )

    assert (await approvals.approve(actor=approver, invitation_ids=[waiting.id])).done == [MAX]
    assert await _roles_of(MAX) == ["organisation_staff"]  # approved, not yet accepted
    token = factories.token_of(await OutboxMessage.get(kind=MessageKind.INVITATION, recipient=MAX))
    await _accept(token)
    changed_grant = await RoleAssignment.get(id=grant.id)
    change = await RoleChange.get(assignment_id=grant.id)  # the new role's asker and approver: its role history
    assert (changed_grant.role_id, changed_grant.approved_by_id) == (supervisor.id, None)  # the first role's: none
    assert (change.to_role_id, change.changed_by_id, change.approved_by_id) == (
        supervisor.id,
        inviter.member_id,
        approver.member_id,
    )
    assert await _roles_of(MAX) == ["supervisor"]  # the same grant changed: no second one
    assert (await _sentences(approver, world.org.id, "change_role"))[-1] == (
        "Max Rossi accepted the approved change of their role in St Mary's Trust (whole organisation) from "
        "Organisation Staff to Supervisor."
    )


@pytest.mark.data
async def test_a_declined_change_changes_nothing_and_a_removed_member_is_not_brought_back(db: str) -> None:
    world = await factories.world()
    inviter, approver, grant = await _trust(world)
    supervisor = await factories.role("supervisor")
    await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)
    waiting = await Invitation.get(email=MAX, state=InvitationState.PENDING)
    await approvals.decline(actor=approver, invitation_ids=[waiting.id], reason="Not on the rota")
    assert await _roles_of(MAX) == ["organisation_staff"]

    await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)
    again = await Invitation.get(email=MAX, state=InvitationState.PENDING)
    await approvals.approve(actor=approver, invitation_ids=[again.id])
    sent = await OutboxMessage.get(kind=MessageKind.INVITATION, recipient=MAX)
    token = factories.token_of(sent)
    await staff.remove_from_team(actor=inviter, assignment_id=grant.id)
    assert (await OutboxMessage.get(id=sent.id)).link_seed is None  # its email, if still queued, never leaves
    with pytest.raises(LinkInvalid):  # nor does a link already read open anything
        await _accept(token)
    assert await _roles_of(MAX) == []


@pytest.mark.data
async def test_a_change_waiting_for_a_grant_that_ends_leaves_the_queue_and_is_never_sent(db: str) -> None:
    world = await factories.world()
    inviter, approver, grant = await _trust(world)
    supervisor = await factories.role("supervisor")
    await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)
    await staff.remove_from_team(actor=inviter, assignment_id=grant.id)  # removed: the change goes with the grant
    assert await queue.waiting(actor=approver, organisation_id=world.org.id) == ([], 0)

    other = await factories.grant(grant.member_id, "organisation_staff", org=world.org)
    await staff.change_role(actor=inviter, assignment_id=other.id, role_id=supervisor.id)
    waiting = await Invitation.get(email=MAX, state=InvitationState.PENDING)
    await grant_ends.end_now(actor=inviter, assignment_id=other.id)  # ended another way: approving sends nothing
    decided = await approvals.approve(actor=approver, invitation_ids=[waiting.id])
    assert decided.done == [] and decided.skipped == [
        (MAX, "the role it would change has ended meanwhile: it was deleted")
    ]
    assert (await Invitation.get(id=waiting.id)).state == InvitationState.DELETED
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient=MAX).exists()


@pytest.mark.data
async def test_a_change_to_a_role_no_rule_covers_happens_at_once(db: str) -> None:
    world = await factories.world()
    inviter, _, grant = await _trust(world)
    administrator = await factories.role("administrator")
    changed = await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=administrator.id)
    assert (changed.awaiting, changed.message) == (False, "Role changed: Max Rossi now holds “Administrator”.")
    assert await _roles_of(MAX) == ["administrator"]
    assert not await Invitation.filter(email=MAX).exists()


@pytest.mark.data
async def test_a_review_decision_to_a_covered_role_waits_and_the_reviewer_is_told(db: str) -> None:
    t = await team()
    staff_role = await factories.role("organisation_staff")
    await rules.set_rules(actor=t.owner, organisation_id=t.world.org.id, role_ids=[staff_role.id], permissions=[])
    campaign_id = await start(t.owner, t.world)
    nurse = await item_of(campaign_id, t.nurse)
    recorded = await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="change", role_id=staff_role.id)
    assert recorded.email == NURSE and recorded.message == (
        "“Organisation Staff” needs a second person's approval: the change waits in Awaiting approval; Nora Nurse "
        "keeps “Supervisor” until it is approved and accepted."
    )
    assert (await RoleAssignment.get(id=t.nurse.id)).role_id != staff_role.id
    waiting = await Invitation.get(email=NURSE, state=InvitationState.PENDING)
    assert (waiting.approval, waiting.replaces_grant_id) == (ApprovalState.AWAITING, t.nurse.id)
    said = await _sentences(t.owner, t.world.org.id, "review_decision")
    assert said[-1].endswith(
        "from Supervisor to Organisation Staff in the access review “Spring review” (it waits for a second person's "
        "approval)."
    )


@pytest.mark.data
async def test_scim_gives_a_covered_role_only_through_an_invitation_that_waits(db: str) -> None:
    world = await factories.world()
    _, approver, _ = await _trust(world)
    await factories.grant(approver.member_id, "clinician", org=world.org)  # exports, as the roles it hands out
    supervisor = await factories.role("supervisor")
    raw, _ = await tokens.create(
        actor=await factories.actor_of("owner@trust.org"),
        organisation_id=world.org.id,
        name="Entra ID",
        permissions=["invite_staff", "view_staff_list", "view_patient_data", "export_patient_data"],
        days=30,
        default_role_id=supervisor.id,
    )
    token = await tokens.actor_for(raw=raw)
    await people.invite(actor=token, email=MAX, role_id=supervisor.id)  # Group membership of a member
    await people.provision(actor=token, email="new@trust.org", user_name="new@trust.org", role_ids=[], external_id=None)
    assert await _roles_of(MAX) == ["organisation_staff"] and await _roles_of("new@trust.org") == []
    waiting = await Invitation.filter(approval=ApprovalState.AWAITING).values_list("email", flat=True)
    assert sorted(str(e) for e in waiting) == [MAX, "new@trust.org"]
    assert not await OutboxMessage.filter(kind__in=(MessageKind.INVITATION, MessageKind.ROLE_NOTICE)).exists()


@pytest.mark.data
async def test_a_custom_role_people_hold_is_not_given_a_covered_permission(db: str) -> None:
    world = await factories.world()
    inviter, _, _ = await _trust(world, permissions=("export_patient_data",))
    ward = await Role.get(
        id=(await _custom(inviter, world, "Ward lead")).id
    )  # views patient data, as every custom role
    await factories.grant((await factories.member("kim@trust.org")).member_id, "clinician", org=world.org)
    await RoleAssignment.filter(member__email="kim@trust.org").update(role_id=ward.id)  # Kim holds Ward lead
    with pytest.raises(FieldErrors) as refused:
        await _add_export(inviter, ward)
    assert refused.value.fields["permissions"] == (
        "Export patient data needs a second person's approval here, and 1 person holds “Ward lead”: they would get it "
        "without one. Nothing was changed. Make a new role with it instead and invite the people who need it: each "
        "invitation waits for approval."
    )
    assert "export_patient_data" not in (await Role.get(id=ward.id)).permissions
    assert await AuditEvent.filter(action="update_role", outcome="refused").count() == 1

    empty = await _custom(inviter, world, "Night cover")
    await invitations.send(
        actor=inviter, addresses=["sent@x.org"], role_id=empty.id, lifetime_hours=72, organisation_id=world.org.id
    )
    with pytest.raises(FieldErrors, match="1 invitation to “Night cover” is pending"):
        await _add_export(inviter, await Role.get(id=empty.id))
    await invitations.delete(actor=inviter, invitation_ids=[(await Invitation.get(email="sent@x.org")).id])
    await _add_export(inviter, await Role.get(id=empty.id))  # nobody holds it, nobody was sent it: changed freely
    assert "export_patient_data" in (await Role.get(id=empty.id)).permissions


async def _custom(owner: factories.Actor, world: factories.World, name: str) -> RoleInfo:
    return await roles.create_custom(actor=owner, organisation_id=world.org.id, name=name, permissions=[])


async def _add_export(owner: factories.Actor, role: Role) -> None:
    wanted = sorted({*role.permissions, "export_patient_data"})
    await roles.update_custom(actor=owner, role_id=role.id, name=role.name, permissions=wanted)


@pytest.mark.data
async def test_one_given_the_new_role_meanwhile_loses_the_old_one_on_accepting_and_holds_the_new_one_once(
    db: str,
) -> None:
    world = await factories.world()
    inviter, approver, grant = await _trust(world)
    supervisor = await factories.role("supervisor")
    await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)
    await approvals.approve(actor=approver, invitation_ids=[(await Invitation.get(email=MAX)).id])
    await factories.grant(grant.member_id, "supervisor", org=world.org)  # e.g. before the rule, another way
    await _accept(factories.token_of(await OutboxMessage.get(kind=MessageKind.INVITATION, recipient=MAX)))
    assert await _roles_of(MAX) == ["supervisor"]
    assert (await RoleAssignment.get(id=grant.id)).ended_at is not None
