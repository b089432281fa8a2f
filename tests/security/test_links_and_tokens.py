"""Links and tokens: never kept or logged raw, every dead link looks the same, exact server-side expiry, no spending
on a look, one origin in every link, no caching or referrer, and acceptance attempts limited per client."""

import logging
import re
import secrets
from datetime import datetime, timedelta

import nicegui
import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Invitation, InvitationState, LoginTicket, OutboxMessage, StaffMember
from services.access import auth, tokens
from services.errors import InvalidInput, LinkInvalid, RateLimited
from services.invitations import acceptance, pending, resending
from services.invitations import service as invitations
from services.mail.sink import MailSink
from services.mail.worker import MailWorker
from services.organisations import service as organisations
from services.platform import clock
from tests import factor_helpers, factories
from tests.security.helpers import (
    MICROSECOND,
    PASSWORD,
    accept,
    database_text,
    invite,
    latest_token,
    member_with_password,
    owner_and_world,
    relay_settings,
    reset_limits,
)
from tests.ui_helpers import PASSWORD as UI_PASSWORD
from tests.ui_helpers import eventually, select_labelled, sign_in, table

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEAD_LINK = "This invitation link is not valid. It may have expired or been replaced; ask for a new one."


async def test_no_raw_token_is_stored_or_logged_from_invitation_to_delivery_acceptance_and_log_in(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    tokens.redact_logs()  # as the app does at start (pages.accept_invite.create)
    caplog.set_level(logging.DEBUG)  # even the database drivers' query logs, with their values
    world, owner = await owner_and_world()
    sink = MailSink(port=0)
    sink.start()
    worker = MailWorker(relay_settings(sink.port))
    try:
        await invite(owner, world, ["dana@example.org", "erin@example.org"])
        await worker.run_until_empty()
        clock.advance(timedelta(minutes=2))
        erin = await Invitation.get(email="erin@example.org")
        await resending.resend_each(actor=owner, invitation_ids=[erin.id])
        await worker.run_until_empty()
    finally:
        await worker.stop()
        sink.stop()
    sent = {(m.to[0], m.link.rsplit("/", 1)[1]) for m in sink.messages() if m.link and "/accept/" in m.link}
    assert sorted(to for to, _ in sent) == ["dana@example.org", "erin@example.org", "erin@example.org"]

    [dana] = [token for to, token in sent if to == "dana@example.org"]
    await accept(dana, name="Dana Scully")
    erin_now = await latest_sent_token(sink, "erin@example.org")
    await member_with_password("erin@example.org", "supervisor", org=world.other_org)  # has an account meanwhile
    step = await auth.login(email="erin@example.org", password=PASSWORD, redirect_to=f"/accept/{erin_now}", client="c")
    ticket = await factor_helpers.ticket(step, "erin@example.org")
    session = (await auth.complete_login(ticket=ticket)).session_token
    erin_actor = await auth.actor_for(session_token=session)
    await acceptance.accept_as_member(enrolment=factor_helpers.proof(), actor=erin_actor, token=erin_now, client="c")

    stored = await database_text()
    for secret in [token for _, token in sent] + [ticket, session]:
        assert secret not in stored
        assert secret not in caplog.text
    assert await OutboxMessage.filter(link_seed__not_isnull=True).count() == 0  # sent or dead: every seed wiped
    assert (await LoginTicket.get(member__email="erin@example.org")).redirect_to == "/"


async def latest_sent_token(sink: MailSink, recipient: str) -> str:
    newest = max((m for m in sink.messages() if m.to[0] == recipient and m.link), key=lambda m: m.id)
    assert newest.link is not None
    return newest.link.rsplit("/", 1)[1]


async def _page(user: User, token: str) -> tuple[int, str]:
    response = await user.http_client.get(f"/accept/{token}")
    return response.status_code, UUID.sub("<id>", response.text)


async def test_unknown_expired_deleted_replaced_used_and_archived_links_all_get_the_same_page_and_status(
    user: User,
) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["used@example.org", "deleted@example.org", "replaced@example.org"])
    await invite(owner, world, ["expired@example.org"], hours=24)
    other_owner = await factories.member("o2@north.org", "organisation_owner", org=world.other_org)
    await invite(other_owner, world, ["archived@example.org"], deployment_id=world.other_dep.id)
    archived = await latest_token("archived@example.org")
    await organisations.archive_organisation(actor=other_owner, organisation_id=world.other_org.id)
    used, deleted, replaced = [await latest_token(f"{name}@example.org") for name in ("used", "deleted", "replaced")]
    expired = await latest_token("expired@example.org")
    await accept(used)
    await invitations.delete(actor=owner, invitation_ids=[(await Invitation.get(email="deleted@example.org")).id])
    await invite(owner, world, ["replaced@example.org"])
    live = await latest_token("replaced@example.org")
    clock.advance(timedelta(hours=24))

    pages = {name: await _page(user, token) for name, token in [
        ("unknown", secrets.token_urlsafe(32)), ("expired", expired), ("deleted", deleted),
        ("replaced", replaced), ("used", used), ("archived", archived), ("garbage", "%00%0d%0a<script>"),
    ]}  # fmt: skip

    assert len(set(pages.values())) == 1, {name: page[0] for name, page in pages.items()}
    status, body = pages["unknown"]
    assert status == 200 and DEAD_LINK in body
    live_status, live_body = await _page(user, live)
    assert live_status == 200 and "Create your account" in live_body and DEAD_LINK not in live_body


