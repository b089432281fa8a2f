"""The outbox worker against a real SMTP server on loopback: delivery, retries, failures and claims."""

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from models import (
    AuditEvent,
    DeliveryState,
    Deployment,
    Invitation,
    InvitationState,
    MessageKind,
    Organisation,
    OutboxMessage,
    OutboxState,
    Role,
)
from services.access import tokens
from services.mail import outbox
from services.mail.records import MAX_ATTEMPTS
from services.mail.sink import MailSink
from services.mail.worker import MailWorker
from services.platform import clock, events, settings
from tests import factories
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.usefixtures("db")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_settings(port: int) -> settings.Settings:
    return settings.load(
        {
            "GATEHOUSE_SMTP_HOST": "127.0.0.1",
            "GATEHOUSE_SMTP_PORT": str(port),
            "GATEHOUSE_SMTP_TLS": "none",
            "GATEHOUSE_SECRET": TEST_SECRET,
            "GATEHOUSE_DATABASE_URL": "sqlite://:memory:",
            "GATEHOUSE_MAIL_FROM": "Gatehouse <noreply@gatehouse.example>",
        }
    )


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink(port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def make_worker() -> AsyncIterator[Callable[..., MailWorker]]:
    workers: list[MailWorker] = []

    def make(port: int, **options: Any) -> MailWorker:
        workers.append(MailWorker(smtp_settings(port), **options))
        return workers[-1]

    yield make
    for worker in workers:
        await worker.stop()


class ScriptedHandler:
    """Answers RCPT with the scripted replies in turn (then accepts), and keeps what it received."""

    def __init__(self, *rcpt_replies: str) -> None:
        self.rcpt_replies = list(rcpt_replies)
        self.received: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 Message accepted for delivery"


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[ScriptedHandler, int]]]:
    controllers: list[Controller] = []

    def start(*rcpt_replies: str) -> tuple[ScriptedHandler, int]:
        handler, port = ScriptedHandler(*rcpt_replies), free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="test-relay")
        controller.start()
        controllers.append(controller)
        return handler, port

    yield start
    for controller in controllers:
        controller.stop()


async def queue_invitations(count: int, *, inviter_name: str = "Ann Inviter", prefix: str = "staff") -> list[int]:
    """Queue `count` invitation emails in a fresh organisation; returns the outbox ids."""
    organisation = await Organisation.create(name=f"St Mary's Trust {secrets.token_hex(3)}")
    deployment = await Deployment.create(organisation=organisation, name="Deployment Alpha")
    role = await Role.get(key="admin")
    at = clock.now()
    ids = []
    for number in range(count):
        email = f"{prefix}{number}@example.org"
        seed, hashed = tokens.new_link_seed()
        invitation = await Invitation.create(
            email=email, role=role, level="deployment", organisation=organisation, deployment=deployment,
            scope_key=f"dep:{deployment.id}", token_hash=hashed, lifetime_hours=72,
            created_at=at, last_sent_at=at, expires_at=at + timedelta(hours=72),
        )  # fmt: skip
        context = {
            "inviter_name": inviter_name, "inviter_email": "ann@trust.example",
            "scope_name": f"Deployment Alpha at {organisation.name}", "role_name": role.name,
            "expires_at": invitation.expires_at.isoformat(),
        }  # fmt: skip
        fields = outbox.message_fields(
            kind=MessageKind.INVITATION, recipient=email, context=context,
            link_seed=seed, invitation_id=invitation.id,
            organisation_id=organisation.id,
        )  # fmt: skip
        ids.append((await OutboxMessage.create(**fields)).id)
    return ids


