"""Platform Support suspends an account from the staff list, and restores it; nobody else is offered either."""

from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, StaffMember
from tests import factories
from tests.ui_helpers import eventually, sign_in, table

NURSE = "nurse@trust.org"


def _row(user: User, email: str) -> dict[str, object]:
    return next(r for r in table(user, "staff").rows if r["email"] == email)


async def test_platform_support_suspends_an_account_from_the_staff_list_and_restores_it(user: User) -> None:
    world = await factories.world()
    await factories.member(NURSE, "clinician", dep=world.dep, full_name="Nora Nurse")
    await sign_in(user, "ps@gatehouse.org", "platform_support")
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: any(r["email"] == NURSE for r in table(user, "staff").rows))
    assert _row(user, NURSE)["may_suspend"] and not _row(user, NURSE)["may_restore"]

    user.find(marker="staff").trigger("suspend", _row(user, NURSE))
    await user.should_see("Suspend the account of Nora Nurse?")
    user.find(kind=ui.button, content="Suspend account").click()
    await user.should_see(f"{NURSE} is suspended: every session has ended.")
    await eventually(lambda: _row(user, NURSE)["name"] == "Nora Nurse (suspended)")
    assert _row(user, NURSE)["may_restore"] and not _row(user, NURSE)["manageable"]
    assert not (await StaffMember.get(email=NURSE)).is_active

    user.find(marker="staff").trigger("restore", _row(user, NURSE))
    await user.should_see("Restore the account of Nora Nurse?")
    user.find(kind=ui.button, content="Restore account").click()
    await user.should_see(f"{NURSE} is restored and may log in again.")
    await eventually(lambda: _row(user, NURSE)["name"] == "Nora Nurse")
    assert (await StaffMember.get(email=NURSE)).is_active
    assert await AuditEvent.filter(action="suspend_account", outcome="ok").exists()


async def test_an_organisation_owner_is_offered_no_suspension_and_a_crafted_one_changes_nothing(user: User) -> None:
    world = await factories.world()
    await factories.member(NURSE, "clinician", dep=world.dep, full_name="Nora Nurse")
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/care")
    await eventually(lambda: any(r["email"] == NURSE for r in table(user, "staff").rows))
    assert not _row(user, NURSE)["may_suspend"]

    user.find(marker="staff").trigger("suspend", _row(user, NURSE))  # as a hostile browser could send it
    await user.should_see("Suspend the account of Nora Nurse?")
    user.find(kind=ui.button, content="Suspend account").click()
    await user.should_see(f"You may not suspend or restore the account of {NURSE}.")
    assert (await StaffMember.get(email=NURSE)).is_active
