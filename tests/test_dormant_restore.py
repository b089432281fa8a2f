"""Dormancy suspends a member's access in one organisation, restorably (issue 18 item 6): warned 7 days before,
suspended at the organisation's dormant days (their account and access elsewhere stay), shown as suspended in Ended
access, and given back by an owner with Restore access: the same role, scope, sponsor and end, within the
organisation's end-date rules, once, never by someone who may not manage that role there. The clock is moved."""

import asyncio
from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, GrantPolicy, MessageKind, Organisation, OutboxMessage, RoleAssignment, StaffMember
from services.access import auth, grants, sessions
from services.access.service import ScopeLevel, can_view_staff
from services.audit import service as audit
from services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from services.mail.templates import render, subject_for
from services.organisations import dormancy, dormant_restore, staff
from services.platform import clock
from tests import factories
from tests.test_access_notices import CONFIG
from tests.test_grants_ending import _signed_in
from tests.ui_helpers import eventually, sign_in, table

NURSE, OWNER, SPONSOR = "nurse@trust.org", "owner@trust.org", "sam@trust.org"


async def _quiet_nurse(
    world: factories.World, *, ends_in_days: int | None = 200, idle_days: int = 83
) -> RoleAssignment:
    """Nora Nurse, Clinician in the Heart Failure Trial (sponsored by Sam, ending in 200 days), and in Northwind
    Health, last logged in 83 days ago (warned now); St Mary's Trust suspends dormant members."""
    await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Olga Owner")
    sponsor = await factories.member(SPONSOR, "organisation_owner", org=world.org, full_name="Sam Sponsor")
    nurse = await factories.member(NURSE, "clinician", dep=world.other_dep, full_name="Nora Nurse")
    ends_at = clock.now() + timedelta(days=ends_in_days) if ends_in_days else None
    grant = await factories.grant(
        nurse.member_id, "clinician", dep=world.dep, ends_at=ends_at, sponsor_id=sponsor.member_id
    )
    await Organisation.filter(id=world.org.id).update(end_dormant_access=True)
    await StaffMember.filter(email=NURSE).update(last_login_at=clock.now() - timedelta(days=idle_days))
    return grant


async def _suspended(world: factories.World, *, ends_in_days: int | None = 200) -> RoleAssignment:
    grant = await _quiet_nurse(world, ends_in_days=ends_in_days)
    assert (await dormancy.end_dormant_access()).warned == 1
    clock.advance(timedelta(days=7))
    assert (await dormancy.end_dormant_access()).ended == 1
    return grant


async def _ended_row(actor: factories.Actor, world: factories.World) -> staff.StaffRow:
    rows, _ = await staff.staff_page(actor=actor, organisation_id=world.org.id, show="ended")
    return next(row for row in rows if row.email == NURSE)


async def test_warned_7_days_before_suspended_at_90_days_and_restored_by_an_owner(db: str) -> None:
    world = await factories.world()
    grant = await _quiet_nurse(world, idle_days=82)
    clock.advance(timedelta(hours=23))
    assert await dormancy.end_dormant_access() == dormancy.DormantReport()
    clock.advance(timedelta(hours=1))  # 83 days without a log-in: 7 days before 90
    assert await dormancy.end_dormant_access() == dormancy.DormantReport(warned=1)
    warning = await OutboxMessage.get(kind=MessageKind.DORMANT_WARNING)
    said = render(warning.kind, recipient=NURSE, context=warning.context, link=None, settings=CONFIG)
    text = said.decode().replace("=\r\n", "")
    assert subject_for(warning.kind, context=warning.context) == (
        "Your access to St Mary's Trust will be suspended in 7 days unless you log in"
    )
    assert "access you hold elsewhere are not affected" in text and "can restore it" in text

    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert (await dormancy.end_dormant_access()).ended == 0
    clock.advance(timedelta(minutes=1))
    assert await dormancy.end_dormant_access() == dormancy.DormantReport(ended=1)
    assert not await RoleAssignment.filter(grants.live(), member__email=NURSE, organisation_id=world.org.id).exists()
    assert await factories.holds(NURSE, "clinician") and (await StaffMember.get(email=NURSE)).is_active  # elsewhere

    owner = await factories.actor_of(OWNER)
    row = await _ended_row(owner, world)
    assert (row.dormant_suspended, row.restorable, row.restored_at) == (90, True, None)
    restored = await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    again = await RoleAssignment.get(grants.live(), member__email=NURSE, organisation_id=world.org.id)
    assert (again.role_id, again.scope_key, again.sponsor_id, again.ends_at) == (
        grant.role_id,
        grant.scope_key,
        grant.sponsor_id,
        grant.ends_at,
    )
    assert restored.ends_at == grant.ends_at and again.granted_by_id == owner.member_id
    row = await _ended_row(owner, world)
    assert row.restored_at is not None and not row.restorable
    said_by_audit, _ = await audit.events_page(actor=owner, organisation_id=world.org.id, action="restore_access")
    assert said_by_audit[0].sentence.startswith(
        "Olga Owner restored the role Clinician of Nora Nurse (nurse@trust.org) in Heart Failure Trial at St Mary's "
        "Trust, suspended for dormancy, until "
    )

    with pytest.raises(InvalidInput, match="was already restored"):
        await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    assert await RoleAssignment.filter(member__email=NURSE, organisation_id=world.org.id).count() == 2

    warnings = OutboxMessage.filter(kind=MessageKind.DORMANT_WARNING, recipient=NURSE)
    clock.advance(timedelta(days=82))  # the count starts again at the restore, not at the old log-in
    await dormancy.end_dormant_access()
    assert await warnings.count() == 1
    clock.advance(timedelta(days=1))
    await dormancy.end_dormant_access()
    assert await warnings.count() == 2