async def test_delivers_queued_invitations_clears_links_and_announces_once(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    ids = await queue_invitations(3)
    organisation_id = (await OutboxMessage.get(id=ids[0])).organisation_id
    assert organisation_id is not None
    heard: list[str] = []
    unsubscribe = events.subscribe(organisation_id=organisation_id, handler=heard.append)
    try:
        handled = await make_worker(sink.port).run_until_empty()
    finally:
        unsubscribe()

    assert handled == 3
    assert sorted(m.to[0] for m in sink.messages()) == [f"staff{n}@example.org" for n in range(3)]
    for row in await OutboxMessage.filter(id__in=ids):
        assert (row.state, row.link_seed, row.attempts, row.claimed_by) == (OutboxState.SENT, None, 1, None)
        assert row.sent_at is not None
    states = await Invitation.all().values_list("delivery_state", flat=True)
    assert list(states) == [DeliveryState.SENT] * 3
    assert heard == ["delivery"]


async def test_the_email_says_who_where_what_until_and_escapes_names(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    [message_id] = await queue_invitations(1, inviter_name="<script>alert(1)</script> Eve")
    row = await OutboxMessage.get(id=message_id)
    link = factories.link_of(row)
    await make_worker(sink.port).run_until_empty()

    [mail] = sink.messages()
    assert mail.mail_from == "noreply@gatehouse.example"
    assert mail.subject.startswith("<script>alert(1)</script> Eve invited you to Deployment Alpha at St Mary's Trust")
    for text in ("<script>alert(1)</script> Eve (ann@trust.example)", "Deployment Alpha at St Mary's Trust", "Admin"):
        assert text in mail.text
    expires = (await Invitation.get(id=row.invitation_id)).expires_at
    assert f"valid until {expires:%A} {expires.day} {expires:%B %Y}, {expires:%H:%M} UTC" in mail.text
    assert mail.link == link
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Eve" in mail.html
    assert f'href="{link}"' in mail.html and "Create account</a>" in mail.html


async def test_a_refused_connection_keeps_the_message_queued_until_the_server_is_back(
    make_worker: Callable[..., MailWorker],
) -> None:
    [message_id] = await queue_invitations(1)
    port = free_port()
    worker = make_worker(port)

    assert await worker.drain_once() == 1
    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.claimed_by) == (OutboxState.QUEUED, 1, None)
    assert row.next_attempt_at > clock.now() and "Error connecting" in row.last_error
    assert row.link_seed is not None
    assert (await Invitation.get(id=row.invitation_id)).delivery_state == DeliveryState.QUEUED
    assert await worker.drain_once() == 0

    server = MailSink(port=port)
    server.start()
    try:
        clock.advance(timedelta(seconds=31))
        assert await worker.run_until_empty() == 1
        assert len(server.messages()) == 1
    finally:
        server.stop()
    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.link_seed) == (OutboxState.SENT, 2, None)


async def test_a_refused_recipient_fails_at_once_with_the_reason(
    scripted: Callable[..., tuple[ScriptedHandler, int]], make_worker: Callable[..., MailWorker]
) -> None:
    handler, port = scripted("550 5.1.1 No such user here")
    [message_id] = await queue_invitations(1)

    assert await make_worker(port).run_until_empty() == 1

    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.link_seed) == (OutboxState.FAILED, 1, None)
    assert row.last_error == "550 5.1.1 No such user here"
    invitation = await Invitation.get(id=row.invitation_id)
    assert invitation.delivery_state == DeliveryState.FAILED
    assert invitation.delivery_error == "550 5.1.1 No such user here"
    audit = await AuditEvent.get(action="delivery_failed")
    assert (audit.target, audit.outcome, audit.organisation_id) == ("staff0@example.org", "failed", row.organisation_id)
    assert handler.received == []


async def test_a_temporary_refusal_is_retried_later_and_sent_exactly_once(
    scripted: Callable[..., tuple[ScriptedHandler, int]], make_worker: Callable[..., MailWorker]
) -> None:
    handler, port = scripted("451 4.3.0 Try again later")
    [message_id] = await queue_invitations(1)
    worker = make_worker(port)

    await worker.run_until_empty()
    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.QUEUED, 1, "451 4.3.0 Try again later")
    assert handler.received == []

    clock.advance(timedelta(seconds=31))
    await worker.run_until_empty()
    clock.advance(timedelta(hours=1))
    await worker.run_until_empty()

    assert len(handler.received) == 1
    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.SENT, 2, "")


async def test_temporary_failures_give_up_after_the_last_attempt(make_worker: Callable[..., MailWorker]) -> None:
    [message_id] = await queue_invitations(1)
    await OutboxMessage.filter(id=message_id).update(attempts=MAX_ATTEMPTS - 1)

    await make_worker(free_port()).run_until_empty()

    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts, row.link_seed) == (OutboxState.FAILED, MAX_ATTEMPTS, None)
    assert row.last_error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert (await Invitation.get(id=row.invitation_id)).delivery_state == DeliveryState.FAILED


