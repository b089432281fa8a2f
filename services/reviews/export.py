"""A campaign's record as CSV or JSON: each grant reviewed (member, role, scope, sponsor, reviewer) and what became of
it (decision, outcome, who decided and when, comment), for those holding *review access* where it applies.

The role and the outcome of a decided item come from its audit event (the role it had when reviewed, the new role or
end): the item itself points at the grant as it is now."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models import AuditEvent, ReviewCampaign, ReviewItem
from services.access import service as access
from services.access.service import Actor
from services.audit import evidence
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.organisations import naming
from services.reviews import campaigns, reviewers
from services.reviews.items import DECISIONS, RELATED

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
HEADER = (
    "member", "email", "role", "scope", "sponsor", "reviewer", "decision", "outcome", "decided_by", "decided_at",
    "comment",
)  # fmt: skip
REFUSED = "You need the *review access* permission where this review applies to export its record."


@dataclass(frozen=True)
class ExportFile:
    filename: str
    media_type: str
    content: bytes


async def export(*, actor: Actor, campaign_id: int, file_format: str) -> ExportFile:
    """The campaign's record as a file ("csv" or "json"); the export is audited."""
    if file_format not in FORMATS:
        raise InvalidInput("Export as CSV or JSON.")
    row = await ReviewCampaign.get_or_none(id=campaign_id).select_related("organisation", "deployment", "started_by")
    if row is None:
        raise NotFound("That review does not exist or you cannot see it.")
    scope = campaigns.scope_of(campaign=row)
    if not reviewers.reviews_in(actor=actor, scope=scope):
        await audit.record(actor=actor, action="export_review", scope=scope, target=row.title, outcome="refused")
        access.require(False, REFUSED)
    records = await _records(row)
    detail = {"campaign": row.id, "format": file_format, "items": len(records)}
    await audit.record(actor=actor, action="export_review", scope=scope, target=row.title, detail=detail)
    name = f"access-review-{row.id}.{file_format}"
    if file_format == "csv":  # the evidence pack's writers: formula cells quoted, and the same JSON shape
        parts = evidence.as_csv(_each(records), HEADER)
    else:
        parts = evidence.as_json(_each(records), {"review": await _header(row)}, "items")
    return ExportFile(name, FORMATS[file_format], "".join([part async for part in parts]).encode())


async def _each(records: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for record in records:
        yield record


async def _header(row: ReviewCampaign) -> dict[str, Any]:
    progress = (await campaigns.progress_of(campaign_ids=[row.id])).get(row.id, campaigns.Progress())
    return {
        "id": row.id,
        "title": row.title,
        "scope": _place(row.organisation.name, row.deployment.name if row.deployment else None),
        "started_by": row.started_by.email if row.started_by else "schedule",
        "started_at": _moment(row.started_at),
        "due_at": _moment(row.due_at),
        "closed_at": _moment(row.closed_at),
        "overdue_at": _moment(row.overdue_at),  # when what nobody answered went to the owners
        "remove_unanswered": row.remove_unanswered,
        "items": progress.total,
        "decided": progress.decided,
        "unanswered": progress.unanswered,
        "open": progress.open,
    }


async def _records(row: ReviewCampaign) -> list[dict[str, Any]]:
    items = await ReviewItem.filter(campaign_id=row.id).select_related(*RELATED).order_by("id")
    decided, removed = await _trail(row)
    return [_record(item, decided.get(item.id, {}), removed) for item in items]


async def _trail(row: ReviewCampaign) -> tuple[dict[int, dict[str, Any]], set[tuple[str, str]]]:
    """The campaign's decisions by item, and the (member, role) its close removed, from the audit trail."""
    events = AuditEvent.filter(
        action__in=("review_decision", "review_removed"), outcome="ok", organisation_id=row.organisation_id
    ).filter(at__gte=row.started_at)
    decided: dict[int, dict[str, Any]] = {}
    removed: set[tuple[str, str]] = set()
    for event in await events.order_by("id"):
        detail = event.detail or {}
        if detail.get("campaign") != row.id:
            continue
        if event.action == "review_removed":
            removed.add((event.target, str(detail.get("role"))))
        elif "item" in detail:
            decided[int(detail["item"])] = detail
    return decided, removed


def _record(item: ReviewItem, decided: dict[str, Any], removed: set[tuple[str, str]]) -> dict[str, Any]:
    grant = item.assignment
    role = str(decided.get("role") or grant.role.name)
    organisation = grant.organisation.name if grant.organisation else None
    return {
        "member": grant.member.full_name,
        "email": grant.member.email,
        "role": role,
        "scope": _place(organisation, grant.deployment.name if grant.deployment else None),
        "sponsor": grant.sponsor.email if grant.sponsor else "",
        "reviewer": item.reviewer.email if item.reviewer else "any holder of review access",
        "decision": item.decision or "open",
        "outcome": _outcome(item, decided, (grant.member.email, role) in removed),
        "decided_by": item.decided_by.email if item.decided_by else "",
        "decided_at": _moment(item.decided_at),
        "comment": item.comment,
    }


def _outcome(item: ReviewItem, decided: dict[str, Any], removed: bool) -> str:
    if item.decision == "change" and decided.get("approval") == "awaiting":  # services/approvals/role_changes.py
        return f"Change to {decided.get('to', '')} sent for a second person's approval"
    if item.decision == "change":
        return f"Role changed to {decided.get('to', '')}".strip()
    if item.decision == "end":
        return f"Access ends {decided.get('ends_at', '')}".strip()
    if item.decision == "unanswered":
        return "Unanswered: access ended at the deadline" if removed else "Unanswered: access kept"
    return DECISIONS.get(item.decision, item.decision)


def _place(organisation: str | None, deployment: str | None) -> str:
    return naming.place_name(organisation=organisation, deployment=deployment)


def _moment(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
