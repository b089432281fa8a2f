"""The migrations create the schema the models describe, on a real database file (and PostgreSQL in CI)."""

from datetime import timedelta
from pathlib import Path

from tortoise import Tortoise, connections
from tortoise.contrib.fastapi import RegisterTortoise
from tortoise.migrations.api.migrate import migrate

from models import DeliveryState, Invitation, Organisation, OutboxMessage, Role, StaffMember
from services.access import roles
from services.platform.clock import now
from services.platform.database import connected, tortoise_config


async def test_migrations_build_a_working_sqlite_file_and_apply_twice_without_change(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/gatehouse.sqlite3"
    async with connected(url):
        await roles.seed_defaults()
        await StaffMember.create(email="a@example.org", full_name="A", password_hash="x")
    async with connected(url):
        assert await StaffMember.filter(email="a@example.org").exists()
        assert await Role.filter(key="super_admin").exists()


async def test_a_sqlite_file_is_opened_durable_with_a_large_page_cache(tmp_path: Path) -> None:
    async with connected(f"sqlite://{tmp_path}/gatehouse.sqlite3"):
        connection = connections.get("default")
        pragmas = {name: (await connection.execute_query(f"PRAGMA {name}"))[1][0][0] for name in _PRAGMAS}
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "cache_size": -65536, "busy_timeout": 5000}


_PRAGMAS = ("journal_mode", "synchronous", "cache_size", "busy_timeout")


async def test_the_models_have_no_changes_missing_from_the_migrations() -> None:
    from tortoise.migrations.autodetector import MigrationAutodetector

    config = tortoise_config("sqlite://:memory:")
    async with RegisterTortoise(config=config):
        writers = await MigrationAutodetector(Tortoise.apps, config["apps"]).changes()
        assert writers == [], "a model changed without a migration: run tortoise makemigrations"


async def test_an_upgrade_fails_emails_still_queued_with_a_stored_link_and_keeps_notices(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path}/gatehouse.sqlite3")
    await migrate(config=config, target="models.0006_outbox_newest_email_index")
    async with RegisterTortoise(config=config):
        invitation = await _legacy_invitation()
        await connections.get("default").execute_query(_LEGACY_ROWS, [invitation.id, invitation.organisation_id])

    async with connected(config["connections"]["default"]):
        rows = await OutboxMessage.all().order_by("id").values_list("recipient", "state", "last_error", "link_seed")
        upgraded = await Invitation.get(id=invitation.id)
    reason = "queued before an upgrade of Gatehouse: resend the invitation"
    assert rows == [("invited@example.org", "failed", reason, None), ("member@example.org", "queued", "", None)]
    assert (upgraded.delivery_state, upgraded.delivery_error) == (DeliveryState.FAILED, reason)


async def _legacy_invitation() -> Invitation:
    await roles.seed_defaults()
    organisation = await Organisation.create(name="Trust", created_at=now())
    return await Invitation.create(
        email="invited@example.org", role=await Role.get(key="clinician"), level="organisation",
        organisation=organisation, scope_key=f"org:{organisation.id}", token_hash="h", lifetime_hours=72,
        created_at=now(), last_sent_at=now(), expires_at=now() + timedelta(hours=72),
    )  # fmt: skip


# Two emails as the release before 0007 queued them: an invitation with its raw link, a notice linking to log in.
_LEGACY_ROWS = """
INSERT INTO outbox_message (kind, recipient, context, link, invitation_id, organisation_id, state, attempts,
    next_attempt_at, last_error, created_at) VALUES
    ('invitation', 'invited@example.org', '{}', 'http://localhost:8080/accept/raw-token', ?, ?, 'queued', 1,
     '2026-12-01 10:00:00+00:00', '', '2026-12-01 10:00:00+00:00'),
    ('role_notice', 'member@example.org', '{}', 'http://localhost:8080/login', NULL, NULL, 'queued', 0,
     '2026-12-01 10:00:00+00:00', '', '2026-12-01 10:00:00+00:00')
"""
