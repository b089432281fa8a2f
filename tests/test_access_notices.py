"""Warnings before access ends (issue 18 items 3 and 6): the member and the sponsor hear 14, 7 and 1 days before a
grant's end, each warning once, none for a grant shorter than its interval; dormant members are warned 7 days before
their access ends where their organisation chose that. The clock is moved, never slept."""

import asyncio
from datetime import timedelta

import pytest
from nicegui.testing import User

from models import AccessNotice, AuditEvent, MessageKind, Organisation, OutboxMessage, RoleAssignment, StaffMember
from services.access import grants
from services.mail.templates import render, subject_for
from services.organisations import access_settings, dormancy, end_warnings
from services.platform import clock, settings
from services.platform.housekeeping import Housekeeper
from tests import factories
from tests.conftest import TEST_SECRET
from tests.ui_helpers import eventually, sign_in, table

NURSE, SPONSOR = "nurse@trust.org", "sam@trust.org"
CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_BASE_URL": "https://portal.example.org"})


async def _grant(world: factories.World, *, days: float) -> RoleAssignment:
    nurse = await factories.member(NURSE, full_name="Nora Nurse")
    sponsor = await factories.member(SPONSOR, "organisation_owner", org=world.org, full_name="Sam Sponsor")
    ends_at = clock.now() + timedelta(days=days)
    return await factories.grant(
        nurse.member_id, "clinician", org=world.org, ends_at=ends_at, sponsor_id=sponsor.member_id
    )


async def _sent() -> list[tuple[str, str]]:
    rows = await OutboxMessage.all().order_by("id").values_list("kind", "recipient")
    return [(str(kind), str(recipient)) for kind, recipient in rows]


def _until_end(grant: RoleAssignment, days: float) -> None:
    """Move the clock to `days` before the grant's end."""
    assert grant.ends_at is not None
    clock.advance(grant.ends_at - timedelta(days=days) - clock.now())


