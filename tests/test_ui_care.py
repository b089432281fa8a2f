"""Care Portal stories: staff list, overview filters, pending invitations (resend, delete, bulk), CSV import."""

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nicegui import ui
from nicegui.testing import User

from components import formatting, viewer_zone
from models import AuditEvent, Invitation, InvitationState, RoleAssignment
from services.invitations import pending, reminders, resending
from services.invitations import service as invitations
from services.mail.sink import MailSink
from services.mail.worker import MailWorker
from services.organisations import staff
from services.platform import clock
from tests import factories
from tests.security.helpers import relay_settings
from tests.ui_helpers import eventually, has_table, option_labels, select_labelled, sign_in, table


async def _invite(actor: factories.Actor, world: factories.World, *addresses: str) -> None:
    clinician = await factories.role("supervisor")
    await invitations.send(
        actor=actor, addresses=list(addresses), role_id=clinician.id, lifetime_hours=24, deployment_id=world.dep.id
    )


async def _open_pending(user: User) -> None:
    select_labelled(user, "Overview filters").value = "pending"
    await eventually(lambda: has_table(user, "pending"))


async def test_a_staff_manager_sees_the_staff_and_the_pending_invitations_with_expired_marked(user: User) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    await factories.member("nurse@trust.org", "clinician", dep=world.dep, full_name="Nora Nurse")
    await factories.member("outsider@north.org", "clinician", org=world.other_org)
    await _invite(controller, world, "old@example.org")
    clock.advance(timedelta(hours=30))
    await _invite(controller, world, "new@example.org")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 2)
    assert {r["email"] for r in table(user, "staff").rows} == {"ac@trust.org", "nurse@trust.org"}
    await _open_pending(user)
    await eventually(lambda: len(table(user, "pending").rows) == 2)
    rows = {r["email"]: r for r in table(user, "pending").rows}
    assert rows["old@example.org"]["expired"] and rows["old@example.org"]["expires"] == "Expired"
    # A 24-hour link read right after it was sent expires "in 24 hours" (rounded, not cut to 23).
    assert not rows["new@example.org"]["expired"] and rows["new@example.org"]["expires"] == "in 24 hours"
    assert rows["new@example.org"]["delivery"] == "Waiting to send"
    assert rows["old@example.org"]["scope"] == "Heart Failure Trial at St Mary's Trust"


async def test_resend_and_delete_from_the_row_menu_and_for_a_selection(user: User) -> None:
    world = await factories.world()
    controller = await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await _invite(controller, world, "a@example.org", "b@example.org", "c@example.org")
    await user.open("/care?view=pending")
    await eventually(lambda: len(table(user, "pending").rows) == 3)
    clock.advance(timedelta(minutes=2))
    row = next(r for r in table(user, "pending").rows if r["email"] == "a@example.org")
    user.find(marker="pending").trigger("resend", row)
    await user.should_see("Resent 1 invitation.")
    await eventually(lambda: next(r for r in table(user, "pending").rows if r["email"] == "a@example.org")["sent"] == 2)
    row = next(r for r in table(user, "pending").rows if r["email"] == "b@example.org")
    user.find(marker="pending").trigger("delete", row)
    user.find(kind=ui.button, content="Delete invitation").click()
    await user.should_see("Deleted 1 invitation.")
    await eventually(lambda: len(table(user, "pending").rows) == 2)
    table(user, "pending").selected = list(table(user, "pending").rows)
    user.find(kind=ui.button, content="Delete selected").click()
    await user.should_see("Delete 2 invitations?")
    user.find(kind=ui.button, content="Delete invitations").click()
    await eventually(lambda: len(table(user, "pending").rows) == 0)
    assert await Invitation.filter(state=InvitationState.PENDING, organisation_id=world.org.id).count() == 0
    assert await AuditEvent.filter(action="delete").count() == 3


async def test_resend_all_expired_renews_only_the_expired_ones(user: User) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    await _invite(controller, world, "late@example.org")
    clock.advance(timedelta(hours=25))
    await _invite(controller, world, "fresh@example.org")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care?view=pending")
    await eventually(lambda: len(table(user, "pending").rows) == 2)
    user.find(kind=ui.button, content="Resend all expired").click()
    await user.should_see("Resent 1 invitation.")
    late = await Invitation.get(email="late@example.org")
    assert late.send_count == 2 and late.expires_at > clock.now()
    assert (await Invitation.get(email="fresh@example.org")).send_count == 1


