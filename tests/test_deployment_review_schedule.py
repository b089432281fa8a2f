"""A deployment's own review schedule (issue 19 item 2): set by its admins or by whoever may change the organisation's
access settings; housekeeping starts its reviews, each once, and the organisation's scheduled reviews leave its grants
out. The clock is moved, never slept."""

import asyncio
from datetime import timedelta

import pytest

from models import AuditEvent, Deployment, Organisation, ReviewCampaign, ReviewItem
from services.audit import service as audit
from services.errors import FieldErrors, PermissionDenied
from services.platform import clock
from services.reviews import deployment_schedules as schedules
from services.reviews import schedule
from tests import factories
from tests.review_helpers import Team, team

DANA = "dana@trust.org"


async def _world() -> tuple[Team, factories.Actor]:
    """The review team, the other organisation on no schedule, and Dana, Administrator of the Heart Failure Trial."""
    t = await team()
    await Organisation.filter(id=t.world.other_org.id).update(review_every_days=0, privileged_review_days=0)
    dana = await factories.member(DANA, "administrator", dep=t.world.dep, full_name="Dana Deploy")
    return t, dana


async def _items(campaign: ReviewCampaign) -> list[int]:
    found = await ReviewItem.filter(campaign_id=campaign.id).values_list("assignment__member_id", flat=True)
    return sorted(int(member_id) for member_id in found)  # type: ignore[call-overload]


async def _newest(deployment_id: int | None) -> ReviewCampaign:
    found = await ReviewCampaign.filter(deployment_id=deployment_id).order_by("-id").first()
    assert found is not None
    return found


async def test_a_deployment_on_its_own_schedule_is_reviewed_on_it_and_the_organisations_reviews_leave_it_out(
    db: str,
) -> None:
    t, dana = await _world()
    await schedules.set_schedule(
        actor=dana, deployment_id=t.world.dep.id, review_every_days=60, privileged_review_days=30
    )
    clock.advance(timedelta(days=30, minutes=1))
    assert await schedule.start_due() == 2  # the organisation's privileged review, and the trial's
    organisation, trial = await _newest(None), await _newest(t.world.dep.id)
    assert organisation.privileged_only and trial.privileged_only and trial.scheduled
    assert await _items(organisation) == sorted([t.owner.member_id, t.sponsor.member_id])  # not Dana's
    assert await _items(trial) == [dana.member_id]
    clock.advance(timedelta(days=30, minutes=1))
    assert await schedule.start_due() == 2  # privileged again for the organisation; every grant of the trial
    trial = await _newest(t.world.dep.id)
    assert not trial.privileged_only
    assert await _items(trial) == sorted([t.colleague.member_id, t.clerk.member_id, dana.member_id])
    clock.advance(timedelta(days=30))
    assert await schedule.start_due() == 2  # 90 days: every grant of the organisation but the trial's; its privileged
    organisation = await _newest(None)
    assert not organisation.privileged_only
    assert await _items(organisation) == sorted([t.owner.member_id, t.sponsor.member_id, t.nurse.member_id])


async def test_back_on_the_organisations_schedule_its_reviews_cover_the_deployment_again(db: str) -> None:
    t, dana = await _world()
    await schedules.set_schedule(
        actor=dana, deployment_id=t.world.dep.id, review_every_days=60, privileged_review_days=30
    )
    await schedules.set_schedule(
        actor=t.owner, deployment_id=t.world.dep.id, review_every_days=None, privileged_review_days=None
    )
    assert (await Deployment.get(id=t.world.dep.id)).review_schedule_since is None
    clock.advance(timedelta(days=90, minutes=1))
    assert await schedule.start_due() == 1
    assert len(await _items(await _newest(None))) == 6  # every grant, the trial's too
    said = await audit.events_page(actor=t.owner, organisation_id=t.world.org.id, action="set_review_schedule")
    assert [row.sentence for row in said[0]] == [
        "Ada Admin left the access reviews of Heart Failure Trial at St Mary's Trust to the organisation's schedule "
        "(it had its own: every grant every 60 days, privileged roles every 30 days).",
        "Dana Deploy gave Heart Failure Trial at St Mary's Trust its own access review schedule: every grant every 60 "
        "days, privileged roles every 30 days (it had the organisation's).",
    ]


