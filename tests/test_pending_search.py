"""The pending list's search finds exactly what a scan of every address finds, on SQLite through its trigram index
(models/derived.py, services/invitations/pending_search.py) and on PostgreSQL through pg_trgm: the same answers,
case-insensitive, for few matches and for many (pages by keyset as by OFFSET), after every kind of write."""

from datetime import timedelta

from tortoise import connections

from models import Invitation, InvitationState, Organisation
from services.access import service as access
from services.invitations import pending, pending_search
from services.invitations import service as invitations
from services.platform import sql as sql_dialect
from services.platform.clock import now
from tests import factories

ADDRESSES = [
    "Bob.Smith@Example.org",  # stored lower-cased, as every address the service writes
    "ANN.SMITHSON@nhs.example",
    "müller@bücher.example",  # an internationalised domain
    "carla%x@example.org",
    "dev_smith@example.org",
    'quote"d@example.org',
    "eve@smith.example",
]


async def _search(actor: factories.Actor, org_id: int, term: str, **query: object) -> pending.PendingPage:
    return await pending.list_pending(actor=actor, organisation_id=org_id, search=term, page_size=100, **query)  # type: ignore[arg-type]


async def test_search_finds_what_a_case_insensitive_scan_finds_in_the_organisation_only(db: str) -> None:
    world, owner, other, role = await _sent()
    await invitations.send(actor=other, addresses=["bob.smith@example.org", "far@smith.example"], role_id=role.id,
                           lifetime_hours=72, deployment_id=world.other_dep.id)  # fmt: skip
    stored = await Invitation.filter(organisation_id=world.org.id).values_list("email", flat=True)
    terms = ["smith", "SMITH", "Bob.Smith@Example.org", "bob.smith@example.org", "h@ex", "ann.smithson@",
             "müller", "bücher", "ÜCHER", "a%x", "v_s", '"d@', "mith", "sm", "@", "nobody"]  # fmt: skip
    for term in terms:
        page = await _search(owner, world.org.id, term, sort="email", descending=False)
        expected = sorted(e for e in stored if term.lower() in str(e).lower())
        assert ([r.email for r in page.rows], page.total) == (expected, len(expected)), term


async def test_search_follows_deletions_changes_and_cascades(db: str) -> None:
    world, owner, other, role = await _sent()
    await invitations.send(actor=other, addresses=["bob.smith@north.example"], role_id=role.id, lifetime_hours=72,
                           deployment_id=world.other_dep.id)  # fmt: skip
    gone = await Invitation.get(email="dev_smith@example.org")
    await invitations.delete(actor=owner, invitation_ids=[gone.id])
    await Invitation.filter(email="eve@smith.example").update(email="eve@jones.example")
    await Invitation.filter(email="ann.smithson@nhs.example").update(state=InvitationState.ACCEPTED)
    page = await _search(owner, world.org.id, "smith", sort="email", descending=False)
    assert ([r.email for r in page.rows], page.total) == (["bob.smith@example.org"], 1)
    assert (await _search(owner, world.org.id, "jones")).total == 1
    await Organisation.filter(id=world.other_org.id).delete()  # the database's cascade
    await invitations.send(
        actor=owner,
        addresses=["bob.smith@north.example"],
        role_id=role.id,
        lifetime_hours=72,
        deployment_id=world.dep2.id,
    )  # fmt: skip  the same address, now in this organisation
    page = await _search(owner, world.org.id, "bob.smith@north.example")
    assert ([r.email for r in page.rows], page.total) == (["bob.smith@north.example"], 1)


async def _sent() -> tuple[factories.World, factories.Actor, factories.Actor, access.RoleInfo]:
    """ADDRESSES invited to the first organisation's first deployment; its owner, the other's owner, the role."""
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    other = await factories.member("owner@north.org", "organisation_owner", org=world.other_org)
    role = await factories.role("supervisor")
    await invitations.send(actor=owner, addresses=ADDRESSES, role_id=role.id, lifetime_hours=72,
                           deployment_id=world.dep.id)  # fmt: skip
    return world, owner, other, role


