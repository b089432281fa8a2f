"""The migrations create the schema the models describe, on a real database file (and PostgreSQL in CI)."""

import os
from pathlib import Path

import pytest
from tortoise import Tortoise, connections
from tortoise.contrib.fastapi import RegisterTortoise
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api.migrate import migrate

from models import (
    DeliveryState,
    Invitation,
    Organisation,
    OutboxMessage,
    PendingCount,
    Role,
    RoleAssignment,
    StaffMember,
)
from services.access import roles
from services.invitations import pending, pending_search
from services.platform import sql as sql_dialect
from services.platform.clock import now
from services.platform.database import connected, tortoise_config
from tests.conftest import POSTGRES_URL, copy_of, create_database


async def test_migrations_build_a_working_sqlite_file_and_apply_twice_without_change(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    # migrated_sqlite is the run's one SQLite file migrated from empty (tests/conftest.py): the first build, proven here
    url = f"sqlite://{copy_of(migrated_sqlite, tmp_path)}"
    async with connected(url):
        await roles.seed_defaults()
        await StaffMember.create(email="a@example.org", full_name="A", password_hash="x")
    async with connected(url):
        assert await StaffMember.filter(email="a@example.org").exists()
        assert await Role.filter(key="super_admin").exists()


async def test_a_sqlite_file_is_opened_durable_with_a_large_page_cache(tmp_path: Path, migrated_sqlite: Path) -> None:
    async with connected(f"sqlite://{copy_of(migrated_sqlite, tmp_path)}"):
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


@pytest.mark.data  # also on PostgreSQL (./test.sh): there the schema is dropped and rebuilt, step by step
async def test_an_upgrade_counts_and_indexes_the_invitations_already_pending(tmp_path: Path) -> None:
    url = await _release_with_rows(tmp_path, "models.0007_links_never_stored")
    async with connected(url):
        counts = await PendingCount.all().order_by("deployment_id").values_list("deployment_id", "pending")
        whole = await pending.read_page(pending.Audience(1, None), search="example.org")
        study = await pending.read_page(pending.Audience(1, (1,)))
    assert counts == [(0, 1), (1, 1)]
    assert sorted(r.email for r in whole.rows) == ["invited@example.org", "study@example.org"] and whole.total == 2
    assert [r.email for r in study.rows] == ["study@example.org"] and study.total == 1


@pytest.mark.data
async def test_an_upgrade_to_0009_indexes_the_pending_addresses_already_there_for_search(tmp_path: Path) -> None:
    url = await _release_with_rows(tmp_path, "models.0008_pending_counts_and_search")
    async with connected(url):
        one = await pending.read_page(pending.Audience(1, None), search="study@example.org")
        common = await pending.read_page(pending.Audience(1, None), search="example")
        connection = connections.get("default")
        if not sql_dialect.is_postgres(connection):  # the index itself holds the pending addresses, and only them
            indexed = await connection.execute_query(
                f"SELECT COUNT(*) FROM ({pending_search.COUNT})",  # noqa: S608  constants only
                ['"example"', 1 << 32, (2 << 32) - 1],
            )
            assert indexed[1][0][0] == 2
    assert ([r.email for r in one.rows], one.total) == (["study@example.org"], 1)
    assert sorted(r.email for r in common.rows) == ["invited@example.org", "study@example.org"] and common.total == 2


async def _release_with_rows(tmp_path: Path, release: str) -> str:
    """A database migrated up to release, holding _RELEASE_0007_ROWS written by SQL; PostgreSQL's schema rebuilt."""
    url = f"sqlite://{tmp_path}/gatehouse.sqlite3"
    if os.environ.get("GATEHOUSE_TEST_DATABASE") == "postgres":
        url = POSTGRES_URL  # this worker's database
        await create_database(url)
        async with RegisterTortoise(config=tortoise_config(url)):
            await connections.get("default").execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    config = tortoise_config(url)
    await migrate(config=config, target=release)
    async with RegisterTortoise(config=config):  # rows written as that release's schema holds them, by SQL
        for statement in _RELEASE_0007_ROWS:
            await connections.get("default").execute_query(statement)
    return url


async def _legacy_invitation() -> Invitation:
    """An invitation as release 0006 wrote it: by SQL, since today's model has columns that release had not."""
    for row in _RELEASE_0007_ROWS[:2]:  # a role and the organisation, by SQL as that release had them
        await connections.get("default").execute_query(row)
    organisation = await Organisation.get(name="Trust").only("id")
    row = _INVITATION.format("invited@example.org", "organisation", "NULL", f"org:{organisation.id}", "h", "pending")
    await connections.get("default").execute_query(row)
    return await Invitation.get(token_hash="h").only("id", "organisation_id")


_INVITATION = (
    "INSERT INTO invitation (email, role_id, level, organisation_id, deployment_id, scope_key, token_hash, state, "
    "delivery_state, delivery_error, lifetime_hours, send_count, sends_today, created_at, last_sent_at, expires_at) "
    "VALUES ('{}', 1, '{}', 1, {}, '{}', '{}', '{}', 'sent', '', 72, 1, 1, '2026-12-01 10:00:00+00:00', "
    "'2026-12-01 10:00:00+00:00', '2099-12-01 10:00:00+00:00')"
)
_RELEASE_0007_ROWS = (
    "INSERT INTO role (key, name, levels, permissions, admin_rank, created_at) "
    "VALUES ('clinician', 'Clinician', '[]', '[]', 0, '2026-12-01 10:00:00+00:00')",
    "INSERT INTO organisation (name, created_at) VALUES ('Trust', '2026-12-01 10:00:00+00:00')",
    "INSERT INTO deployment (organisation_id, name, created_at) VALUES (1, 'Study', '2026-12-01 10:00:00+00:00')",
    _INVITATION.format("invited@example.org", "organisation", "NULL", "org:1", "h1", "pending"),
    _INVITATION.format("study@example.org", "deployment", 1, "dep:1", "h2", "pending"),
    _INVITATION.format("done@example.org", "deployment", 1, "dep:1", "h3", "accepted"),
)


# Two emails as the release before 0007 queued them: an invitation with its raw link, a notice linking to log in.
_LEGACY_ROWS = """
INSERT INTO outbox_message (kind, recipient, context, link, invitation_id, organisation_id, state, attempts,
    next_attempt_at, last_error, created_at) VALUES
    ('invitation', 'invited@example.org', '{}', 'http://localhost:8080/accept/raw-token', ?, ?, 'queued', 1,
     '2026-12-01 10:00:00+00:00', '', '2026-12-01 10:00:00+00:00'),
    ('role_notice', 'member@example.org', '{}', 'http://localhost:8080/login', NULL, NULL, 'queued', 0,
     '2026-12-01 10:00:00+00:00', '', '2026-12-01 10:00:00+00:00')
"""


async def test_an_upgrade_to_0010_keeps_grants_gives_them_their_giver_as_sponsor_and_one_live_grant_each(
    tmp_path: Path,
) -> None:
    config = tortoise_config(f"sqlite://{tmp_path}/gatehouse.sqlite3")
    await migrate(config=config, target="models.0008_pending_counts_and_search")
    async with RegisterTortoise(config=config):
        connection = connections.get("default")
        for statement in _RELEASE_0008_GRANT:
            await connection.execute_query(statement)
        _, before = await connection.execute_query("PRAGMA index_list('role_assignment')")
    async with connected(config["connections"]["default"]):
        grant = await RoleAssignment.get(member_id=2)
        await RoleAssignment.filter(id=grant.id).update(ended_at=now())
        again = await RoleAssignment.create(
            member_id=2, role_id=1, level="organisation", organisation_id=1, scope_key="org:1"
        )  # an ended grant does not stand in the way of the same grant again
        with pytest.raises(IntegrityError):
            await RoleAssignment.create(
                member_id=2, role_id=1, level="organisation", organisation_id=1, scope_key="org:1"
            )
        _, indexes = await connections.get("default").execute_query("PRAGMA index_list('role_assignment')")
    assert (grant.sponsor_id, grant.ends_at, again.ended_at) == (1, None, None)
    kept = {row["name"] for row in before if not row["name"].startswith("sqlite_autoindex")}  # SQLite rebuilt the table
    assert kept | {"role_assignment_one_live"} <= {row["name"] for row in indexes} and kept


_RELEASE_0008_GRANT = (
    "INSERT INTO role (key, name, levels, permissions, admin_rank, created_at) "
    "VALUES ('clinician', 'Clinician', '[]', '[]', 0, '2026-12-01 10:00:00+00:00')",
    "INSERT INTO organisation (name, created_at) VALUES ('Trust', '2026-12-01 10:00:00+00:00')",
    "INSERT INTO staff_member (email, full_name, password_hash, created_at, is_active) "
    "VALUES ('owner@example.org', 'Owner', 'x', '2026-12-01 10:00:00+00:00', 1), "
    "('member@example.org', 'Member', 'x', '2026-12-01 10:00:00+00:00', 1)",
    "INSERT INTO role_assignment (member_id, role_id, level, organisation_id, scope_key, granted_by_id, created_at) "
    "VALUES (2, 1, 'organisation', 1, 'org:1', 1, '2026-12-01 10:00:00+00:00')",
)
