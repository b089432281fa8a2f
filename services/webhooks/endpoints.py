"""Webhook endpoints: registered, listed, switched off and on, deleted and tested by holders of *manage
integrations* in the organisation; each change audited. The secret is shown once, when the endpoint is made."""

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from tortoise.transactions import in_transaction

from models import OutboxState, Permission, StaffMember, WebhookDelivery, WebhookEndpoint
from services.access import service as access
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import InvalidInput, NotFound, check_fields
from services.organisations import service as organisations
from services.platform import events, settings
from services.platform.clock import now
from services.webhooks import outbox, signing
from services.webhooks.outbox import EventType

REFUSED = "You need the *manage integrations* permission in this organisation."
URL_LENGTH = 500
DESCRIPTION_LENGTH = 200
LOG_LENGTH = 50
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
LIVE_KIND = "webhooks"


@dataclass(frozen=True)
class EndpointRow:
    id: int
    url: str
    description: str
    event_types: tuple[str, ...]
    created_by: str
    created_at: datetime
    enabled: bool


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    event_id: str
    event_type: str
    state: str
    status: int | None
    error: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


def may_manage(actor: Actor, *, organisation_id: int) -> bool:
    """Whether the actor may manage the organisation's webhooks (menus ask; every call checks again)."""
    return access.has_permission(
        actor, Permission.MANAGE_INTEGRATIONS, Scope(access.ScopeLevel.ORGANISATION, organisation_id)
    )


async def register(
    *, actor: Actor, organisation_id: int, url: str, event_types: list[str], description: str = ""
) -> tuple[str, EndpointRow]:
    """Add an endpoint; returns its secret (shown once) and its row. FieldErrors at url, event_types, description."""
    scope = await _require(actor, organisation_id, "create_webhook", url[:100])
    await organisations.require_active(organisation_id=organisation_id)
    clean = check_fields(
        url=lambda: _checked_url(url),
        event_types=lambda: _checked_types(event_types),
        description=lambda: _checked_description(description),
    )
    secret = signing.new_secret()
    row = await WebhookEndpoint.create(
        organisation_id=organisation_id,
        url=clean["url"],
        description=clean["description"],
        event_types=clean["event_types"],
        secret=secret,
        created_by_id=actor.member_id,
        created_at=now(),
    )
    detail = {"events": row.event_types}
    await audit.record(actor=actor, action="create_webhook", scope=scope, target=row.url[:100], detail=detail)
    await events.publish(organisation_id=organisation_id, kind=LIVE_KIND)
    return secret, await _row(row)


async def listed(*, actor: Actor, organisation_id: int) -> list[EndpointRow]:
    """The organisation's endpoints, newest first."""
    await _require(actor, organisation_id, "list_webhooks", "")
    rows = await WebhookEndpoint.filter(organisation_id=organisation_id).order_by("-created_at", "-id")
    return [await _row(row) for row in rows]


async def set_enabled(*, actor: Actor, endpoint_id: int, enabled: bool) -> None:
    """Switch an endpoint off (nothing more is queued for it; what is queued still leaves) or on again."""
    row, scope = await _endpoint(actor, endpoint_id, "change_webhook")
    changed = await WebhookEndpoint.filter(id=row.id, disabled_at__isnull=not enabled).update(
        disabled_at=None if enabled else now()
    )
    if changed:
        detail = {"change": "enabled" if enabled else "disabled"}
        await audit.record(actor=actor, action="change_webhook", scope=scope, target=row.url[:100], detail=detail)
        await events.publish(organisation_id=row.organisation_id, kind=LIVE_KIND)


async def gone(*, endpoint_id: int) -> None:
    """Its receiver answered 410 Gone (Standard Webhooks: send no more): switch the endpoint off, audited."""
    row = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if row is None or not await WebhookEndpoint.filter(id=row.id, disabled_at=None).update(disabled_at=now()):
        return
    scope = await access.scope_of(organisation_id=row.organisation_id)
    detail = {"change": "disabled", "reason": "its receiver answered 410 Gone"}
    await audit.record(actor=None, action="change_webhook", scope=scope, target=row.url[:100], detail=detail)
    await events.publish(organisation_id=row.organisation_id, kind=LIVE_KIND)


