"""The pending view's table rows: formatted once per shared reading, never shared between different visibilities."""

from datetime import timedelta

from models import Deployment
from pages import care_pending
from services.invitations import pending
from services.invitations import service as invitations
from services.platform import clock
from tests import factories


async def _invited(world: factories.World, *where: tuple[Deployment, str], hours: int = 72) -> factories.Actor:
    """An organisation owner who has invited each address to its deployment."""
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    role = await factories.role("supervisor")
    for dep, address in where:
        await invitations.send(
            actor=owner, addresses=[address], role_id=role.id, lifetime_hours=hours, deployment_id=dep.id
        )
    return owner


async def test_pages_sharing_a_reading_share_its_rows_and_other_visibilities_do_not(db: str) -> None:
    world = await factories.world()
    owner = await _invited(world, (world.dep, "one@example.org"), (world.dep2, "two@example.org"))
    editor = await factories.member("editor@trust.org", "organisation_owner", org=world.org)
    local = await factories.member("local@trust.org", "administrator", dep=world.dep)

    with pending.shared_reads({}):
        readings = [await pending.list_pending(actor=a, organisation_id=world.org.id) for a in (owner, editor, local)]
    rows = [care_pending._formatted(reading, "created").rows for reading in readings]
    assert readings[0] is readings[1] and rows[0] is rows[1]  # the same visibility: one reading, one formatting
    assert [row["email"] for row in rows[2]] == ["one@example.org"]  # the deployment's administrator: theirs only
    assert care_pending._formatted(readings[0], "email").edges != care_pending._formatted(readings[0], "created").edges


async def test_the_timer_formats_the_rows_on_screen_at_the_new_time(db: str) -> None:
    world = await factories.world()
    owner = await _invited(world, (world.dep, "one@example.org"), hours=24)
    reading = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    clock.advance(timedelta(hours=25))
    (row,) = care_pending._table_rows(reading, clock.now())
    assert row["expired"] and row["expires"] == "Expired" and row["last_sent"] == "1 day ago"
