"""The evidence pack and the audit log export (issue 19 item 3): who had access during a period and how it was given,
reviewed and removed, with time-to-revoke; CSV safe in a spreadsheet, JSON whole; only for those who may read the
audit log, and each export audited."""

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent
from services.access import grants
from services.audit import evidence
from services.errors import PermissionDenied
from services.organisations import staff
from services.platform import clock
from tests import factories
from tests.ui_helpers import sign_in, sign_in_second


async def _rows(actor: factories.Actor, world: factories.World, period: evidence.Period) -> dict[str, dict]:
    found = evidence.grants(actor=actor, organisation_id=world.org.id, period=period)
    return {f"{row['member_email']} {row['role']}": row async for row in found if row["line"] == "role period"}


async def _trust_with_history(world: factories.World) -> factories.Actor:
    """An owner; a clinician (live); a nurse removed by the owner; a locum whose end came and housekeeping ended."""
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    await factories.member("clin@trust.org", "clinician", dep=world.dep, full_name="=HYPERLINK(1)")
    nurse = await factories.member("nurse@trust.org", full_name="Nora Nurse")
    removed = await factories.grant(nurse.member_id, "clinician", org=world.org, sponsor_id=owner.member_id)
    await staff.remove_from_team(actor=owner, assignment_id=removed.id)
    locum = await factories.member("locum@trust.org", full_name="Lou Locum")
    await factories.grant(locum.member_id, "supervisor", org=world.org, ends_at=clock.now() + timedelta(minutes=5))
    clock.advance(timedelta(minutes=5, seconds=20))
    await grants.end_due()
    return owner


@pytest.mark.data
async def test_the_pack_names_each_grant_how_it_was_given_and_how_it_ended(db: str) -> None:
    world = await factories.world()
    owner = await _trust_with_history(world)
    rows = await _rows(owner, world, evidence.Period())
    nurse, locum, clin = (
        rows["nurse@trust.org Clinician"],
        rows["locum@trust.org Supervisor"],
        rows["clin@trust.org Clinician"],
    )
    assert (nurse["end_reason"], nurse["ended_by"], nurse["sponsor"]) == (
        "removed",
        "owner@trust.org",
        "owner@trust.org",
    )
    assert nurse["time_to_revoke_seconds"] == 0 and nurse["scope"] == "St Mary's Trust (whole organisation)"
    assert locum["end_reason"] == "ended" and locum["access_stopped_at"] == locum["ends_at"]  # not housekeeping's run
    assert (locum["time_to_revoke_seconds"], locum["last_request_after_stop"]) == (0, "none after the stop")
    assert clin["ended_at"] == "" and clin["scope"] == "Heart Failure Trial at St Mary's Trust"
    assert clin["account"] == "active" and set(clin) == set(evidence.GRANT_COLUMNS)


@pytest.mark.data
async def test_a_period_keeps_only_the_grants_live_at_some_moment_of_it(db: str) -> None:
    world = await factories.world()
    owner = await _trust_with_history(world)
    later = evidence.Period(since=clock.now() + timedelta(days=1))
    assert set(await _rows(owner, world, later)) == {"owner@trust.org Organisation Owner", "clin@trust.org Clinician"}
    before = evidence.Period(until=clock.now() - timedelta(days=1))
    assert await _rows(owner, world, before) == {}


async def test_csv_cells_that_a_spreadsheet_would_run_are_quoted_and_json_is_whole(db: str) -> None:
    world = await factories.world()
    owner = await _trust_with_history(world)
    found = evidence.grants(actor=owner, organisation_id=world.org.id, period=evidence.Period())
    text = "".join([part async for part in evidence.as_csv(found, evidence.GRANT_COLUMNS)])
    table = list(csv.DictReader(io.StringIO(text)))
    assert {row["member_name"] for row in table} >= {"'=HYPERLINK(1)", "Nora Nurse"}
    again = evidence.grants(actor=owner, organisation_id=world.org.id, period=evidence.Period())
    whole = json.loads("".join([part async for part in evidence.as_json(again, {"organisation_id": 1}, "grants")]))
    assert whole["organisation_id"] == 1 and len(whole["grants"]) == len(table) == 4