async def delete(*, actor: Actor, endpoint_id: int) -> None:
    """Delete an endpoint and its delivery log; what is queued for it never leaves."""
    row, scope = await _endpoint(actor, endpoint_id, "change_webhook")
    async with in_transaction() as connection:
        await WebhookEndpoint.filter(id=row.id).using_db(connection).delete()
        detail = {"change": "deleted"}
        await audit.record(
            actor=actor,
            action="change_webhook",
            scope=scope,
            target=row.url[:100],
            detail=detail,
            connection=connection,
        )
    await events.publish(organisation_id=row.organisation_id, kind=LIVE_KIND)


async def send_test(*, actor: Actor, endpoint_id: int) -> bool:
    """Queue a webhook.test event for the endpoint, through the same outbox as every event (True when queued)."""
    row, _ = await _endpoint(actor, endpoint_id, "test_webhook")
    if row.disabled_at is not None:
        raise InvalidInput("Enable the endpoint first: a disabled endpoint gets no events.")
    async with in_transaction() as connection:
        await outbox.record_test(connection=connection, endpoint_id=row.id, organisation_id=row.organisation_id)
    await events.publish(organisation_id=row.organisation_id, kind=LIVE_KIND)
    return True


async def deliveries(*, actor: Actor, endpoint_id: int) -> list[DeliveryRow]:
    """The endpoint's latest deliveries, newest first."""
    row, _ = await _endpoint(actor, endpoint_id, "list_webhooks")
    found = await WebhookDelivery.filter(endpoint_id=row.id).order_by("-created_at", "-id").limit(LOG_LENGTH)
    return [
        DeliveryRow(
            id=d.id,
            event_id=d.event_id,
            event_type=d.event_type,
            state=OutboxState(d.state).value,
            status=d.last_status,
            error=d.last_error,
            attempts=d.attempts,
            created_at=d.created_at,
            sent_at=d.sent_at,
        )
        for d in found
    ]


async def _require(actor: Actor, organisation_id: int, action: str, target: str) -> Scope:
    scope = await access.scope_of(organisation_id=organisation_id)
    if not may_manage(actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action=action, scope=scope, target=target, outcome="refused")
        access.require(False, REFUSED)
    return scope


async def _endpoint(actor: Actor, endpoint_id: int, action: str) -> tuple[WebhookEndpoint, Scope]:
    row = await WebhookEndpoint.get_or_none(id=endpoint_id)
    if row is None:
        raise NotFound("That webhook endpoint no longer exists.")
    return row, await _require(actor, row.organisation_id, action, row.url[:100])


def _checked_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise InvalidInput("Enter the endpoint's address, starting with https://.")
    if len(url) > URL_LENGTH or not url.isprintable() or " " in url:
        raise InvalidInput(f"Use an address of up to {URL_LENGTH} characters, without spaces.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  a bad port raises here
    except ValueError:
        raise InvalidInput("This is not a valid web address.") from None
    host = (parts.hostname or "").lower()
    loopback = settings.current().webhook_loopback and host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InvalidInput("Use an https:// address: events are sent only over HTTPS.")
    if not host or parts.username or parts.password or parts.fragment:
        raise InvalidInput("Give a host name, without a user name, password or #fragment.")
    if not loopback and (host in LOOPBACK_HOSTS or _private(host)):
        raise InvalidInput("Use an address on the internet or your network's name for it, not a private IP address.")
    return url


def _private(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def _checked_types(event_types: list[str]) -> list[str]:
    known = [t.value for t in EventType]
    if not event_types:
        raise InvalidInput("Choose at least one event.")
    if unknown := [t for t in event_types if t not in known]:
        raise InvalidInput(f"Unknown event: {unknown[0][:40]}.")
    return [t for t in known if t in event_types]


def _checked_description(description: str) -> str:
    clean = " ".join((description or "").split())
    if len(clean) > DESCRIPTION_LENGTH or not clean.isprintable():
        raise InvalidInput(f"Use up to {DESCRIPTION_LENGTH} printable characters.")
    return clean


async def _row(row: WebhookEndpoint) -> EndpointRow:
    creator = await StaffMember.get_or_none(id=row.created_by_id) if row.created_by_id else None
    return EndpointRow(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=tuple(row.event_types),
        created_by=creator.email if creator else "",
        created_at=row.created_at,
        enabled=row.disabled_at is None,
    )
