"""Writing webhook events into their outbox, inside the transaction of what causes them (the worker delivers them).

One look-up of the organisation's enabled endpoints per call and, only when one is subscribed, one bulk insert of a
delivery per event and endpoint: a send of 100,000 invitations with no endpoint costs one small query more.
"""

import secrets
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Invitation, InvitationState, OutboxState, RoleAssignment, WebhookDelivery, WebhookEndpoint
from services.platform import sql
from services.platform.clock import now


class EventType(StrEnum):
    INVITATION_SENT = "invitation.sent"
    INVITATION_FAILED = "invitation.failed"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_EXPIRED = "invitation.expired"
    INVITATION_DELETED = "invitation.deleted"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_ACCESS_ENDED = "member.access_ended"


TEST_EVENT = "webhook.test"  # "Send test event": to one endpoint, whatever it subscribes to


async def record(
    *, connection: BaseDBAsyncClient, organisation_id: int | None, event_type: EventType, data: Iterable[dict[str, Any]]
) -> None:
    """Queue one event per item of data for each enabled endpoint of the organisation subscribed to its type."""
    if organisation_id is None:
        return
    endpoints = await _subscribed(connection, organisation_id, event_type)
    if endpoints:
        await _insert(connection, endpoints, event_type, data)


async def record_each(
    *, connection: BaseDBAsyncClient, event_type: EventType, data: Iterable[tuple[int | None, dict[str, Any]]]
) -> None:
    """Like record, for events of several organisations: (organisation id, data) pairs."""
    by_organisation: dict[int | None, list[dict[str, Any]]] = {}
    for organisation_id, item in data:
        by_organisation.setdefault(organisation_id, []).append(item)
    for organisation_id, items in by_organisation.items():
        await record(connection=connection, organisation_id=organisation_id, event_type=event_type, data=items)


async def record_test(*, connection: BaseDBAsyncClient, endpoint_id: int, organisation_id: int) -> None:
    """Queue a webhook.test event for one endpoint."""
    await _insert(connection, [endpoint_id], TEST_EVENT, [{"organisation_id": organisation_id}])


def invitation_data(invitation: Invitation, **more: Any) -> dict[str, Any]:
    """What an invitation event says of its invitation."""
    return {
        "invitation_id": invitation.id,
        "email": invitation.email,
        "organisation_id": invitation.organisation_id,
        "deployment_id": invitation.deployment_id,
        "role_id": invitation.role_id,
        **more,
    }


async def record_expired(*, since: datetime, until: datetime) -> None:
    """invitation.expired for each pending invitation whose expiry passed in (since, until] (housekeeping's pass)."""
    endpoints = await WebhookEndpoint.filter(disabled_at__isnull=True).values_list("organisation_id", "event_types")
    wanted = {int(organisation_id) for organisation_id, types in endpoints if EventType.INVITATION_EXPIRED in types}
    if not wanted:
        return
    crossed = Invitation.filter(
        state=InvitationState.PENDING, expires_at__gt=since, expires_at__lte=until, organisation_id__in=wanted
    )
    rows = await crossed.values(
        invitation_id="id",
        email="email",
        organisation_id="organisation_id",
        deployment_id="deployment_id",
        role_id="role_id",
        expires_at="expires_at",
    )
    data = [(row["organisation_id"], row) for row in rows]
    async with in_transaction() as connection:
        await record_each(connection=connection, event_type=EventType.INVITATION_EXPIRED, data=data)


def grant_data(grant: RoleAssignment, **more: Any) -> dict[str, Any]:
    """What a member event says of the grant (role assignment) concerned."""
    return {
        "grant_id": grant.id,
        "member_id": grant.member_id,
        "organisation_id": grant.organisation_id,
        "deployment_id": grant.deployment_id,
        "role_id": grant.role_id,
        **more,
    }


async def _subscribed(connection: BaseDBAsyncClient, organisation_id: int, event_type: str) -> list[int]:
    rows = (
        await WebhookEndpoint.filter(organisation_id=organisation_id, disabled_at__isnull=True)
        .using_db(connection)
        .values_list("id", "event_types")
    )
    return [int(endpoint_id) for endpoint_id, types in rows if event_type in (types or [])]


async def _insert(
    connection: BaseDBAsyncClient, endpoints: list[int], event_type: str, data: Iterable[dict[str, Any]]
) -> None:
    at = now()
    await sql.insert(
        connection,
        WebhookDelivery,
        columns=("endpoint_id", "event_id", "body"),
        rows=_rows(endpoints, event_type, data, at),
        constants={
            "event_type": event_type,
            "state": OutboxState.QUEUED,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
            "last_error": "",
        },
    )


def _rows(endpoints: list[int], event_type: str, data: Iterable[dict[str, Any]], at: datetime) -> Iterator[tuple]:
    """One row per event and endpoint; an event keeps its id (webhook-id) at every endpoint and on every attempt."""
    base, stamp = secrets.token_hex(8), at.isoformat()
    for number, item in enumerate(data):
        event_id = f"msg_{base}{number:x}"
        body = orjson.dumps({"type": event_type, "timestamp": stamp, "data": item}).decode()
        for endpoint_id in endpoints:
            yield (endpoint_id, event_id, body)