async def test_many_matches_page_by_keyset_as_by_offset_up_to_the_count_cap_for_every_viewer(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    admin = await factories.member("admin@trust.org", "admin", dep=world.dep)
    role = await factories.role("supervisor")
    many = pending_search.WALK_ABOVE + 150  # a page walks the sort's index (services/invitations/pending_search.py)
    for n, dep in enumerate((world.dep, world.dep2)):
        addresses = [f"p{n}.smith{i:04d}@example.org" for i in range(many // 2)] + [f"p{n}.x{i}@jones.example"
                                                                                       for i in range(40)]  # fmt: skip
        await invitations.send(actor=owner, addresses=addresses, role_id=role.id, lifetime_hours=72,
                               deployment_id=dep.id)  # fmt: skip
    for actor, deployment in ((owner, None), (admin, world.dep.id)):
        for sort, descending in (("email", False), ("created", True)):
            query = Invitation.filter(organisation_id=world.org.id, email__contains="smith")
            if deployment is not None:
                query = query.filter(deployment_id=deployment)
            matching = await _ordered_ids(query, sort, descending)
            shown = matching[: pending.SEARCH_COUNT_CAP]  # the owner's 1,150 matches: the first 1,000 are shown
            seen: list[int] = []
            after = None
            for page_number in range(1, -(-len(shown) // 100) + 1):
                page = await _search(actor, world.org.id, "SMITH", sort=sort, descending=descending,
                                     page=page_number, after=after)  # fmt: skip
                assert (page.total, page.capped) == (len(shown), len(matching) > pending.SEARCH_COUNT_CAP)
                offset = await _search(actor, world.org.id, "smith", sort=sort, descending=descending,
                                       page=page_number)  # fmt: skip
                assert [r.id for r in page.rows] == [r.id for r in offset.rows]
                seen += [r.id for r in page.rows]
                after = pending.edge_key(page.rows[-1], sort)
            assert seen == shown, (sort, deployment)
            last = await _search(actor, world.org.id, "smith", sort=sort, descending=descending, page=10**6)
            assert [r.id for r in last.rows] == shown[
                (len(shown) - 1) // 100 * 100 :
            ]  # the cap's last page, not the end


async def _ordered_ids(query: object, sort: str, descending: bool) -> list[int]:
    rows = await query.values_list(pending.SORTS[sort], "id")  # type: ignore[attr-defined]
    return [row_id for _, row_id in sorted(rows, reverse=descending)]


async def test_sqlite_reads_its_trigram_index_not_the_organisations_rows(db: str) -> None:
    world, owner, _, _ = await _sent()
    connection = connections.get("default")
    if sql_dialect.is_postgres(connection):  # its trigram index: tests/test_pending_counts.py
        return
    with factories.statements() as captured:
        await _search(owner, world.org.id, "Bob.Smith@Example.org")
    plans = [
        [r["detail"] for r in await connection.execute_query_dict("EXPLAIN QUERY PLAN " + sql, values)]
        for sql, values in captured.statements
        if "FROM invitation" in sql
    ]
    assert plans and all(any("invitation_search VIRTUAL TABLE" in line for line in plan) for plan in plans), plans
    assert all(any(line.startswith("SEARCH i USING INTEGER PRIMARY KEY") for line in plan) for plan in plans), plans


async def test_a_send_indexes_its_rows_in_one_statement_and_single_rows_by_the_trigger(db: str) -> None:
    with factories.statements() as captured:
        world, owner, _, role = await _sent()
    at = now()
    await Invitation.create(
        email="zed.smith@example.org",
        role_id=role.id,
        level="deployment",
        organisation=world.org,
        deployment_id=world.dep2.id,
        scope_key=f"dep:{world.dep2.id}",
        token_hash="h",
        lifetime_hours=72,
        created_at=at,
        last_sent_at=at,
        expires_at=at + timedelta(hours=72),
    )  # fmt: skip  one row by the ORM: the insert trigger indexes it
    page = await _search(owner, world.org.id, "smith", sort="email", descending=False)
    expected = ["ann.smithson@nhs.example", "bob.smith@example.org", "dev_smith@example.org", "eve@smith.example"]
    assert [r.email for r in page.rows] == [*expected, "zed.smith@example.org"]
    connection = connections.get("default")
    if not sql_dialect.is_postgres(connection):
        indexing = [sql for sql, _ in captured.statements if sql.lstrip().startswith("INSERT INTO invitation_search")]
        assert len(indexing) == 1  # the whole send in one statement
        assert (await connection.execute_query("SELECT COUNT(*) FROM invitation_search_deferred"))[1][0][0] == 0
