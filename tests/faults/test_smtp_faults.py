"""A misbehaving relay and a dying process: every email is retried or failed with its reason, never lost, never
sent twice, and inviting never waits for SMTP."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from models import AuditEvent, DeliveryState, Invitation, OutboxMessage, OutboxState
from services.access.service import Actor
from services.mail.records import BACKOFF
from services.mail.worker import MailWorker
from services.platform import clock
from tests import factories
from tests.faults.smtp_server import ScriptedSmtp
from tests.security.helpers import invite, owner_and_world

pytestmark = pytest.mark.usefixtures("db")

Relays = Callable[..., ScriptedSmtp]
Workers = Callable[..., MailWorker]
FIRST_RETRY = BACKOFF[0] + timedelta(seconds=1)


async def until(check: Callable[[], bool | Awaitable[bool]], *, seconds: float = 5.0) -> None:
    """Bounded polling for something another task does (a connection arriving, a loop finishing a batch)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        assert asyncio.get_running_loop().time() < deadline, "it never happened"
        await asyncio.sleep(0.01)


async def _invited(*addresses: str) -> tuple[factories.World, Actor]:
    world, owner = await owner_and_world()
    await invite(owner, world, list(addresses))
    return world, owner


async def _states() -> dict[str, tuple[OutboxState, int, str]]:
    rows = await OutboxMessage.all().values_list("recipient", "state", "attempts", "last_error")
    return {str(to): (OutboxState(state), int(attempts), str(error)) for to, state, attempts, error in rows}


async def test_a_relay_refusing_connections_keeps_the_mail_queued_with_the_reason_until_it_is_back(
    relays: Relays, workers: Workers
) -> None:
    await _invited("ann@example.org")
    down = relays()
    port = await down.start()
    await down.stop()  # nothing listens there now: connections are refused
    worker = workers(port)

    assert await worker.drain_once() == 1
    state, attempts, error = (await _states())["ann@example.org"]
    assert (state, attempts) == (OutboxState.QUEUED, 1) and "Connect" in error
    assert (await Invitation.get(email="ann@example.org")).delivery_state == DeliveryState.QUEUED
    assert await worker.drain_once() == 0  # waits for its backoff

    back = relays()
    await back.start(port)
    clock.advance(FIRST_RETRY)
    await worker.run_until_empty()
    assert back.recipients == ["ann@example.org"]
    assert (await _states())["ann@example.org"][:2] == (OutboxState.SENT, 2)


async def test_a_relay_that_never_answers_times_out_and_inviting_never_waits_for_it(
    relays: Relays, workers: Workers
) -> None:
    world, owner = await _invited("ann@example.org")
    silent = relays(hang=True)
    worker = workers(await silent.start())
    await worker.start()
    await until(lambda: silent.connections > 0)  # the worker is stuck waiting for a greeting now

    result = await asyncio.wait_for(invite(owner, world, ["bob@example.org"]), timeout=2)
    assert result.invited == ["bob@example.org"]

    async def timed_out() -> bool:
        return (await _states())["ann@example.org"][0] == OutboxState.QUEUED and "imed out" in (await _states())[
            "ann@example.org"
        ][2]

    await until(timed_out)
    await worker.stop()
    assert silent.received == []
    assert {to: state for to, (state, _, _) in (await _states()).items()} == {
        "ann@example.org": OutboxState.QUEUED,
        "bob@example.org": OutboxState.QUEUED,
    }


async def test_a_connection_dropped_mid_message_is_retried_and_each_message_arrives_once(
    relays: Relays, workers: Workers
) -> None:
    await _invited("ann@example.org", "bob@example.org")
    flaky = relays(drop_in_data=1)
    worker = workers(await flaky.start(), connections=1)

    await worker.run_until_empty()
    states = await _states()
    assert sorted(state for state, _, _ in states.values()) == [OutboxState.QUEUED, OutboxState.SENT]
    dropped = next(to for to, (state, _, _) in states.items() if state == OutboxState.QUEUED)
    assert "Disconnected" in states[dropped][2] or "closed" in states[dropped][2].lower()

    clock.advance(FIRST_RETRY)
    await worker.run_until_empty()
    assert sorted(flaky.recipients) == ["ann@example.org", "bob@example.org"]
    assert {state for state, _, _ in (await _states()).values()} == {OutboxState.SENT}