async def test_only_those_who_may_read_the_audit_log_export_and_every_export_is_audited(db: str) -> None:
    world = await factories.world()
    owner = await _trust_with_history(world)
    clinician = await factories.actor_of("clin@trust.org")
    with pytest.raises(PermissionDenied):
        await anext(evidence.grants(actor=clinician, organisation_id=world.org.id, period=evidence.Period()))
    refused = await AuditEvent.get(action="export_evidence", outcome="refused")
    assert refused.actor_email == "clin@trust.org"
    await anext(evidence.audit_events(actor=owner, organisation_id=world.org.id, filters=evidence.AuditFilters()))
    assert await AuditEvent.filter(action="export_audit", outcome="ok", actor_email="owner@trust.org").count() == 1


async def test_the_audit_export_follows_the_filters_and_carries_the_chain(db: str) -> None:
    world = await factories.world()
    owner = await _trust_with_history(world)
    filters = evidence.AuditFilters(action="remove_member")
    events = [row async for row in evidence.audit_events(actor=owner, organisation_id=world.org.id, filters=filters)]
    assert [e["target"] for e in events] == ["nurse@trust.org"]
    assert events[0]["what_happened"].startswith("Olive Owner") and set(events[0]) == set(evidence.AUDIT_COLUMNS)


async def test_the_audit_page_downloads_the_pack_and_refuses_others_at_the_route(
    user: User, create_user: Callable[[], User]
) -> None:
    world = await factories.world()
    await _trust_with_history(world)
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/audit?org={world.org.id}")
    await user.should_see("Evidence pack: who had access, how it was given, reviewed and removed")
    response = await user.http_client.get(f"/care/export/evidence.csv?org={world.org.id}&since=2000-01-01")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"] and "nurse@trust.org" in response.text
    whole = (await user.http_client.get(f"/care/export/evidence.json?org={world.org.id}")).json()
    assert "Platform staff" in whole["platform_staff"] and "every organisation's data" in whole["platform_staff"]
    bad = await user.http_client.get(f"/care/export/evidence.json?org={world.org.id}&since=yesterday")
    assert bad.status_code == 400 and "give a date as YYYY-MM-DD" in bad.text
    clinician = create_user()
    await sign_in_second(clinician, "clin@trust.org", "clinician", dep=world.dep)
    refused = await clinician.http_client.get(f"/care/export/audit.csv?org={world.org.id}")
    assert refused.status_code == 403 and "may read its audit log" in refused.text
    stranger = await create_user().http_client.get(f"/care/export/audit.csv?org={world.org.id}")
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/login")


async def test_the_audit_page_exports_the_pack_for_the_period_set_and_the_log_with_its_filters(user: User) -> None:
    world = await factories.world()
    await _trust_with_history(world)
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/audit?org={world.org.id}")
    today = f"{clock.now():%Y-%m-%d}"
    user.find(marker="pack-since").type(today)
    user.find(marker="export-pack-csv").click()
    pack = await user.download.next()
    assert f"since={today}" in str(pack.request.url) and "attachment" in pack.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(pack.text)))
    assert {(line["member_email"], line["end_reason"]) for line in lines} >= {
        ("nurse@trust.org", "removed"),
        ("locum@trust.org", "ended"),
    }
    user.find(marker="export-pack-json").click()
    whole = json.loads((await user.download.next()).text)
    assert whole["since"] == today and whole["time_to_revoke"].startswith("time_to_revoke_seconds: from access_")
    assert len(whole["grants"]) == len(lines)
    # The audit log's export carries the page's filters: action, who and dates.
    action = next(iter(user.find(kind=ui.select, content="Action").elements))
    action.value = "remove_member"
    user.find("Who (email)").type("owner@")
    user.find("From (YYYY-MM-DD)").type(today)
    user.find(marker="export-log-csv").click()
    log = await user.download.next()
    asked = str(log.request.url)
    assert all(part in asked for part in ("action=remove_member", "who=owner%40", f"since={today}")), asked
    events = list(csv.DictReader(io.StringIO(log.text)))
    assert [(e["action"], e["target"]) for e in events] == [("remove_member", "nurse@trust.org")]
    user.find(marker="export-log-json").click()
    assert [e["action"] for e in json.loads((await user.download.next()).text)["events"]] == ["remove_member"]