@pytest.mark.parametrize("hours", sorted(invitations.EXPIRY_CHOICES))
async def test_a_link_works_until_the_last_microsecond_and_is_dead_at_its_expiry(
    db: str, frozen_clock: datetime, hours: int
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["edge@example.org"], hours=hours)
    token = await latest_token("edge@example.org")
    invitation = await Invitation.get(email="edge@example.org")
    assert invitation.expires_at == frozen_clock + timedelta(hours=hours)

    clock.advance(timedelta(hours=hours) - MICROSECOND)
    assert (await acceptance.preview(token=token, client="c")).email == "edge@example.org"
    listed = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    assert [row.expired for row in listed.rows] == [False]

    clock.advance(MICROSECOND)
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=token, client="c")
    with pytest.raises(LinkInvalid):
        await accept(token)
    listed = await pending.list_pending(actor=owner, organisation_id=world.org.id)
    assert [row.expired for row in listed.rows] == [True]
    assert not await StaffMember.exists(email="edge@example.org")


@pytest.mark.parametrize("crafted", [0, -72, 1, 23, 25, 71.5, 73, 167, 169, 8760, 10**9, "72"])
async def test_only_the_three_offered_expiry_lengths_can_be_asked_for(db: str, crafted: object) -> None:
    world, owner = await owner_and_world()
    with pytest.raises(InvalidInput, match="24 hours, 72 hours or 7 days"):
        await invite(owner, world, ["x@example.org"], hours=crafted)  # type: ignore[arg-type]
    assert await Invitation.all().count() == 0
    assert await OutboxMessage.all().count() == 0


async def test_a_resend_keeps_the_chosen_lifetime_and_computes_the_expiry_again_on_the_server(
    db: str, frozen_clock: datetime
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["r@example.org"], hours=24)
    clock.advance(timedelta(hours=30))
    invitation = await Invitation.get(email="r@example.org")
    assert (await resending.resend_each(actor=owner, invitation_ids=[invitation.id])).resent == ["r@example.org"]
    renewed = await Invitation.get(id=invitation.id)
    assert renewed.expires_at == frozen_clock + timedelta(hours=30 + 24)


async def test_opening_the_link_with_get_or_head_spends_nothing(user: User) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["scanned@example.org"])
    token = await latest_token("scanned@example.org")
    before = await Invitation.get(email="scanned@example.org")

    for _ in range(3):
        assert (await user.http_client.get(f"/accept/{token}")).status_code == 200
        assert (await user.http_client.head(f"/accept/{token}")).status_code in (200, 405)

    after = await Invitation.get(email="scanned@example.org")
    assert (after.state, after.token_hash, after.expires_at) == (
        InvitationState.PENDING,
        before.token_hash,
        before.expires_at,
    )
    assert await AuditEvent.filter(action="accept").count() == 0
    assert await accept(token) == "scanned@example.org"


@pytest.fixture
def portal_origin(monkeypatch: pytest.MonkeyPatch) -> str:
    """The operator's configured origin (set before the app starts, after the test environment is cleaned)."""
    origin = "http://portal.example.org:8443"  # plain http: the test client keeps no Secure cookie over http
    monkeypatch.setenv("GATEHOUSE_BASE_URL", origin)
    return origin


