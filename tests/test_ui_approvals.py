"""Stories of two-person approval (issue 19 item 1): an owner lists a role that needs approval; an access controller's
invitation then waits in the pending list with no email; a second person approves it from the queue (the email
leaves), or declines it with a reason (it never does). The queue follows changes live. A role change to such a role
from the staff list waits the same way and says so; a custom role someone holds is not given such a permission."""

from collections.abc import Callable

from nicegui import ui
from nicegui.testing import User

from models import ApprovalState, Invitation, MessageKind, OutboxMessage, Role, RoleAssignment
from services.access import roles
from services.approvals import rules
from services.approvals import service as approvals
from services.invitations import service as invitations
from services.organisations import staff
from tests import factories
from tests.ui_helpers import error_of, eventually, select_labelled, sign_in, sign_in_second, table

NEW = "new.supervisor@example.org"


async def _waiting_invitation(world: factories.World) -> None:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    inviter = await factories.member("ac@trust.org", "access_controller", org=world.org, full_name="Ann Inviter")
    supervisor = await factories.role("supervisor")
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    await invitations.send(
        actor=inviter, addresses=[NEW], role_id=supervisor.id, lifetime_hours=72, organisation_id=world.org.id
    )


async def test_an_owner_lists_a_role_that_needs_approval_on_the_settings_page(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    supervisor = await factories.role("supervisor")
    await user.open(f"/care/settings?org={world.org.id}")
    await user.should_see("Invitations that need a second person's approval")
    box = next(e for e in user.find(marker=f"approve-role-{supervisor.id}").elements if isinstance(e, ui.checkbox))
    box.value = True
    user.find(kind=ui.button, content="Save access settings").click()
    await user.should_see("Access settings saved.")
    assert (await rules.rules_of(organisation_id=world.org.id)).role_ids == {supervisor.id}


async def test_a_waiting_invitation_shows_in_the_pending_list_without_an_email_or_a_resend(user: User) -> None:
    world = await factories.world()
    await _waiting_invitation(world)
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=pending")
    await eventually(lambda: [r["email"] for r in table(user, "pending").rows] == [NEW])
    row = table(user, "pending").rows[0]
    assert (row["delivery"], row["awaiting"], row["sent"]) == ("Awaiting approval", True, 0)
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient=NEW).exists()


async def test_a_second_person_approves_from_the_queue_and_the_email_leaves(
    user: User, create_user: Callable[[], User]
) -> None:
    world = await factories.world()
    await _waiting_invitation(world)
    inviter = create_user()
    await sign_in(inviter, "ac@trust.org", "access_controller", org=world.org)
    await inviter.open(f"/care?org={world.org.id}&view=approvals")
    await eventually(lambda: [r["may_decide"] for r in table(inviter, "approvals").rows] == [False])  # their own

    await sign_in_second(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=approvals")
    await eventually(lambda: [r["email"] for r in table(user, "approvals").rows] == [NEW])
    row = table(user, "approvals").rows[0]
    assert (row["invited_by"], row["may_decide"]) == ("Ann Inviter", True)
    user.find(marker="approvals").trigger("approve", row)
    await user.should_see(f"Approved and sent: {NEW}.")
    await eventually(lambda: table(user, "approvals").rows == [])
    await eventually(lambda: table(inviter, "approvals").rows == [])  # live in the inviter's open queue too
    assert await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient=NEW).count() == 1


async def test_declining_asks_for_a_reason_and_nothing_is_ever_sent(user: User) -> None:
    world = await factories.world()
    await _waiting_invitation(world)
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=approvals")
    await eventually(lambda: len(table(user, "approvals").rows) == 1)
    user.find(marker="approvals").trigger("decline", table(user, "approvals").rows[0])
    await user.should_see(f"Decline the invitation of {NEW}?")
    user.find(kind=ui.button, content="Decline").click()
    label = "Reason (the inviter is told, and the audit log keeps it)"
    await eventually(lambda: error_of(user, label) == "Say why, for the inviter and the audit log.")
    assert (await Invitation.get(email=NEW)).approval == ApprovalState.AWAITING
    user.find(label).type("Not on this study's rota")
    user.find(kind=ui.button, content="Decline").click()
    await user.should_see(f"Declined: {NEW}.")
    assert (await Invitation.get(email=NEW)).approval_reason == "Not on this study's rota"
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient=NEW).exists()


