"""The worker's pipeline (the next batch claimed while one is sent) and the configurable sending rate."""

import dataclasses

import pytest

from models import OutboxMessage, OutboxState
from services import settings
from services.mail_sink import MailSink
from services.mail_worker import MailWorker, _Job
from tests.conftest import TEST_SECRET
from tests.test_mail import queue_invitations, sink, smtp_settings

__all__ = ["sink"]  # the fixture, shared with test_mail


async def test_a_drain_that_breaks_records_what_left_and_hands_back_the_batch_claimed_meanwhile(
    db: str, sink: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    await queue_invitations(6)
    worker = MailWorker(smtp_settings(sink.port), batch_size=2)
    send_all, calls = worker._send_all, []

    async def breaks_the_second_time(jobs: list[_Job], deadline: float) -> None:
        calls.append(len(jobs))
        if len(calls) == 2:
            raise RuntimeError("the relay went away in an unexpected way")
        await send_all(jobs, deadline)

    monkeypatch.setattr(worker, "_send_all", breaks_the_second_time)
    try:
        with pytest.raises(RuntimeError):
            await worker.drain()
    finally:
        await worker.stop()

    rows = await OutboxMessage.all().order_by("id")
    assert [row.state for row in rows[:2]] == [OutboxState.SENT] * 2 and len(sink.messages()) == 2
    for row in rows[2:]:  # the broken batch and the one claimed while it was sent: queued again, not charged
        assert (row.state, row.claimed_by, row.attempts, row.link is not None) == (OutboxState.QUEUED, None, 0, True)


async def test_the_rate_to_the_relay_comes_from_the_settings_and_keeps_batches_within_their_lease() -> None:
    config = dataclasses.replace(smtp_settings(2525), mail_rate=2.0)
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
