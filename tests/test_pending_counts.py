"""The pending list's counts and search index, kept by the database's triggers (models/derived.py): exact after
every kind of write, and a search that finds what a scan of every address finds. Run on SQLite and PostgreSQL."""

from datetime import timedelta
from typing import Any

from tortoise import connections

from models import Invitation, InvitationState, Organisation, PendingCount
from services.invitations import pending
from services.invitations import service as invitations
from services.platform import clock, housekeeping
from services.platform import sql as sql_dialect
from tests import factories

_COUNTED = (
    "SELECT organisation_id, COALESCE(deployment_id, 0), COUNT(*) FROM invitation "
    "WHERE state = 'pending' AND organisation_id IS NOT NULL GROUP BY 1, 2"
)


async def _counts_match_the_rows() -> None:
    _, rows = await connections.get("default").execute_query(_COUNTED)
    counted = {(int(org), int(dep)): int(n) for org, dep, n in rows}
    kept = {(c.organisation_id, c.deployment_id): c.pending for c in await PendingCount.all() if c.pending}
    assert kept == counted
    assert all(c.pending >= 0 for c in await PendingCount.all())


async def test_counts_stay_exact_through_sends_imports_deletions_state_changes_and_cascades(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    other_owner = await factories.member("owner@north.org", "organisation_owner", org=world.other_org)
    role = await factories.role("supervisor")

    async def send(actor: factories.Actor, addresses: list[str], **scope: int) -> None:
        where: dict[str, Any] = scope
        await invitations.send(actor=actor, addresses=addresses, role_id=role.id, lifetime_hours=72, **where)

    await send(owner, [f"dep{n}@example.org" for n in range(7)], deployment_id=world.dep.id)
    await send(owner, [f"org{n}@example.org" for n in range(5)], organisation_id=world.org.id)
    await send(owner, [f"bulk{n:05d}@example.org" for n in range(6_000)], deployment_id=world.dep2.id)  # 2 chunks
    await send(other_owner, ["far@example.org"], deployment_id=world.other_dep.id)
    await send(owner, ["dep1@example.org", "dep2@example.org"], deployment_id=world.dep.id)  # replaced, not added
    await _counts_match_the_rows()
    audience = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    assert audience.total == 7 + 5 + 6_000

    dep_ids: list[int] = await Invitation.filter(deployment_id=world.dep.id).values_list("id", flat=True)  # type: ignore[assignment]
    await invitations.delete(actor=owner, invitation_ids=dep_ids[:3])
    await Invitation.filter(email__startswith="bulk0001").update(state=InvitationState.ACCEPTED)
    await Invitation.filter(email="org0@example.org").update(deployment_id=world.dep.id)  # moved to a deployment
    await Invitation.filter(email="org1@example.org").update(state=InvitationState.DELETED)
    await Invitation.filter(email="org1@example.org").update(state=InvitationState.PENDING)  # and back
    await Invitation.filter(email__startswith="bulk0002").delete()
    invitation = await Invitation.get(email="org2@example.org")
    invitation.state = InvitationState.ACCEPTED
    await invitation.save()  # a save writes every column: only a real change of state may count
    await invitation.save()
    await _counts_match_the_rows()

    clock.advance(timedelta(days=400))
    await housekeeping.purge(retention_days=30)  # many rows deleted in one statement
    await _counts_match_the_rows()
    await send(owner, ["late@example.org"], deployment_id=world.dep.id)
    await Organisation.filter(id=world.other_org.id).delete()  # the database's cascade deletes its invitations
    await _counts_match_the_rows()
    admin = await factories.member("admin@trust.org", "admin", dep=world.dep)
    shown = await pending.list_pending(actor=admin, organisation_id=world.org.id)
    assert shown.total == await Invitation.filter(state=InvitationState.PENDING, deployment_id=world.dep.id).count()


async def test_search_finds_every_substring_a_scan_finds_and_follows_changes(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    role = await factories.role("supervisor")
    addresses = ["ann.o'neil@st-marys.example", "bob_smith@example.org", "carla%x@example.org", "dev.smith@nhs.example"]
    await invitations.send(actor=owner, addresses=addresses, role_id=role.id, lifetime_hours=72,
                           deployment_id=world.dep.id)  # fmt: skip
    await invitations.send(actor=owner, addresses=["eve.smith@example.org"], role_id=role.id, lifetime_hours=72,
                           deployment_id=world.dep2.id)  # fmt: skip

    async def found(term: str, actor: factories.Actor = owner) -> list[str]:
        page = await pending.list_pending(
            actor=actor, organisation_id=world.org.id, search=term, sort="email", descending=False
        )
        assert page.total == len(page.rows)
        return [r.email for r in page.rows]

    assert await found("SMITH") == ["bob_smith@example.org", "dev.smith@nhs.example", "eve.smith@example.org"]
    assert await found("b_s") == ["bob_smith@example.org"]  # _ and % are characters, not wildcards
    assert await found("a%x") == ["carla%x@example.org"]
    assert await found("o'neil@st-") == ["ann.o'neil@st-marys.example"]
    assert await found('"') == [] and await found('smith"') == []  # the index's quoting cannot be broken out of
    assert await found("mi") == ["bob_smith@example.org", "dev.smith@nhs.example", "eve.smith@example.org"]
    assert await found("@n") == ["dev.smith@nhs.example"]  # shorter than a trigram, across the @
    assert await found("h@nhs") == await found("smith@nhs") == ["dev.smith@nhs.example"]  # local part short, long
    admin2 = await factories.member("admin2@trust.org", "admin", dep=world.dep2)
    assert await found("smith", admin2) == ["eve.smith@example.org"]

    await Invitation.filter(email="bob_smith@example.org").update(state=InvitationState.ACCEPTED)
    await Invitation.filter(email="dev.smith@nhs.example").update(email="dev.jones@nhs.example")
    assert await found("smith") == ["eve.smith@example.org"]
    assert await found("jones") == ["dev.jones@nhs.example"]
    await Invitation.filter(email="bob_smith@example.org").update(state=InvitationState.PENDING)
    assert await found("smith") == ["bob_smith@example.org", "eve.smith@example.org"]


async def test_postgres_searches_by_a_trigram_index_and_sqlite_seeks_keyset_pages_inside_ties(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    role = await factories.role("supervisor")
    await invitations.send(
        actor=owner,
        addresses=[f"x{n:02d}@example.org" for n in range(50)],
        role_id=role.id,
        lifetime_hours=72,
        deployment_id=world.dep.id,
    )  # fmt: skip  one instant: 50 ties
    connection = connections.get("default")
    if sql_dialect.is_postgres(connection):  # with 50 rows a scan is cheapest; bench.pending_list shows the plan
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'invitation_pending_email_trigram'"
        definition = (await connection.execute_query(sql))[1][0][0]
        assert "gin (email gin_trgm_ops) WHERE" in definition and "'pending'" in definition
        return
    first = await pending.list_pending(actor=owner, organisation_id=world.org.id, sort="created", page_size=20)
    with factories.statements() as captured:
        after = pending.edge_key(first.rows[-1], "created")
        second = await pending.list_pending(
            actor=owner, organisation_id=world.org.id, sort="created", page=2, page_size=20, after=after
        )
    assert [r.id for r in second.rows] == sorted((r.id for r in second.rows), reverse=True)
    assert second.rows[0].id == first.rows[-1].id - 1 and len(second.rows) == 20
    sql, values = next((sql, values) for sql, values in captured.statements if "UNION ALL" in sql)
    plan = [r["detail"] for r in await connection.execute_query_dict("EXPLAIN QUERY PLAN " + sql, values)]
    assert any("created_at=? AND id<?" in line for line in plan), plan  # a seek into the ties, not a walk
