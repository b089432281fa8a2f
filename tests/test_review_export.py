"""A review's record exported as CSV and JSON (issue 19 item 2): every item with its reviewer, decision and outcome,
for holders of review access where it applies; CSV cells never run as spreadsheet formulas."""

import csv
import io
import json

import pytest

from models import AuditEvent, ReviewCampaign, StaffMember
from services.audit import evidence
from services.errors import InvalidInput, PermissionDenied
from services.platform import clock
from services.reviews import decisions, export
from tests import factories
from tests.review_helpers import CLERK, NURSE, OWNER, Team, item_of, start, team


async def _decided_review(t: Team) -> int:
    campaign_id = await start(t.owner, t.world)
    staff_role = await factories.role("organisation_staff")
    nurse, clerk = await item_of(campaign_id, t.nurse), await item_of(campaign_id, t.clerk)
    formula = '=HYPERLINK("x")'
    await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="change", role_id=staff_role.id, comment=formula)
    await decisions.decide(actor=t.owner, item_id=clerk.id, decision="keep", comment="Ward rota")
    return campaign_id


async def test_the_csv_lists_every_item_with_its_reviewer_decision_and_outcome_safe_for_spreadsheets(db: str) -> None:
    t = await team()
    campaign_id = await _decided_review(t)
    await StaffMember.filter(email=CLERK).update(full_name="@SUM(1+1)")
    found = await export.export(actor=t.owner, campaign_id=campaign_id, file_format="csv")
    assert (found.filename, found.media_type) == (f"access-review-{campaign_id}.csv", "text/csv; charset=utf-8")
    rows = list(csv.DictReader(io.StringIO(found.content.decode())))
    assert list(rows[0]) == list(export.HEADER)
    by_email = {row["email"]: row for row in rows}
    assert len(rows) == 5
    nurse = by_email[NURSE]
    assert (nurse["role"], nurse["decision"], nurse["outcome"]) == (
        "Supervisor",
        "change",
        "Role changed to Organisation Staff",
    )
    assert (nurse["reviewer"], nurse["decided_by"], nurse["sponsor"]) == ("sam@trust.org",) * 3
    assert nurse["comment"] == '\'=HYPERLINK("x")'  # shown as text, never run
    assert nurse["scope"] == "St Mary's Trust (whole organisation)" and nurse["decided_at"]
    clerk = by_email[CLERK]
    assert (clerk["member"], clerk["reviewer"], clerk["decision"], clerk["comment"]) == (
        "'@SUM(1+1)", "any holder of review access", "keep", "Ward rota",
    )  # fmt: skip
    assert by_email[OWNER]["decision"] == "open" and by_email[OWNER]["decided_by"] == ""
    event = await AuditEvent.get(action="export_review")
    assert (event.outcome, event.detail["format"], event.detail["items"]) == ("ok", "csv", 5)


async def test_the_json_has_the_review_and_its_items(db: str) -> None:
    t = await team()
    campaign_id = await _decided_review(t)
    await ReviewCampaign.filter(id=campaign_id).update(closed_at=clock.now())
    found = await export.export(actor=t.owner, campaign_id=campaign_id, file_format="json")
    record = json.loads(found.content)
    assert record["review"]["title"] == "Spring review" and record["review"]["started_by"] == OWNER
    assert (record["review"]["items"], record["review"]["decided"], record["review"]["open"]) == (5, 2, 3)
    assert record["review"]["closed_at"]
    nurse = next(item for item in record["items"] if item["email"] == NURSE)
    assert nurse["comment"] == '=HYPERLINK("x")'  # JSON keeps text as it is
    assert nurse["outcome"] == "Role changed to Organisation Staff"


async def test_only_holders_of_review_access_where_it_applies_may_export(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    lead = await factories.member("lead@trust.org", "administrator", dep=t.world.dep)  # a deployment only
    for actor in (lead, await factories.actor_of(NURSE)):
        with pytest.raises(PermissionDenied):
            await export.export(actor=actor, campaign_id=campaign_id, file_format="csv")
    assert await AuditEvent.filter(action="export_review", outcome="refused").count() == 2
    with pytest.raises(InvalidInput):
        await export.export(actor=t.owner, campaign_id=campaign_id, file_format="xlsx")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("Ada", "Ada"),
        (None, ""),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_made_text(value: object, cell: str) -> None:
    assert evidence.safe_cell(value) == cell
