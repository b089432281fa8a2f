"""Stories of the Access reviews pages (issue 19 item 2): start a review from the Care Portal, decide items (Keep,
Change role, Set end, Remove, with a comment), see the progress follow, a finished review read-only with its record
exported; offered only to holders of review access, and one's own access never decided by oneself."""

import csv
import io
from datetime import timedelta

from nicegui import ui
from nicegui.testing import User

from models import ReviewCampaign, ReviewItem, RoleAssignment
from services.platform import clock
from services.reviews import deadlines, decisions
from tests import factories
from tests.review_helpers import CLERK, NURSE, start, team
from tests.ui_helpers import error_of, eventually, input_labelled, sign_in, table

OWNER_EMAIL = "owner@trust.org"


def _row(user: User, email: str) -> dict[str, object]:
    return next(r for r in table(user, "items").rows if r["email"] == email)


async def _signed_in_owner(user: User) -> tuple[factories.World, factories.Actor]:
    t = await team()
    owner = await sign_in(user, OWNER_EMAIL, "organisation_owner", org=t.world.org)
    return t.world, owner


async def test_an_owner_starts_a_review_from_the_manage_menu_and_keeps_an_item(user: User) -> None:
    world, _ = await _signed_in_owner(user)
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) > 1)
    user.find(marker="manage").trigger("choose", "reviews")
    await user.should_see("Start a review", retries=50)
    assert table(user, "reviews").props["no-data-label"].startswith("No review has been started here yet")
    user.find(kind=ui.button, content="Start a review").click()
    await user.should_see("Every access held there becomes an item", retries=50)
    user.find("Title").clear()
    user.find(kind=ui.button, content="Start review").click()
    await eventually(lambda: error_of(user, "Title") == "Give the review a title.")
    user.find("Title").type("Spring review")
    user.find(kind=ui.button, content="Start review").click()
    await user.should_see("Spring review", retries=50)
    await user.should_see("St Mary's Trust (whole organisation). Started by Owner;", retries=50)
    await user.should_see("0 of 6 decided, 6 open.", retries=50)
    await eventually(lambda: {r["email"] for r in table(user, "items").rows} >= {CLERK})  # mine: unassigned ones

    user.find(marker="items").trigger("keep", _row(user, CLERK))
    await user.should_see("Keep the access of Carl Clerk?", retries=50)
    user.find("Comment (optional)").type("Still on the ward")
    user.find(kind=ui.button, content="Keep access").click()
    await user.should_see("Decision recorded.", retries=50)
    await user.should_see("1 of 6 decided, 5 open.", retries=50)
    assert (await ReviewItem.get(assignment__member__email=CLERK)).comment == "Still on the ward"
    user.find("Show").click()
    select = next(iter(user.find(kind=ui.select, content="Show").elements))
    select.value = "decided"
    await eventually(lambda: [r["email"] for r in table(user, "items").rows] == [CLERK])
    assert _row(user, CLERK)["decision"] == "Kept by Owner" and _row(user, CLERK)["comment"] == "Still on the ward"


async def test_change_role_set_end_and_remove_from_their_dialogs_with_errors_at_the_fields(user: User) -> None:
    world, owner = await _signed_in_owner(user)
    campaign_id = await start(owner, world)
    await user.open(f"/care/reviews?org={world.org.id}&campaign={campaign_id}")
    await eventually(lambda: any(r["email"] == CLERK for r in table(user, "items").rows))

    user.find(marker="items").trigger("end", _row(user, CLERK))
    await user.should_see("Set when the access of Carl Clerk ends", retries=50)
    user.find(kind=ui.button, content="Set end").click()
    await eventually(lambda: error_of(user, "Access ends") == "Give the date and time the access ends.")
    later = (clock.now() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    input_labelled(user, "Access ends").value = later
    user.find(kind=ui.button, content="Set end").click()
    await user.should_see("Decision recorded.", retries=50)
    assert (await RoleAssignment.get(member__email=CLERK, role__key="clinician")).ends_at is not None

    user.find(marker="items").trigger("change", _row(user, "sam@trust.org"))
    await user.should_see("Change the role of Sam Sponsor", retries=50)
    roles = next(iter(user.find(kind=ui.select, content="New role").elements))
    assert isinstance(roles.options, dict)
    roles.value = next(k for k, v in roles.options.items() if v == "Supervisor")
    user.find(kind=ui.button, content="Change role").click()
    await eventually(lambda: user.notify.messages.count("Decision recorded.") == 2)
    assert await factories.holds("sam@trust.org", "supervisor")

    user.find(marker="items").trigger("remove", _row(user, "cleo@trust.org"))
    await user.should_see("Remove the access of Cleo Colleague?", retries=50)
    user.find(kind=ui.button, content="Remove access").click()
    await eventually(lambda: user.notify.messages.count("Decision recorded.") == 3)
    assert not await factories.holds("cleo@trust.org", "clinician")


async def test_ones_own_access_is_not_offered_and_a_forged_decision_is_refused(user: User) -> None:
    world, owner = await _signed_in_owner(user)
    campaign_id = await start(owner, world)
    await user.open(f"/care/reviews?org={world.org.id}&campaign={campaign_id}")
    select = next(iter(user.find(kind=ui.select, content="Show").elements))
    select.value = "all"
    await eventually(lambda: any(r["email"] == OWNER_EMAIL for r in table(user, "items").rows))
    own = _row(user, OWNER_EMAIL)
    assert own["reviewer"] == "Your own access: someone else decides" and not own["may_decide"]
    assert not _row(user, NURSE)["may_decide"]  # her sponsor's to decide
    user.find(marker="items").trigger("keep", own)  # not offered: forged
    await user.should_see("Keep the access of Owner?", retries=50)
    user.find(kind=ui.button, content="Keep access").click()
    await user.should_see("Nobody reviews their own access", retries=50)
    assert (await ReviewItem.get(assignment__member__email=OWNER_EMAIL)).decision == ""


async def test_a_finished_review_is_read_only_and_exports_its_record(user: User) -> None:
    world, owner = await _signed_in_owner(user)
    campaign_id = await start(owner, world)
    nurse = await ReviewItem.get(campaign_id=campaign_id, assignment__member__email=NURSE)
    await decisions.decide(actor=await factories.actor_of("sam@trust.org"), item_id=nurse.id, decision="keep")
    assert await deadlines.close(campaign_id=campaign_id, at=clock.now())  # finished (as with removal chosen)
    await user.open(f"/care/reviews?org={world.org.id}")
    await eventually(lambda: len(table(user, "reviews").rows) == 1)
    assert table(user, "reviews").rows[0]["progress"] == "1 of 6 decided, 5 unanswered"
    user.find(marker="reviews").trigger("open", table(user, "reviews").rows[0])
    await user.should_see("This review is finished: nothing in it can change any more.", retries=50)
    await eventually(lambda: len(table(user, "items").rows) == 6)
    assert not any(r["may_decide"] for r in table(user, "items").rows)
    user.find(kind=ui.button, content="Export CSV").click()
    response = await user.download.next()
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["email"]: r["decision"] for r in rows}[NURSE] == "keep" and len(rows) == 6


