"""Stories where the rules of services/access/rights.py decide what a page shows."""

from nicegui import ui
from nicegui.testing import User

from tests import factories
from tests.ui_helpers import eventually, has_table, sign_in


async def test_a_member_without_the_staff_list_sees_only_their_own_access_in_the_care_portal(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "co@trust.org", "contributor", dep=world.dep)
    await user.open(f"/care?org={world.org.id}")
    await user.should_see("Contributor — Heart Failure Trial at St Mary's Trust", retries=50)
    await user.should_not_see("Overview filters")
    assert not has_table(user, "staff")


async def test_a_supervisor_of_one_deployment_sees_its_organisation_but_no_manage_menu(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "su@trust.org", "supervisor", dep=world.dep)
    await user.open("/care")
    await eventually(lambda: has_table(user, "staff"))
    await user.should_see("Overview filters")
    await user.should_not_see(marker="manage")


async def test_the_audit_log_page_shows_no_table_to_those_who_may_not_read_it(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "lead@trust.org", "admin", dep=world.dep)
    await user.open(f"/care/audit?org={world.org.id}")
    await user.should_see("Only those who manage this organisation's staff may read its audit log.")
    await user.should_not_see(kind=ui.select)
    assert not has_table(user, "audit")
