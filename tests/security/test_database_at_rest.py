"""A copy of the database yields no usable link: not while emails wait for a relay that is down, not after they
left, not in SQLite's freed pages or write-ahead log, not while a reminder is due; and what a change of
GATEHOUSE_SECRET does to waiting emails. Nor an authenticator app's secret or a recovery code."""

import base64
from datetime import timedelta
from pathlib import Path

import pytest

from models import DeliveryState, Invitation, MessageKind, OutboxMessage, OutboxState, StaffMember, TotpFactor
from services.access import roles, tokens
from services.invitations import reminders, resending
from services.invitations import service as invitations
from services.mail import records as mail_records
from services.mail.sink import MailSink
from services.mail.worker import MailWorker
from services.platform import clock, settings
from services.platform.database import connected
from tests import factor_helpers
from tests.conftest import TEST_SECRET, copy_of
from tests.security.helpers import accept, database_text, invite, latest_token, owner_and_world, relay_settings
from tests.test_mail import free_port

STAFF = [f"staff{number}@example.org" for number in range(40)]


def _files_of(database: Path) -> bytes:
    """The raw bytes of every file of the SQLite database: main, -wal and -shm."""
    return b"".join(path.read_bytes() for path in database.parent.glob(database.name + "*"))


async def test_the_database_files_hold_no_link_while_emails_wait_for_a_relay_that_is_down_nor_after(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    database = copy_of(migrated_sqlite, tmp_path)
    port = free_port()  # nothing listens there yet: the relay is down
    async with connected(f"sqlite://{database}"):
        await roles.seed_defaults()
        world, owner = await owner_and_world()
        await invite(owner, world, STAFF)
        clock.advance(timedelta(minutes=2))
        resent = await Invitation.get(email=STAFF[0])
        await resending.resend_each(actor=owner, invitation_ids=[resent.id])
        worker = MailWorker(relay_settings(port))
        try:
            await worker.drain_once()
            assert await OutboxMessage.filter(state=OutboxState.QUEUED).count() == len(STAFF)
            while_waiting = _files_of(database)

            relay = MailSink(port=port)
            relay.start()
            try:
                clock.advance(timedelta(minutes=1))
                await worker.run_until_empty()
            finally:
                relay.stop()
        finally:
            await worker.stop()
        links = [message.link for message in relay.messages() if message.link]
    after_delivery = _files_of(database)

    assert sorted(message.to[0] for message in relay.messages()) == sorted(STAFF)
    secrets = [link.rsplit("/", 1)[1] for link in links]
    assert len(set(secrets)) == len(STAFF) and all(len(secret) == 43 for secret in secrets)
    for secret in secrets:
        assert secret.encode() not in while_waiting
        assert secret.encode() not in after_delivery


async def test_no_table_holds_a_link_while_its_email_waits(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, STAFF[:5])
    queued = await OutboxMessage.filter(state=OutboxState.QUEUED)
    assert len(queued) == 5

    stored = await database_text()
    for message in queued:
        link = mail_records.link_of(message.link_seed, settings=settings.current())
        assert link is not None and link.rsplit("/", 1)[1] not in stored


async def test_after_the_secret_changes_a_waiting_email_is_failed_with_the_reason_never_sent_with_a_dead_link(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["ann@example.org"])
    rotated = TEST_SECRET[::-1]
    monkeypatch.setenv("GATEHOUSE_SECRET", rotated)
    settings.configure(settings.load())
    sink = MailSink(port=0)
    sink.start()
    worker = MailWorker(relay_settings(sink.port).model_copy(update={"secret": rotated}))
    try:
        await worker.run_until_empty()
    finally:
        await worker.stop()
        sink.stop()

    assert sink.messages() == []
    message = await OutboxMessage.get(recipient="ann@example.org")
    assert (message.state, message.last_error, message.link_seed) == (
        OutboxState.FAILED,
        mail_records.STALE_LINK_REASON,
        None,
    )
    invitation = await Invitation.get(email="ann@example.org")
    assert invitation.delivery_error == mail_records.STALE_LINK_REASON

    clock.advance(timedelta(minutes=2))
    await resending.resend_each(actor=owner, invitation_ids=[invitation.id])  # a resend makes a link that works
    resent = await OutboxMessage.filter(recipient="ann@example.org").order_by("-id").first()
    assert resent is not None and resent.link_seed is not None
    token = tokens.link_token(resent.link_seed, secret=rotated)
    assert tokens.hash_token(token) == (await Invitation.get(id=invitation.id)).token_hash


async def test_an_invitation_keeps_its_links_seed_only_while_its_reminder_is_due_and_never_its_token(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["due@example.org", "deleted@example.org", "accepted@example.org", "again@example.org"])
    await invite(owner, world, ["short@example.org"], hours=24)
    emails = {m.recipient: m.link_seed for m in await OutboxMessage.filter(kind=MessageKind.INVITATION.value)}
    kept = dict(await Invitation.filter(reminder_seed__isnull=False).values_list("email", "reminder_seed"))
    assert kept == {email: emails[email] for email in kept} and "short@example.org" not in kept  # the email's seed

    deleted = await Invitation.get(email="deleted@example.org")
    await invitations.delete(actor=owner, invitation_ids=[deleted.id])
    await accept(await latest_token("accepted@example.org"))
    replaced = await Invitation.get(email="again@example.org")
    await invite(owner, world, ["again@example.org"])  # replaces the pending one: its link dies
    for gone in ("deleted@example.org", "accepted@example.org"):
        assert (await Invitation.get(email=gone)).reminder_seed is None
    assert (await Invitation.get(id=replaced.id)).reminder_seed is None

    stored = await database_text()
    kept = dict(await Invitation.filter(reminder_seed__isnull=False).values_list("email", "reminder_seed"))
    seeds = [str(seed) for seed in kept.values()]
    assert len(seeds) == 2  # due@ and the new invitation to again@
    for seed in seeds:
        link = mail_records.link_of(seed, settings=settings.current())
        assert link is not None and link.rsplit("/", 1)[1] not in stored  # a seed, never the link's token
    await Invitation.all().update(delivery_state=DeliveryState.SENT)  # as the worker records it
    clock.advance(timedelta(hours=48))
    assert await reminders.queue_due() == 2
    assert not await Invitation.filter(reminder_seed__isnull=False).exists()  # cleared once queued


async def test_the_database_files_hold_no_authenticator_secret_nor_recovery_code(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    """Issue 21: an app's secret is sealed (AES-256-GCM under a key derived from GATEHOUSE_SECRET), recovery codes
    are hashed: neither is in the SQLite file or its write-ahead log, nor in any row."""
    database = copy_of(migrated_sqlite, tmp_path)
    async with connected(f"sqlite://{database}"):
        await roles.seed_defaults()
        world, owner = await owner_and_world()
        await invite(owner, world, ["new@example.org"])
        await accept(await latest_token("new@example.org"))
        member = await StaffMember.get(email="new@example.org")
        codes = await factor_helpers.enrol(owner.email)
        secrets = [factor_helpers.secret_of("someone@example.org"), factor_helpers.secret_of(owner.email)]
        raw, rows = _files_of(database), await database_text()
        assert await TotpFactor.exists(member_id=member.id)
    for secret in secrets:
        for form in (secret, secret.lower(), base64.b32decode(secret).hex()):
            assert form.encode() not in raw and form not in rows
    assert not any(code.encode() in raw or code.replace("-", "") in rows for code in codes)
