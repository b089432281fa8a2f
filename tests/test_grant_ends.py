"""Changing when a grant ends from the staff list: its sponsor or a manager of the role, within the rules."""

from datetime import UTC, timedelta

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, RoleAssignment, StaffMember
from services.access import grant_terms
from services.errors import FieldErrors, NotFound, PermissionDenied
from services.organisations import grant_ends
from services.platform import clock
from services.platform.words import day
from tests import factories
from tests.ui_helpers import eventually, input_labelled, select_labelled, sign_in, table

NURSE = "nurse@trust.org"


async def _nurse_grant(
    world: factories.World, *, days: int, sponsor_id: int | None = None, role: str = "clinician"
) -> RoleAssignment:
    nurse = await StaffMember.create(email=NURSE, full_name="Nora Nurse", password_hash="-")
    ends_at = clock.now() + timedelta(days=days)
    return await factories.grant(nurse.id, role, dep=world.dep, ends_at=ends_at, sponsor_id=sponsor_id)


async def test_a_manager_extends_a_grant_within_the_longest_duration_and_it_is_audited(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _nurse_grant(world, days=5)
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)

    later = clock.now() + timedelta(days=60)
    assert await grant_ends.set_end(actor=owner, assignment_id=grant.id, ends_at=later) == NURSE
    assert (await RoleAssignment.get(id=grant.id)).ends_at == later
    event = await AuditEvent.get(action="set_end")
    assert event.target == NURSE and event.detail["to"] == later.isoformat()

    for refused in (clock.now() + timedelta(days=91), clock.now() - timedelta(minutes=1), None):
        with pytest.raises(FieldErrors) as caught:
            await grant_ends.set_end(actor=owner, assignment_id=grant.id, ends_at=refused)
        assert "ends_at" in caught.value.fields
    assert (await RoleAssignment.get(id=grant.id)).ends_at == later, "a refused end changed the grant"


async def test_the_sponsor_may_and_someone_else_may_not_and_an_ended_grant_is_history(db: str) -> None:
    world = await factories.world()
    sponsor = await factories.member("sponsor@trust.org", "clinician", dep=world.dep)  # may not manage the role
    colleague = await factories.member("colleague@trust.org", "clinician", dep=world.dep)
    grant = await _nurse_grant(world, days=5, sponsor_id=sponsor.member_id)

    await grant_ends.set_end(actor=sponsor, assignment_id=grant.id, ends_at=clock.now() + timedelta(days=20))
    with pytest.raises(PermissionDenied):
        await grant_ends.set_end(actor=colleague, assignment_id=grant.id, ends_at=None)
    clock.advance(timedelta(days=21))
    with pytest.raises(NotFound, match="already ended"):
        await grant_ends.set_end(actor=sponsor, assignment_id=grant.id, ends_at=clock.now() + timedelta(days=5))


async def test_change_end_of_access_from_the_staff_list(user: User) -> None:
    world = await factories.world()
    await _nurse_grant(world, days=5, role="supervisor")  # a role an Access Controller manages
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: any(r["email"] == NURSE for r in table(user, "staff").rows))
    row = next(r for r in table(user, "staff").rows if r["email"] == NURSE)
    assert row["may_set_end"]

    user.find(marker="staff").trigger("set_end", row)
    await user.should_see("Change when Nora Nurse's access ends")
    user.find("Access ends").clear()  # empty: the access no longer ends
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("End of access changed.")
    await eventually(
        lambda: next(r for r in table(user, "staff").rows if r["email"] == NURSE)["ends"] == "Does not end"
    )
    assert (await RoleAssignment.get(member__email=NURSE)).ends_at is None


async def test_the_longest_duration_counts_from_the_grants_start_so_renewals_never_pass_it(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _nurse_grant(world, days=85)
    started = grant.created_at
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)
    clock.advance(timedelta(days=80))

    with pytest.raises(FieldErrors) as caught:  # 30 days from now: 110 days from its start
        await grant_ends.set_end(actor=owner, assignment_id=grant.id, ends_at=clock.now() + timedelta(days=30))
    last = started + timedelta(days=90)
    assert caught.value.fields["ends_at"] == (
        f"Clinician may hold access for at most 90 days from {day(started.astimezone(UTC))}: "
        f"choose an end on or before {day(last.astimezone(UTC))}."
    )
    await grant_ends.set_end(actor=owner, assignment_id=grant.id, ends_at=last)
    assert (await RoleAssignment.get(id=grant.id)).ends_at == last


async def test_the_sponsor_ends_a_grant_now_and_it_is_history_at_once(db: str) -> None:
    world = await factories.world()
    sponsor = await factories.member("sponsor@trust.org", "clinician", dep=world.dep)  # may not manage the role
    colleague = await factories.member("colleague@trust.org", "clinician", dep=world.dep)
    grant = await _nurse_grant(world, days=5, sponsor_id=sponsor.member_id)

    with pytest.raises(PermissionDenied):
        await grant_ends.end_now(actor=colleague, assignment_id=grant.id)
    assert await grant_ends.end_now(actor=sponsor, assignment_id=grant.id) == NURSE
    ended = await RoleAssignment.get(id=grant.id)
    assert ended.ended_at is not None and (ended.end_reason, ended.ended_by_id) == ("ended_now", sponsor.member_id)
    assert await AuditEvent.filter(action="end_now", target=NURSE, outcome="ok").count() == 1
    assert await AuditEvent.filter(action="grant_ended", target=NURSE).count() == 1
    with pytest.raises(NotFound, match="already ended"):
        await grant_ends.end_now(actor=sponsor, assignment_id=grant.id)


async def test_a_sponsor_who_manages_nobody_follows_the_warning_link_and_extends_then_ends_the_grant(
    user: User,
) -> None:
    world = await factories.world()
    sponsor = await sign_in(user, "sponsor@trust.org", "clinician", org=world.org)  # sees the list, manages nobody
    await _nurse_grant(world, days=5, sponsor_id=sponsor.member_id)
    await user.open(f"/care?org={world.org.id}&view=ending")
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == [NURSE])
    assert select_labelled(user, "Overview filters").value == "ending"
    assert "actions" in [column["name"] for column in table(user, "staff").columns]
    row = table(user, "staff").rows[0]
    assert row["may_set_end"] and not row["manageable"]

    later = (clock.now() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    user.find(marker="staff").trigger("set_end", row)
    await user.should_see("Change when Nora Nurse's access ends")
    input_labelled(user, "Access ends").value = later
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("End of access changed.")

    user.find(marker="staff").trigger("set_end", row)
    await user.should_see("End now")
    user.find(kind=ui.button, content="End now").click()
    await user.should_see("End Nora Nurse's access now?")
    user.find(kind=ui.button, content="End access now").click()
    await user.should_see(f"{NURSE} no longer holds Clinician there.")
    await eventually(lambda: table(user, "staff").rows == [])
    assert (await RoleAssignment.get(member__email=NURSE)).end_reason == "ended_now"