async def test_a_clinician_sees_colleagues_and_the_staff_filters_but_cannot_manage_or_see_pending_invitations(
    user: User,
) -> None:
    world = await factories.world()
    await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await user.open("/care?view=pending")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    await user.should_not_see("Manage")
    assert option_labels(select_labelled(user, "Overview filters")) == {
        "All staff members",
        "Staff members >> Dormant members",
        "Staff members >> Access ending in 30 days",
        "Staff members >> Ended access",
    }
    row, menu = table(user, "staff").rows[0], table(user, "staff").props["row-menu"]["items"]
    assert {item["label"] for item in menu if not item["only_if"] or row.get(item["only_if"])} == {"Access history"}


async def test_change_role_and_remove_from_team_but_never_the_last_staff_manager(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await factories.member("nurse@trust.org", "supervisor", dep=world.dep, full_name="Nora Nurse")
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 2)
    nurse = next(r for r in table(user, "staff").rows if r["email"] == "nurse@trust.org")
    user.find(marker="staff").trigger("change_role", nurse)
    await user.should_see("Change the role of Nora Nurse")
    new_role = select_labelled(user, "New role")
    assert option_labels(new_role) == {"Administrator"}
    new_role.value = next(iter(new_role.options))
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Role changed: Nora Nurse now holds “Administrator”.")
    me = next(r for r in table(user, "staff").rows if r["email"] == "ac@trust.org")
    user.find(marker="staff").trigger("remove", me)
    user.find(kind=ui.button, content="Remove from team").click()
    await user.should_see("This would leave the organisation with nobody able to manage its staff.")
    await user.should_not_see(kind=ui.dialog)  # read the list again, then closed
    assert await RoleAssignment.filter(member__email="ac@trust.org").exists()
    nurse = next(r for r in table(user, "staff").rows if r["email"] == "nurse@trust.org")
    user.find(marker="staff").trigger("remove", nurse)
    user.find(kind=ui.button, content="Remove from team").click()
    await eventually(lambda: len(table(user, "staff").rows) == 1)


async def test_the_pending_list_follows_changes_made_elsewhere_row_by_row(user: User) -> None:
    world = await factories.world()
    colleague = await factories.member("colleague@trust.org", "access_controller", org=world.org)
    await _invite(colleague, world, "first@example.org")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await _open_pending(user)
    await eventually(lambda: len(table(user, "pending").rows) == 1)

    await _invite(colleague, world, "second@example.org")  # a row comes: the page's rows are patched whole
    await eventually(lambda: len(table(user, "pending").rows) == 2)
    assert table(user, "pending").props["pagination"]["rowsNumber"] == 2

    user.find(marker="pending").trigger("request", {"pagination": {"sortBy": "email", "descending": False}})
    await eventually(
        lambda: [r["email"] for r in table(user, "pending").rows] == ["first@example.org", "second@example.org"]
    )
    first = _row(user, "first@example.org")
    clock.advance(timedelta(minutes=2))  # past the resend rate limit
    await resending.resend_each(actor=colleague, invitation_ids=[int(first["id"])])  # the same rows, one changed
    await eventually(lambda: _row(user, "first@example.org")["sent"] == 2)
    assert _row(user, "second@example.org")["sent"] == 1


async def test_a_row_that_comes_before_the_first_one_shown_appears_at_the_top_of_the_first_page(user: User) -> None:
    world = await factories.world()
    colleague = await factories.member("colleague@trust.org", "access_controller", org=world.org)
    await _invite(colleague, world, "bea@example.org", "cai@example.org")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await _open_pending(user)
    user.find(marker="pending").trigger("request", {"pagination": {"sortBy": "email", "descending": False}})
    await eventually(
        lambda: [r["email"] for r in table(user, "pending").rows] == ["bea@example.org", "cai@example.org"]
    )

    await _invite(colleague, world, "abe@example.org")  # sorts before every row on the page
    await eventually(
        lambda: (
            [r["email"] for r in table(user, "pending").rows]
            == ["abe@example.org", "bea@example.org", "cai@example.org"]
        )
    )


async def test_the_pending_list_shows_when_the_reminder_went_in_the_viewers_time_zone(user: User) -> None:
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "America/New_York"
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    role = await factories.role("supervisor")
    await invitations.send(
        actor=controller, addresses=["ann@example.org"], role_id=role.id, lifetime_hours=72, deployment_id=world.dep.id
    )
    sink = MailSink(port=0)
    sink.start()
    worker = MailWorker(relay_settings(sink.port))
    try:
        await worker.run_until_empty()
        clock.advance(timedelta(hours=48))  # a day before the 72-hour link expires: housekeeping queues the reminder
        assert await reminders.queue_due() == 1
        reminded_at = (await Invitation.get(email="ann@example.org")).reminded_at
        assert reminded_at is not None
        when = formatting.exact(reminded_at, ZoneInfo("America/New_York"))
        await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
        await user.open("/care?view=pending")
        await eventually(lambda: _row(user, "ann@example.org")["delivery"] == f"Waiting to send (reminder of {when})")
        await worker.run_until_empty()  # the open list follows the reminder's delivery
        await eventually(lambda: _row(user, "ann@example.org")["delivery"] == f"Reminder sent {when}")
    finally:
        await worker.stop()
        sink.stop()
    assert when.endswith(("EST", "EDT"))


