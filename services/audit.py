"""The audit trail: every change and every refusal, who, what, where, when."""

from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import AuditEvent
from services.access import Actor, Scope
from services.clock import now


async def record(
    *,
    actor: Actor | None,
    action: str,
    scope: Scope | None = None,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Write one audit event (inside the caller's transaction when a connection is given)."""
    await AuditEvent.create(
        using_db=connection,
        **event_fields(actor=actor, action=action, scope=scope, target=target, outcome=outcome, detail=detail),
    )


def event_fields(
    *,
    actor: Actor | None,
    action: str,
    scope: Scope | None = None,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The column values of one audit event, for bulk inserts."""
    return {
        "at": at or now(),
        "actor_id": actor.member_id if actor else None,
        "actor_email": actor.email if actor else "",
        "action": action,
        "outcome": outcome,
        "organisation_id": scope.organisation_id if scope else None,
        "deployment_id": scope.deployment_id if scope else None,
        "target": target[:320],
        "detail": detail or {},
    }
