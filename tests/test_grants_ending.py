"""Grants that end by themselves (issue 18, item 2): refused at their end, marked ended by housekeeping, audited, open
pages told, sessions ended when nothing remains; ended grants stay as history. The clock is moved, never slept."""

import asyncio
import functools
from datetime import timedelta

import pytest

from models import AuditEvent, RoleAssignment, Session, StaffMember
from services.access import auth, grants, sessions, tokens
from services.access.service import can_view_staff
from services.errors import NotAuthenticated
from services.invitations import service as invitations
from services.organisations import grant_ends, staff
from services.platform import clock, events
from services.platform.housekeeping import Housekeeper
from tests import factories
from tests.waiting import until

NURSE = "nurse@trust.org"


async def _signed_in(email: str) -> str:
    raw, hashed = tokens.new_token()
    member = await StaffMember.get(email=email)
    at = clock.now()
    await Session.create(token_hash=hashed, member_id=member.id, last_seen_at=at, expires_at=at + auth.ABSOLUTE_TIMEOUT)
    return raw


async def _temporary_nurse(world: factories.World, *, minutes: int = 20) -> RoleAssignment:
    nurse = await factories.member(NURSE)
    ends_at = clock.now() + timedelta(minutes=minutes)
    return await factories.grant(nurse.member_id, "clinician", org=world.org, ends_at=ends_at)


async def test_a_grant_gives_nothing_from_its_end_on_even_before_housekeeping_marks_it(db: str) -> None:
    world = await factories.world()
    await _temporary_nurse(world)
    assert can_view_staff(await factories.actor_of(NURSE), world.org_scope)
    clock.advance(timedelta(minutes=20))
    assert not can_view_staff(await factories.actor_of(NURSE), world.org_scope)
    assert await RoleAssignment.filter(ended_at__isnull=True).count() == 1  # not yet marked: refused all the same


async def test_a_remembered_actor_is_not_remembered_past_its_first_grant_end(db: str) -> None:
    world = await factories.world()
    await _temporary_nurse(world)
    await factories.grant((await StaffMember.get(email=NURSE)).id, "supervisor", org=world.org)
    token = await _signed_in(NURSE)
    await auth.actor_for(session_token=token)
    clock.advance(timedelta(minutes=19, seconds=30))
    await auth.live_actor_for(session_token=token)  # remembered for up to a minute: never past the end
    clock.advance(timedelta(seconds=30))
    held = {grant.role.key for grant in (await auth.live_actor_for(session_token=token)).grants}
    assert held == {"supervisor"}


async def test_housekeeping_ends_due_grants_keeps_them_as_history_audits_and_tells_open_lists(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _temporary_nurse(world)
    heard: list[str] = []
    events.subscribe(organisation_id=world.org.id, handler=heard.append)
    assert (await grants.end_due()).ended == 0
    clock.advance(timedelta(minutes=20, seconds=1))
    report = await grants.end_due()
    ended = await RoleAssignment.get(id=grant.id)
    rows, total = await staff.staff_page(actor=owner, organisation_id=world.org.id)
    audit = await AuditEvent.get(action=grants.GRANT_ENDED)
    assert report.ended == 1 and ended.ended_at is not None and ended.ends_at is not None
    assert [row.email for row in rows] == ["owner@trust.org"] and total == 1  # ended rows are not staff any more
    assert (audit.target, audit.actor_id, audit.organisation_id, audit.detail["role"]) == (
        NURSE,
        None,
        world.org.id,
        "Clinician",
    )
    assert grants.GRANTS_CHANGED in heard
    assert (await grants.end_due()).ended == 0  # ended once, audited once


async def test_the_sessions_of_a_member_left_with_nothing_end_and_their_pages_leave(db: str) -> None:
    world = await factories.world()
    await _temporary_nurse(world)
    token = await _signed_in(NURSE)
    left: list[bool] = []
    sessions.subscribe(session_token=token, on_end=lambda: left.append(True))
    clock.advance(timedelta(minutes=20))
    report = await grants.end_due()
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=token)
    assert report.sessions_ended == 1 and left == [True]
    assert await AuditEvent.filter(action=grants.SESSIONS_ENDED, target=NURSE).count() == 1


async def test_a_member_with_other_access_keeps_their_session(db: str) -> None:
    world = await factories.world()
    await _temporary_nurse(world)
    await factories.grant((await StaffMember.get(email=NURSE)).id, "supervisor", dep=world.dep)
    token = await _signed_in(NURSE)
    clock.advance(timedelta(minutes=20))
    assert (await grants.end_due()).sessions_ended == 0
    assert [g.role.key for g in (await auth.actor_for(session_token=token)).grants] == ["supervisor"]