def _row(user: User, email: str) -> dict[str, Any]:
    return next(r for r in table(user, "pending").rows if r["email"] == email)


def _manage_items(user: User) -> list[str]:
    """The items of the Manage menu (built in the browser from the element's items)."""
    return [text for _key, text in next(iter(user.find(marker="manage").elements)).props["items"]]


async def test_the_manage_menu_offers_what_the_role_allows_and_each_item_does_its_job(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    assert _manage_items(user) == [
        "Invite staff members",
        "Add a new role",
        "Audit log",
        "Access settings",
        "Single sign-on",
        "Access reviews",
        "Integrations",
        "Webhooks",
    ]
    user.find(marker="manage").trigger("choose", "invite")
    await user.should_see("Send invites", retries=50)
    user.find(marker="manage").trigger("choose", "audit")
    await user.should_see(kind=ui.label, content="Audit log", retries=50)
    await user.open(f"/care?org={world.org.id}")
    user.find(marker="manage").trigger("choose", "roles")
    await user.should_see("No custom roles yet.", retries=50)


async def test_a_deployment_admin_is_offered_only_deployment_work_and_nothing_else_is_done(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "lead@trust.org", "admin", dep=world.dep)
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    # The deployment Admin role holds every care permission: review access and manage integrations (its deployment).
    assert _manage_items(user) == ["Invite staff members", "Access reviews", "Integrations"]
    user.find(marker="manage").trigger("choose", "audit")  # not offered: a forged event changes nothing
    user.find(marker="manage").trigger("choose", "invite")  # handled after it
    await user.should_see("Send invites", retries=50)
    await user.should_not_see(kind=ui.label, content="Audit log")


async def test_a_long_access_list_is_folded_and_shows_every_role_when_opened(user: User) -> None:
    world = await factories.world()
    actor = await sign_in(user, "many@trust.org", "clinician", dep=world.dep)
    for dep in (world.dep2, world.other_dep):
        await factories.grant(actor.member_id, "clinician", dep=dep)
    await factories.grant(actor.member_id, "supervisor", org=world.org)
    await user.open(f"/care?org={world.org.id}")
    await user.should_see("Your access", retries=50)
    await user.should_not_see("Clinician — Diabetes Study at Northwind Health")
    access_list = next(iter(user.find(kind=ui.expansion, content="Your access").elements))
    access_list.value = True
    await user.should_see("Clinician — Diabetes Study at Northwind Health", retries=50)
    assert len(user.find(kind=ui.label, content=" — ").elements) == 4


async def test_a_search_matching_more_than_the_list_counts_says_more_than_and_pages_up_to_it(user: User) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    over = pending.SEARCH_COUNT_CAP + 5
    await _invite(controller, world, *[f"smith{n:04d}@example.org" for n in range(over)], "jones@example.org")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=pending")
    await eventually(lambda: table(user, "pending").props["pagination"]["rowsNumber"] == over + 1)
    assert table(user, "pending").props["pagination"]["capped"] is False  # the list's own total is exact
    search = next(i for i in user.find(kind=ui.input).elements if i.props.get("aria-label", "").startswith("Search"))
    search.value = "smith"  # components/data_table.js labels the pages "1-25 of more than 1,000 matches"
    await eventually(lambda: table(user, "pending").props["pagination"]["capped"] is True)
    assert table(user, "pending").props["pagination"]["rowsNumber"] == pending.SEARCH_COUNT_CAP
    search.value = "jones"
    await eventually(lambda: table(user, "pending").props["pagination"]["rowsNumber"] == 1)
    assert table(user, "pending").props["pagination"]["capped"] is False


async def test_an_open_staff_list_is_built_again_when_the_viewer_loses_the_access_that_showed_it(user: User) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    nurse = await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await factories.grant(nurse.member_id, "supervisor", org=world.other_org)  # stays signed in: this remains
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: "owner@trust.org" in [r["email"] for r in table(user, "staff").rows])

    grant = await RoleAssignment.get(member_id=nurse.member_id, role__key="clinician")
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)  # from the owner's own page, elsewhere

    # The list of St Mary's would stay on screen behind a notification; the page is built again from what remains.
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == ["nurse@trust.org"])
    await user.should_see("Northwind Health")