async def test_the_member_is_emailed_once_who_restored_what_and_until_when_and_a_failed_restore_sends_nothing(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await factories.world()
    grant = await _suspended(world)
    owner = await factories.actor_of(OWNER)
    restored_mail = OutboxMessage.filter(kind=MessageKind.ACCESS_RESTORED)

    async def failing(**kwargs: object) -> None:  # the restore's own audit event fails: the whole restore rolls back
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(audit, "record", failing)
        with pytest.raises(RuntimeError):
            await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    assert await restored_mail.count() == 0 and (await RoleAssignment.get(id=grant.id)).restored_at is None

    await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    with pytest.raises(InvalidInput, match="was already restored"):
        await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    mail = await restored_mail.get()  # exactly one
    assert (mail.recipient, mail.organisation_id, mail.link_seed) == (NURSE, world.org.id, None)
    assert subject_for(mail.kind, context=mail.context) == (
        "Olga Owner restored your Clinician access in Heart Failure Trial at St Mary's Trust"
    )
    text = render(mail.kind, recipient=NURSE, context=mail.context, link=None, settings=CONFIG).decode()
    assert grant.ends_at is not None
    assert f"It ends on {grant.ends_at:%A} {grant.ends_at.day} {grant.ends_at:%B %Y}" in text.replace("=\r\n", "")
    assert f"{CONFIG.link('/login')}" in text


async def test_restoring_is_refused_to_someone_who_may_not_manage_the_role_there_and_changes_nothing(db: str) -> None:
    world = await factories.world()
    grant = await _suspended(world)
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)  # no patient-data rights
    assert not (await _ended_row(controller, world)).restorable
    with pytest.raises(PermissionDenied, match="You may not restore “Clinician” there"):
        await dormant_restore.restore_access(actor=controller, assignment_id=grant.id)
    assert (await RoleAssignment.get(id=grant.id)).restored_at is None
    assert not await RoleAssignment.filter(grants.live(), member__email=NURSE, organisation_id=world.org.id).exists()
    assert await AuditEvent.filter(action="restore_access", outcome="refused", target=NURSE).count() == 1


async def test_restoring_is_refused_when_the_member_holds_that_role_there_again_or_nothing_was_suspended(
    db: str,
) -> None:
    world = await factories.world()
    grant = await _suspended(world)
    owner = await factories.actor_of(OWNER)
    await factories.grant(grant.member_id, "clinician", dep=world.dep)  # invited again meanwhile
    with pytest.raises(InvalidInput, match="already holds Clinician in Heart Failure Trial at St Mary's Trust"):
        await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)
    assert (await RoleAssignment.get(id=grant.id)).restored_at is None
    sponsor = await RoleAssignment.get(member__email=SPONSOR)
    with pytest.raises(NotFound, match="not suspended for dormancy"):
        await dormant_restore.restore_access(actor=owner, assignment_id=sponsor.id)


