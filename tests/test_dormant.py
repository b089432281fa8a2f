"""Dormant members: no log-in for 90 days. The staff list says so, and can show them alone."""

from datetime import timedelta

from nicegui.testing import User

from models import StaffMember
from services.access import auth
from services.organisations import staff
from services.platform import clock
from tests import factories
from tests.ui_helpers import eventually, select_labelled, sign_in, table

PASSWORD = "a long enough password"


async def _staff(owner: factories.Actor, world: factories.World, *, dormant_only: bool = False) -> dict[str, bool]:
    show = "dormant" if dormant_only else "all"
    rows, _ = await staff.staff_page(actor=owner, organisation_id=world.org.id, show=show)
    return {row.email: row.dormant for row in rows}


async def test_a_log_in_is_remembered_and_90_days_without_one_make_a_member_dormant(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    password_hash = await auth.hash_password(PASSWORD)
    await factories.member("nurse@trust.org", "clinician", dep=world.dep, password_hash=password_hash)
    await factories.member("never@trust.org", "clinician", dep=world.dep)
    ticket = await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="test")
    await auth.complete_login(ticket=ticket)
    logged_in = (await StaffMember.get(email="nurse@trust.org")).last_login_at
    assert logged_in is not None and clock.now() - timedelta(seconds=5) < logged_in <= clock.now()

    clock.advance(staff.DORMANT_AFTER - timedelta(hours=1))
    assert await _staff(owner, world) == {"owner@trust.org": False, "nurse@trust.org": False, "never@trust.org": False}
    assert await _staff(owner, world, dormant_only=True) == {}

    clock.advance(timedelta(hours=1))  # 90 days since the log-in, and since the account that never logged in
    assert await _staff(owner, world, dormant_only=True) == {
        "owner@trust.org": True,
        "nurse@trust.org": True,
        "never@trust.org": True,
    }
    ticket = await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="test")
    await auth.complete_login(ticket=ticket)
    assert await _staff(owner, world, dormant_only=True) == {"owner@trust.org": True, "never@trust.org": True}


async def test_the_staff_list_shows_the_last_log_in_and_filters_dormant_members(user: User) -> None:
    world = await factories.world()
    await factories.member("old@trust.org", "clinician", dep=world.dep, full_name="Olga Old")
    clock.advance(staff.DORMANT_AFTER + timedelta(days=1))
    await factories.member("new@trust.org", "clinician", dep=world.dep, full_name="Nina New")
    await StaffMember.filter(email="new@trust.org").update(created_at=clock.now())  # made now, by the moved clock
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 3)
    shown = {r["email"]: r["last_login"] for r in table(user, "staff").rows}
    assert shown["old@trust.org"] == "Dormant: never logged in"
    assert shown["new@trust.org"] == "Never"
    assert shown["ac@trust.org"] == clock.now().strftime("%d %b %Y").lstrip("0")  # signed in just now

    select_labelled(user, "Overview filters").value = "dormant"
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == ["old@trust.org"])