async def test_a_temporary_refusal_of_the_message_then_acceptance_sends_it_exactly_once(
    relays: Relays, workers: Workers
) -> None:
    await _invited("ann@example.org")
    busy = relays(data_replies=["451 4.3.0 Mail server temporarily rejected message"])
    worker = workers(await busy.start())

    await worker.run_until_empty()
    assert (await _states())["ann@example.org"] == (
        OutboxState.QUEUED, 1, "451 4.3.0 Mail server temporarily rejected message",
    )  # fmt: skip
    await worker.run_until_empty()
    assert busy.received == []  # not before its backoff

    clock.advance(FIRST_RETRY)
    await worker.run_until_empty()
    clock.advance(timedelta(hours=3))
    await worker.run_until_empty()
    assert busy.recipients == ["ann@example.org"]
    assert (await _states())["ann@example.org"] == (OutboxState.SENT, 2, "")
    assert (await Invitation.get(email="ann@example.org")).delivery_state == DeliveryState.SENT


async def test_a_permanent_refusal_of_one_recipient_fails_that_one_with_the_reason_and_sends_the_rest(
    relays: Relays, workers: Workers
) -> None:
    await _invited("ann@example.org", "gone@example.org", "bob@example.org")
    picky = relays(rcpt_reply=lambda to: "550 5.1.1 No such user" if to.startswith("gone") else "250 OK")
    worker = workers(await picky.start())

    await worker.run_until_empty()
    clock.advance(timedelta(hours=3))
    await worker.run_until_empty()

    assert sorted(picky.recipients) == ["ann@example.org", "bob@example.org"]
    assert (await _states())["gone@example.org"] == (OutboxState.FAILED, 1, "550 5.1.1 No such user")
    gone = await Invitation.get(email="gone@example.org")
    assert (gone.delivery_state, gone.delivery_error) == (DeliveryState.FAILED, "550 5.1.1 No such user")
    failure = await AuditEvent.get(action="delivery_failed")
    assert (failure.target, failure.detail["error"]) == ("gone@example.org", "550 5.1.1 No such user")


async def test_mail_committed_while_no_worker_ran_goes_out_after_a_restart(relays: Relays, workers: Workers) -> None:
    await _invited("ann@example.org", "bob@example.org")  # committed; the process "dies" before any delivery
    relay = relays()
    port = await relay.start()

    restarted = workers(port)
    await restarted.run_until_empty()

    assert sorted(relay.recipients) == ["ann@example.org", "bob@example.org"]
    assert await OutboxMessage.filter(state=OutboxState.SENT).count() == 2


async def test_a_batch_claimed_by_a_worker_that_died_is_sent_once_after_its_lease(
    relays: Relays, workers: Workers
) -> None:
    await _invited("ann@example.org")
    relay = relays()
    port = await relay.start()
    dead = workers(port, worker_id="died-mid-batch", lease_seconds=60)
    assert await dead._claim()  # it claimed the message, then the process was killed before sending

    successor = workers(port, worker_id="successor", lease_seconds=60)
    assert await successor.run_until_empty() == 0  # the lease still protects the claim
    clock.advance(timedelta(seconds=61))
    assert await successor.run_until_empty() == 1

    assert relay.recipients == ["ann@example.org"]
    row = await OutboxMessage.get(recipient="ann@example.org")
    assert (row.state, row.claimed_by, row.link_seed) == (OutboxState.SENT, None, None)


async def test_an_invitation_email_whose_invitation_row_is_gone_never_leaves(relays: Relays, workers: Workers) -> None:
    await _invited("ann@example.org")
    await Invitation.filter(email="ann@example.org").delete()  # purged, or gone with what it belonged to
    relay = relays()

    await workers(await relay.start()).run_until_empty()

    assert relay.received == []
    row = await OutboxMessage.get(recipient="ann@example.org")
    assert (row.state, row.link_seed, row.invitation_id) == (OutboxState.FAILED, None, None)