async def test_two_workers_draining_together_send_each_message_once(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    ids = await queue_invitations(40)
    first = make_worker(sink.port, worker_id="first", batch_size=3, connections=2)
    second = make_worker(sink.port, worker_id="second", batch_size=3, connections=2)

    handled = await asyncio.gather(first.run_until_empty(), second.run_until_empty())

    assert sum(handled) == 40
    recipients = [message.to[0] for message in sink.messages()]
    assert len(recipients) == 40 and len(set(recipients)) == 40
    assert await OutboxMessage.filter(id__in=ids, state=OutboxState.SENT).count() == 40


async def test_a_dead_workers_expired_claim_is_taken_over_but_a_live_one_is_not(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    dead, alive = await queue_invitations(2)
    at = clock.now()
    await OutboxMessage.filter(id=dead).update(
        state=OutboxState.SENDING, claimed_by="vanished", claimed_until=at - timedelta(seconds=1)
    )
    await OutboxMessage.filter(id=alive).update(
        state=OutboxState.SENDING, claimed_by="busy", claimed_until=at + timedelta(seconds=30)
    )

    assert await make_worker(sink.port).run_until_empty() == 1

    assert (await OutboxMessage.get(id=dead)).state == OutboxState.SENT
    assert (await OutboxMessage.get(id=alive)).claimed_by == "busy"
    assert [message.to[0] for message in sink.messages()] == ["staff0@example.org"]


async def test_a_message_for_a_dead_invitation_never_leaves(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    deleted, replaced = await queue_invitations(2)
    deleted_row = await OutboxMessage.get(id=deleted)
    await Invitation.filter(id=deleted_row.invitation_id).update(state=InvitationState.DELETED)
    replaced_row = await OutboxMessage.get(id=replaced)
    seed, hashed = tokens.new_link_seed()  # a resend: a new link for the same invitation, in a newer email
    await Invitation.filter(id=replaced_row.invitation_id).update(token_hash=hashed)
    newer = await OutboxMessage.create(
        **outbox.message_fields(
            kind=MessageKind.INVITATION, recipient=replaced_row.recipient, context=replaced_row.context,
            link_seed=seed, invitation_id=replaced_row.invitation_id, organisation_id=replaced_row.organisation_id,
        )
    )  # fmt: skip

    assert await make_worker(sink.port).run_until_empty() == 3

    assert [message.link for message in sink.messages()] == [factories.link_of(newer)]
    for message_id, reason in ((deleted, "invitation no longer pending"), (replaced, "replaced by a newer email")):
        row = await OutboxMessage.get(id=message_id)
        assert (row.state, row.link_seed, row.last_error, row.attempts) == (OutboxState.FAILED, None, reason, 0)
    assert (await OutboxMessage.get(id=newer.id)).state == OutboxState.SENT
    assert (await Invitation.get(id=replaced_row.invitation_id)).delivery_state == DeliveryState.SENT
    assert not await AuditEvent.filter(action="delivery_failed").exists()


async def test_a_dropped_connection_is_reopened(make_worker: Callable[..., MailWorker]) -> None:
    port = free_port()
    first_server = MailSink(port=port)
    first_server.start()
    worker = make_worker(port)
    await queue_invitations(1, prefix="before")
    await worker.run_until_empty()
    first_server.stop()
    second_server = MailSink(port=port)
    second_server.start()
    try:
        [message_id] = await queue_invitations(1, prefix="after")
        assert await worker.run_until_empty() == 1
        assert [message.to[0] for message in second_server.messages()] == ["after0@example.org"]
    finally:
        second_server.stop()
    row = await OutboxMessage.get(id=message_id)
    assert (row.state, row.attempts) == (OutboxState.SENT, 1)


async def test_the_background_loop_sends_when_woken(sink: MailSink, make_worker: Callable[..., MailWorker]) -> None:
    worker = make_worker(sink.port)
    await worker.start()
    [message_id] = await queue_invitations(1)
    organisation_id = (await OutboxMessage.get(id=message_id)).organisation_id
    assert organisation_id is not None
    delivered = asyncio.Event()
    unsubscribe = events.subscribe(organisation_id=organisation_id, handler=lambda kind: delivered.set())
    try:
        worker.wake()
        await asyncio.wait_for(delivered.wait(), timeout=10)
    finally:
        unsubscribe()
    await worker.stop()

    assert (await OutboxMessage.get(id=message_id)).state == OutboxState.SENT
    assert len(sink.messages()) == 1


async def test_a_message_that_cannot_be_built_fails_without_holding_up_the_others(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    await queue_invitations(1)
    context = {
        "inviter_name": "Ann",
        "inviter_email": "ann@trust.example",
        "scope_name": "Trust",
        "role_name": "Supervisor",
    }
    notices = []
    for recipient in ("member@example.org", "member@example.org\r\nBcc: eve@example.org"):
        fields = outbox.message_fields(
            kind=MessageKind.ROLE_NOTICE, recipient=recipient, context=context, link_seed=None, invitation_id=None,
            organisation_id=None,
        )  # fmt: skip
        notices.append(await OutboxMessage.create(**fields))

    assert await make_worker(sink.port).run_until_empty() == 3

    assert sorted(message.to[0] for message in sink.messages()) == ["member@example.org", "staff0@example.org"]
    notice = next(message for message in sink.messages() if message.to[0] == "member@example.org")
    assert notice.link == "http://localhost:8080/login"
    broken = await OutboxMessage.get(id=notices[1].id)
    assert broken.state == OutboxState.FAILED and broken.last_error.startswith("could not build the email")


async def test_an_invitation_that_expired_while_queued_is_not_sent(
    sink: MailSink, make_worker: Callable[..., MailWorker]
) -> None:
    [message_id] = await queue_invitations(1)
    clock.advance(timedelta(hours=73))

    assert await make_worker(sink.port).run_until_empty() == 1

    assert sink.messages() == []
    row = await OutboxMessage.get(id=message_id)
    reason = "the invitation expired before the email could be sent"
    assert (row.state, row.link_seed, row.last_error) == (OutboxState.FAILED, None, reason)
    invitation = await Invitation.get(id=row.invitation_id)
    assert (invitation.delivery_state, invitation.delivery_error) == (DeliveryState.FAILED, reason)