async def test_the_housekeeper_ends_grants_in_its_pass_and_wakes_for_the_next_end(db: str) -> None:
    world = await factories.world()
    await _temporary_nurse(world, minutes=120)
    # Its URL only decides how it takes the lead, which run_once does not need.
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=3600)
    clock.advance(timedelta(minutes=120) - timedelta(seconds=10))
    assert await keeper._pause() <= 11  # wakes just after the end, not an hour later
    clock.advance(timedelta(seconds=10))
    await keeper.run_once()
    assert await RoleAssignment.filter(ended_at__isnull=False).count() == 1


async def test_the_housekeeper_looks_again_when_an_end_is_brought_forward_after_it_chose_its_pause(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _temporary_nurse(world, minutes=120)
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=3600)
    await keeper.start()
    try:
        await until(lambda: keeper.last_run_at is not None)  # its first pass: it now sleeps for up to an hour
        first_pass = keeper.last_run_at
        await grant_ends.set_end(actor=owner, assignment_id=grant.id, ends_at=clock.now() + timedelta(minutes=1))
        clock.advance(timedelta(minutes=1))
        await until(lambda: keeper.last_run_at != first_pass)  # woken by the change, not by its hour running out
    finally:
        await keeper.stop()
    assert (await RoleAssignment.get(id=grant.id)).ended_at is not None


async def test_removing_the_last_grant_ends_the_members_sessions_and_another_grant_keeps_them(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    alone = await _temporary_nurse(world, minutes=60)
    keeper = await factories.member("keeper@trust.org")
    kept = await factories.grant(keeper.member_id, "clinician", org=world.org)
    await factories.grant(keeper.member_id, "supervisor", dep=world.dep)
    tokens = {NURSE: await _signed_in(NURSE), keeper.email: await _signed_in(keeper.email)}
    left: list[str] = []
    for email, token in tokens.items():
        sessions.subscribe(session_token=token, on_end=functools.partial(left.append, email))
    await staff.remove_from_team(actor=owner, assignment_id=alone.id)
    await staff.remove_from_team(actor=owner, assignment_id=kept.id)
    with pytest.raises(NotAuthenticated):
        await auth.actor_for(session_token=tokens[NURSE])
    assert [g.role.key for g in (await auth.actor_for(session_token=tokens[keeper.email])).grants] == ["supervisor"]
    assert left == [NURSE]  # the open pages of the session that ended leave; the other's stay
    assert await AuditEvent.filter(action=grants.SESSIONS_ENDED).values_list("target", flat=True) == [NURSE]


async def test_removing_from_the_team_ends_the_grant_and_keeps_it_as_history(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _temporary_nurse(world, minutes=60 * 24 * 30)
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)
    assert (await RoleAssignment.get(id=grant.id)).ended_at is not None
    await factories.grant(grant.member_id, "clinician", org=world.org)  # the same grant may be given again
    assert await factories.holds(NURSE, "clinician")


async def test_a_grant_whose_end_just_came_can_be_given_again_before_housekeeping_runs(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    grant = await _temporary_nurse(world)
    await factories.grant(grant.member_id, "supervisor", dep=world.dep)  # still a member: given the role at once
    clock.advance(timedelta(minutes=20))
    clinician = await factories.role("clinician")
    result = await invitations.send(
        actor=owner, addresses=[NURSE], role_id=clinician.id, lifetime_hours=72, organisation_id=world.org.id
    )
    assert result.role_added == [NURSE] and (await RoleAssignment.get(id=grant.id)).ended_at is not None
    assert await RoleAssignment.filter(member_id=grant.member_id, role_id=clinician.id, ended_at=None).count() == 1


async def test_two_housekeepers_at_once_end_each_grant_once_and_audit_it_once(db: str) -> None:
    world = await factories.world()
    for index in range(30):
        person = await factories.member(f"temp{index}@agency.org")
        await factories.grant(person.member_id, "clinician", org=world.org, ends_at=clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=1))
    reports = await asyncio.gather(grants.end_due(batch=7), grants.end_due(batch=7))
    assert sum(report.ended for report in reports) == 30
    assert await AuditEvent.filter(action=grants.GRANT_ENDED).count() == 30
    assert await RoleAssignment.filter(ended_at__isnull=True).count() == 0
