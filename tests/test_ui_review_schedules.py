"""Story of the Access reviews page's Deployment review schedules (issue 19 item 2): a deployment's admin sees only
their deployment, on the organisation's schedule, and gives it its own in a small dialog; bad input is refused at its
field and changes nothing."""

from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Deployment
from tests.review_helpers import team
from tests.ui_helpers import error_of, eventually, input_labelled, sign_in, table

DANA = "dana@trust.org"


async def test_a_deployment_admin_gives_their_deployment_its_own_review_schedule(user: User) -> None:
    t = await team()
    await sign_in(user, DANA, "administrator", dep=t.world.dep)
    await user.open(f"/care/reviews?org={t.world.org.id}")
    await user.should_see("Deployment review schedules", retries=50)
    await eventually(lambda: len(table(user, "schedules").rows) == 1)
    row = table(user, "schedules").rows[0]
    assert row["name"] == "Heart Failure Trial"  # not Remote Monitoring: not hers
    assert row["schedule"] == "The organisation's: all access every 90 days; privileged roles every 30 days"

    user.find(marker="schedules").trigger("change_schedule", row)
    await user.should_see("Review schedule of Heart Failure Trial", retries=50)
    user.find(kind=ui.checkbox, content="Give it its own schedule").click()
    input_labelled(user, "Review all access every (days)").value = "soon"
    input_labelled(user, "Review privileged roles every (days)").value = "20"
    user.find(kind=ui.button, content="Save schedule").click()
    await eventually(
        lambda: error_of(user, "Review all access every (days)") == "Give a whole number of days, such as 90."
    )
    input_labelled(user, "Review all access every (days)").value = "0"
    user.find(kind=ui.button, content="Save schedule").click()
    await eventually(
        lambda: error_of(user, "Review all access every (days)").startswith("Review every grant every 7 to 90 days")
    )
    assert (await Deployment.get(id=t.world.dep.id)).review_every_days is None
    assert not await AuditEvent.filter(action="set_review_schedule").exists()

    input_labelled(user, "Review all access every (days)").value = "60"
    user.find(kind=ui.button, content="Save schedule").click()
    await user.should_see("Review schedule saved.", retries=50)
    await eventually(
        lambda: (
            table(user, "schedules").rows[0]["schedule"]
            == "Its own: all access every 60 days; privileged roles every 20 days"
        )
    )
    saved = await Deployment.get(id=t.world.dep.id)
    assert (saved.review_every_days, saved.privileged_review_days) == (60, 20)
    assert await AuditEvent.filter(action="set_review_schedule", outcome="ok").count() == 1
