"""One member's trail through the evidence pack (issue 19 item 3): invited, approved, granted, moved to another role,
reviewed, removed; another suspended and restored. Each role period says who gave it and who approved it, and each
stop its time-to-revoke as PRODUCT.md defines it: from when access should have stopped to the last request that still
succeeded, as the app processes that let requests through record it."""

import asyncio
import csv
import io
import json
from datetime import datetime, timedelta

import pytest

from models import (
    AccountSuspension,
    AuditEvent,
    Invitation,
    MessageKind,
    OutboxMessage,
    ReviewItem,
    RoleAssignment,
    StaffMember,
)
from services.access import auth, grants, late_requests
from services.approvals import rules
from services.approvals import service as approvals
from services.audit import evidence
from services.invitations import acceptance
from services.invitations import service as invitations
from services.organisations import staff, suspension
from services.platform import clock, events
from services.reviews import campaigns, decisions
from tests import factor_helpers, factories

NEW, CLIN = "new.nurse@example.org", "clin@trust.org"


async def _approved_and_accepted(world: factories.World) -> tuple[factories.Actor, factories.Actor]:
    """Ann invites as Supervisor, a role that needs approval; Olive approves; the invitee accepts."""
    inviter = await factories.member("ac@trust.org", "access_controller", org=world.org, full_name="Ann Inviter")
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    supervisor = await factories.role("supervisor")
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    await invitations.send(
        actor=inviter, addresses=[NEW], role_id=supervisor.id, lifetime_hours=72, organisation_id=world.org.id
    )
    waiting = await OutboxMessage.filter(kind=MessageKind.INVITATION).count()
    assert waiting == 0, "nothing leaves before approval"
    await approvals.approve(actor=owner, invitation_ids=[(await Invitation.get(email=NEW)).id])
    token = factories.token_of(await OutboxMessage.get(kind=MessageKind.INVITATION))
    password = "a long enough password"
    await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(), token=token, full_name="New Nurse", password=password, repeat=password,
        client="t",
    )  # fmt: skip
    return inviter, owner


async def _pack(owner: factories.Actor, world: factories.World, period: evidence.Period) -> list[dict[str, str]]:
    """The pack as CSV and as JSON, checked to say the same; its lines as the CSV reads them."""
    found = evidence.grants(actor=owner, organisation_id=world.org.id, period=period)
    table = list(
        csv.DictReader(io.StringIO("".join([p async for p in evidence.as_csv(found, evidence.GRANT_COLUMNS)])))
    )
    again = evidence.grants(actor=owner, organisation_id=world.org.id, period=period)
    whole = json.loads("".join([p async for p in evidence.as_json(again, {}, "grants")]))
    assert [{k: str(v) for k, v in line.items()} for line in whole["grants"]] == table
    return table


