"""The staff list's views of grants by their end: ending within 30 days, and ended (kept as history)."""

from datetime import timedelta

from nicegui.testing import User

from models import RoleAssignment, StaffMember
from services.organisations import staff
from services.platform import clock
from tests import factories
from tests.ui_helpers import eventually, select_labelled, sign_in, table


async def _people(world: factories.World) -> None:
    """Soon ends in 10 days, Later in 40, Never has no end, Gone's grant was removed (ended, kept)."""
    for name, ends_in in (("soon", 10), ("later", 40), ("never", None), ("gone", None)):
        person = await StaffMember.create(email=f"{name}@trust.org", full_name=name.title(), password_hash="-")
        ends_at = clock.now() + timedelta(days=ends_in) if ends_in else None
        await factories.grant(person.id, "clinician", dep=world.dep, ends_at=ends_at)
    await RoleAssignment.filter(member__email="gone@trust.org").update(ended_at=clock.now())


async def _emails(owner: factories.Actor, world: factories.World, show: str) -> set[str]:
    rows, total = await staff.staff_page(actor=owner, organisation_id=world.org.id, show=show)
    assert total == len(rows)
    return {row.email for row in rows}


async def test_each_view_shows_the_grants_it_names_and_ended_ones_only_as_history(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await _people(world)

    assert await _emails(owner, world, "all") == {
        "owner@trust.org",
        "soon@trust.org",
        "later@trust.org",
        "never@trust.org",
    }
    assert await _emails(owner, world, "ending") == {"soon@trust.org"}
    assert await _emails(owner, world, "ended") == {"gone@trust.org"}
    gone, _ = await staff.staff_page(actor=owner, organisation_id=world.org.id, show="ended")
    assert gone[0].ended_at is not None and not gone[0].manageable  # history: nothing to change or remove

    clock.advance(timedelta(days=11))  # Soon's end has come: refused at once, shown as ended before housekeeping runs
    assert await _emails(owner, world, "ended") == {"gone@trust.org", "soon@trust.org"}
    assert await _emails(owner, world, "ending") == {"later@trust.org"}  # 29 days left


async def test_the_overview_filters_show_access_ending_soon_and_ended_access(user: User) -> None:
    world = await factories.world()
    await _people(world)
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 4)

    select_labelled(user, "Overview filters").value = "ending"
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == ["soon@trust.org"])

    select_labelled(user, "Overview filters").value = "ended"
    await eventually(lambda: [r["email"] for r in table(user, "staff").rows] == ["gone@trust.org"])
    row = table(user, "staff").rows[0]
    assert str(row["ends"]).startswith("Ended ") and not row["manageable"]
