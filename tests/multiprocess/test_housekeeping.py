"""Housekeeping: expiries reach the right lists, old finished invitations are purged (audit kept), one leader."""

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage
from services.invitations import service as invitations
from services.platform import clock, events, housekeeping
from services.platform.clock import now
from tests import factories


async def _invite(world: factories.World, *addresses: str, hours: int = 24, other: bool = False) -> list[Invitation]:
    boss = await factories.actor_of("boss@platform.org")
    role = await factories.role("clinician")
    deployment = world.other_dep if other else world.dep
    await invitations.send(
        actor=boss, addresses=list(addresses), role_id=role.id, lifetime_hours=hours, deployment_id=deployment.id
    )
    return await Invitation.filter(email__in=addresses).order_by("id")


async def test_an_expiry_is_announced_once_and_only_to_its_organisation(db: str) -> None:
    world = await factories.world()
    await factories.member("boss@platform.org", "super_admin")
    start = now()
    await _invite(world, "soon@example.org", hours=24)
    await _invite(world, "later@example.org", hours=72, other=True)
    heard: dict[int, list[str]] = {world.org.id: [], world.other_org.id: []}
    for organisation_id, kinds in heard.items():
        events.subscribe(organisation_id=organisation_id, handler=kinds.append)

    clock.advance(timedelta(hours=25))
    announced = await housekeeping.announce_expired(since=start, until=now())
    again = await housekeeping.announce_expired(since=now(), until=now() + timedelta(seconds=1))

    assert announced == {world.org.id} and again == set()
    assert heard == {world.org.id: ["expired"], world.other_org.id: []}
    assert await housekeeping.next_expiry(after=now()) == (await Invitation.get(email="later@example.org")).expires_at


async def test_finished_invitations_older_than_the_retention_are_purged_and_the_audit_stays(db: str) -> None:
    world = await factories.world()
    await factories.member("boss@platform.org", "super_admin")
    old = await _invite(world, "accepted@example.org", "deleted@example.org", "expired@example.org")
    recent = await _invite(world, "deleted.recently@example.org", "pending@example.org", hours=168)
    long_ago = now() - timedelta(days=100)
    await Invitation.filter(id=old[0].id).update(state=InvitationState.ACCEPTED, accepted_at=long_ago)
    await Invitation.filter(id=old[1].id).update(state=InvitationState.DELETED, deleted_at=long_ago)
    await Invitation.filter(id=old[2].id).update(expires_at=long_ago)
    await Invitation.filter(id=recent[0].id).update(state=InvitationState.DELETED, deleted_at=now())
    await OutboxMessage.filter(invitation_id=old[0].id).update(created_at=long_ago)
    audit_before = await AuditEvent.filter(action="invite").count()
    heard: list[str] = []
    events.subscribe(organisation_id=world.org.id, handler=heard.append)

    with factories.statements() as captured:
        report = await housekeeping.purge(retention_days=90)

    assert report.invitations == 3 and report.messages == 3
    if db == "postgres":  # the rows a purge takes are locked against a resend at the same moment
        chosen = [
            sql for sql, _ in captured.statements if sql.lstrip().upper().startswith("SELECT") and "invitation" in sql
        ]
        assert chosen and all("FOR UPDATE" in sql for sql in chosen), chosen
    remaining = await Invitation.all().order_by("id").values_list("email", flat=True)
    assert remaining == ["deleted.recently@example.org", "pending@example.org"]
    assert await OutboxMessage.filter(invitation_id__in=[i.id for i in old]).count() == 0
    assert await AuditEvent.filter(action="invite").count() == audit_before
    purge = await AuditEvent.get(action="purge", organisation_id=world.org.id)
    assert purge.detail == {"invitations": 3, "retention_days": 90} and purge.actor_id is None
    assert heard == ["purged"]
    assert await housekeeping.purge(retention_days=90) == housekeeping.PurgeReport()


async def test_on_sqlite_the_only_process_runs_housekeeping(db: str) -> None:
    if db != "sqlite":
        pytest.skip("SQLite only: PostgreSQL elects a leader (test below)")
    keeper = housekeeping.Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=60)
    assert await keeper.lead()
    await keeper.run_once()
    assert keeper.leader and keeper.last_run_at is not None


async def test_on_postgres_one_process_leads_and_another_takes_over_when_it_dies(postgres_url: str) -> None:
    first, second = (
        housekeeping.Housekeeper(database_url=postgres_url, retention_days=90, interval_seconds=60) for _ in range(2)
    )
    try:
        assert await first.lead()
        assert not await second.lead()
        assert await first.lead(), "the leader keeps the lead while its session lives"
        assert first._connection is not None
        killer = await asyncpg.connect(postgres_url)
        try:
            await killer.fetchval("SELECT pg_terminate_backend($1)", first._connection.get_server_pid())
        finally:
            await killer.close()
        for _ in range(100):  # bounded: PostgreSQL frees the lock as soon as the session ends
            if await second.lead():
                break
            await asyncio.sleep(0.05)
        assert second.leader
        assert not await first.lead(), "the old leader must notice it lost the lead"
    finally:
        await first.stop()
        await second.stop()
