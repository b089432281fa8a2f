"""Dormant members: no log-in for the organisation's dormant_days (90 unless it changes them). The staff list says
so, and can show them alone."""

from datetime import timedelta

from nicegui.testing import User

from models import StaffMember
from services.access import auth
from services.organisations import access_settings, staff
from services.platform import clock
from tests import factor_helpers, factories
from tests.ui_helpers import eventually, select_labelled, sign_in, table

PASSWORD = "a long enough password"
DEFAULT_DORMANT = timedelta(days=90)  # an organisation's dormant_days until it changes them


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
    ticket = await factor_helpers.ticket(
        await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="test"), "nurse@trust.org"
    )
    await auth.complete_login(ticket=ticket)
    logged_in = (await StaffMember.get(email="nurse@trust.org")).last_login_at
    assert logged_in is not None and clock.now() - timedelta(seconds=5) < logged_in <= clock.now()

    clock.advance(DEFAULT_DORMANT - timedelta(hours=1))
    assert await _staff(owner, world) == {"owner@trust.org": False, "nurse@trust.org": False, "never@trust.org": False}
    assert await _staff(owner, world, dormant_only=True) == {}

    clock.advance(timedelta(hours=1))  # 90 days since the log-in, and since the account that never logged in
    assert await _staff(owner, world, dormant_only=True) == {
        "owner@trust.org": True,
        "nurse@trust.org": True,
        "never@trust.org": True,
    }
    ticket = await factor_helpers.ticket(
        await auth.login(email="nurse@trust.org", password=PASSWORD, redirect_to="/", client="test"), "nurse@trust.org"
    )
    await auth.complete_login(ticket=ticket)
    assert await _staff(owner, world, dormant_only=True) == {"owner@trust.org": True, "never@trust.org": True}


async def test_the_staff_list_shows_the_last_log_in_and_filters_dormant_members(user: User) -> None:
    world = await factories.world()
    await factories.member("old@trust.org", "clinician", dep=world.dep, full_name="Olga Old")
    clock.advance(DEFAULT_DORMANT + timedelta(days=1))
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


async def test_the_organisations_own_dormant_period_marks_and_filters_read_once_per_page(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    for name in ("nurse", "porter", "clerk"):
        await factories.member(f"{name}@trust.org", "clinician", dep=world.dep)
    elsewhere = await factories.member("lead@north.org", "organisation_owner", org=world.other_org)
    await access_settings.update(
        actor=owner, organisation_id=world.org.id, end_warning_days=[14, 7, 1], invitation_reminders=True,
        dormant_days=30, end_dormant_access=False,
    )  # fmt: skip
    clock.advance(timedelta(days=30) - timedelta(hours=1))
    assert await _staff(owner, world, dormant_only=True) == {}

    clock.advance(timedelta(hours=1))  # 30 days: dormant here, not in the other organisation (90, the default)
    with factories.statements() as captured:
        shown = await _staff(owner, world)
    assert shown == dict.fromkeys(["clerk@trust.org", "nurse@trust.org", "owner@trust.org", "porter@trust.org"], True)
    settings_reads = [s for s, _ in captured.statements if "dormant_days" in s and "role_assignment" not in s]
    assert len(settings_reads) == 1  # once for the page, not once per row
    assert set(await _staff(owner, world, dormant_only=True)) == set(shown)
    rows, _ = await staff.staff_page(actor=elsewhere, organisation_id=world.other_org.id, show="dormant")
    assert rows == []


async def test_the_dormant_view_follows_a_change_of_the_organisations_period_live(user: User) -> None:
    world = await factories.world()
    await factories.member("old@trust.org", "clinician", dep=world.dep, full_name="Olga Old")
    clock.advance(timedelta(days=40))
    owner = await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=dormant")
    await eventually(lambda: "90 days" in table(user, "staff").props["no-data-label"])
    assert table(user, "staff").rows == []
    await access_settings.update(
        actor=owner, organisation_id=world.org.id, end_warning_days=[14, 7, 1], invitation_reminders=True,
        dormant_days=30, end_dormant_access=False,
    )  # fmt: skip
    # The bound is about never, not speed: a CI run beside the browser tests needed more than 5 s.
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == ["old@trust.org"], within=20.0)
    assert table(user, "staff").props["no-data-label"] == "Nobody here has gone 30 days without logging in."
