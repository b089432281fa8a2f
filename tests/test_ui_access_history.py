"""Access history in the Care Portal (issue 18 item 2): a row's menu in the staff list, in every view, opens the
member's history in the organisation for whoever may see its staff; the member finds their own ended access under
their live access on the landing."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from nicegui import ui
from nicegui.testing import User

from models import RoleAssignment
from pages import care_history
from services.organisations import staff
from services.organisations.access_history import Ending
from tests import factories
from tests.ui_helpers import eventually, sign_in, table

NURSE, OWNER = "nurse@trust.org", "owner@trust.org"


async def _removed_nurse(world: factories.World) -> None:
    """Nora Nurse held Clinician in the Heart Failure Trial and Supervisor in Remote Monitoring; Olga Owner removed the
    Clinician role."""
    olga = await factories.member(OWNER, "organisation_owner", org=world.org, full_name="Olga Owner")
    nurse = await factories.member(NURSE, "clinician", dep=world.dep, full_name="Nora Nurse")
    await factories.grant(nurse.member_id, "supervisor", dep=world.dep2)
    clinician = await RoleAssignment.get(member_id=nurse.member_id, role__key="clinician")
    await RoleAssignment.filter(id=clinician.id).update(granted_by_id=olga.member_id, sponsor_id=olga.member_id)
    await staff.remove_from_team(actor=olga, assignment_id=clinician.id)


async def test_a_clinician_who_may_only_see_the_staff_opens_a_members_history_from_the_row_menu(user: User) -> None:
    world = await factories.world()
    await _removed_nurse(world)
    await sign_in(user, "clara@trust.org", "clinician", org=world.org)  # may see the staff list, manages nobody
    row = await _nurse_row(user, f"/care?org={world.org.id}")
    labels = {item["label"] for item in table(user, "staff").props["row-menu"]["items"] if not item["only_if"]}
    assert labels == {"Access history"}  # offered in every row

    user.find(marker="staff").trigger("access_history", row)

    await user.should_see("Removed by Olga Owner")
    history = next(iter(user.find(marker="access-history").elements))
    assert history.props["aria-label"] == "Access history of Nora Nurse"
    await user.should_see("Heart Failure Trial at St Mary's Trust")
    await user.should_see("Remote Monitoring at St Mary's Trust")
    await user.should_see("Still held")
    await _close(user)


async def test_an_owner_opens_it_from_an_ended_grants_row_in_ended_access(user: User) -> None:
    world = await factories.world()
    await _removed_nurse(world)
    await sign_in(user, "ow2@trust.org", "organisation_owner", org=world.org)
    row = await _nurse_row(user, f"/care?org={world.org.id}&view=ended")
    assert row["role"] == "Clinician" and str(row["ends"]).startswith("Ended ")

    user.find(marker="staff").trigger("access_history", row)

    await user.should_see("Removed by Olga Owner")
    await _close(user)


async def test_a_member_finds_their_earlier_access_collapsed_under_their_access(user: User) -> None:
    world = await factories.world()
    await _removed_nurse(world)
    await sign_in(user, NURSE, "supervisor", dep=world.dep2)
    await user.open("/care")
    await user.should_see("Your earlier access")
    earlier = next(iter(user.find(marker="earlier-access").elements))
    assert isinstance(earlier, ui.expansion) and earlier.value is False  # collapsed until opened
    await user.should_not_see("removed by Olga Owner", retries=1)

    earlier.value = True

    await user.should_see("St Mary's Trust")
    await user.should_see("Clinician — Heart Failure Trial at St Mary's Trust, from ")
    await user.should_see("removed by Olga Owner.")


async def test_a_member_who_never_lost_access_sees_no_earlier_access(user: User) -> None:
    world = await factories.world()
    await sign_in(user, NURSE, "clinician", dep=world.dep)
    await user.open("/care")
    await user.should_see("Your access")
    await user.should_not_see("Your earlier access")


async def _nurse_row(user: User, page: str) -> dict[str, object]:
    await user.open(page)
    await eventually(lambda: any(r["email"] == NURSE for r in table(user, "staff").rows))
    return next(r for r in table(user, "staff").rows if r["email"] == NURSE)


async def _close(user: User) -> None:
    """The dialog's heading names the member; Close takes it away."""
    await user.should_see("Access history of Nora Nurse")
    user.find(kind=ui.button, content="Close").click()
    await user.should_not_see("Access history of Nora Nurse")


MOMENT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ending", "words"),
    [
        (Ending("held"), "Still held"),
        (Ending("changed", MOMENT), "Role changed"),
        (Ending("end_reached", MOMENT), "End reached"),
        (Ending("ended_now", MOMENT, by="Sam Sponsor"), "Ended early by Sam Sponsor"),
        (Ending("removed", MOMENT, by="Olga Owner"), "Removed by Olga Owner"),
        (Ending("review", MOMENT), "Ended by an access review: nobody answered for it"),
        (Ending("role_deleted", MOMENT, by="Olga Owner"), "Ended: the role was deleted by Olga Owner"),
        (Ending("dormant", MOMENT, dormant_days=90), "Suspended after 90 days without a log-in; not restored"),
        (
            Ending("dormant", MOMENT, dormant_days=90, restored_at=MOMENT, restored_by="Olga Owner"),
            "Suspended after 90 days without a log-in; restored 7 Dec 2026, 10:30 CET by Olga Owner",
        ),
        (
            Ending("suspended", MOMENT, by="Pat Support", restored_at=MOMENT, restored_by="Pat Support"),
            "Account suspended by Pat Support; restored 7 Dec 2026, 10:30 CET by Pat Support",
        ),
    ],
)
def test_how_each_line_ended_is_said_in_words_and_the_viewers_time_zone(ending: Ending, words: str) -> None:
    assert care_history.ending_words(ending, ZoneInfo("Europe/Paris")) == words
