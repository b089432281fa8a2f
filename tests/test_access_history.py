"""A member's access history in an organisation (issue 18 item 2): every grant they held there, one line per role
period, who gave and approved it, the sponsor and how it ended; read only by those who may see the organisation's
staff (and by the member: their earlier access). The clock is moved; grants are dated by it, as in production."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from models import AuditEvent, Deployment, Organisation, RoleAssignment, StaffMember
from services.access import grants
from services.errors import NotFound, PermissionDenied
from services.organisations import access_history, dormancy, dormant_restore, staff, suspension
from services.organisations.access_history import Ending
from services.platform import clock
from tests import factories

NURSE, OWNER, SPONSOR, SUPPORT = "nurse@trust.org", "owner@trust.org", "sam@trust.org", "support@platform.org"
HFT, RM = "Heart Failure Trial at St Mary's Trust", "Remote Monitoring at St Mary's Trust"


async def _given(member_id: int, role_key: str, dep: Deployment, *, by: int, sponsor: int, **extra: object) -> int:
    """A grant given by `by`, dated by the (moved) clock."""
    grant = await factories.grant(member_id, role_key, dep=dep, sponsor_id=sponsor)
    await RoleAssignment.filter(id=grant.id).update(granted_by_id=by, created_at=clock.now(), **extra)
    return grant.id


def _near(moment: datetime | None, expected: datetime) -> bool:
    """The same moment, give or take the time the test itself takes (the clock is moved, not stopped)."""
    return moment is not None and abs(moment - expected) < timedelta(seconds=5)


@dataclass(frozen=True)
class Story:
    nurse: factories.Actor
    t0: datetime
    a: int  # Clinician, changed to Patient Support, removed
    b: int  # Deployment Staff, its end reached
    c: int  # Supervisor, suspended for dormancy and restored
    d: int  # Supervisor again: the restored grant


async def _nora_s_year(world: factories.World) -> Story:
    """Nora Nurse is given three roles by Olga Owner (sponsor Sam); one changes role and is removed, one reaches its
    end, one is suspended for dormancy and restored by Olga; then her account is suspended and restored."""
    olga = await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Olga Owner")
    sam = await factories.member(SPONSOR, "organisation_owner", org=world.org, full_name="Sam Sponsor")
    support = await factories.member(SUPPORT, "platform_support", full_name="Pat Support")
    nurse = await factories.member(NURSE, full_name="Nora Nurse")
    t0 = clock.now()
    a = await _given(nurse.member_id, "clinician", world.dep, by=olga.member_id, sponsor=sam.member_id,
                     approved_by_id=sam.member_id)  # fmt: skip
    b = await _given(nurse.member_id, "deployment_staff", world.dep2, by=olga.member_id, sponsor=sam.member_id,
                     ends_at=t0 + timedelta(days=10))  # fmt: skip
    c = await _given(nurse.member_id, "supervisor", world.dep2, by=olga.member_id, sponsor=sam.member_id)
    clock.advance(timedelta(days=1))
    await staff.change_role(actor=olga, assignment_id=a, role_id=(await factories.role("patient_support")).id)
    clock.advance(timedelta(days=1))
    await staff.remove_from_team(actor=olga, assignment_id=a)
    clock.advance(timedelta(days=8))
    await grants.end_due()
    await Organisation.filter(id=world.org.id).update(end_dormant_access=True)
    await StaffMember.filter(id=nurse.member_id).update(last_login_at=clock.now() - timedelta(days=83))
    assert (await dormancy.end_dormant_access()).warned == 1
    clock.advance(timedelta(days=7))
    assert (await dormancy.end_dormant_access()).ended == 1
    clock.advance(timedelta(hours=1))
    await dormant_restore.restore_access(actor=olga, assignment_id=c)
    restored = await RoleAssignment.get(member_id=nurse.member_id, role__key="supervisor", ended_at=None)
    await RoleAssignment.filter(id=restored.id).update(created_at=clock.now())
    clock.advance(timedelta(hours=1))
    await suspension.suspend(actor=support, member_id=nurse.member_id)
    clock.advance(timedelta(hours=1))
    await suspension.restore(actor=support, member_id=nurse.member_id)
    return Story(nurse, t0, a, b, c, restored.id)


async def test_the_history_has_a_line_per_role_period_with_who_gave_it_and_how_it_ended_oldest_first(db: str) -> None:
    world = await factories.world()
    story = await _nora_s_year(world)
    t0, nurse = story.t0, story.nurse
    rows = {r.id: r for r in await RoleAssignment.filter(member_id=nurse.member_id)}
    c, d = rows[story.c], rows[story.d]

    olga = await factories.actor_of(OWNER)
    history = await access_history.member_history(
        actor=olga,
        organisation_id=world.org.id,
        member_id=nurse.member_id,
    )

    day = timedelta(days=1)
    assert (history.name, history.email) == ("Nora Nurse", NURSE)
    lines = history.lines
    assert [(line.grant_id, line.role, line.scope) for line in lines] == [
        (story.a, "Clinician", HFT),
        (story.b, "Deployment Staff", RM),
        (story.c, "Supervisor", RM),
        (story.a, "Patient Support", HFT),
        (story.d, "Supervisor", RM),
        (0, "", RM),
    ]
    first = lines[0]
    assert (first.given_by, first.approved_by, first.sponsor) == ("Olga Owner", "Sam Sponsor", "Sam Sponsor")
    assert _near(first.since, t0) and _near(first.until, t0 + day) and first.ending.how == "changed"
    removed = lines[3]
    assert (removed.given_by, removed.approved_by, removed.ending.how, removed.ending.by) == (
        "Olga Owner", "", "removed", "Olga Owner"
    )  # fmt: skip
    assert _near(removed.since, t0 + day) and _near(removed.until, t0 + 2 * day)
    assert removed.until == removed.ending.at
    assert lines[1].ending == Ending("end_reached", rows[story.b].ends_at)
    assert lines[2].ending == Ending(
        "dormant", c.ends_at, dormant_days=90, restored_at=c.restored_at, restored_by="Olga Owner"
    )
    assert lines[2].until == c.ends_at and lines[2].sponsor == "Sam Sponsor"
    assert lines[4].ending == Ending("held") and lines[4].until is None and lines[4].since == d.created_at
    assert lines[4].given_by == "Olga Owner" and lines[4].sponsor == "Sam Sponsor"
    suspended = lines[5].ending
    assert (suspended.how, suspended.by, suspended.restored_by) == ("suspended", "Pat Support", "Pat Support")
    assert suspended.at is not None and _near(suspended.restored_at, suspended.at + timedelta(hours=1))


async def test_the_member_sees_their_earlier_access_with_how_each_ended(db: str) -> None:
    world = await factories.world()
    story = await _nora_s_year(world)
    other = await factories.grant(story.nurse.member_id, "clinician", dep=world.other_dep)
    moment = clock.now()
    await RoleAssignment.filter(id=other.id).update(
        created_at=moment, ends_at=moment, ended_at=moment, end_reason="ended"
    )

    earlier = await access_history.my_earlier_access(actor=await factories.actor_of(NURSE))

    assert [(e.organisation, e.role, e.ending.how) for e in earlier] == [
        ("Northwind Health", "Clinician", "end_reached"),
        ("St Mary's Trust", "Supervisor", "dormant"),
        ("St Mary's Trust", "Deployment Staff", "end_reached"),
        ("St Mary's Trust", "Patient Support", "removed"),
    ]
    assert earlier[3].ending.by == "Olga Owner" and earlier[1].ending.restored_by == "Olga Owner"
    # Their own history in an organisation, without the right to see its staff there.
    mine = await access_history.member_history(
        actor=await factories.actor_of(NURSE),
        organisation_id=world.other_org.id,
        member_id=story.nurse.member_id,
    )
    assert [line.role for line in mine.lines] == ["Clinician"]


async def test_a_viewer_of_one_deployment_reads_only_the_grants_there(db: str) -> None:
    world = await factories.world()
    story = await _nora_s_year(world)
    viewer = await factories.member("sue@trust.org", "supervisor", dep=world.dep)

    history = await access_history.member_history(
        actor=viewer,
        organisation_id=world.org.id,
        member_id=story.nurse.member_id,
    )

    assert [(line.role, line.scope) for line in history.lines] == [("Clinician", HFT), ("Patient Support", HFT)]


@pytest.mark.parametrize("who", ["deployment staff here", "owner elsewhere"])
async def test_someone_who_may_not_see_the_staff_is_refused_and_learns_nothing(db: str, who: str) -> None:
    world = await factories.world()
    story = await _nora_s_year(world)
    if who == "deployment staff here":
        viewer = await factories.member("dee@trust.org", "deployment_staff", dep=world.dep)
    else:
        viewer = await factories.member("nick@northwind.org", "organisation_owner", org=world.other_org)
    nurse_id = story.nurse.member_id

    for member_id in (nurse_id, 999_999):  # someone there, and nobody: the same refusal
        with pytest.raises(PermissionDenied, match=r"You may not see the staff of this organisation\."):
            await access_history.member_history(actor=viewer, organisation_id=world.org.id, member_id=member_id)

    refused = await AuditEvent.filter(actor_id=viewer.member_id, action="list_staff", outcome="refused").count()
    assert refused == 2


async def test_a_viewer_asking_about_someone_with_no_access_here_gets_the_same_answer_as_for_nobody(db: str) -> None:
    world = await factories.world()
    olga = await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Olga Owner")
    elsewhere = await factories.member("nick@northwind.org", "organisation_owner", org=world.other_org)

    for member_id in (elsewhere.member_id, 999_999):
        with pytest.raises(NotFound, match=r"There is no access history for that person here\."):
            await access_history.member_history(actor=olga, organisation_id=world.org.id, member_id=member_id)