async def test_the_member_and_the_sponsor_are_warned_14_7_and_1_days_before_the_end_each_once(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    _until_end(grant, 14.01)
    assert await end_warnings.warn_due() == 0
    pair = [(MessageKind.END_WARNING.value, NURSE), (MessageKind.END_WARNING_SPONSOR.value, SPONSOR)]
    for days in (14, 7, 1):
        _until_end(grant, days)
        assert await end_warnings.warn_due() == 1
        assert await end_warnings.warn_due() == 0  # the next pass finds it given
    assert await _sent() == pair * 3
    audit = await AuditEvent.filter(action="end_warning").order_by("id")
    assert [event.detail["days"] for event in audit] == [14, 7, 1]


async def test_an_organisations_own_warning_days_drive_the_warnings(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await access_settings.update(
        actor=owner, organisation_id=world.org.id, end_warning_days=[30, 3], invitation_reminders=True,
        dormant_days=90, end_dormant_access=False,
    )  # fmt: skip
    grant = await _grant(world, days=40)
    for days, warned in ((30.01, 0), (30, 1), (14, 0), (7, 0), (3, 1), (1, 0)):
        _until_end(grant, days)
        assert await end_warnings.warn_due() == warned, f"{days} days before the end"
    audit = await AuditEvent.filter(action="end_warning").order_by("id")
    assert [event.detail["days"] for event in audit] == [30, 3]


async def test_a_grant_shorter_than_an_interval_gets_only_the_warnings_that_fit_it(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=3)
    _until_end(grant, 1)
    assert await end_warnings.warn_due() == 1
    assert [notice.key.split(":")[2] for notice in await AccessNotice.all()] == ["1"]


async def test_after_housekeeping_was_down_only_the_nearest_warning_goes(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    _until_end(grant, 5)
    assert await end_warnings.warn_due() == 1
    audit = await AuditEvent.get(action="end_warning")
    assert audit.detail["days"] == 7 and len(await _sent()) == 2
    _until_end(grant, 1)
    assert await end_warnings.warn_due() == 1 and len(await _sent()) == 4


async def test_a_changed_end_is_warned_about_afresh(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=10)
    _until_end(grant, 7)
    assert await end_warnings.warn_due() == 1
    assert grant.ends_at is not None
    await RoleAssignment.filter(id=grant.id).update(ends_at=grant.ends_at + timedelta(days=7))
    assert await end_warnings.warn_due() == 1  # the new end is 14 days away: its own 14-day warning
    assert (await AuditEvent.filter(action="end_warning").order_by("-id").first().values("detail"))["detail"][
        "days"
    ] == 14


async def test_an_organisation_that_wants_no_warnings_gets_none_and_ended_grants_get_none(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    await Organisation.filter(id=world.org.id).update(end_warning_days="")
    _until_end(grant, 1)
    assert await end_warnings.warn_due() == 0
    await Organisation.filter(id=world.org.id).update(end_warning_days="14,7,1")
    await RoleAssignment.filter(id=grant.id).update(ended_at=clock.now())
    assert await end_warnings.warn_due() == 0 and await _sent() == []


async def test_the_warnings_say_what_ends_when_and_link_behind_log_in_to_the_right_screen(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    _until_end(grant, 7)
    await end_warnings.warn_due()
    member, sponsor = await OutboxMessage.all().order_by("id")
    assert (
        subject_for(member.kind, context=member.context)
        == "Your access to St Mary's Trust (whole organisation) ends in 7 days"
    )
    assert subject_for(sponsor.kind, context=sponsor.context) == "Access you sponsor ends in 7 days: Nora Nurse"
    to_member = render(member.kind, recipient=NURSE, context=member.context, link=None, settings=CONFIG).decode()
    to_sponsor = render(sponsor.kind, recipient=SPONSOR, context=sponsor.context, link=None, settings=CONFIG).decode()
    to_member, to_sponsor = (text.replace("=\r\n", "") for text in (to_member, to_sponsor))  # soft line breaks
    assert (
        "ask your sponsor, Sam Sponsor, to extend it" in to_member
        and "https://portal.example.org/care\r\n" in to_member
    )
    assert f"https://portal.example.org/care?org=3D{world.org.id}&view=3Dending" in to_sponsor  # quoted-printable
    assert "Nora Nurse as Clinician in St Mary's Trust (whole organisation)" in to_sponsor.replace("=\r\n", "")
    assert member.link_seed is None and sponsor.link_seed is None  # nothing usable without a log-in


@pytest.mark.data
async def test_two_processes_racing_give_each_warning_once(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    _until_end(grant, 7)
    warned = await asyncio.gather(end_warnings.warn_due(), end_warnings.warn_due(), end_warnings.warn_due())
    assert sum(warned) == 1 and len(await _sent()) == 2


async def _quiet_nurse(world: factories.World, *, idle_days: int) -> StaffMember:
    await factories.member(NURSE, "clinician", org=world.org)
    await Organisation.filter(id=world.org.id).update(end_dormant_access=True, dormant_days=90)
    await StaffMember.filter(email=NURSE).update(last_login_at=clock.now() - timedelta(days=idle_days))
    return await StaffMember.get(email=NURSE)


@pytest.mark.data
async def test_a_dormant_member_is_warned_7_days_before_and_then_loses_access_there(db: str) -> None:
    world = await factories.world()
    await _quiet_nurse(world, idle_days=82)
    assert await dormancy.end_dormant_access() == dormancy.DormantReport()
    clock.advance(timedelta(days=1))
    assert await dormancy.end_dormant_access() == dormancy.DormantReport(warned=1)
    assert await dormancy.end_dormant_access() == dormancy.DormantReport()  # once
    assert await _sent() == [(MessageKind.DORMANT_WARNING.value, NURSE)]
    clock.advance(timedelta(days=7))
    assert await dormancy.end_dormant_access() == dormancy.DormantReport(ended=1)
    assert await RoleAssignment.filter(grants.live(), member__email=NURSE).count() == 0
    assert await AuditEvent.filter(action="dormant_ended", target=NURSE).count() == 1
    assert await AuditEvent.filter(action=grants.GRANT_ENDED, target=NURSE).count() == 1


async def test_a_log_in_after_the_warning_keeps_the_access(db: str) -> None:
    world = await factories.world()
    await _quiet_nurse(world, idle_days=85)
    assert (await dormancy.end_dormant_access()).warned == 1
    clock.advance(timedelta(days=3))
    await StaffMember.filter(email=NURSE).update(last_login_at=clock.now())
    clock.advance(timedelta(days=10))
    assert await dormancy.end_dormant_access() == dormancy.DormantReport()
    assert await RoleAssignment.filter(grants.live(), member__email=NURSE).count() == 1


async def test_a_member_long_dormant_when_the_rule_is_chosen_still_gets_7_days_notice(db: str) -> None:
    world = await factories.world()
    await _quiet_nurse(world, idle_days=200)
    assert (await dormancy.end_dormant_access()).warned == 1
    message = await OutboxMessage.get(kind=MessageKind.DORMANT_WARNING)
    assert "not logged in to Gatehouse for 200 days" in render(
        message.kind, recipient=NURSE, context=message.context, link=None, settings=CONFIG
    ).decode().replace("=\r\n", "")
    clock.advance(timedelta(days=6, hours=23))
    assert (await dormancy.end_dormant_access()).ended == 0
    clock.advance(timedelta(hours=1))
    assert (await dormancy.end_dormant_access()).ended == 1


async def test_organisations_that_did_not_choose_it_keep_dormant_members(db: str) -> None:
    world = await factories.world()
    await _quiet_nurse(world, idle_days=300)
    await Organisation.filter(id=world.org.id).update(end_dormant_access=False)
    assert await dormancy.end_dormant_access() == dormancy.DormantReport() and await _sent() == []


async def test_housekeeping_sends_the_warnings_in_its_passes(db: str) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=30, interval_seconds=60)
    _until_end(grant, 14)
    await keeper.run_once()
    assert len(await _sent()) == 2


async def test_the_sponsor_follows_the_warning_to_the_staff_list_of_access_ending_soon(user: User) -> None:
    world = await factories.world()
    grant = await _grant(world, days=30)
    _until_end(grant, 7)
    await end_warnings.warn_due()
    warning = await OutboxMessage.get(kind=MessageKind.END_WARNING_SPONSOR)
    await sign_in(user, SPONSOR, "organisation_owner", org=world.org)
    await user.open(warning.context["path"])
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == [NURSE])
    await user.should_see("Staff members >> Access ending in 30 days")