async def test_every_link_uses_the_configured_origin_whatever_host_the_browser_sent(
    portal_origin: str, user: User
) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    user.http_client.headers["Host"] = "evil.example"
    user.http_client.headers["X-Forwarded-Host"] = "evil.example"
    await user.open("/admin")
    await eventually(lambda: len(table(user, "deployments").rows) == 2)
    user.find(marker="deployments").trigger("invite", table(user, "deployments").rows[0])
    await user.should_see("Send invites")
    user.find("Email addresses").type("dana@example.org").trigger("keydown.enter")
    await user.should_see("1 valid address")
    role = select_labelled(user, "Role")
    role.value = next(k for k, v in role.options.items() if v == "Clinician")  # type: ignore[union-attr]
    user.find(kind=ui.button, content="Send invites").click()
    await user.should_see("Invited (1)")

    links = [factories.link_of(message) for message in await OutboxMessage.filter(link_seed__not_isnull=True)]
    assert links and all(link.startswith(f"{portal_origin}/accept/") for link in links)
    response = await user.http_client.get("/auth/complete?ticket=forged")
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/accept/{live}", "/accept/{dead}", "/login", "/auth/complete?ticket=x"])
async def test_token_pages_are_never_cached_and_send_no_referrer(user: User, path: str) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["h@example.org"])
    url = path.format(live=await latest_token("h@example.org"), dead=secrets.token_urlsafe(32))
    for method in ("GET", "HEAD"):
        response = await user.http_client.request(method, url)
        assert response.headers["cache-control"] == "no-store", method
        assert response.headers["referrer-policy"] == "no-referrer", method


@pytest.mark.parametrize("path", ["/care", "/healthz", "/_nicegui/{version}/static/nicegui.css"])
async def test_every_response_forbids_framing_sniffing_and_referrers(user: User, path: str) -> None:
    response = await user.http_client.get(path.format(version=nicegui.__version__))
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_acceptance_attempts_are_limited_per_client_and_the_limit_passes(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["real@example.org"])
    token = await latest_token("real@example.org")
    for _ in range(acceptance.accept_limiter.attempts):
        with pytest.raises(LinkInvalid):
            await acceptance.preview(token=secrets.token_urlsafe(32), client="guesser")

    with pytest.raises(RateLimited):
        await acceptance.preview(token=token, client="guesser")
    with pytest.raises(RateLimited):
        await accept(token, client="guesser")
    assert (await acceptance.preview(token=token, client="someone else")).email == "real@example.org"

    clock.advance(timedelta(seconds=acceptance.accept_limiter.per_seconds + 1))
    assert await accept(token, client="guesser") == "real@example.org"


async def test_a_client_guessing_links_in_the_browser_is_stopped(user: User) -> None:
    reset_limits()
    for _ in range(acceptance.accept_limiter.attempts):
        await user.http_client.get(f"/accept/{secrets.token_urlsafe(32)}")
    response = await user.http_client.get(f"/accept/{secrets.token_urlsafe(32)}")
    assert "Too many attempts" in response.text and DEAD_LINK not in response.text


async def test_request_logs_show_link_tokens_and_log_in_tickets_redacted(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    for name in tokens.URL_LOGGERS:  # installed by the running app
        assert any(isinstance(f, tokens.RedactTokens) for f in logging.getLogger(name).filters), name
    token, ticket = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    access_log = logging.getLogger("uvicorn.access")
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    access_log.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", f"/accept/{token}", "1.1", 200)
    access_log.info('%s - "%s %s HTTP/%s" %d', "10.0.0.1:5000", "GET", f"/auth/complete?ticket={ticket}", "1.1", 303)
    access_log.info("GET /login?email=a%40b.org&redirect_to=%2Faccept%2F" + token)

    assert token not in caplog.text and ticket not in caplog.text
    assert caplog.text.count(tokens.REDACTED) == 3
    assert "GET /accept/[redacted] HTTP/1.1" in caplog.text


async def test_a_member_logging_in_from_a_link_comes_back_to_it_and_the_link_is_never_stored(user: User) -> None:
    reset_limits()
    world, owner = await owner_and_world()
    await invite(owner, world, ["mo@example.org"], "supervisor")
    token = await latest_token("mo@example.org")
    await factories.member("mo@example.org", password_hash=await auth.hash_password(UI_PASSWORD))
    await factor_helpers.enrol("mo@example.org")

    await user.open(f"/accept/{token}")
    user.find(kind=ui.button, content="Log in to accept").click()
    await user.should_see("Welcome to Gatehouse")
    user.find("Password").type(UI_PASSWORD)
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("Two-step verification", retries=50)
    user.find("Authentication code").type(factor_helpers.code(factor_helpers.secret_of("mo@example.org")))
    user.find(kind=ui.button, content="Verify").click()
    await user.should_see("Accept as mo@example.org", retries=50)
    user.find(kind=ui.button, content="Accept as mo@example.org").click()
    await user.should_see("Invitation accepted: you now hold Supervisor", retries=50)

    assert (await Invitation.get(email="mo@example.org")).state == InvitationState.ACCEPTED
    assert token not in await database_text()