async def test_a_deployments_scheduled_review_starts_once_whichever_housekeeper_comes_first(db: str) -> None:
    t, dana = await _world()
    await Organisation.filter(id=t.world.org.id).update(review_every_days=0, privileged_review_days=0)
    await schedules.set_schedule(
        actor=dana, deployment_id=t.world.dep.id, review_every_days=30, privileged_review_days=30
    )
    clock.advance(timedelta(days=30, minutes=1))
    assert sum(await asyncio.gather(schedule.start_due(), schedule.start_due())) == 1  # two housekeepers at once
    assert await schedule.start_due() == 0
    assert await ReviewCampaign.all().count() == 1
    started = await _newest(t.world.dep.id)
    assert not started.privileged_only and started.title.startswith("Scheduled access review")
    # A second process that missed the first start is refused by the start's key.
    await ReviewCampaign.filter(id=started.id).delete()
    assert await schedule.start_due() == 0


async def test_only_its_admins_and_those_who_change_the_access_settings_may_set_a_deployments_schedule(
    db: str,
) -> None:
    t, dana = await _world()
    for actor, deployment in ((t.colleague, t.world.dep), (dana, t.world.dep2), (dana, t.world.other_dep)):
        with pytest.raises(PermissionDenied, match="edit roles and permissions"):
            await schedules.set_schedule(
                actor=actor, deployment_id=deployment.id, review_every_days=30, privileged_review_days=30
            )
    assert await AuditEvent.filter(action="set_review_schedule", outcome="refused").count() == 3
    assert not await Deployment.filter(review_every_days__isnull=False).exists()
    await schedules.set_schedule(
        actor=t.sponsor, deployment_id=t.world.dep2.id, review_every_days=45, privileged_review_days=15
    )
    seen = await schedules.schedules(actor=dana, organisation_id=t.world.org.id)
    assert [(s.name, s.own, s.may_change) for s in seen] == [("Heart Failure Trial", False, True)]
    seen = await schedules.schedules(actor=t.owner, organisation_id=t.world.org.id)
    assert [(s.name, s.review_every_days, s.may_change) for s in seen] == [
        ("Heart Failure Trial", None, True),
        ("Remote Monitoring", 45, True),
    ]
    assert await schedules.schedules(actor=t.colleague, organisation_id=t.world.org.id) == []


@pytest.mark.parametrize(
    ("every", "privileged", "field", "message"),
    [
        (0, 30, "review_every_days", "Review every grant every 7 to 90 days: a deployment's own schedule cannot"),
        (-5, 30, "review_every_days", "every 7 to 90 days"),
        (120, 30, "review_every_days", "cannot be less often than the organisation's (every 90 days)"),
        (60, 0, "privileged_review_days", "Review privileged roles every 7 to 30 days"),
        (60, None, "privileged_review_days", "Give both numbers of days"),
    ],
)
async def test_bad_periods_are_refused_at_their_field_and_change_nothing(
    db: str, every: int | None, privileged: int | None, field: str, message: str
) -> None:
    t, dana = await _world()
    with pytest.raises(FieldErrors) as refused:
        await schedules.set_schedule(
            actor=dana, deployment_id=t.world.dep.id, review_every_days=every, privileged_review_days=privileged
        )
    assert list(refused.value.fields) == [field] and message in refused.value.fields[field]
    assert (await Deployment.get(id=t.world.dep.id)).review_every_days is None
    assert not await AuditEvent.filter(action="set_review_schedule").exists()
