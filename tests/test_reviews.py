"""Access review campaigns (issue 19 item 2): who starts one, which grants become items and who reviews each, and each
decision applied through the staff services, audited, never about one's own access, never on a finished review."""

from datetime import timedelta

import pytest

from models import AuditEvent, ReviewCampaign, ReviewItem, RoleAssignment
from services.access import grants
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, PermissionDenied
from services.platform import clock, events
from services.reviews import campaigns, decisions, items
from tests import factories
from tests.review_helpers import CLERK, NURSE, OWNER, SPONSOR, Team, deadline, item_for, item_of, start, team


async def _other_owner(t: Team) -> factories.Actor:
    owner = await factories.member("olga@north.org", "organisation_owner", org=t.world.other_org)
    await factories.member("nick@north.org", "clinician", org=t.world.other_org)
    return owner


async def _sentences(actor: factories.Actor, organisation_id: int, action: str) -> list[str]:
    rows, _ = await audit.events_page(actor=actor, organisation_id=organisation_id, action=action, page_size=50)
    return [row.sentence for row in reversed(rows)]


async def test_a_review_makes_an_item_of_every_live_grant_there_each_with_its_reviewer(db: str) -> None:
    t = await team()
    ended = await factories.grant(t.nurse.member_id, "clinician", dep=t.world.dep2, ends_at=clock.now())
    await factories.member("far@north.org", "clinician", org=t.world.other_org)
    heard: list[str] = []
    unsubscribe = events.subscribe(organisation_id=t.world.org.id, handler=heard.append)
    try:
        campaign_id = await start(t.owner, t.world)
    finally:
        unsubscribe()
    reviewed = await ReviewItem.filter(campaign_id=campaign_id).values_list("assignment__member__email", "reviewer_id")
    assert dict(reviewed) == {
        OWNER: None,  # nobody sponsors it: anyone with review access there but Ada herself
        SPONSOR: None,
        "cleo@trust.org": None,
        NURSE: t.sponsor.member_id,  # her sponsor holds review access in the organisation
        CLERK: None,  # his sponsor, a clinician, does not
    }
    assert not await ReviewItem.filter(assignment_id=ended.id).exists()
    assert heard == ["reviews"]
    campaign = await ReviewCampaign.get(id=campaign_id)
    assert (campaign.started_by_id, campaign.scheduled, campaign.closed_at) == (t.owner.member_id, False, None)
    assert await _sentences(t.owner, t.world.org.id, "start_review") == [
        f"Ada Admin started the access review “Spring review” of St Mary's Trust (whole organisation) (5 items, "
        f"closing {deadline().day} {deadline():%B %Y})."
    ]


async def test_a_deployment_review_covers_that_deployment_and_needs_review_access_there(db: str) -> None:
    t = await team()
    lead = await factories.member("lead@trust.org", "administrator", dep=t.world.dep, full_name="Lee Lead")
    campaign_id = await start(lead, t.world, deployment_id=t.world.dep.id)
    emails = await ReviewItem.filter(campaign_id=campaign_id).values_list("assignment__member__email", flat=True)
    assert sorted(emails) == [CLERK, "cleo@trust.org", "lead@trust.org"]
    with pytest.raises(PermissionDenied):
        await start(lead, t.world, deployment_id=t.world.dep2.id)
    with pytest.raises(PermissionDenied):
        await start(lead, t.world)  # the whole organisation: not theirs
    with pytest.raises(PermissionDenied):
        await start(t.owner, t.world, deployment_id=t.world.other_dep.id)  # another organisation's deployment
    refusals = await AuditEvent.filter(action="start_review", outcome="refused").count()
    assert refusals == 2 and await ReviewCampaign.all().count() == 1