async def test_two_owners_restoring_at_once_give_the_access_back_once(db: str) -> None:
    world = await factories.world()
    grant = await _suspended(world)
    owners = [await factories.actor_of(OWNER), await factories.actor_of(SPONSOR)]
    outcomes = await asyncio.gather(
        *(dormant_restore.restore_access(actor=owner, assignment_id=grant.id) for owner in owners),
        return_exceptions=True,
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["InvalidInput", "Restored"]
    assert (
        await RoleAssignment.filter(grants.live(), member_id=grant.member_id, organisation_id=world.org.id).count() == 1
    )


async def test_a_restore_keeps_to_the_organisations_longest_duration_and_required_end(db: str) -> None:
    world = await factories.world()
    grant = await _suspended(world)  # its end was 200 days away
    clinician = await factories.role("clinician")
    await GrantPolicy.create(organisation_id=world.org.id, role_id=clinician.id, max_days=30)
    restored = await dormant_restore.restore_access(actor=await factories.actor_of(OWNER), assignment_id=grant.id)
    assert restored.ends_at is not None and timedelta(days=29) < restored.ends_at - clock.now() <= timedelta(days=30)


async def test_an_open_ended_grant_comes_back_open_ended_unless_an_end_is_required(db: str) -> None:
    world = await factories.world()
    grant = await _suspended(world, ends_in_days=None)
    owner = await factories.actor_of(OWNER)
    assert (await dormant_restore.restore_access(actor=owner, assignment_id=grant.id)).ends_at is None

    other = await RoleAssignment.create(
        member_id=grant.member_id, role_id=(await factories.role("supervisor")).id, level=ScopeLevel.DEPLOYMENT.value,
        organisation_id=world.org.id, deployment_id=world.dep2.id, scope_key=f"dep:{world.dep2.id}",
        ended_at=clock.now(), ends_at=clock.now(), end_reason=dormancy.END_REASON,
    )  # fmt: skip
    await GrantPolicy.create(organisation_id=world.org.id, role_id=other.role_id, max_days=14)
    restored = await dormant_restore.restore_access(actor=owner, assignment_id=other.id)
    assert restored.ends_at is not None and timedelta(days=13) < restored.ends_at - clock.now() <= timedelta(days=14)


async def test_the_suspended_members_open_page_loses_the_organisation_and_their_session_ends_with_nothing_left(
    db: str,
) -> None:
    world = await factories.world()
    grant = await _quiet_nurse(world)
    await RoleAssignment.filter(member_id=grant.member_id).exclude(id=grant.id).delete()  # nothing elsewhere
    token = await _signed_in(NURSE)
    assert can_view_staff(await auth.actor_for(session_token=token), world.dep_scope)
    left: list[bool] = []
    sessions.subscribe(session_token=token, on_end=lambda: left.append(True))
    assert (await dormancy.end_dormant_access()).warned == 1
    clock.advance(timedelta(days=7))
    assert (await dormancy.end_dormant_access()).ended == 1
    assert left == [True]
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=token)
    actor = await factories.actor_of(NURSE)
    assert [
        (s.organisation_name, s.dormant_days, s.owners) for s in await dormant_restore.suspended_here(actor=actor)
    ] == [("St Mary's Trust", 90, ("Olga Owner", "Sam Sponsor"))]
    await dormant_restore.restore_access(actor=await factories.actor_of(OWNER), assignment_id=grant.id)
    assert await dormant_restore.suspended_here(actor=await factories.actor_of(NURSE)) == []


async def test_an_owner_sees_the_suspension_arrive_in_ended_access_and_restores_it_from_the_row_menu(
    user: User,
) -> None:
    world = await factories.world()
    grant = await _quiet_nurse(world)
    assert (await dormancy.end_dormant_access()).warned == 1
    clock.advance(timedelta(days=7))  # due now; the owner's page is open before housekeeping's pass
    await sign_in(user, OWNER, "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=ended")
    await eventually(lambda: table(user, "staff").props["no-data-label"] == "No access here has ended yet.")
    assert (await dormancy.end_dormant_access()).ended == 1
    await eventually(lambda: _row(user)["ends"] == "Suspended: no log-in for 90 days", within=20.0)
    assert _row(user)["restorable"] and not _row(user)["manageable"]

    user.find(marker="staff").trigger("restore_access", _row(user))
    await user.should_see("Restore the access of Nora Nurse?")
    user.find(kind=ui.button, content="Restore access").click()
    await user.should_see(f"{NURSE} holds Clinician in Heart Failure Trial at St Mary's Trust again, until ")
    await user.should_see("; they are told by email.")
    await eventually(lambda: str(_row(user)["ends"]).startswith("Suspended: no log-in for 90 days; restored "))
    assert not _row(user)["restorable"]
    assert await RoleAssignment.filter(grants.live(), member_id=grant.member_id, organisation_id=world.org.id).exists()


async def test_a_member_whose_access_was_suspended_is_told_why_and_whom_to_ask_instead_of_an_empty_portal(
    user: User,
) -> None:
    world = await factories.world()
    await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Olga Owner")
    nurse = await sign_in(user, NURSE, "clinician", dep=world.dep)
    await RoleAssignment.filter(member_id=nurse.member_id).update(
        ended_at=clock.now(), ends_at=clock.now(), end_reason=dormancy.END_REASON
    )  # as dormancy left it
    await user.open("/care")
    await user.should_see(
        "Your access to St Mary's Trust was suspended after 90 days without a log-in. "
        "Ask an owner (Olga Owner) to restore it."
    )


def _row(user: User) -> dict[str, object]:
    return next(r for r in table(user, "staff").rows if r["email"] == NURSE)
