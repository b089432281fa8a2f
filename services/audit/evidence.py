"""The evidence an auditor asks for, exported: every grant of an organisation during a period, one line per role it
held (who, where, which role, who gave it and who approved, when granted, its end, last review, last log-in, how and
when it ended, with its time-to-revoke), one line per grant each suspension in the period stopped, and the audit log
with the filters of the audit page. Platform staff (grants at platform scope: Super Admin, Platform Support) reach
every organisation's data, so each organisation's pack lists them too, their place "Platform (every organisation)".
CSV (safe to open in a spreadsheet) or JSON. The lines: evidence_lines.py.

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

from tortoise.expressions import Q, Subquery

from models import AccountSuspension, AuditEvent, Deployment, Organisation, RoleAssignment
from services.access import rights
from services.access import service as access
from services.access.service import Actor, Scope, ScopeLevel
from services.audit import evidence_lines as lines
from services.audit import sentences
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.organisations import naming
from services.platform import text

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP CSV injection)
GRANT_COLUMNS = lines.GRANT_COLUMNS
TIME_TO_REVOKE = lines.TIME_TO_REVOKE  # what the column means, said in the JSON heading
PLATFORM_STAFF = lines.PLATFORM_STAFF  # why platform staff are in an organisation's pack, said in the JSON heading
AUDIT_COLUMNS = ("at", "actor", "action", "outcome", "target", "what_happened", "detail", "chain_place", "hash")


RELATED = ("member", "role", "sponsor", "granted_by", "approved_by", "reviewed_by", "ended_by")


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
    """Every role period of a grant of the organisation (or of platform staff) live at some moment of the period, then
    every grant a suspension begun or ended in the period stopped: one dict per line (GRANT_COLUMNS)."""
    await _allowed(
        actor, organisation_id, "export_evidence", {"since": _iso(period.since), "until": _iso(period.until)}
    )
    query = RoleAssignment.filter(_in_pack(organisation_id))
    if period.until is not None:
        query = query.filter(created_at__lt=period.until)
    if period.since is not None:
        query = query.filter(Q(ended_at__isnull=True) | Q(ended_at__gte=period.since))
    places = await _places(organisation_id)
    after = 0
    while rows := await query.filter(id__gt=after).order_by("id").limit(BATCH).select_related(*RELATED):
        history = await lines.history_of(rows)
        for row in rows:
            for line in lines.role_lines(row, history, places, period.since, period.until):
                yield line
        after = rows[-1].id
    async for line in _suspensions(organisation_id, period, places):
        yield line


async def _suspensions(organisation_id: int, period: Period, places: dict[int | None, str]) -> AsyncIterator[dict]:
    """The lines of the suspensions begun or ended in the period of members who held a grant of the organisation."""
    members = Subquery(RoleAssignment.filter(_in_pack(organisation_id)).values("member_id"))
    query = AccountSuspension.filter(member_id__in=members).filter(
        _within("suspended_at", period) | _within("restored_at", period)
    )
    after = 0
    while (
        found := await query.filter(id__gt=after)
        .order_by("id")
        .limit(BATCH)
        .select_related("suspended_by", "restored_by")
    ):
        for suspension in found:
            at = suspension.suspended_at
            stopped = await (
                RoleAssignment.filter(_in_pack(organisation_id), member_id=suspension.member_id, created_at__lte=at)
                .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at), Q(ends_at__isnull=True) | Q(ends_at__gt=at))
                .order_by("id")
                .select_related(*RELATED)
            )
            history = await lines.history_of(stopped)
            for line in lines.suspension_lines(suspension, stopped, history, places):
                yield line
        after = found[-1].id


def _in_pack(organisation_id: int) -> Q:
    """The grants an organisation's pack lists: its own, and platform staff's, who reach every organisation."""
    # organisation_id IS NULL too: both sides read the (organisation_id, created_at) index, not the whole table.
    return Q(organisation_id=organisation_id) | Q(organisation_id__isnull=True, level=ScopeLevel.PLATFORM.value)


def _within(column: str, period: Period) -> Q:
    bounds: dict[str, Any] = {f"{column}__isnull": False}
    if period.since is not None:
        bounds[f"{column}__gte"] = period.since
    if period.until is not None:
        bounds[f"{column}__lt"] = period.until
    return Q(**bounds)


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
