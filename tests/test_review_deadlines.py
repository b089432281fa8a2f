"""A review's deadline and schedule (issue 19 item 2): reminders 7 days and 1 day before (each once); at the deadline
unanswered items go to the owners to decide (one email each; the review stays open, overdue, and locks with the last
decision), or, where chosen, are removed (never the last staff manager) and the review is locked; reviews started by
the organisation's schedule, each once. The clock is moved, never slept."""

from datetime import timedelta

import pytest

from models import (
    AccessNotice,
    AuditEvent,
    MessageKind,
    Organisation,
    OutboxMessage,
    ReviewCampaign,
    ReviewItem,
    Role,
    RoleAssignment,
)
from services.audit import service as audit
from services.errors import PermissionDenied
from services.mail.templates import render, subject_for
from services.platform import clock, settings
from services.platform.housekeeping import Housekeeper
from services.reviews import deadlines, decisions, overdue, reviewers, schedule
from tests import factories
from tests.conftest import TEST_SECRET
from tests.review_helpers import CLERK, COLLEAGUE, NURSE, OWNER, SPONSOR, item_for, item_of, start, team

CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_BASE_URL": "https://portal.example.org"})


async def _mail(kind: MessageKind) -> list[str]:
    return [str(r) for r in await OutboxMessage.filter(kind=kind).order_by("id").values_list("recipient", flat=True)]


def _to_deadline(campaign: ReviewCampaign, days: float) -> None:
    clock.advance(campaign.due_at - timedelta(days=days) - clock.now())


async def test_reviewers_with_open_items_are_reminded_7_days_and_1_day_before_each_once(db: str) -> None:
    t = await team()
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    await decisions.decide(actor=t.owner, item_id=(await item_of(campaign.id, t.clerk)).id, decision="keep")
    _to_deadline(campaign, 7.01)
    assert await deadlines.remind_due() == 0
    _to_deadline(campaign, 7)
    assert await deadlines.remind_due() == 2
    assert await deadlines.remind_due() == 0  # given: never twice
    # Ada may decide the unassigned items but her own; Sam his nurse's and the others'; nobody reminds Cleo (no access).
    assert sorted(await _mail(MessageKind.REVIEW_REMINDER)) == [OWNER, SPONSOR]
    _to_deadline(campaign, 1)
    assert await deadlines.remind_due() == 2 and len(await _mail(MessageKind.REVIEW_REMINDER)) == 4
    message = await OutboxMessage.filter(kind=MessageKind.REVIEW_REMINDER, recipient=SPONSOR).first()
    assert message is not None
    assert message.context["items"] == "3 items"  # the nurse's (his), Ada's and Cleo's; the clerk's is decided
    assert (
        subject_for("review_reminder", context=message.context)
        == "Access review “Spring review”: 3 items still to decide"
    )
    body = render("review_reminder", recipient=SPONSOR, context=message.context, link=None, settings=CONFIG)
    assert f"https://portal.example.org/care/reviews?org=3D{t.world.org.id}&campaign=3D{campaign.id}".encode() in body
    said = await audit.events_page(actor=t.owner, organisation_id=t.world.org.id, action="review_reminder")
    assert said[0][0].sentence.startswith("Gatehouse reminded ")


async def test_after_a_pause_only_the_nearest_reminder_goes_and_a_short_review_gets_no_7_day_one(db: str) -> None:
    t = await team()
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    _to_deadline(campaign, 0.5)
    assert await deadlines.remind_due() == 2
    assert sorted(n.key.rsplit(":", 1)[1] for n in await AccessNotice.all()) == ["1", "1", "7", "7"]
    assert len(await _mail(MessageKind.REVIEW_REMINDER)) == 2
    short = await ReviewCampaign.get(id=await start(t.owner, t.world, deployment_id=t.world.dep.id))
    await ReviewCampaign.filter(id=short.id).update(due_at=clock.now() + timedelta(days=3))
    short = await ReviewCampaign.get(id=short.id)
    _to_deadline(short, 2)
    assert await deadlines.remind_due() == 0  # 3 days long: no 7-day reminder


