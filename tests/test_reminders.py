"""Invitation reminders (issue 18, item 4): one email a day before a 72-hour or 7-day link expires, with the same link,
through the outbox and housekeeping, switchable per organisation, never twice. The clock is moved, never slept."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from models import AuditEvent, DeliveryState, Invitation, MessageKind, Organisation, OutboxMessage
from services.invitations import acceptance, reminders, resending
from services.mail.sink import MailSink, SinkMessage
from services.mail.worker import MailWorker
from services.platform import clock
from services.platform.housekeeping import Housekeeper
from tests.security.helpers import accept, invite, owner_and_world, relay_settings

ANN = "ann@example.org"
DAY = timedelta(hours=24)
MINUTE = timedelta(minutes=1)
SUBJECT = "Reminder: Olive Owner invited you to Heart Failure Trial at St Mary's Trust"


@dataclass
class Relay:
    """A relay on loopback and the app's mail worker in front of it."""

    sink: MailSink
    worker: MailWorker

    async def deliver(self) -> list[SinkMessage]:
        """Send everything queued; returns the messages the relay received meanwhile."""
        before = {message.id for message in self.sink.messages()}
        await self.worker.run_until_empty()
        return [message for message in self.sink.messages() if message.id not in before]


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    sink = MailSink(port=0)
    sink.start()
    worker = MailWorker(relay_settings(sink.port))
    yield Relay(sink, worker)
    await worker.stop()
    sink.stop()


def _token(message: SinkMessage) -> str:
    assert message.link is not None
    return message.link.rsplit("/", 1)[1]


async def test_a_72_hour_link_is_reminded_once_a_day_before_it_expires_with_the_same_link(
    db: str, relay: Relay
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, [ANN], hours=72)
    [first] = await relay.deliver()
    invitation = await Invitation.get(email=ANN)
    assert invitation.remind_at == invitation.expires_at - DAY

    clock.advance(2 * DAY - MINUTE)
    assert await reminders.queue_due() == 0  # not yet
    clock.advance(MINUTE)
    assert await reminders.queue_due() == 1
    assert await reminders.queue_due() == 0  # a second pass finds nothing left to remind
    [reminder] = await relay.deliver()

    assert reminder.to == (ANN,) and reminder.subject == SUBJECT
    assert "This invitation expires on" in reminder.text
    assert _token(reminder) == _token(first)  # the same link
    reminded = await Invitation.get(id=invitation.id)
    assert (reminded.remind_at, reminded.reminder_seed, reminded.delivery_state) == (None, None, DeliveryState.SENT)
    assert reminded.reminded_at is not None and reminded.reminded_at <= clock.now()
    assert await AuditEvent.filter(action=reminders.REMIND, target=ANN, actor_id=None).count() == 1
    assert (await acceptance.preview(token=_token(reminder), client="c")).email == ANN  # the link opens it
    await accept(_token(reminder))
    assert (await Invitation.get(id=invitation.id)).accepted_at is not None


async def test_a_7_day_link_is_reminded_on_its_sixth_day_and_a_24_hour_link_never(db: str, relay: Relay) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["week@example.org"], hours=168)
    await invite(owner, world, ["day@example.org"], hours=24)
    await relay.deliver()
    day = await Invitation.get(email="day@example.org")
    assert (day.remind_at, day.reminder_seed) == (None, None)

    clock.advance(6 * DAY)
    assert await reminders.queue_due() == 1
    [reminder] = await relay.deliver()
    assert reminder.to == ("week@example.org",)
    clock.advance(2 * DAY)
    assert await reminders.queue_due() == 0
    assert await OutboxMessage.filter(kind=MessageKind.REMINDER.value).count() == 1


