"""Admin Portal, Platform staff and Platform audit tabs (issue 18): a Super Admin sees the platform's grants ending
(the end warning's link), changes an end; Platform Support suspends and restores from the list and finds any account
by email; the platform's audit log says so; an organisation's owner gets neither tab."""

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User

from models import RoleAssignment, StaffMember
from services.organisations import grant_ends
from services.platform import clock
from tests import factories
from tests.ui_helpers import eventually, input_labelled, select_labelled, sign_in, table

SUPPORT, MANAGER, NURSE = "support@gatehouse.org", "am@gatehouse.org", "nurse@trust.org"


def _row(user: User, marker: str, email: str) -> dict[str, object]:
    return next(r for r in table(user, marker).rows if r["email"] == email)


def _emails(user: User, marker: str) -> set[object]:
    return {r["email"] for r in table(user, marker).rows}


async def test_a_super_admin_opens_the_ending_platform_grants_filters_them_and_changes_an_end(user: User) -> None:
    support = await factories.member(SUPPORT, full_name="Pat Support")
    await factories.grant(support.member_id, "platform_support", ends_at=clock.now() + timedelta(days=5))
    manager = await factories.member(MANAGER, "account_manager", full_name="Alex Manager")
    root = await sign_in(user, "root@gatehouse.org", "super_admin")

    await user.open("/admin?tab=platform&view=ending")  # where the sponsor's end warning leads
    await eventually(lambda: _emails(user, "platform-staff") == {SUPPORT})
    row = _row(user, "platform-staff", SUPPORT)
    assert (row["role"], row["state"], row["may_set_end"]) == ("Platform Support", "Active", True)
    assert str(row["ends"]).endswith("UTC")

    select_labelled(user, "Show").set_value("all")
    await eventually(lambda: _emails(user, "platform-staff") == {SUPPORT, MANAGER, "root@gatehouse.org"})
    grant = await RoleAssignment.get(member_id=manager.member_id)
    await grant_ends.set_end(actor=root, assignment_id=grant.id, ends_at=clock.now() + timedelta(days=9))
    await eventually(lambda: _row(user, "platform-staff", MANAGER)["ends"] != "Does not end")  # live, from elsewhere

    user.find(marker="platform-staff").trigger("set_end", row)
    await user.should_see("Change when Pat Support's access ends")
    user.find("Access ends").clear()  # empty: the access no longer ends
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("End of access changed.")
    await eventually(lambda: _row(user, "platform-staff", SUPPORT)["ends"] == "Does not end")
    assert (await RoleAssignment.get(member__email=SUPPORT)).ends_at is None


async def test_platform_support_suspends_from_the_list_and_restores_an_account_found_by_email(user: User) -> None:
    world = await factories.world()
    await factories.member(MANAGER, "account_manager", full_name="Alex Manager")
    await factories.member(NURSE, "clinician", dep=world.dep, full_name="Nora Nurse")
    await sign_in(user, SUPPORT, "platform_support")
    await user.open("/admin?tab=platform")
    await eventually(lambda: MANAGER in _emails(user, "platform-staff"))
    assert not _row(user, "platform-staff", SUPPORT)["may_suspend"], "offered to suspend oneself"

    user.find(marker="platform-staff").trigger("suspend", _row(user, "platform-staff", MANAGER))
    await user.should_see("Suspend the account of Alex Manager?")
    user.find(kind=ui.button, content="Suspend account").click()
    await user.should_see(f"{MANAGER} is suspended: every session has ended.")
    await eventually(lambda: _row(user, "platform-staff", MANAGER)["state"] == "Suspended")
    assert _row(user, "platform-staff", MANAGER)["may_restore"]

    input_labelled(user, "Find an account by email").set_value("nurse@")
    await eventually(lambda: _emails(user, "accounts") == {NURSE})
    user.find(marker="accounts").trigger("suspend", _row(user, "accounts", NURSE))
    await user.should_see("Suspend the account of Nora Nurse?")
    user.find(kind=ui.button, content="Suspend account").click()
    await eventually(lambda: _row(user, "accounts", NURSE)["state"] == "Suspended")
    user.find(marker="accounts").trigger("restore", _row(user, "accounts", NURSE))
    await user.should_see("Restore the account of Nora Nurse?")
    user.find(kind=ui.button, content="Restore account").click()
    await user.should_see(f"{NURSE} is restored and may log in again.")
    await eventually(lambda: _row(user, "accounts", NURSE)["state"] == "Active")
    assert (await StaffMember.get(email=NURSE)).is_active

    await user.open("/admin?tab=platform")  # the platform's audit log, as the Care Portal's: read when opened
    await eventually(
        lambda: any(
            r["sentence"].startswith("Support suspended the account of Alex Manager") for r in table(user, "audit").rows
        )
    )


async def test_an_organisation_owner_gets_no_platform_tabs(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "organisations").rows) == 1)
    await user.should_not_see("Platform staff")
    await user.should_not_see("Platform audit")