def _at(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _about(said: str, moment: datetime) -> bool:
    """The moment, give or take the few milliseconds the test itself takes."""
    return abs(datetime.fromisoformat(said) - moment) < timedelta(milliseconds=400)


@pytest.mark.data
async def test_each_role_period_says_who_gave_it_who_approved_it_and_how_long_access_outlived_its_removal(
    db: str,
) -> None:
    world = await factories.world()
    inviter, owner = await _approved_and_accepted(world)
    grant = await RoleAssignment.get(member__email=NEW)
    clock.advance(timedelta(days=1))
    await staff.change_role(actor=owner, assignment_id=grant.id, role_id=(await factories.role("clinician")).id)
    clock.advance(timedelta(days=1))
    campaign_id = await campaigns.start_campaign(
        actor=owner, organisation_id=world.org.id, title="Winter review", due_at=clock.now() + timedelta(days=14)
    )
    assert campaign_id is not None
    item = await ReviewItem.get(campaign_id=campaign_id, assignment_id=grant.id)
    await decisions.decide(actor=inviter, item_id=item.id, decision="keep")  # Ann sponsors it: hers to review
    reviewed = await RoleAssignment.get(id=grant.id)
    clock.advance(timedelta(days=1))
    logged_in = await auth.open_session(member_id=grant.member_id)  # she logs in again
    login_at = (await StaffMember.get(email=NEW)).last_login_at
    # Another app process remembers her actor for live refreshes of her open page.
    remembered = await auth.live_actor_for(session_token=logged_in.session_token)
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)
    removed_at = (await RoleAssignment.get(id=grant.id)).ended_at
    assert removed_at is not None
    clock.advance(timedelta(seconds=3))
    late_requests.note_allowed(remembered)  # ... and lets one more refresh through before it hears of the removal
    await late_requests.record_late_requests()  # then it hears, and records that request on the grant

    lines = [line for line in await _pack(owner, world, evidence.Period()) if line["member_email"] == NEW]
    first, second = lines
    changed_at = datetime.fromisoformat(second["role_from"])
    assert reviewed.reviewed_at is not None and grant.created_at < changed_at < reviewed.reviewed_at
    assert first == first | {
        "line": "role period", "grant_id": str(grant.id), "member_name": "New Nurse", "role": "Supervisor",
        "role_from": _at(grant.created_at), "role_until": _at(changed_at), "granted_at": _at(grant.created_at),
        "granted_or_changed_by": "ac@trust.org", "approved_by": "owner@trust.org", "sponsor": "ac@trust.org",
        "last_reviewed_at": "", "reviewed_by": "",  # the review came after the change: of the new role only
        "last_log_in": _at(login_at), "ended_at": "", "end_reason": "", "time_to_revoke_seconds": "",
    }  # fmt: skip
    assert second == second | {
        "line": "role period", "grant_id": str(grant.id), "role": "Clinician", "role_until": _at(removed_at),
        "granted_or_changed_by": "owner@trust.org", "approved_by": "",  # nobody approved the change
        "last_reviewed_at": _at(reviewed.reviewed_at), "reviewed_by": "ac@trust.org",
        "ended_at": _at(removed_at), "end_reason": "removed", "ended_by": "owner@trust.org",
        "access_stopped_at": _at(removed_at), "time_to_revoke_seconds": "3",
    }  # fmt: skip
    assert _about(second["last_request_after_stop"], removed_at + timedelta(seconds=3))
    before_change = evidence.Period(until=changed_at - timedelta(hours=1))
    assert [line["role"] for line in await _pack(owner, world, before_change) if line["member_email"] == NEW] == [
        "Supervisor"
    ]