async def test_an_organisation_that_switched_reminders_off_gets_none_before_or_after_sending(
    db: str, relay: Relay
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["before@example.org"])  # sent while reminders are on
    await Organisation.filter(id=world.org.id).update(invitation_reminders=False)
    await invite(owner, world, ["after@example.org"])  # sent while they are off: nothing kept for a reminder
    await relay.deliver()
    after = await Invitation.get(email="after@example.org")
    assert (after.remind_at, after.reminder_seed) == (None, None)

    clock.advance(2 * DAY)
    assert await reminders.queue_due() == 0
    before = await Invitation.get(email="before@example.org")
    assert (before.remind_at, before.reminder_seed, before.reminded_at) == (None, None, None)  # cleared, not sent
    assert await relay.deliver() == []


async def test_after_a_resend_the_old_link_gets_no_reminder_and_the_new_link_one(db: str, relay: Relay) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, [ANN])
    await relay.deliver()
    clock.advance(timedelta(hours=10))
    invitation = await Invitation.get(email=ANN)
    await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    [resent] = await relay.deliver()

    clock.advance(timedelta(hours=38))  # when the old link's reminder was due
    assert await reminders.queue_due() == 0
    clock.advance(timedelta(hours=10))  # the new link's
    assert await reminders.queue_due() == 1
    [reminder] = await relay.deliver()
    assert _token(reminder) == _token(resent)
    assert await OutboxMessage.filter(kind=MessageKind.REMINDER.value).count() == 1


async def test_a_resend_after_the_reminder_went_gives_the_new_link_a_reminder_of_its_own(db: str, relay: Relay) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, [ANN])
    await relay.deliver()
    clock.advance(2 * DAY)
    await reminders.queue_due()
    await relay.deliver()
    invitation = await Invitation.get(email=ANN)
    await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    resent = await Invitation.get(id=invitation.id)
    assert resent.reminded_at is None and resent.remind_at == resent.expires_at - DAY  # the list forgets the old one
    [new_link] = await relay.deliver()
    clock.advance(2 * DAY)
    assert await reminders.queue_due() == 1
    [reminder] = await relay.deliver()
    assert _token(reminder) == _token(new_link)


async def test_no_reminder_for_an_email_that_never_arrived_nor_once_the_link_expired(db: str, relay: Relay) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["bounced@example.org", "late@example.org"])
    await relay.deliver()
    await Invitation.filter(email="bounced@example.org").update(delivery_state=DeliveryState.FAILED)
    clock.advance(3 * DAY)  # housekeeping did not run while the reminder was due: the link expired meanwhile
    assert await reminders.queue_due() == 0
    assert await Invitation.filter(reminder_seed__isnull=False).count() == 0
    assert await relay.deliver() == []


async def test_the_housekeeper_queues_reminders_in_its_pass_and_wakes_for_the_next(db: str, relay: Relay) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, [ANN])
    await relay.deliver()
    # Its URL only decides how it takes the lead, which run_once does not need.
    keeper = Housekeeper(database_url="sqlite://:memory:", retention_days=90, interval_seconds=3600)
    clock.advance(2 * DAY - timedelta(seconds=10))
    assert await keeper._pause() <= 11  # wakes just after the reminder is due, not an hour later
    clock.advance(timedelta(seconds=10))
    await keeper.run_once()
    await keeper.run_once()
    assert [message.subject for message in await relay.deliver()] == [SUBJECT]


async def test_two_housekeepers_at_once_queue_each_reminder_once(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, [f"temp{index}@agency.org" for index in range(30)])
    await Invitation.all().update(delivery_state=DeliveryState.SENT)  # as the worker records it
    clock.advance(2 * DAY)
    queued = await asyncio.gather(reminders.queue_due(batch=7), reminders.queue_due(batch=7))
    assert sum(queued) == 30
    assert await OutboxMessage.filter(kind=MessageKind.REMINDER.value).count() == 30
    assert await AuditEvent.filter(action=reminders.REMIND).count() == 30
    assert await Invitation.filter(reminder_seed__isnull=False).count() == 0