async def test_bad_input_is_refused_at_its_field_and_starts_nothing(db: str) -> None:
    t = await team()
    for title, due_at, fields in (
        ("  ", deadline(), ["title"]),
        ("x" * 121, deadline(), ["title"]),
        ("Review", clock.now() + timedelta(hours=2), ["due_at"]),
        ("", deadline(91), ["title", "due_at"]),
    ):
        with pytest.raises(FieldErrors) as refused:
            await campaigns.start_campaign(actor=t.owner, organisation_id=t.world.org.id, title=title, due_at=due_at)
        assert list(refused.value.fields) == fields
    root = await factories.member("root@gatehouse.org", "super_admin")
    with pytest.raises(InvalidInput, match="nothing to review"):  # nobody holds access in the other organisation
        await campaigns.start_campaign(
            actor=root, organisation_id=t.world.other_org.id, title="Empty", due_at=deadline()
        )
    assert not await ReviewCampaign.exists()


async def test_nobody_decides_their_own_access_and_the_refusal_is_audited(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    own = await item_for(campaign_id, OWNER)
    with pytest.raises(PermissionDenied, match="Nobody reviews their own access"):
        await decisions.decide(actor=t.owner, item_id=own.id, decision="keep")
    assert (await ReviewItem.get(id=own.id)).decision == ""
    assert await _sentences(t.owner, t.world.org.id, "review_decision") == [
        "Ada Admin tried to decide the review of the access of Ada Admin (ada@trust.org) as Organisation Owner in "
        "St Mary's Trust (whole organisation), and was refused (nobody reviews their own access)."
    ]
    await decisions.decide(actor=t.sponsor, item_id=own.id, decision="keep", comment="Still the owner")
    assert (await ReviewItem.get(id=own.id)).decided_by_id == t.sponsor.member_id


async def test_an_assigned_item_is_its_reviewers_and_keep_records_the_review_of_the_grant(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    nurse = await item_of(campaign_id, t.nurse)
    with pytest.raises(PermissionDenied, match="assigned to another reviewer"):
        await decisions.decide(actor=t.owner, item_id=nurse.id, decision="keep")
    with pytest.raises(InvalidInput):
        await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="promote")
    with pytest.raises(FieldErrors):
        await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="keep", comment="x" * 501)
    kept = await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="keep", comment="Needs it")
    assert kept.email == NURSE
    decided = await ReviewItem.get(id=nurse.id)
    assert (decided.decision, decided.decided_by_id, decided.comment) == ("keep", t.sponsor.member_id, "Needs it")
    grant = await RoleAssignment.get(id=t.nurse.id)
    assert (grant.reviewed_by_id, grant.reviewed_at) == (t.sponsor.member_id, decided.decided_at)
    with pytest.raises(InvalidInput, match="already decided"):
        await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="remove")
    assert (await _sentences(t.owner, t.world.org.id, "review_decision"))[-1] == (
        "Sam Sponsor kept the access of Nora Nurse (nora@trust.org) as Supervisor in St Mary's Trust (whole "
        "organisation) in the access review “Spring review” (comment: “Needs it”)."
    )


