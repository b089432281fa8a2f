"""Two-person approval (issue 19 item 1): invitations to the roles (or permissions) an organisation lists wait for a
second person, who may hand out that role there and is neither inviter nor invitee; no email leaves before approval,
none ever for a declined one; the inviter hears the outcome; everything is audited."""

import asyncio
from datetime import timedelta

import pytest

from models import ApprovalState, AuditEvent, Invitation, InvitationState, MessageKind, OutboxMessage, RoleAssignment
from services.access import tokens
from services.approvals import queue, rules
from services.approvals import service as approvals
from services.errors import FieldErrors, InvalidInput, LinkInvalid, PermissionDenied
from services.invitations import acceptance, resending
from services.invitations import service as invitations
from services.mail.templates import render
from services.platform import clock, settings
from tests import factor_helpers, factories

NEW = "new.nurse@example.org"


async def _trust(world: factories.World) -> tuple[factories.Actor, factories.Actor]:
    """An access controller who invites, an owner who approves; supervisor invitations need approval."""
    inviter = await factories.member("ac@trust.org", "access_controller", org=world.org, full_name="Ann Inviter")
    approver = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    supervisor = await factories.role("supervisor")
    await rules.set_rules(actor=approver, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    return inviter, approver


async def _invite(
    inviter: factories.Actor, world: factories.World, role: str = "supervisor", *, email: str = NEW
) -> Invitation:
    await invitations.send(
        actor=inviter,
        addresses=[email],
        role_id=(await factories.role(role)).id,
        lifetime_hours=72,
        organisation_id=world.org.id,
    )
    return await Invitation.get(email=email, state=InvitationState.PENDING)


async def _mail(kind: MessageKind) -> list[str]:
    return [str(r) for r in await OutboxMessage.filter(kind=kind).order_by("id").values_list("recipient", flat=True)]


@pytest.mark.data
async def test_an_invitation_to_a_listed_role_waits_and_no_email_leaves_until_a_second_person_approves(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    result = await invitations.send(
        actor=inviter,
        addresses=[NEW],
        role_id=(await factories.role("supervisor")).id,
        lifetime_hours=72,
        organisation_id=world.org.id,
    )
    assert (result.awaiting, result.invited) == ([NEW], [])
    waiting = await Invitation.get(email=NEW)
    assert waiting.approval == ApprovalState.AWAITING and await _mail(MessageKind.INVITATION) == []
    assert (await approvals.approve(actor=approver, invitation_ids=[waiting.id])).done == [NEW]
    sent = await Invitation.get(id=waiting.id)
    assert (sent.approval, sent.approved_by_id, sent.token_hash != waiting.token_hash) == (
        ApprovalState.APPROVED,
        approver.member_id,
        True,
    )
    assert await _mail(MessageKind.INVITATION) == [NEW] and await _mail(MessageKind.APPROVAL_OUTCOME) == [
        "ac@trust.org"
    ]
    email = await OutboxMessage.get(kind=MessageKind.INVITATION)
    assert email.context["inviter_name"] == "Ann Inviter"  # who invited, not who approved
    assert await AuditEvent.filter(action="approve", target=NEW, actor_email="owner@trust.org").count() == 1


async def test_the_approved_link_opens_and_the_grant_records_its_approver(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    waiting = await _invite(inviter, world)
    await approvals.approve(actor=approver, invitation_ids=[waiting.id])
    token = factories.token_of(await OutboxMessage.get(kind=MessageKind.INVITATION))
    await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(),
        token=token,
        full_name="New Nurse",
        password="a long enough password",
        repeat="a long enough password",
        client="t",
    )
    grant = await RoleAssignment.get(member__email=NEW)
    assert grant.approved_by_id == approver.member_id and grant.granted_by_id == inviter.member_id


async def test_nobody_approves_their_own_invitation_or_an_invitation_to_themselves(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    waiting = await _invite(inviter, world)
    with pytest.raises(PermissionDenied, match="a second person must approve it"):
        await approvals.approve(actor=inviter, invitation_ids=[waiting.id])
    to_owner = await _invite(inviter, world, email="owner@trust.org")
    with pytest.raises(PermissionDenied, match="Nobody approves an invitation to themselves"):
        await approvals.approve(actor=approver, invitation_ids=[to_owner.id])
    clinician = await factories.member("clin@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied, match="approve invitations"):
        await approvals.decline(actor=clinician, invitation_ids=[waiting.id], reason="no")
    assert await AuditEvent.filter(action__in=("approve", "decline"), outcome="refused").count() == 3
    assert (await Invitation.get(id=waiting.id)).approval == ApprovalState.AWAITING


async def test_a_declined_invitation_is_deleted_with_its_reason_and_never_sends(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    waiting = await _invite(inviter, world)
    with pytest.raises(FieldErrors):
        await approvals.decline(actor=approver, invitation_ids=[waiting.id], reason="  ")
    assert (await approvals.decline(actor=approver, invitation_ids=[waiting.id], reason="Not on the rota")).done == [
        NEW
    ]
    declined = await Invitation.get(id=waiting.id)
    assert (declined.state, declined.approval, declined.approval_reason) == (
        InvitationState.DELETED,
        ApprovalState.DECLINED,
        "Not on the rota",
    )
    assert await _mail(MessageKind.INVITATION) == [] and await _mail(MessageKind.APPROVAL_OUTCOME) == ["ac@trust.org"]
    assert (await approvals.approve(actor=approver, invitation_ids=[waiting.id])).skipped == [
        (NEW, approvals.NO_LONGER)
    ]


async def test_a_waiting_invitation_is_not_resent_and_its_link_opens_nothing(db: str) -> None:
    world = await factories.world()
    inviter, _ = await _trust(world)
    waiting = await _invite(inviter, world)
    assert (await resending.resend_each(actor=inviter, invitation_ids=[waiting.id])).skipped == [
        (NEW, resending.AWAITING_APPROVAL)
    ]
    seed, hashed = tokens.new_link_seed()
    await Invitation.filter(id=waiting.id).update(token_hash=hashed)
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=tokens.link_token(seed, secret=settings.current().secret), client="t")


async def test_rules_by_permission_cover_every_role_holding_it_and_members_wait_too(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    await rules.set_rules(
        actor=approver, organisation_id=world.org.id, role_ids=[], permissions=["export_patient_data"]
    )
    await factories.member("member@trust.org", "supervisor", org=world.org)
    assert (await _invite(inviter, world, "supervisor", email=NEW)).approval == ApprovalState.AWAITING
    result = await invitations.send(
        actor=inviter,
        addresses=["member@trust.org"],
        role_id=(await factories.role("access_controller")).id,
        lifetime_hours=24,
        organisation_id=world.org.id,
    )
    assert result.awaiting == ["member@trust.org"] and result.role_added == []
    assert not await rules.needs_approval(organisation_id=world.org.id, role=await factories.role("deployment_staff"))


async def test_only_those_who_change_access_settings_set_rules_and_bad_rules_change_nothing(db: str) -> None:
    world = await factories.world()
    _, approver = await _trust(world)
    clinician = await factories.member("clin@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await rules.set_rules(actor=clinician, organisation_id=world.org.id, role_ids=[], permissions=[])
    with pytest.raises(InvalidInput):
        await rules.set_rules(actor=approver, organisation_id=world.org.id, role_ids=[], permissions=["fly"])
    assert (await rules.rules_of(organisation_id=world.org.id)).role_ids == {(await factories.role("supervisor")).id}


@pytest.mark.data
async def test_two_approvers_at_once_send_it_once(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    second = await factories.member("ed@trust.org", "organisation_editor", org=world.org)
    waiting = await _invite(inviter, world)
    done = await asyncio.gather(
        approvals.approve(actor=approver, invitation_ids=[waiting.id]),
        approvals.approve(actor=second, invitation_ids=[waiting.id]),
        approvals.decline(actor=second, invitation_ids=[waiting.id], reason="late"),
    )
    assert sum(len(d.done) for d in done) == 1 and len(await _mail(MessageKind.APPROVAL_OUTCOME)) == 1


@pytest.mark.data
async def test_the_inviter_reads_the_outcomes_of_the_last_7_days_with_who_decided_and_why(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    other = await factories.member("ed@trust.org", "organisation_editor", org=world.org)
    declined = await _invite(inviter, world)
    approved = await _invite(inviter, world, email="second@example.org")
    theirs = await _invite(other, world, email="theirs@example.org")
    await approvals.decline(actor=approver, invitation_ids=[declined.id], reason="Not on the rota")
    clock.advance(timedelta(minutes=1))
    await approvals.approve(actor=approver, invitation_ids=[approved.id, theirs.id])
    seen = await queue.recently_decided(actor=inviter, organisation_id=world.org.id)
    assert [(d.email, d.approved, d.decided_by, d.reason) for d in seen] == [
        ("second@example.org", True, "Olive Owner", ""),
        (NEW, False, "Olive Owner", "Not on the rota"),
    ]  # newest first; only the inviter's own
    clinician = await factories.member("clin@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await queue.recently_decided(actor=clinician, organisation_id=world.org.id)
    clock.advance(timedelta(days=7))
    assert [d.email for d in await queue.recently_decided(actor=inviter, organisation_id=world.org.id)] == []


async def test_the_inviters_email_says_who_declined_and_the_reason(db: str) -> None:
    world = await factories.world()
    inviter, approver = await _trust(world)
    waiting = await _invite(inviter, world)
    await approvals.decline(actor=approver, invitation_ids=[waiting.id], reason="Not on this study's rota")
    message = await OutboxMessage.get(kind=MessageKind.APPROVAL_OUTCOME)
    config = settings.load({"GATEHOUSE_SECRET": "x" * 40, "GATEHOUSE_BASE_URL": "https://portal.example.org"})
    body = render("approval_outcome", recipient="ac@trust.org", context=message.context, link=None, settings=config)
    text = body.decode()
    assert "Olive Owner declined your invitation of new.nurse@example.org as Supervisor" in text
    assert "No email was sent. The reason given: Not on this study's rota" in text


async def test_a_custom_approver_role_approves_what_it_may_hand_out_and_never_more(db: str) -> None:
    world = await factories.world()
    inviter, owner = await _trust(world)
    listed = [(await factories.role(key)).id for key in ("supervisor", "clinician", "access_controller")]
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=listed, permissions=[])
    # Approve invitations, and what approving a Supervisor needs: seeing the queue (invite staff) and the role's own.
    approver = await factories.custom_member(
        owner, world.org, "Approver",
        ["approve_invitations", "invite_staff", "view_staff_list", "export_patient_data"], "appr@trust.org",
    )  # fmt: skip
    supervisor = await _invite(inviter, world)
    clinician = await _invite(owner, world, "clinician", email="clin.new@example.org")
    controller = await _invite(owner, world, "access_controller", email="ac.new@example.org")
    waiting, _ = await queue.waiting(actor=approver, organisation_id=world.org.id)
    assert {w.email: w.may_decide for w in waiting} == {NEW: True, "clin.new@example.org": False,
                                                        "ac.new@example.org": False}  # fmt: skip
    assert (await approvals.approve(actor=approver, invitation_ids=[supervisor.id])).done == [NEW]
    for above in (clinician, controller):  # manage patient data; edit roles and review access: not held
        with pytest.raises(PermissionDenied, match="the right to hand out"):
            await approvals.approve(actor=approver, invitation_ids=[above.id])
        with pytest.raises(PermissionDenied):
            await approvals.decline(actor=approver, invitation_ids=[above.id], reason="no")
        assert (await Invitation.get(id=above.id)).approval == ApprovalState.AWAITING
    # Approve invitations without the right to hand anything out approves nothing.
    bare = await factories.custom_member(
        owner, world.org, "Bare approver", ["approve_invitations", "view_staff_list"], "bare@trust.org"
    )
    with pytest.raises(PermissionDenied):
        await approvals.approve(actor=bare, invitation_ids=[clinician.id])
    assert await AuditEvent.filter(action__in=("approve", "decline"), outcome="refused").count() == 5