async def test_an_overdue_review_is_with_the_owners_until_they_decide_the_last_item_then_it_finishes(
    user: User,
) -> None:
    world, owner = await _signed_in_owner(user)  # a second owner beside Ada
    campaign_id = await start(owner, world)
    nurse = await ReviewItem.get(campaign_id=campaign_id, assignment__member__email=NURSE)
    await decisions.decide(actor=await factories.actor_of("sam@trust.org"), item_id=nurse.id, decision="keep")
    await ReviewCampaign.filter(id=campaign_id).update(due_at=clock.now() - timedelta(minutes=1))
    assert await deadlines.close_due() == 1  # the deadline: what nobody answered goes to the owners
    await user.open(f"/care/reviews?org={world.org.id}")
    await eventually(lambda: len(table(user, "reviews").rows) == 1)
    row = table(user, "reviews").rows[0]
    assert (row["status"], row["progress"]) == ("Overdue: with the owners", "1 of 6 decided")
    user.find(marker="reviews").trigger("open", row)
    await user.should_see("Its deadline has passed: what nobody answered is for the organisation's owners", retries=50)
    await user.should_see("1 of 6 decided, 5 open.", retries=50)
    mine = {CLERK, "ada@trust.org", "sam@trust.org", "cleo@trust.org"}  # every open item but her own
    await eventually(lambda: {r["email"] for r in table(user, "items").rows} == mine)
    assert _row(user, CLERK)["reviewer"] == "The owners (overdue)" and _row(user, CLERK)["may_decide"]
    user.find(marker="items").trigger("keep", _row(user, CLERK))
    await user.should_see("Keep the access of Carl Clerk?", retries=50)
    user.find(kind=ui.button, content="Keep access").click()
    await user.should_see("2 of 6 decided, 4 open.", retries=50)
    for email in ("ada@trust.org", "sam@trust.org", "cleo@trust.org"):
        item = await ReviewItem.get(campaign_id=campaign_id, assignment__member__email=email)
        await decisions.decide(actor=owner, item_id=item.id, decision="keep")
    own = await ReviewItem.get(campaign_id=campaign_id, assignment__member__email=OWNER_EMAIL)
    await decisions.decide(actor=await factories.actor_of("ada@trust.org"), item_id=own.id, decision="keep")
    await user.should_see("This review is finished: nothing in it can change any more.", retries=50)  # live
    await user.should_see("6 of 6 decided, 0 open.", retries=50)


async def test_without_review_access_the_pages_refuse_and_the_menu_does_not_offer_them(user: User) -> None:
    t = await team()
    await sign_in(user, "staff@trust.org", "organisation_staff", org=t.world.org)
    campaign_id = await start(t.owner, t.world)
    await user.open(f"/care?org={t.world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) > 1)
    await user.should_not_see(marker="manage")  # nothing to manage at all
    for path in (f"/care/reviews?org={t.world.org.id}", f"/care/reviews?org={t.world.org.id}&campaign={campaign_id}"):
        await user.open(path)
        await user.should_see("You need the *review access* permission in this organisation", retries=50)
        await user.should_not_see("Start a review")
