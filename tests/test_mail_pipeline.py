"""The worker's pipeline (the next batch claimed while one is sent), prompt records, and the sending rate."""

import asyncio
import threading
from datetime import timedelta
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from models import OutboxMessage, OutboxState
from services.mail import templates as mail_templates
from services.mail.records import Job
from services.mail.sink import MailSink
from services.mail.worker import MailWorker
from services.platform import clock, settings
from tests import factories
from tests.conftest import TEST_SECRET
from tests.test_mail import free_port, queue_invitations, sink, smtp_settings

__all__ = ["sink"]  # the fixture, shared with test_mail


async def test_a_drain_that_breaks_records_what_left_and_hands_back_the_batch_claimed_meanwhile(
    db: str, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    await queue_invitations(6)
    worker = MailWorker(smtp_settings(sink.port), batch_size=2, connections=1)
    deliver, calls = worker._deliver, []

    async def breaks_at_the_third(slot: int, job: Job) -> bool:
        calls.append(job.row.id)
        if len(calls) == 3:
            raise RuntimeError("the relay went away in an unexpected way")
        return await deliver(slot, job)

    monkeypatch.setattr(worker, "_deliver", breaks_at_the_third)
    try:
        with pytest.raises(RuntimeError):
            await worker.drain()
    finally:
        await worker.stop()

    rows = await OutboxMessage.all().order_by("id")
    assert [row.state for row in rows[:2]] == [OutboxState.SENT] * 2 and len(sink.messages()) == 2
    for row in rows[2:]:  # the broken batch and those never claimed: queued again, not charged
        assert (row.state, row.claimed_by, row.attempts, row.link_seed is not None) == (
            OutboxState.QUEUED,
            None,
            0,
            True,
        )


async def test_the_rate_to_the_relay_comes_from_the_settings_and_keeps_batches_within_their_lease() -> None:
    config = smtp_settings(2525).model_copy(update={"mail_rate": 2.0})
    worker = MailWorker(config, lease_seconds=60)
    assert worker.rate_per_second == 2.0 and worker.batch_size == 30  # 15 s of sending: well within half the lease

    assert MailWorker(smtp_settings(2525)).rate_per_second is None


def test_the_mail_rate_setting_is_messages_per_second_and_unset_or_zero_means_no_limit() -> None:
    def rate(value: str) -> float | None:
        return settings.load({"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_MAIL_RATE": value}).mail_rate

    assert (rate("12.5"), rate("0"), rate("")) == (12.5, None, None)
    for wrong in ("fast", "-1", "nan"):
        with pytest.raises(settings.SettingsError, match="GATEHOUSE_MAIL_RATE"):
            rate(wrong)


class HoldsOne:
    """A relay that accepts everything but holds its answer to the nth message until released."""

    def __init__(self, hold_at: int) -> None:
        self.received: list[bytes] = []
        self.hold_at, self.holding, self.release = hold_at, threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.original_content)
        if len(self.received) == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 10)
        return "250 OK"


async def test_what_the_relay_accepted_is_recorded_as_sent_before_the_batch_ends(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await queue_invitations(3)
    relay, port = HoldsOne(hold_at=3), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    worker = MailWorker(smtp_settings(port), connections=1, batch_size=3)
    marked, mark_sent = asyncio.Event(), worker._mark_sent

    async def mark_and_tell(jobs: list[Job]) -> None:
        await mark_sent(jobs)
        marked.set()

    monkeypatch.setattr(worker, "_mark_sent", mark_and_tell)
    try:
        draining = asyncio.create_task(worker.drain_once())
        assert await asyncio.to_thread(relay.holding.wait, 10), "the relay never saw the third message"
        while await OutboxMessage.filter(id__in=ids, state=OutboxState.SENT).count() < 2:
            marked.clear()
            await asyncio.wait_for(marked.wait(), 5)

        # The relay is still answering the third: a crash now would leave only that one to be sent again.
        assert (await OutboxMessage.get(id=ids[2])).state == OutboxState.SENDING
        relay.release.set()
        assert await draining == 3
    finally:
        relay.release.set()
        controller.stop()
        await worker.stop()
    assert await OutboxMessage.filter(id__in=ids, state=OutboxState.SENT).count() == 3


async def test_a_message_sent_again_after_a_crash_is_the_same_message(db: str, sink: MailSink) -> None:
    [message_id] = await queue_invitations(1)
    config = smtp_settings(sink.port)
    row = await OutboxMessage.get(id=message_id)
    # A worker handed the message to the relay and died before recording it: its claim has run out.
    copy = mail_templates.render(
        row.kind,
        recipient=row.recipient,
        context=row.context,
        link=factories.link_of(row),
        settings=config,
        outbox_id=row.id,
    )
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False) as smtp:
        await smtp.sendmail("gatehouse@localhost", [row.recipient], copy)
    await OutboxMessage.filter(id=row.id).update(
        state=OutboxState.SENDING, claimed_by="vanished", claimed_until=clock.now() - timedelta(seconds=1)
    )
    worker = MailWorker(config)
    try:
        assert await worker.run_until_empty() == 1
    finally:
        await worker.stop()

    assert (await OutboxMessage.get(id=row.id)).state == OutboxState.SENT
    assert [message.to for message in sink.messages()] == [(row.recipient,)], "the mailbox kept both copies"
    assert mail_templates.message_id(row.id, config).encode() in copy
