"""Stories of the Access settings page (issue 18): an organisation's end-of-access rules per role, warnings before
access ends, invitation reminders and dormant members; offered and shown only to those who may change them."""

from nicegui import ui
from nicegui.testing import User

from services.access import grant_terms
from services.organisations import access_settings
from services.organisations.access_settings import AccessSettings
from tests import factories
from tests.ui_helpers import error_of, eventually, input_labelled, sign_in, table

WARNINGS = "Warn this many days before access ends"
DORMANT = "Dormant after (days without a log-in)"
REMINDERS = "Send a reminder before an invitation expires"
END_DORMANT = "Suspend their access here automatically"
REVIEW_EVERY, REVIEW_PRIVILEGED = "Review all access every (days)", "Review privileged roles every (days)"
REVIEW_REMOVE = "At a review's deadline, end the access nobody answered for"


def _manage_items(user: User) -> list[str]:
    return [text for _key, text in next(iter(user.find(marker="manage").elements)).props["items"]]


def _longest(user: User, role_id: int) -> ui.input:
    return next(e for e in user.find(marker=f"longest-{role_id}").elements if isinstance(e, ui.input))


def _value(user: User, kind: type[ui.switch] | type[ui.checkbox], label: str) -> bool:
    return bool(next(e for e in user.find(kind=kind).elements if e.text == label).value)


async def test_an_owner_changes_the_settings_from_the_care_portal_and_finds_them_kept(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    assert _manage_items(user) == [
        "Invite staff members",
        "Add a new role",
        "Audit log",
        "Access settings",
        "Single sign-on",
        "Access reviews",
        "Integrations",
        "Webhooks",
    ]
    user.find(marker="manage").trigger("choose", "settings")
    await user.should_see("End of access rules per role", retries=50)
    await user.should_see("The reminder goes a day before a 72-hour or 7-day invitation link expires")
    assert input_labelled(user, WARNINGS).value == "14, 7, 1"
    assert input_labelled(user, DORMANT).value == "90"

    user.find(marker=f"require-{clinician.id}").click()
    user.find(marker=f"longest-{clinician.id}").type("90")
    user.find(WARNINGS).clear().type("30 7")
    user.find(REMINDERS).click()
    user.find(DORMANT).clear().type("60")
    user.find(END_DORMANT).click()
    user.find(kind=ui.button, content="Save access settings").click()
    await user.should_see("Access settings saved.", retries=50)  # a save on a loaded machine
    assert input_labelled(user, WARNINGS).value == "30, 7"
    assert await access_settings.settings_of(organisation_id=world.org.id) == AccessSettings((30, 7), False, 60, True)
    assert await grant_terms.policies(organisation_id=world.org.id) == {clinician.id: 90}

    await user.open(f"/care/settings?org={world.org.id}")  # kept: the page reads them again
    await user.should_see("Dormant members")
    assert input_labelled(user, WARNINGS).value == "30, 7"
    assert input_labelled(user, DORMANT).value == "60"
    assert not _value(user, ui.switch, REMINDERS) and _value(user, ui.checkbox, END_DORMANT)
    assert _longest(user, clinician.id).value == "90"
    user.find(marker=f"require-{clinician.id}").click()  # no end required any longer
    user.find(kind=ui.button, content="Save access settings").click()
    await eventually(lambda: user.notify.messages.count("Access settings saved.") == 2)
    assert await grant_terms.policies(organisation_id=world.org.id) == {}


async def test_bad_input_is_shown_at_each_field_and_nothing_is_saved(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    supervisor = await factories.role("supervisor")
    await user.open(f"/care/settings?org={world.org.id}")
    await user.should_see("Warnings before access ends")
    user.find(marker=f"require-{supervisor.id}").click()
    user.find(marker=f"longest-{supervisor.id}").type("5000")
    user.find(WARNINGS).clear().type("14, seven")
    user.find(DORMANT).clear().type("3")
    user.find(kind=ui.button, content="Save access settings").click()
    await eventually(lambda: error_of(user, WARNINGS) != "")
    assert error_of(user, WARNINGS) == "“seven” is not a whole number of days: give days such as 14, 7, 1."
    assert error_of(user, DORMANT) == ""  # a whole number: the service's range check speaks only when all parse
    assert _longest(user, supervisor.id).props.get("aria-invalid") == "true"
    assert await access_settings.settings_of(organisation_id=world.org.id) == AccessSettings(
        (14, 7, 1), True, 90, False
    )
    assert await grant_terms.policies(organisation_id=world.org.id) == {}

    user.find(WARNINGS).clear().type("14, 7")
    user.find(marker=f"longest-{supervisor.id}").clear().type("30")
    user.find(kind=ui.button, content="Save access settings").click()
    await eventually(lambda: error_of(user, DORMANT) != "")
    assert error_of(user, DORMANT) == "A member can count as dormant after 7 to 3,650 days without a log-in."
    assert await access_settings.settings_of(organisation_id=world.org.id) == AccessSettings(
        (14, 7, 1), True, 90, False
    )
    assert await grant_terms.policies(organisation_id=world.org.id) == {}


async def test_a_viewer_without_the_permission_is_offered_no_link_and_refused_on_the_page(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "lead@trust.org", "administrator", dep=world.dep)  # edits roles in one deployment only
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    assert _manage_items(user) == ["Invite staff members", "Access reviews"]  # what a deployment's staff manager does
    user.find(marker="manage").trigger("choose", "settings")  # not offered: a forged choice opens nothing
    await user.open(f"/care/settings?org={world.org.id}")
    await user.should_see(access_settings.REFUSED)
    await user.should_not_see("Save access settings")
    await user.should_not_see("End of access rules per role")


async def test_the_review_schedule_is_set_on_the_same_page_with_errors_at_their_fields(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/settings?org={world.org.id}")
    await user.should_see("Access reviews")
    assert input_labelled(user, REVIEW_EVERY).value == "90" and input_labelled(user, REVIEW_PRIVILEGED).value == "30"
    user.find(REVIEW_EVERY).clear().type("3")
    user.find(REVIEW_PRIVILEGED).clear().type("monthly")
    user.find(kind=ui.button, content="Save access settings").click()
    await eventually(lambda: error_of(user, REVIEW_PRIVILEGED) != "")
    assert error_of(user, REVIEW_PRIVILEGED) == "Give a whole number of days, such as 90."
    user.find(REVIEW_PRIVILEGED).clear().type("0")
    user.find(kind=ui.button, content="Save access settings").click()
    await eventually(lambda: error_of(user, REVIEW_EVERY) != "")
    assert error_of(user, REVIEW_EVERY).startswith("Review every grant every 7 to 730 days")
    user.find(REVIEW_EVERY).clear().type("180")
    user.find(REVIEW_REMOVE).click()
    user.find(kind=ui.button, content="Save access settings").click()
    await user.should_see("Access settings saved.", retries=50)  # a save on a loaded machine
    saved = await access_settings.settings_of(organisation_id=world.org.id)
    assert (saved.review_every_days, saved.privileged_review_days, saved.reviews_remove_unanswered) == (180, 0, True)