async def test_change_role_set_end_and_remove_go_through_the_staff_services_and_are_audited(db: str) -> None:
    t = await team()
    other = await factories.member("otto@trust.org", "supervisor", org=t.world.org, full_name="Otto Other")
    campaign_id = await start(t.owner, t.world)
    staff_role = await factories.role("organisation_staff")
    ends_at = deadline(30)
    clerk, nurse = await item_of(campaign_id, t.clerk), await item_of(campaign_id, t.nurse)
    otto = await item_for(campaign_id, other.email)
    await decisions.decide(actor=t.owner, item_id=clerk.id, decision="end", ends_at=ends_at)
    await decisions.decide(actor=t.sponsor, item_id=nurse.id, decision="change", role_id=staff_role.id)
    await decisions.decide(actor=t.sponsor, item_id=otto.id, decision="remove", comment="Left in May")
    assert (await RoleAssignment.get(id=t.clerk.id)).ends_at == ends_at
    assert (await RoleAssignment.get(id=t.nurse.id)).role_id == staff_role.id
    assert not await factories.holds(other.email, "supervisor")
    assert [e.action for e in await AuditEvent.filter(outcome="ok").order_by("id")][-6:] == [
        "set_end", "review_decision", "change_role", "review_decision", "remove_member", "review_decision",
    ]  # fmt: skip
    said = await _sentences(t.owner, t.world.org.id, "review_decision")
    assert said[0] == (
        f"Ada Admin set the access of Carl Clerk (carl@trust.org) as Clinician in Heart Failure Trial at St Mary's "
        f"Trust to end on {ends_at.day} {ends_at:%B %Y} in the access review “Spring review”."
    )
    assert said[1].startswith("Sam Sponsor changed the role of Nora Nurse (nora@trust.org) in St Mary's Trust")
    assert said[1].endswith("from Supervisor to Organisation Staff in the access review “Spring review”.")
    assert said[2].startswith("Sam Sponsor took the role Supervisor in St Mary's Trust (whole organisation) away")
    with pytest.raises(FieldErrors) as missing:
        await decisions.decide(actor=t.owner, item_id=(await item_for(campaign_id, SPONSOR)).id, decision="change")
    assert list(missing.value.fields) == ["role_id"]