@pytest.mark.data
async def test_a_suspension_in_the_period_is_a_removal_with_its_time_to_revoke_and_the_organisation_sees_it(
    db: str,
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    support = await factories.member("support@platform.org", "platform_support", full_name="Pat Support")
    clin = await factories.member(CLIN, "clinician", dep=world.dep, full_name="Cleo Clinician")
    session = await auth.open_session(member_id=clin.member_id)
    remembered = await auth.live_actor_for(session_token=session.session_token)
    await suspension.suspend(actor=support, member_id=clin.member_id)
    suspended_at = (await AccountSuspension.get(member_id=clin.member_id)).suspended_at
    clock.advance(timedelta(seconds=2))
    late_requests.note_allowed(remembered)  # a process that had not heard yet let a refresh through
    await late_requests.record_late_requests()
    clock.advance(timedelta(hours=1))
    await suspension.restore(actor=support, member_id=clin.member_id)
    restored_at = (await AccountSuspension.get(member_id=clin.member_id)).restored_at
    assert restored_at is not None

    lines = await _pack(owner, world, evidence.Period(since=suspended_at - timedelta(minutes=1)))
    stopped = [line for line in lines if line["line"] == "suspension"]
    assert stopped == [
        stopped[0] | {
            "member_email": CLIN, "role": "Clinician", "scope": "Heart Failure Trial at St Mary's Trust",
            "ended_at": _at(suspended_at), "end_reason": "suspended", "ended_by": "support@platform.org",
            "restored_at": _at(restored_at), "restored_by": "support@platform.org",
            "access_stopped_at": _at(suspended_at), "time_to_revoke_seconds": "2",
        }
    ]  # fmt: skip
    assert _about(stopped[0]["last_request_after_stop"], suspended_at + timedelta(seconds=2))
    seen = evidence.audit_events(actor=owner, organisation_id=world.org.id, filters=evidence.AuditFilters())
    said = {e["action"]: e["what_happened"] async for e in seen if e["target"] == CLIN}
    assert said["suspend_account"].startswith("Pat Support suspended the account of Cleo Clinician (clin@trust.org)")
    assert said["restore_account"].endswith("their access in St Mary's Trust (whole organisation) works again.")
    assert await AuditEvent.filter(action="suspend_account", organisation_id=None).count() == 1


async def test_a_removal_nobody_used_afterwards_says_so_with_no_time_to_revoke(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    nurse = await factories.member("nurse@trust.org")
    grant = await factories.grant(nurse.member_id, "clinician", org=world.org)
    session = await auth.open_session(member_id=nurse.member_id)
    await auth.actor_for(session_token=session.session_token)  # a request before the removal: not late
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)
    assert await late_requests.record_late_requests() == 0
    line = next(line for line in await _pack(owner, world, evidence.Period()) if line["grant_id"] == str(grant.id))
    assert (line["last_request_after_stop"], line["time_to_revoke_seconds"]) == ("none after the stop", "0")


async def test_a_process_records_the_late_request_when_it_hears_of_the_change(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    nurse = await factories.member("nurse@trust.org")
    grant = await factories.grant(nurse.member_id, "clinician", org=world.org)
    session = await auth.open_session(member_id=nurse.member_id)
    remembered = await auth.live_actor_for(session_token=session.session_token)
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)
    clock.advance(timedelta(seconds=1))
    late_requests.note_allowed(remembered)  # let through by a process that has not heard yet
    await events.publish(organisation_id=world.org.id, kind="staff")  # ... which now hears of a change

    for _ in range(250):  # bounded: the recording runs as a task of the process, as soon as the loop lets it
        if (await RoleAssignment.get(id=grant.id)).last_request_after_stop is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the late request was never recorded")


@pytest.mark.data
async def test_platform_staff_who_reach_every_organisation_are_in_its_pack_with_their_scope_said_plainly(
    db: str,
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    sam = await factories.member("sam@platform.org", "super_admin", full_name="Sam Super")
    pat = await factories.member("pat@platform.org", full_name="Pat Support")
    await factories.member("elsewhere@northwind.org", "organisation_owner", org=world.other_org)
    support = await factories.grant(
        pat.member_id, "platform_support", ends_at=clock.now() + timedelta(minutes=5), sponsor_id=sam.member_id
    )
    await RoleAssignment.filter(id=support.id).update(granted_by_id=sam.member_id, approved_by_id=owner.member_id)
    await auth.open_session(member_id=pat.member_id)
    login_at = (await StaffMember.get(id=pat.member_id)).last_login_at
    clock.advance(timedelta(minutes=5, seconds=20))
    await grants.end_due()
    ended = await RoleAssignment.get(id=support.id)
    assert ended.ends_at is not None and ended.ended_at is not None
    await RoleAssignment.filter(id=support.id).update(last_request_after_stop=ended.ends_at + timedelta(seconds=4))

    lines = {line["member_email"]: line for line in await _pack(owner, world, evidence.Period())}
    assert set(lines) == {"owner@trust.org", "sam@platform.org", "pat@platform.org"}  # not another organisation's
    assert lines["sam@platform.org"] | {"grant_id": ""} == {
        **dict.fromkeys(evidence.GRANT_COLUMNS, ""), "line": "role period", "member_name": "Sam Super",
        "member_email": "sam@platform.org", "account": "active", "role": "Super Admin",
        "scope": "Platform (every organisation)", "granted_at": lines["sam@platform.org"]["granted_at"],
        "role_from": lines["sam@platform.org"]["granted_at"],
    }  # fmt: skip
    assert lines["pat@platform.org"] == lines["pat@platform.org"] | {
        "role": "Platform Support", "scope": "Platform (every organisation)", "sponsor": "sam@platform.org",
        "granted_or_changed_by": "sam@platform.org", "approved_by": "owner@trust.org", "ends_at": _at(ended.ends_at),
        "last_log_in": _at(login_at), "ended_at": _at(ended.ended_at), "end_reason": "ended",
        "access_stopped_at": _at(ended.ends_at), "time_to_revoke_seconds": "4",
        "last_request_after_stop": _at(ended.ends_at + timedelta(seconds=4)),
    }  # fmt: skip
    assert "every organisation's data" in evidence.PLATFORM_STAFF
