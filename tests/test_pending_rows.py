"""The pending view's table rows: read and formatted once per View, never shared between different visibilities."""

from dataclasses import replace
from datetime import UTC, timedelta

from components.live import View
from components.paged_table import PageRequest
from models import Deployment
from pages import care_pending
from services.invitations import pending
from services.invitations import service as invitations
from services.platform import clock
from tests import factories

REQUEST = PageRequest(search="", sort="created", descending=True, page=1, page_size=25)


async def _invited(world: factories.World, *where: tuple[Deployment, str], hours: int = 72) -> factories.Actor:
    """An organisation owner who has invited each address to its deployment."""
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    role = await factories.role("supervisor")
    for dep, address in where:
        await invitations.send(
            actor=owner, addresses=[address], role_id=role.id, lifetime_hours=hours, deployment_id=dep.id
        )
    return owner


async def test_viewers_who_may_see_the_same_share_a_view_and_other_visibilities_do_not(db: str) -> None:
    world = await factories.world()
    owner = await _invited(world, (world.dep, "one@example.org"), (world.dep2, "two@example.org"))
    editor = await factories.member("editor@trust.org", "organisation_owner", org=world.org)
    local = await factories.member("local@trust.org", "administrator", dep=world.dep)

    audiences = [await pending.visible_to(a, world.org.id) for a in (owner, editor, local)]
    views = [View("pending", world.org.id, audience, REQUEST) for audience in audiences]
    assert views[0] == views[1] != views[2]  # one reading for the owners' pages, another for the administrator's
    _, theirs = await care_pending._read(audiences[2], REQUEST, UTC)
    assert [row["email"] for row in theirs.rows] == ["one@example.org"]  # the deployment's administrator: theirs
    _, by_email = await care_pending._read(audiences[0], replace(REQUEST, sort="email"), UTC)
    _, by_created = await care_pending._read(audiences[0], REQUEST, UTC)
    assert by_email.edges != by_created.edges


async def test_the_timer_formats_the_rows_on_screen_at_the_new_time(db: str) -> None:
    world = await factories.world()
    owner = await _invited(world, (world.dep, "one@example.org"), hours=24)
    reading = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    clock.advance(timedelta(hours=25))
    (row,) = care_pending._table_rows(reading, clock.now(), UTC)
    assert row["expired"] and row["expires"] == "Expired" and row["last_sent"] == "25 hours ago"