async def test_at_the_deadline_unanswered_items_go_to_the_owners_who_decide_them_and_then_it_locks(db: str) -> None:
    t = await team()
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    await decisions.decide(actor=t.sponsor, item_id=(await item_of(campaign.id, t.nurse)).id, decision="keep")
    _to_deadline(campaign, 0)
    assert await deadlines.close_due() == 1
    assert await deadlines.close_due() == 0  # handed over once
    overdue = await ReviewCampaign.get(id=campaign.id)
    assert overdue.closed_at is None and overdue.overdue_at is not None  # still open: Overdue, with the owners
    assert await ReviewItem.filter(campaign_id=campaign.id, decision="").count() == 4
    assert await factories.holds(CLERK, "clinician")  # the organisation did not choose removal
    # Ada, the only owner, is told of the items she now decides; Sam of hers (nobody decides their own access).
    assert sorted(await _mail(MessageKind.REVIEW_UNANSWERED)) == [OWNER, SPONSOR]
    message = await OutboxMessage.get(kind=MessageKind.REVIEW_UNANSWERED, recipient=OWNER)
    text = render("review_unanswered", recipient=OWNER, context=message.context, link=None, settings=CONFIG).decode()
    assert "- Carl Clerk (carl@trust.org): Clinician, Heart Failure Trial" in text
    assert "They are now yours to decide" in text and "the review stays open, overdue" in text
    assert f"https://portal.example.org/care/reviews?org=3D{t.world.org.id}&campaign=3D{campaign.id}" in text
    said = await audit.events_page(actor=t.owner, organisation_id=t.world.org.id, action="review_overdue")
    assert said[0][0].sentence == (
        "Gatehouse passed the 4 items nobody answered by the deadline of the access review “Spring review” of "
        "St Mary's Trust (whole organisation) to the organisation's owners, told ada@trust.org, sam@trust.org."
    )

    clerk = await item_of(campaign.id, t.clerk)
    with pytest.raises(PermissionDenied, match="with the organisation's owners"):  # Sam could before the deadline
        await decisions.decide(actor=t.sponsor, item_id=clerk.id, decision="keep")
    with pytest.raises(PermissionDenied, match="Nobody reviews their own access"):
        await decisions.decide(actor=t.owner, item_id=(await item_for(campaign.id, OWNER)).id, decision="keep")
    for email in (CLERK, SPONSOR, COLLEAGUE):
        await decisions.decide(actor=t.owner, item_id=(await item_for(campaign.id, email)).id, decision="keep")
    assert (await ReviewCampaign.get(id=campaign.id)).closed_at is None
    await decisions.decide(actor=t.sponsor, item_id=(await item_for(campaign.id, OWNER)).id, decision="keep")
    assert (await ReviewCampaign.get(id=campaign.id)).closed_at is not None  # locked with the last decision
    assert await ReviewItem.filter(campaign_id=campaign.id, decision="unanswered").count() == 0


