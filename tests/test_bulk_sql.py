"""Bulk sends across statement chunks: every email keeps its own invitation, look-ups and replacements see every row."""

import pytest
from tortoise import connections

from models import AuditEvent, Deployment, Invitation, InvitationState, Organisation, OutboxMessage, OutboxState
from services.access import roles, tokens
from services.invitations import service as invitations
from services.platform import sql
from services.platform.database import connected
from tests import factories

ADDRESSES = [f"staff{n}@example.org" for n in range(23)]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "CHUNK", 5)
    monkeypatch.setattr(sql, "LOOKUP_CHUNK", 4)
    monkeypatch.setattr(invitations, "IN_THREAD_ABOVE", 10)


async def _send(addresses: list[str]) -> invitations.SendResult:
    if not await Organisation.exists():
        world = await factories.world()
        await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    owner = await factories.actor_of("owner@trust.org")
    role = await factories.role("clinician")
    deployment = await Deployment.get(name="Heart Failure Trial")
    return await invitations.send(
        actor=owner, addresses=addresses, role_id=role.id, lifetime_hours=72, deployment_id=deployment.id
    )


async def test_every_email_of_a_chunked_send_carries_the_link_of_its_own_invitation(db: str) -> None:
    result = await _send(ADDRESSES)

    assert result.invited == ADDRESSES
    by_id = {i.id: i for i in await Invitation.all()}
    messages = await OutboxMessage.all().order_by("id")
    assert [m.recipient for m in messages] == ADDRESSES
    for message in messages:
        assert message.invitation_id is not None
        invitation = by_id[message.invitation_id]
        assert invitation.email == message.recipient
        assert invitation.token_hash == tokens.hash_token(factories.token_of(message))
    assert await AuditEvent.filter(action="invite").count() == len(ADDRESSES)


async def test_sending_again_replaces_every_pending_invitation_across_chunks(db: str) -> None:
    first = await _send(ADDRESSES)

    again = await _send(ADDRESSES)

    assert first.invited == ADDRESSES and again.replaced == ADDRESSES and again.invited == []
    assert await Invitation.filter(state=InvitationState.PENDING).count() == len(ADDRESSES)
    assert await Invitation.filter(state=InvitationState.DELETED).count() == len(ADDRESSES)
    assert await OutboxMessage.filter(state=OutboxState.FAILED).count() == len(ADDRESSES)
    assert await OutboxMessage.filter(state=OutboxState.QUEUED).count() == len(ADDRESSES)


async def test_ids_are_found_by_their_key_when_new_rows_are_not_numbered_in_one_run() -> None:
    async with connected("sqlite://:memory:", generate=True):  # SQLite only: PostgreSQL returns the ids
        await roles.seed_defaults()
        await _send(ADDRESSES[:3])
        rows = await Invitation.all().order_by("id").values_list("id", "token_hash")
        await Invitation.filter(id=rows[1][0]).delete()  # a gap: the others' ids are no longer one run

        keys = [rows[0][1], rows[2][1]]
        ids = await sql._sqlite_ids(connections.get("default"), Invitation, "token_hash", keys)

    assert ids == [rows[0][0], rows[2][0]]


async def test_one_is_postgres_answers_for_urls_and_connections_and_numbers_placeholders(db: str) -> None:
    assert [sql.is_postgres(url) for url in ("postgres://u@h/d", "postgresql://u@h/d", "asyncpg://u@h/d")] == [
        True,
        True,
        True,
    ]
    assert not sql.is_postgres("sqlite://gatehouse.sqlite3")
    connection = connections.get("default")
    postgres = db == "postgres"
    assert sql.is_postgres(connection) is postgres
    numbered = sql.numbered(connection, "SELECT 1 WHERE a = ? AND b = ?")
    assert numbered == ("SELECT 1 WHERE a = $1 AND b = $2" if postgres else "SELECT 1 WHERE a = ? AND b = ?")
    assert sql.marks(connection)(3) == ("$3" if postgres else "?3")
