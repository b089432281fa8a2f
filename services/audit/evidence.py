"""The evidence an auditor asks for, exported: every grant of an organisation during a period (who, where, which
role, who invited and who approved, when granted, its end, last review, last log-in, how and when it ended, with its
time-to-revoke), and the audit log with the filters of the audit page. CSV (safe to open in a spreadsheet) or JSON.

Rows are read in keyset pages and yielded as they come, so a large organisation's export streams rather than
building in memory. Reading either needs what reading the audit log needs, and each export is itself audited.
"""

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from models import AuditEvent, Deployment, Organisation, RoleAssignment
from services.access import rights
from services.access import service as access
from services.access.service import Actor, Scope, ScopeLevel
from services.audit import sentences
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.organisations import naming
from services.platform import text

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP CSV injection)
GRANT_COLUMNS = (
    "member_name",
    "member_email",
    "account",
    "role",
    "scope",
    "sponsor",
    "granted_by",
    "approved_by",
    "granted_at",
    "ends_at",
    "last_reviewed_at",
    "reviewed_by",
    "last_log_in",
    "ended_at",
    "end_reason",
    "ended_by",
    "time_to_revoke_seconds",
)
AUDIT_COLUMNS = ("at", "actor", "action", "outcome", "target", "what_happened", "detail", "chain_place", "hash")


class BadPeriod(InvalidInput):
    """A period that is not a pair of dates."""


@dataclass(frozen=True)
class Period:
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditFilters:
    actor_email: str = ""
    action: str = ""
    period: Period = Period()


async def grants(*, actor: Actor, organisation_id: int, period: Period) -> AsyncIterator[dict[str, Any]]:
    """Every grant in the organisation live at any moment of the period, one dict per grant (GRANT_COLUMNS)."""
    await _allowed(
        actor, organisation_id, "export_evidence", {"since": _iso(period.since), "until": _iso(period.until)}
    )
    query = RoleAssignment.filter(organisation_id=organisation_id)
    if period.until is not None:
        query = query.filter(created_at__lt=period.until)
    if period.since is not None:
        query = query.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=period.since))
    places = await _places(organisation_id)
    after = 0
    while (
        rows := await query.filter(id__gt=after)
        .order_by("id")
        .limit(BATCH)
        .select_related("member", "role", "sponsor", "granted_by", "approved_by", "reviewed_by", "ended_by")
    ):
        for row in rows:
            yield _grant(row, places)
        after = rows[-1].id


async def audit_events(*, actor: Actor, organisation_id: int, filters: AuditFilters) -> AsyncIterator[dict[str, Any]]:
    """The organisation's audit events matching the audit page's filters, oldest first (AUDIT_COLUMNS)."""
    detail = {"action": filters.action, "actor": filters.actor_email, **_said(filters.period)}
    await _allowed(actor, organisation_id, "export_audit", detail)
    query = AuditEvent.filter(organisation_id=organisation_id)
    if who := text.search_term(filters.actor_email):
        query = query.filter(actor_email__icontains=who)
    if filters.action:
        query = query.filter(action=filters.action)
    if filters.period.since is not None:
        query = query.filter(at__gte=filters.period.since)
    if filters.period.until is not None:
        query = query.filter(at__lt=filters.period.until)
    after = 0
    while rows := await query.filter(id__gt=after).order_by("id").limit(BATCH):
        names = await sentences.names_for(rows)
        for event in rows:
            yield _event(event, names)
        after = rows[-1].id


async def as_csv(rows: AsyncIterator[dict[str, Any]], columns: Iterable[str]) -> AsyncIterator[str]:
    """The rows as CSV text, a header first, every cell that a spreadsheet would run as a formula quoted with '."""
    names = list(columns)
    yield _csv_line(names)
    async for row in rows:
        yield _csv_line([safe_cell(row[name]) for name in names])


async def as_json(rows: AsyncIterator[dict[str, Any]], heading: dict[str, Any], key: str) -> AsyncIterator[str]:
    """The rows as one JSON object: the heading's fields, then the rows as a list under key."""
    opening = json.dumps(heading, ensure_ascii=False)[:-1]
    yield f'{opening}{", " if heading else ""}"{key}": ['
    first = True
    async for row in rows:
        yield ("" if first else ",\n") + json.dumps(row, ensure_ascii=False, default=str)
        first = False
    yield "]}\n"


def safe_cell(value: Any) -> str:
    """A cell as text; one starting like a formula gets a leading ' so that spreadsheets show it as text."""
    cell = "" if value is None else str(value)
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


async def _allowed(actor: Actor, organisation_id: int, action: str, detail: dict[str, Any]) -> None:
    scope = Scope(ScopeLevel.ORGANISATION, organisation_id)
    if not rights.may_read_audit(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action=action, scope=scope, outcome="refused", detail=detail)
        access.require(False, audit.READ_REFUSED)
    await audit.record(actor=actor, action=action, scope=scope, detail=detail)


async def _places(organisation_id: int) -> dict[int | None, str]:
    """The organisation's places by deployment id (None: the whole organisation), named as everywhere else."""
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        raise NotFound("That organisation no longer exists.")
    deployments = await Deployment.filter(organisation_id=organisation_id).values_list("id", "name")
    places: dict[int | None, str] = {None: naming.place_name(organisation=organisation.name)}
    for deployment_id, name in deployments:
        places[int(deployment_id)] = naming.place_name(organisation=organisation.name, deployment=str(name))
    return places


def _grant(row: RoleAssignment, places: dict[int | None, str]) -> dict[str, Any]:
    member = row.member
    return {
        "member_name": member.full_name,
        "member_email": member.email,
        "account": "active" if member.is_active else "suspended",
        "role": row.role.name,
        "scope": places.get(row.deployment_id, places.get(None, "")),
        "sponsor": row.sponsor.email if row.sponsor else "",
        "granted_by": row.granted_by.email if row.granted_by else "",
        "approved_by": row.approved_by.email if row.approved_by else "",
        "granted_at": _iso(row.created_at),
        "ends_at": _iso(row.ends_at),
        "last_reviewed_at": _iso(row.reviewed_at),
        "reviewed_by": row.reviewed_by.email if row.reviewed_by else "",
        "last_log_in": _iso(member.last_login_at),
        "ended_at": _iso(row.ended_at),
        "end_reason": row.end_reason,
        "ended_by": row.ended_by.email if row.ended_by else "",
        "time_to_revoke_seconds": _time_to_revoke(row),
    }


def _time_to_revoke(row: RoleAssignment) -> int | str:
    """From when access should have stopped (its end, for a grant that reached it; else the removal) to when the
    end was recorded and the member's sessions ended. Access checks refuse a grant from its end time itself."""
    if row.ended_at is None:
        return ""
    should_stop = row.ends_at if row.ends_at is not None and row.ends_at <= row.ended_at else row.ended_at
    return max(0, round((row.ended_at - should_stop).total_seconds()))


def _event(event: AuditEvent, names: sentences.Names) -> dict[str, Any]:
    return {
        "at": _iso(event.at),
        "actor": event.actor_email or "Gatehouse",
        "action": event.action,
        "outcome": event.outcome,
        "target": event.target,
        "what_happened": sentences.sentence(event, names),
        "detail": json.dumps(event.detail, ensure_ascii=False, sort_keys=True),
        "chain_place": event.seal or "",
        "hash": event.hash or "",
    }


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


def _said(period: Period) -> dict[str, str]:
    """The period as the audit event records it: its first and last moments."""
    last = period.until - timedelta(microseconds=1) if period.until else None
    return {"since": _iso(period.since), "until": _iso(last)}


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