async def test_two_workers_draining_at_once_never_send_one_message_twice(relays: Relays, workers: Workers) -> None:
    addresses = [f"staff{n}@example.org" for n in range(24)]
    await _invited(*addresses)
    relay = relays()
    port = await relay.start()
    first = workers(port, worker_id="first", batch_size=3, connections=2)
    second = workers(port, worker_id="second", batch_size=3, connections=2)

    handled = await asyncio.gather(first.run_until_empty(), second.run_until_empty())

    assert sum(handled) == len(addresses)
    assert sorted(relay.recipients) == sorted(addresses)
    assert await OutboxMessage.filter(state=OutboxState.SENT).count() == len(addresses)


STALL_TIMEOUT = 30.0  # the stalled message's per-operation timeout: far longer than the test ever waits


async def _stalled_worker(relays: Relays, workers: Workers, *, connections: int = 4) -> tuple[ScriptedSmtp, MailWorker]:
    relay = relays(stall=lambda recipients: recipients == ["slow@example.org"])
    worker = workers(await relay.start(), connections=connections, smtp_timeout=STALL_TIMEOUT)
    return relay, worker


async def test_one_stalled_connection_does_not_hold_back_the_rest_of_its_batch(
    relays: Relays, workers: Workers
) -> None:
    others = [f"staff{n}@example.org" for n in range(10)]
    await _invited("slow@example.org", *others)
    relay, worker = await _stalled_worker(relays, workers)
    await worker.start()

    await asyncio.wait_for(relay.stalled.wait(), 5)
    await asyncio.wait_for(relay.wait_for(*others), 5)  # while the stalled one is still pending
    assert (await _states())["slow@example.org"][0] == OutboxState.SENDING

    relay.release.set()
    await asyncio.wait_for(relay.wait_for("slow@example.org"), 5)
    await worker.stop()
    assert sorted(relay.recipients) == sorted(["slow@example.org", *others])  # each exactly once
    assert {state for state, _, _ in (await _states()).values()} == {OutboxState.SENT}


async def test_mail_queued_while_a_connection_stalls_goes_out_on_the_other_connections(
    relays: Relays, workers: Workers
) -> None:
    world, owner = await _invited("slow@example.org")
    relay, worker = await _stalled_worker(relays, workers)
    await worker.start()
    await asyncio.wait_for(relay.stalled.wait(), 5)

    later = ["ann@example.org", "bob@example.org", "carl@example.org"]
    await invite(owner, world, later)  # committed (and the worker woken) while the relay holds the first one
    await asyncio.wait_for(relay.wait_for(*later), 5)

    async def recorded_as_sent() -> bool:  # within MARK_SECONDS of the relay's answer
        states = await _states()
        return all(states[to][0] == OutboxState.SENT for to in later)

    await until(recorded_as_sent)
    assert (await _states())["slow@example.org"][0] == OutboxState.SENDING  # still held by the relay

    relay.release.set()
    await asyncio.wait_for(relay.wait_for("slow@example.org"), 5)
    await worker.stop()
    assert sorted(relay.recipients) == sorted(["slow@example.org", *later])
    assert {state for state, _, _ in (await _states()).values()} == {OutboxState.SENT}


async def test_a_stalled_message_times_out_is_retried_with_its_reason_and_is_sent_once(
    relays: Relays, workers: Workers
) -> None:
    await _invited("slow@example.org", "ann@example.org")
    relay = relays(stall=lambda recipients: recipients == ["slow@example.org"])
    worker = workers(await relay.start(), connections=2)  # the short per-operation timeout

    await worker.run_until_empty()
    states = await _states()
    assert states["ann@example.org"][:2] == (OutboxState.SENT, 1)
    assert states["slow@example.org"][:2] == (OutboxState.QUEUED, 1) and "imed out" in states["slow@example.org"][2]

    relay.release.set()
    clock.advance(FIRST_RETRY)
    await worker.run_until_empty()
    assert sorted(relay.recipients).count("slow@example.org") == 1
    assert (await _states())["slow@example.org"][:2] == (OutboxState.SENT, 2)
