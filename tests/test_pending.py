"""The pending list: visibility, search, every sort, and keyset pages that match plain paging."""

from datetime import timedelta

import pytest

from models import Invitation
from services.errors import PermissionDenied
from services.invitations import pending
from services.invitations import service as invitations
from services.platform import clock
from tests import factories


async def _fill(world: factories.World, owner: factories.Actor, count: int) -> None:
    role = await factories.role("supervisor")
    for start in range(0, count, 10):
        batch = [f"user{n:03d}@example.org" for n in range(start, min(count, start + 10))]
        await invitations.send(
            actor=owner, addresses=batch, role_id=role.id, lifetime_hours=72, deployment_id=world.dep.id
        )
        clock.advance(timedelta(minutes=1))  # distinct creation times per batch, ties inside each batch


@pytest.mark.parametrize("sort", ["created", "email", "expires", "last_sent"])
@pytest.mark.parametrize("descending", [False, True])
async def test_keyset_pages_forward_backward_and_from_the_end_match_offset_paging(
    db: str, sort: str, descending: bool
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await _fill(world, owner, 57)

    async def page(
        number: int, after: pending.Key | None = None, before: pending.Key | None = None
    ) -> pending.PendingPage:
        return await pending.list_pending(
            actor=owner,
            organisation_id=world.org.id,
            sort=sort,
            descending=descending,
            page=number,
            page_size=20,
            after=after,
            before=before,
        )

    plain = [[r.id for r in (await page(n)).rows] for n in (1, 2, 3)]
    assert sum(len(p) for p in plain) == 57 and len({i for p in plain for i in p}) == 57
    first = await page(1)
    second = await page(2, after=pending.edge_key(first.rows[-1], sort))
    third = await page(3, after=pending.edge_key(second.rows[-1], sort))
    back = await page(2, before=pending.edge_key(third.rows[0], sort))
    assert [[r.id for r in p.rows] for p in (first, second, third)] == plain
    assert [r.id for r in back.rows] == plain[1]
    assert first.total == 57


async def test_search_and_visibility_limit_the_list(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await _fill(world, owner, 12)
    found = await pending.list_pending(actor=owner, organisation_id=world.org.id, search="USER01")
    assert sorted(r.email for r in found.rows) == [f"user01{n}@example.org" for n in range(2)]
    dep2_admin = await factories.member("admin2@trust.org", "admin", dep=world.dep2)
    assert (await pending.list_pending(actor=dep2_admin, organisation_id=world.org.id)).total == 0
    outsider = await factories.member("ac@north.org", "access_controller", org=world.other_org)
    with pytest.raises(PermissionDenied):
        await pending.list_pending(actor=outsider, organisation_id=world.org.id)
    clock.advance(timedelta(hours=80))
    assert sorted(await pending.expired_ids(actor=owner, organisation_id=world.org.id)) == sorted(
        await Invitation.filter(organisation_id=world.org.id).values_list("id", flat=True)
    )
