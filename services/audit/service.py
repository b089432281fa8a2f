"""The audit trail: every change and every refusal, who, what, where, when."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import AuditEvent
from services.access import rights
from services.access import service as access
from services.access.service import PLATFORM_SCOPE, Actor, Scope, ScopeLevel
from services.audit import sentences
from services.platform import text
from services.platform.clock import now


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
        "actor_id": actor.member_id if actor and not actor.token else None,  # a token is audited as itself
        "actor_email": (f"API token “{actor.token}”" if actor.token else actor.email) if actor else "",
        "action": action,
        "outcome": outcome,
        "organisation_id": scope.organisation_id if scope else None,
        "deployment_id": scope.deployment_id if scope else None,
        "target": one_line(target)[:320],
        "detail": _clean_detail(detail) if detail else {},
    }


def one_line(text: str) -> str:
    """Text as it may be stored and shown: control, invisible and line-breaking characters become U+FFFD.

    Refused requests are recorded with what the browser sent, which may hold CR/LF (forged log lines) or NUL
    (which PostgreSQL refuses to store, so the refusal itself would fail).
    """
    return text if text.isprintable() else "".join(c if c.isprintable() else "\ufffd" for c in text)


def _clean_detail(detail: dict[str, Any]) -> dict[str, Any]:
    return {str(key): _clean_value(value) for key, value in detail.items()}


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, list):
        return [_clean_value(item) for item in value]
    return value


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str  # the address of whoever acted, or "Gatehouse"
    action: str
    outcome: str  # in words: Done, Refused, Failed
    sentence: str  # what happened, in words (sentences.py)


READ_REFUSED = "Only those who manage this organisation's staff may read its audit log."
PLATFORM_READ_REFUSED = "Only Platform Support and Super Admins may read the platform's audit log."
ACTIONS = sentences.ACTION_LABELS  # the actions a reader may filter by: code and words


async def events_page(
    *,
    actor: Actor,
    organisation_id: int | None,
    actor_email: str = "",
    action: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 25,
) -> tuple[list[AuditRow], int]:
    """One page of the organisation's audit trail, newest first (for those who manage its staff); organisation_id
    None: the platform's events, of no organisation (suspensions, restores, platform grants and their ends, platform
    invitations, log-ins), for Platform Support and Super Admin (the Admin Portal's Platform audit)."""
    if organisation_id is None:
        scope, allowed, refusal = PLATFORM_SCOPE, rights.may_see_platform_staff(actor=actor), PLATFORM_READ_REFUSED
    else:
        scope = Scope(ScopeLevel.ORGANISATION, organisation_id)
        allowed, refusal = rights.may_read_audit(actor=actor, organisation_id=organisation_id), READ_REFUSED
    if not allowed:
        await record(actor=actor, action="view_audit", scope=scope, outcome="refused")
        access.require(False, refusal)
    query = AuditEvent.filter(organisation_id=organisation_id)
    if who := text.search_term(actor_email):
        query = query.filter(actor_email__icontains=who)
    if action:
        query = query.filter(action=action)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    total = await query.count()
    size = text.page_size(page_size)
    rows = await query.order_by("-at", "-id").offset((max(1, page) - 1) * size).limit(size)
    names = await sentences.names_for(rows)
    return [_audit_row(e, names) for e in rows], total


def _audit_row(event: AuditEvent, names: sentences.Names) -> AuditRow:
    outcome = sentences.OUTCOMES.get(event.outcome, event.outcome)
    return AuditRow(event.at, event.actor_email or "Gatehouse", event.action, outcome, sentences.sentence(event, names))