async def test_no_escalation_a_reviewer_may_not_change_what_they_may_not_grant(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    clerk = await item_of(campaign_id, t.clerk)  # a Clinician: beyond what an Access Controller may hand out
    with pytest.raises(PermissionDenied):
        await decisions.decide(actor=t.sponsor, item_id=clerk.id, decision="remove")
    assert (await ReviewItem.get(id=clerk.id)).decision == ""
    assert await factories.holds(CLERK, "clinician")
    refusal = await AuditEvent.get(action="review_decision", outcome="refused")
    assert refusal.detail["reason"] == "the change is not theirs to make"
    assert not await AuditEvent.filter(action="remove_member").exists()  # rolled back with the decision
    await decisions.decide(actor=t.sponsor, item_id=clerk.id, decision="keep")  # keeping changes no access


async def test_an_ended_grant_can_only_be_recorded_as_removed(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    await RoleAssignment.filter(id=t.clerk.id).update(ends_at=clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    await grants.end_due()
    clerk = await item_of(campaign_id, t.clerk)
    with pytest.raises(NotFound, match="only Remove"):
        await decisions.decide(actor=t.owner, item_id=clerk.id, decision="keep")
    await decisions.decide(actor=t.owner, item_id=clerk.id, decision="remove")
    assert (await ReviewItem.get(id=clerk.id)).decision == "remove"


async def test_the_last_decision_closes_the_review_and_a_closed_review_refuses_every_change(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world, deployment_id=t.world.dep.id)
    for item in await ReviewItem.filter(campaign_id=campaign_id).order_by("id"):
        assert (await ReviewCampaign.get(id=campaign_id)).closed_at is None
        decider = t.sponsor if item.member_id == t.owner.member_id else t.owner
        await decisions.decide(actor=decider, item_id=item.id, decision="keep")
    campaign = await ReviewCampaign.get(id=campaign_id)
    assert campaign.closed_at is not None
    assert (await campaigns.campaign(actor=t.owner, campaign_id=campaign_id)).progress == campaigns.Progress(2, 2, 0)
    assert (await _sentences(t.owner, t.world.org.id, "review_closed")) == [
        "Gatehouse closed the access review “Spring review” of Heart Failure Trial at St Mary's Trust: every item "
        "was decided."
    ]
    second = await start(t.owner, t.world)
    await ReviewCampaign.filter(id=second).update(closed_at=clock.now())
    with pytest.raises(InvalidInput, match="finished"):
        await decisions.decide(actor=t.sponsor, item_id=(await item_of(second, t.nurse)).id, decision="keep")
    assert await AuditEvent.filter(action="review_decision", outcome="refused").count() == 1


async def test_the_list_shows_progress_and_items_filter_mine_open_and_decided(db: str) -> None:
    t = await team()
    campaign_id = await start(t.owner, t.world)
    await decisions.decide(actor=t.sponsor, item_id=(await item_of(campaign_id, t.nurse)).id, decision="keep")
    rows, total = await campaigns.campaigns_page(actor=t.owner, organisation_id=t.world.org.id)
    assert total == 1 and rows[0].progress == campaigns.Progress(5, 1, 0) and rows[0].progress.open == 4

    def names(found: tuple[list[items.ItemRow], int]) -> list[str]:
        return [row.email for row in found[0]]

    mine = await items.items_page(actor=t.owner, campaign_id=campaign_id, show="mine")
    assert sorted(names(mine)) == sorted([SPONSOR, "cleo@trust.org", CLERK])  # not her own, not the nurse's
    decided = await items.items_page(actor=t.owner, campaign_id=campaign_id, show="decided")
    assert names(decided) == [NURSE] and decided[0][0].decision_label == "Kept"
    assert len((await items.items_page(actor=t.owner, campaign_id=campaign_id, show="open"))[0]) == 4
    own = next(r for r in (await items.items_page(actor=t.owner, campaign_id=campaign_id, show="all"))[0] if r.own)
    assert own.email == OWNER and not own.may_decide

    lead = await factories.member("lead@trust.org", "administrator", dep=t.world.dep)  # review access in dep only
    seen = await items.items_page(actor=lead, campaign_id=campaign_id, show="all")
    assert sorted(names(seen)) == [CLERK, "cleo@trust.org"]
    nurse = await factories.actor_of(NURSE)
    with pytest.raises(PermissionDenied):
        await campaigns.campaigns_page(actor=nurse, organisation_id=t.world.org.id)
    with pytest.raises(PermissionDenied):
        await items.items_page(actor=nurse, campaign_id=campaign_id)
    with pytest.raises(PermissionDenied):  # a review of another organisation
        await items.items_page(actor=lead, campaign_id=await start(await _other_owner(t), t.world, other=True))


async def test_a_custom_reviewer_role_reviews_and_changes_only_what_it_may_hand_out(db: str) -> None:
    t = await team()
    reviewer = await factories.custom_member(
        t.owner, t.world.org, "Reviewer", ["review_access", "view_staff_list"], "rev@trust.org"
    )
    manager = await factories.custom_member(
        t.owner,
        t.world.org,
        "Review manager",
        ["review_access", "invite_staff", "view_staff_list", "export_patient_data"],
        "rm@trust.org",
    )
    await factories.member("otto@trust.org", "organisation_staff", org=t.world.org, full_name="Otto Other")
    campaign_id = await start(reviewer, t.world)  # review access is enough to start one
    clerk, otto = await item_of(campaign_id, t.clerk), await item_for(campaign_id, "otto@trust.org")
    assert (await decisions.decide(actor=reviewer, item_id=clerk.id, decision="keep")).email == CLERK
    with pytest.raises(PermissionDenied):  # taking access away needs the right to hand it out
        await decisions.decide(actor=reviewer, item_id=otto.id, decision="remove")
    clinician, controller = await factories.role("clinician"), await factories.role("access_controller")
    for above in (clinician, controller):  # a role holding what the reviewer does not hold
        with pytest.raises(PermissionDenied):
            await decisions.decide(actor=manager, item_id=otto.id, decision="change", role_id=above.id)
    owner_item = await item_for(campaign_id, OWNER)
    with pytest.raises(PermissionDenied):  # an owner's access is beyond it
        await decisions.decide(actor=manager, item_id=owner_item.id, decision="remove")
    assert await factories.holds("otto@trust.org", "organisation_staff") and await factories.holds(
        OWNER, "organisation_owner"
    )
    assert not await AuditEvent.filter(action__in=("change_role", "remove_member"), outcome="ok").exists()
    supervisor = await factories.role("supervisor")  # within what it holds: allowed
    await decisions.decide(actor=manager, item_id=otto.id, decision="change", role_id=supervisor.id)
    assert await factories.holds("otto@trust.org", "supervisor")