async def test_while_a_review_stays_overdue_each_owner_hears_of_what_is_still_theirs_once_a_week(db: str) -> None:
    t = await team()
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    _to_deadline(campaign, 0)
    await deadlines.close_due()
    await OutboxMessage.filter(kind=MessageKind.REVIEW_UNANSWERED).delete()  # the hand-over's own emails
    clock.advance(timedelta(days=6))
    assert await overdue.remind_due() == 0  # not a week yet
    clock.advance(timedelta(days=1))
    assert await overdue.remind_due() == 2 and await overdue.remind_due() == 0  # once a week each
    assert sorted(await _mail(MessageKind.REVIEW_UNANSWERED)) == [OWNER, SPONSOR]  # Ada hers, Sam Ada's own
    said = await audit.events_page(actor=t.owner, organisation_id=t.world.org.id, action="review_reminder")
    assert {row.sentence for row in said[0]} == {
        "Gatehouse reminded Ada Admin (ada@trust.org) of 4 items still to decide in the access review “Spring review”, "
        "overdue for 1 week.",
        "Gatehouse reminded Sam Sponsor (sam@trust.org) of 1 item still to decide in the access review “Spring "
        "review”, overdue for 1 week.",
    }
    for email in (CLERK, SPONSOR, COLLEAGUE, NURSE):  # Ada decides all hers
        await decisions.decide(actor=t.owner, item_id=(await item_for(campaign.id, email)).id, decision="keep")
    clock.advance(timedelta(days=7))
    assert await overdue.remind_due() == 1  # only Sam still has one: Ada's own access
    assert (await _mail(MessageKind.REVIEW_UNANSWERED))[-1] == SPONSOR
    await decisions.decide(actor=t.sponsor, item_id=(await item_for(campaign.id, OWNER)).id, decision="keep")
    clock.advance(timedelta(days=7))
    assert await overdue.remind_due() == 0  # locked with the last decision: nobody is reminded of it


async def test_an_only_owners_own_access_nobody_else_may_decide_is_left_unanswered_and_the_rest_goes_to_her(
    db: str,
) -> None:
    t = await team()
    olga = await factories.member("olga@north.org", "organisation_owner", org=t.world.other_org)
    await factories.member("nick@north.org", "clinician", org=t.world.other_org)
    campaign = await ReviewCampaign.get(id=await start(olga, t.world, other=True))
    _to_deadline(campaign, 0)
    assert await deadlines.close_due() == 1
    decided = dict(await ReviewItem.filter(campaign_id=campaign.id).values_list("member_id", "decision"))
    assert decided[olga.member_id] == "unanswered"  # nobody else holds review access there
    assert await _mail(MessageKind.REVIEW_UNANSWERED) == ["olga@north.org"]
    nick = await item_for(campaign.id, "nick@north.org")
    await decisions.decide(actor=olga, item_id=nick.id, decision="keep")
    assert (await ReviewCampaign.get(id=campaign.id)).closed_at is not None


def test_an_overdue_item_goes_to_another_owner_or_else_to_a_stand_in_never_to_its_member() -> None:
    two = reviewers.Owners(owners=frozenset({1, 2}), stand_ins=frozenset({1, 2, 3}))
    assert two.deciders(member_id=1) == {2} and two.deciders(member_id=9) == {1, 2}
    assert not two.decide(member_id=1, decider_id=3)  # another owner is there for an owner's access
    one = reviewers.Owners(owners=frozenset({1}), stand_ins=frozenset({1, 3}))
    assert one.deciders(member_id=1) == {3} and one.deciders(member_id=9) == {1}
    assert reviewers.Owners(stand_ins=frozenset({3, 4})).deciders(member_id=4) == {3}  # no owner: the stand-ins


async def test_where_chosen_unanswered_access_ends_but_never_the_last_staff_manager(db: str) -> None:
    t = await team()
    await Organisation.filter(id=t.world.org.id).update(reviews_remove_unanswered=True)
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    _to_deadline(campaign, 0)
    assert await deadlines.close_due() == 1
    assert not await factories.holds(CLERK, "clinician") and not await factories.holds(NURSE, "supervisor")
    # Nobody answered for Ada (Owner) nor Sam (Access Controller): ending both would leave nobody to manage staff.
    assert await factories.holds(OWNER, "organisation_owner") and await factories.holds(SPONSOR, "access_controller")
    assert await RoleAssignment.filter(end_reason="review").count() == 3  # the evidence pack says why they ended
    removed = await AuditEvent.filter(action="review_removed").values_list("target", flat=True)
    assert sorted(removed) == [CLERK, "cleo@trust.org", NURSE]
    assert await AuditEvent.filter(action="grant_ended").count() == 3
    text = render(
        "review_unanswered",
        recipient=OWNER,
        context=(await OutboxMessage.get(kind=MessageKind.REVIEW_UNANSWERED)).context,
        link=None,
        settings=CONFIG,
    ).decode()
    assert "As the organisation chose, this access has ended (3 grants)." in text


