"""Webhooks (issue 20 item 4): endpoints registered by holders of manage integrations, each event written once in the
transaction of its cause, signed per Standard Webhooks, retried with backoff and never delivered twice."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import standardwebhooks
from aiohttp import web

from models import AuditEvent, OutboxMessage, OutboxState, RoleAssignment, WebhookDelivery
from services.access import grants
from services.errors import FieldErrors, InvalidInput, PermissionDenied
from services.invitations import acceptance
from services.invitations import service as invitations
from services.mail import claims, records
from services.mail.records import Job
from services.organisations import staff
from services.platform import clock, housekeeping, settings
from services.webhooks import endpoints, signing
from services.webhooks.outbox import EventType
from services.webhooks.worker import BACKOFF, WebhookWorker
from tests import factor_helpers, factories

ALL = [t.value for t in EventType]
URL = "https://hooks.example.org/gatehouse"


async def _owner(world: factories.World) -> factories.Actor:
    return await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")


async def _endpoint(owner: factories.Actor, world: factories.World, url: str = URL) -> tuple[str, int]:
    secret, row = await endpoints.register(actor=owner, organisation_id=world.org.id, url=url, event_types=ALL)
    return secret, row.id


async def _types() -> list[str]:
    return sorted(str(t) for t in await WebhookDelivery.all().values_list("event_type", flat=True))


def test_signatures_follow_the_standard_webhooks_example_and_library() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    signed = signing.signature(secret=secret, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body)
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="  # the spec's published example
    fresh = signing.new_secret()
    at = int(clock.now().timestamp())
    headers = signing.headers(secret=fresh, msg_id="msg_1", timestamp=at, body=body)
    assert standardwebhooks.Webhook(fresh).verify(body, headers) == {"test": 2432232314}


@pytest.mark.data
async def test_registering_needs_manage_integrations_is_audited_and_a_bad_url_is_refused_at_its_field(db: str) -> None:
    world = await factories.world()
    clinician = await factories.member("c@trust.org", "clinician", org=world.org)
    with pytest.raises(PermissionDenied):
        await endpoints.register(actor=clinician, organisation_id=world.org.id, url=URL, event_types=ALL)
    assert await AuditEvent.filter(action="create_webhook", outcome="refused").count() == 1
    owner = await _owner(world)
    for bad in ("http://hooks.example.org/x", "https://10.0.0.5/x", "https://127.0.0.1/x", "ftp://x", "nonsense"):
        with pytest.raises(FieldErrors) as refused:
            await endpoints.register(actor=owner, organisation_id=world.org.id, url=bad, event_types=ALL)
        assert set(refused.value.fields) == {"url"}
    with pytest.raises(FieldErrors) as refused:
        await endpoints.register(actor=owner, organisation_id=world.org.id, url=URL, event_types=["bogus"])
    assert set(refused.value.fields) == {"event_types"}
    assert not await endpoints.listed(actor=owner, organisation_id=world.org.id)
    secret, row = await endpoints.register(actor=owner, organisation_id=world.org.id, url=URL, event_types=ALL)
    assert secret.startswith("whsec_") and row.enabled and row.created_by == "owner@trust.org"
    assert await AuditEvent.filter(action="create_webhook", outcome="ok").count() == 1
    with pytest.raises(PermissionDenied):
        await endpoints.send_test(actor=clinician, endpoint_id=row.id)


@pytest.mark.data
async def test_each_event_is_written_once_by_its_cause(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    await _endpoint(owner, world)
    clinician = await factories.role("clinician")
    await invitations.send(
        actor=owner, addresses=["a@x.org", "b@x.org", "c@x.org"], role_id=clinician.id, lifetime_hours=72,
        organisation_id=world.org.id,
    )  # fmt: skip
    assert await _types() == ["invitation.sent"] * 3
    body = json.loads((await WebhookDelivery.all().order_by("id"))[0].body)
    assert body["type"] == "invitation.sent" and body["data"]["email"] == "a@x.org"
    b = await OutboxMessage.get(recipient="b@x.org")
    assert b.invitation_id is not None
    await invitations.delete(actor=owner, invitation_ids=[b.invitation_id])
    token = factories.token_of(await OutboxMessage.get(recipient="a@x.org"))
    await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(),
        token=token,
        full_name="A",
        password="pw long enough 1",
        repeat="pw long enough 1",
        client="t",
    )
    clock.advance(timedelta(hours=73))
    await housekeeping.announce_expired(since=clock.now() - timedelta(hours=2), until=clock.now())
    grant = await RoleAssignment.get(member__email="a@x.org")
    await staff.change_role(actor=owner, assignment_id=grant.id, role_id=(await factories.role("supervisor")).id)
    await staff.remove_from_team(actor=owner, assignment_id=grant.id)
    member = await factories.member("d@trust.org", None)
    await factories.grant(member.member_id, "clinician", org=world.org, ends_at=clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    await grants.end_due()
    claimed = await claims.claim(worker_id="w", limit=10, at=clock.now(), lease=timedelta(minutes=1))
    failed = [Job(row=row, outcome="failed", error="550 no such user", attempted=True) for row in claimed[:1]]
    await records.record(failed, worker_id="w")
    assert await _types() == sorted(
        [
            *(["invitation.sent"] * 3),
            "invitation.deleted",
            "invitation.accepted",
            "invitation.expired",
            *["member.role_changed", "member.removed", "member.access_ended", "invitation.failed"],
        ]
    )
    other = await factories.member("o@north.org", "organisation_owner", org=world.other_org)
    await invitations.send(
        actor=other, addresses=["e@x.org"], role_id=clinician.id, lifetime_hours=72, organisation_id=world.other_org.id
    )
    assert await WebhookDelivery.all().count() == 10  # another organisation's events are not ours


@pytest.mark.data
async def test_a_disabled_endpoint_gets_nothing_new_and_a_bulk_send_writes_one_event_per_address(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    _, endpoint_id = await _endpoint(owner, world)
    clinician = await factories.role("clinician")
    addresses = [f"p{n}@x.org" for n in range(300)]
    await invitations.send(
        actor=owner, addresses=addresses, role_id=clinician.id, lifetime_hours=72, organisation_id=world.org.id
    )
    assert await WebhookDelivery.filter(event_type="invitation.sent").count() == 300
    assert len(set(await WebhookDelivery.all().values_list("event_id", flat=True))) == 300
    await endpoints.set_enabled(actor=owner, endpoint_id=endpoint_id, enabled=False)
    await invitations.send(
        actor=owner, addresses=["q@x.org"], role_id=clinician.id, lifetime_hours=72, organisation_id=world.org.id
    )
    assert await WebhookDelivery.all().count() == 300


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict[str, str], str]]]]:
    """A receiver on loopback that answers 204 and keeps what it got."""
    got: list[tuple[dict[str, str], str]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((dict(request.headers), await request.text()))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/hook", got
    await runner.cleanup()


@pytest.mark.data
async def test_a_receiver_on_loopback_gets_a_signed_post(
    db: str, receiver: tuple[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, got = receiver
    settings.configure(settings.current().model_copy(update={"webhook_loopback": True}))
    world = await factories.world()
    owner = await _owner(world)
    secret, endpoint_id = await _endpoint(owner, world, url)
    await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    worker = WebhookWorker()
    try:
        assert await worker.run_until_empty() == 1
    finally:
        await worker.stop()
    ((headers, body),) = got
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert standardwebhooks.Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    (row,) = await endpoints.deliveries(actor=owner, endpoint_id=endpoint_id)
    assert (row.state, row.status, row.attempts, row.event_type) == ("sent", 204, 1, "webhook.test")


@pytest.mark.data
async def test_a_500_and_a_timeout_are_retried_with_backoff_then_given_up(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    _, endpoint_id = await _endpoint(owner, world)
    answers: list[str] = ["500", "timeout", "ok"]
    ids: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        what = answers.pop(0)
        if what == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(500 if what == "500" else 200)

    worker = WebhookWorker(transport=httpx.MockTransport(answer))
    await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    assert await worker.run_until_empty() == 1
    row = await WebhookDelivery.get()
    assert (row.state, row.attempts, row.last_status, row.last_error) == (OutboxState.QUEUED, 1, 500, "HTTP 500")
    assert await worker.run_until_empty() == 0  # not before its backoff
    clock.advance(BACKOFF[0])
    assert await worker.run_until_empty() == 1
    row = await WebhookDelivery.get()
    assert (row.state, row.attempts, row.last_error) == (OutboxState.QUEUED, 2, "timed out")
    clock.advance(BACKOFF[1])
    assert await worker.run_until_empty() == 1
    row = await WebhookDelivery.get()
    assert (row.state, row.attempts, row.sent_at is not None) == (OutboxState.SENT, 3, True)
    assert len(set(ids)) == 1  # the same webhook-id on every attempt
    answers[:] = ["500"] * 10
    await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    for wait in (timedelta(0), *BACKOFF):
        clock.advance(wait)
        await worker.run_until_empty()
    failed = await WebhookDelivery.filter(state=OutboxState.FAILED).get()
    assert failed.attempts == len(BACKOFF) + 1 and failed.last_error.startswith("gave up after 7 attempts")
    await worker.stop()


@pytest.mark.data
async def test_two_workers_never_deliver_one_event_twice(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    _, endpoint_id = await _endpoint(owner, world)
    for _ in range(30):
        await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["webhook-id"])
        return httpx.Response(200)

    workers = [WebhookWorker(transport=httpx.MockTransport(answer), batch_size=7) for _ in range(2)]
    await asyncio.gather(*(w.run_until_empty() for w in workers))
    assert len(seen) == len(set(seen)) == 30
    assert await WebhookDelivery.filter(state=OutboxState.SENT).count() == 30
    for w in workers:
        await w.stop()


@pytest.mark.data
async def test_a_410_gone_switches_the_endpoint_off_without_retrying_and_says_why(db: str) -> None:
    world = await factories.world()
    owner = await _owner(world)
    _, endpoint_id = await _endpoint(owner, world)
    posts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posts.append(request.headers["webhook-id"])
        return httpx.Response(410)

    worker = WebhookWorker(transport=httpx.MockTransport(answer))
    await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    assert await worker.run_until_empty() == 2
    rows = await WebhookDelivery.all().order_by("id")
    assert [(r.state, r.attempts, r.last_status) for r in rows] == [(OutboxState.FAILED, 1, 410)] * 2
    assert rows[0].last_error.startswith("HTTP 410: the receiver asked for no more events")
    (shown,) = await endpoints.listed(actor=owner, organisation_id=world.org.id)
    assert not shown.enabled
    (event,) = await AuditEvent.filter(action="change_webhook", actor_id=None)  # once, however many were in flight
    assert event.detail == {"change": "disabled", "reason": "its receiver answered 410 Gone"}
    for wait in BACKOFF:
        clock.advance(wait)
        assert await worker.run_until_empty() == 0  # never retried
    assert len(posts) == 2
    with pytest.raises(InvalidInput, match="Enable the endpoint first"):  # switched off until someone turns it on
        await endpoints.send_test(actor=owner, endpoint_id=endpoint_id)
    await worker.stop()