async def test_change_role_to_a_role_that_needs_approval_waits_and_says_so_in_the_staff_list(user: User) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    supervisor = await factories.role("supervisor")
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await factories.member("max@trust.org", "organisation_staff", org=world.org, full_name="Max Rossi")
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: any(r["email"] == "max@trust.org" for r in table(user, "staff").rows))
    max_row = next(r for r in table(user, "staff").rows if r["email"] == "max@trust.org")
    user.find(marker="staff").trigger("change_role", max_row)
    await user.should_see("Change the role of Max Rossi")
    new_role = select_labelled(user, "New role")
    new_role.value = supervisor.id
    user.find(kind=ui.button, content="Save").click()
    await user.should_see(
        "“Supervisor” needs a second person's approval: the change waits in Awaiting approval; Max Rossi keeps "
        "“Organisation Staff” until it is approved and accepted."
    )
    assert [r["role"] for r in table(user, "staff").rows if r["email"] == "max@trust.org"] == ["Organisation Staff"]
    waiting = await Invitation.get(email="max@trust.org")
    assert (waiting.approval, waiting.role_id) == (ApprovalState.AWAITING, supervisor.id)
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient="max@trust.org").exists()


async def test_a_covered_permission_is_refused_for_a_custom_role_someone_holds_and_nothing_changes(user: User) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[], permissions=["export_patient_data"])
    editor = await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    ward = await roles.create_custom(actor=editor, organisation_id=world.org.id, name="Ward lead", permissions=[])
    kim = await factories.member("kim@trust.org", "organisation_staff", org=world.org)
    await RoleAssignment.filter(member_id=kim.member_id).update(role_id=ward.id)  # Kim holds Ward lead
    await user.open(f"/care/roles?org={world.org.id}")
    user.find(kind=ui.button, content="Edit").click()
    await user.should_see("Edit role")
    user.find("Export patient data").click()
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Export patient data needs a second person's approval here, and 1 person holds “Ward lead”")
    assert (await Role.get(id=ward.id)).permissions == ["view_patient_data"]


async def test_the_inviter_sees_the_outcome_live_in_recently_decided_with_who_and_why(user: User) -> None:
    world = await factories.world()
    await _waiting_invitation(world)
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=approvals")
    await user.should_see("Recently decided", retries=50)
    await eventually(lambda: [r["email"] for r in table(user, "approvals").rows] == [NEW])
    assert table(user, "recent").rows == [] and "last 7 days" in table(user, "recent").props["no-data-label"]
    owner = await factories.actor_of("owner@trust.org")
    waiting = await Invitation.get(email=NEW)
    await approvals.decline(actor=owner, invitation_ids=[waiting.id], reason="Not on this study's rota")
    await eventually(lambda: [r["email"] for r in table(user, "recent").rows] == [NEW])  # live, no reload
    row = table(user, "recent").rows[0]
    assert (row["outcome"], row["decided_by"], row["reason"], row["role"]) == (
        "Declined",
        "Owner",
        "Not on this study's rota",
        "Supervisor",
    )
    assert table(user, "approvals").rows == []


async def test_a_role_change_waiting_for_approval_shows_in_the_pending_list_as_a_role_change(user: User) -> None:
    world = await factories.world()
    await _waiting_invitation(world)  # an ordinary invitation as Supervisor, waiting too
    max_ = await factories.member("max@trust.org", full_name="Max Rossi")
    grant = await factories.grant(max_.member_id, "organisation_staff", org=world.org)
    inviter = await factories.actor_of("ac@trust.org")
    supervisor = await factories.role("supervisor")
    assert (await staff.change_role(actor=inviter, assignment_id=grant.id, role_id=supervisor.id)).awaiting
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=pending")
    await eventually(lambda: len(table(user, "pending").rows) == 2)
    roles_shown = {r["email"]: (r["role"], r["delivery"]) for r in table(user, "pending").rows}
    assert roles_shown == {
        "max@trust.org": ("Supervisor (a role change from Organisation Staff)", "Awaiting approval"),
        NEW: ("Supervisor", "Awaiting approval"),
    }