async def test_the_schedule_starts_a_review_once_when_its_period_has_passed(db: str) -> None:
    t = await team()
    await Organisation.filter(id=t.world.other_org.id).update(review_every_days=0, privileged_review_days=0)
    assert await schedule.start_due() == 0
    clock.advance(timedelta(days=90, minutes=1))
    assert await schedule.start_due() == 1
    assert await schedule.start_due() == 0
    campaign = await ReviewCampaign.get()
    assert campaign.scheduled and campaign.started_by_id is None and campaign.title.startswith("Scheduled access")
    assert round((campaign.due_at - campaign.started_at) / timedelta(days=1)) == 14
    assert await ReviewItem.filter(campaign_id=campaign.id).count() == 5
    # A second process that missed the first start is refused by the start's key.
    await ReviewCampaign.filter(id=campaign.id).delete()
    assert await schedule.start_due() == 0


async def test_privileged_roles_are_reviewed_on_their_own_shorter_schedule(db: str) -> None:
    t = await team()
    await Role.filter(privileged=True).update(privileged=False)  # the catalogue's privileged roles left aside here
    await Role.filter(key="supervisor").update(privileged=True)
    clock.advance(timedelta(days=30, minutes=1))
    assert await schedule.start_due() == 1  # the privileged review, of the nurse's Supervisor grant only
    privileged = await ReviewCampaign.get()
    assert schedule.is_privileged_only(campaign=privileged)
    assert await ReviewItem.filter(campaign_id=privileged.id).values_list("assignment_id", flat=True) == [t.nurse.id]
    clock.advance(timedelta(days=29))
    assert await schedule.start_due() == 0
    clock.advance(timedelta(days=1, minutes=1))
    assert await schedule.start_due() == 1  # 30 days after the last: privileged again
    clock.advance(timedelta(days=30))
    assert await schedule.start_due() == 1  # 90 days after the organisation began: every grant
    assert not schedule.is_privileged_only(campaign=await ReviewCampaign.all().order_by("-id").first() or privileged)


async def test_a_campaign_records_its_kind_whatever_its_title(db: str) -> None:
    t = await team()
    clock.advance(timedelta(days=60))
    # An owner's own review of the privileged roles, under a title of her choosing: not a review of every grant.
    mine = await ReviewCampaign.get(
        id=await start(t.owner, t.world, title="Who can change access", privileged_only=True)
    )
    assert mine.privileged_only and schedule.is_privileged_only(campaign=mine)
    await ReviewCampaign.filter(id=mine.id).update(title=schedule.FULL_TITLE)  # a title says nothing of its kind
    assert schedule.is_privileged_only(campaign=await ReviewCampaign.get(id=mine.id))
    clock.advance(timedelta(days=30, minutes=1))
    assert await schedule.start_due() == 1  # 90 days after the organisation began: still due, a review of every grant
    full = await ReviewCampaign.all().order_by("-id").first()
    assert full is not None and full.scheduled and not full.privileged_only
    assert await ReviewItem.filter(campaign_id=full.id).count() == 5


async def test_housekeeping_runs_the_deadlines_and_the_schedule(db: str) -> None:
    t = await team()
    campaign = await ReviewCampaign.get(id=await start(t.owner, t.world))
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=60)
    _to_deadline(campaign, 1)
    await keeper.run_once()
    assert len(await _mail(MessageKind.REVIEW_REMINDER)) == 2
    clock.advance(timedelta(days=1, minutes=2))
    await keeper.run_once()
    assert (await ReviewCampaign.get(id=campaign.id)).overdue_at is not None  # with the owners
    assert await RoleAssignment.filter(reviewed_at__isnull=False).count() == 0  # unanswered is not a review
