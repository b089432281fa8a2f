"""The mail worker's jobs and records: each claimed email built (or failed at once), and what became of it."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from tortoise import connections
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from models import (
    AuditEvent,
    DeliveryState,
    Invitation,
    InvitationState,
    MessageKind,
    OutboxMessage,
    OutboxState,
    ScopeLevel,
)
from services.access import tokens
from services.access.service import Scope
from services.audit import service as audit
from services.mail import templates as mail_templates
from services.mail.claims import Claimed
from services.platform import sql
from services.platform.clock import now
from services.platform.settings import Settings
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

BACKOFF = tuple(timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200, 14400))
MAX_ATTEMPTS = len(BACKOFF) + 1
ERROR_LENGTH = 500
LINKED_KINDS = (MessageKind.INVITATION, MessageKind.REMINDER)  # emails carrying an invitation's link
STALE_LINK_REASON = "GATEHOUSE_SECRET changed since this email was queued, so its link would not open: resend it"


@dataclass
class Job:
    """One claimed message on its way: what was built, and what became of it."""

    row: Claimed
    message: bytes = b""
    recipient: str = ""
    outcome: str = ""  # sent | retry | failed; empty: not tried, goes back to the queue
    error: str = ""
    attempted: bool = False
    dead_link: bool = False  # the invitation was replaced or is no longer pending: leave it alone
    marked: bool = False  # already recorded as sent (mark_sent), moments after the relay took it


async def jobs_for(rows: list[Claimed], *, settings: Settings) -> list[Job]:
    """A job per claimed email: built, or failed at once when its link is dead or it cannot be built."""
    ids = {row.invitation_id for row in rows if row.invitation_id}
    invitations, latest = await invitation_facts(ids, since=min(row.id for row in rows))
    at = now()
    jobs = []
    for row in rows:
        job = Job(row)
        jobs.append(job)
        invitation = invitations.get(row.invitation_id or 0)
        # An invitation email (or its reminder) whose invitation row is gone (its custom role was deleted) carries a
        # dead link.
        gone = row.kind in LINKED_KINDS and (invitation is None or not row.invitation_id)
        if gone or (invitation is not None and invitation["state"] != InvitationState.PENDING):
            job.outcome, job.error, job.dead_link = "failed", "invitation no longer pending", True
        elif row.invitation_id and latest.get(row.invitation_id) != row.id:
            job.outcome, job.error, job.dead_link = "failed", "replaced by a newer email", True
        elif invitation is not None and invitation["expires_at"] <= at:
            job.outcome, job.error = "failed", "the invitation expired before the email could be sent"
        elif (token := _token(row, invitation, secret=settings.secret)) is False:
            job.outcome, job.error = "failed", STALE_LINK_REASON
        else:
            try:
                job.recipient = mail_templates.smtp_address(row.recipient)
                job.message = mail_templates.render(
                    row.kind,
                    recipient=row.recipient,
                    context=row.context,
                    link=settings.link("/accept/" + token) if token else None,
                    settings=settings,
                    outbox_id=row.id,
                )
            except Exception as error:  # a message that cannot be built never will be: fail it, not the batch
                job.outcome, job.error = "failed", f"could not build the email: {error}"
    return jobs


def link_of(seed: str | None, *, settings: Settings) -> str | None:
    """The email's link, its token derived from the stored seed (none: the template's own, e.g. log in)."""
    return settings.link("/accept/" + tokens.link_token(seed, secret=settings.secret)) if seed else None


def _token(row: Claimed, invitation: dict[str, Any] | None, *, secret: str) -> str | Literal[False] | None:
    """The link's token derived from the row's seed; False where it would not open the invitation (the secret
    changed since the email was queued); None for an email without a link of its own."""
    if row.link_seed is None:
        return False if invitation is not None else None
    token = tokens.link_token(row.link_seed, secret=secret)
    if invitation is not None and tokens.hash_token(token) != invitation["token_hash"]:
        return False
    return token


async def record(jobs: list[Job], *, worker_id: str) -> None:
    """Record each job's outcome on its row (if this worker still holds it) and its invitation, in one transaction."""
    at = now()
    outcomes: dict[tuple[str, str, int], list[Job]] = {}
    for job in jobs:
        outcome, error = job.outcome or "release", job.error[:ERROR_LENGTH]
        attempts = job.row.attempts + (1 if job.attempted else 0)
        if outcome == "retry" and attempts >= MAX_ATTEMPTS:
            outcome, error = "failed", f"gave up after {attempts} attempts: {error}"[:ERROR_LENGTH]
        job.outcome, job.error = ("" if outcome == "release" else outcome), error
        outcomes.setdefault((outcome, error, attempts), []).append(job)
    async with in_transaction() as connection:
        ids = {job.row.invitation_id for job in jobs if job.row.invitation_id}
        latest = await newest_emails(ids, since=min(job.row.id for job in jobs))
        for (outcome, error, attempts), group in outcomes.items():
            if unmarked := [job.row.id for job in group if not job.marked]:
                mine = OutboxMessage.filter(id__in=unmarked, state=OutboxState.SENDING, claimed_by=worker_id)
                await mine.update(**row_changes(outcome, error, attempts, at), claimed_by=None, claimed_until=None)
            current = [
                job.row.invitation_id
                for job in group
                if job.row.invitation_id and not job.dead_link and latest.get(job.row.invitation_id) == job.row.id
            ]
            if current and outcome in ("sent", "failed"):
                state = DeliveryState.SENT if outcome == "sent" else DeliveryState.FAILED
                await Invitation.filter(id__in=current).update(delivery_state=state, delivery_error=error)
        failures = [job for job in jobs if job.outcome == "failed" and not job.dead_link]
        if failures:
            found = await invitations({job.row.invitation_id for job in failures if job.row.invitation_id})
            await AuditEvent.bulk_create(failure_events(failures, found))
            await webhooks.record_each(
                connection=connection, event_type=EventType.INVITATION_FAILED, data=failed_invitations(failures)
            )


async def mark_sent(jobs: list[Job], *, worker_id: str) -> None:
    """Record these accepted messages as sent, where this worker still holds them."""
    by_attempts: dict[int, list[Job]] = {}
    for job in jobs:
        by_attempts.setdefault(job.row.attempts + 1, []).append(job)
    at, connection = now(), connections.get("default")
    mine = {"state": OutboxState.SENDING, "claimed_by": worker_id}
    for attempts, group in by_attempts.items():
        # Plain SQL: this runs every MARK_SECONDS while sending, and the ORM's query building was 10% of the worker.
        changes = {**row_changes("sent", "", attempts, at), "claimed_by": None, "claimed_until": None}
        ids = [job.row.id for job in group]
        await sql.update_where_in(connection, OutboxMessage, changes=changes, key="id", values=ids, where=mine)
        for job in group:
            job.marked = True  # the batch's record need not write these rows again


def row_changes(outcome: str, error: str, attempts: int, at: Any) -> dict[str, Any]:
    """The changes to an outbox row for an outcome (sent, failed, retry; anything else: back to the queue)."""
    if outcome == "sent":
        return {"state": OutboxState.SENT, "sent_at": at, "link_seed": None, "attempts": attempts, "last_error": ""}
    if outcome == "failed":
        return {"state": OutboxState.FAILED, "link_seed": None, "attempts": attempts, "last_error": error}
    if outcome == "retry":
        backoff = BACKOFF[min(attempts, len(BACKOFF)) - 1]
        return {"state": OutboxState.QUEUED, "attempts": attempts, "last_error": error, "next_attempt_at": at + backoff}
    return {"state": OutboxState.QUEUED}


async def invitation_facts(ids: set[int], *, since: int) -> tuple[dict[int, dict[str, Any]], dict[int, int]]:
    """The invitations' state, expiry and deployment, and the newest email of each (see newest_emails)."""
    return await invitations(ids), await newest_emails(ids, since=since)


async def invitations(ids: set[int]) -> dict[int, dict[str, Any]]:
    """State, expiry, deployment and link hash of these invitations, by id."""
    if not ids:
        return {}
    rows = await Invitation.filter(id__in=ids).values("id", "state", "expires_at", "deployment_id", "token_hash")
    return {row["id"]: row for row in rows}


async def newest_emails(ids: set[int], *, since: int) -> dict[int, int]:
    """The newest email of each invitation, looked for from email `since` on: the batch's own are all there.

    The (invitation_id, id) index answers it; the bound keeps it to the backlog on a database not yet migrated.
    """
    if not ids:
        return {}
    newer = OutboxMessage.filter(invitation_id__in=ids, id__gte=since)
    by_invitation = newer.group_by("invitation_id").annotate(newest=Max("id"))
    newest = await by_invitation.values_list("invitation_id", "newest")
    return {int(invitation): int(message) for invitation, message in newest}


def failed_invitations(jobs: list[Job]) -> list[tuple[int | None, dict[str, Any]]]:
    """The invitation.failed events of failed invitation emails, by organisation."""
    return [
        (
            job.row.organisation_id,
            {"invitation_id": job.row.invitation_id, "email": job.row.recipient, "error": job.error},
        )
        for job in jobs
        if job.row.invitation_id and job.row.kind == MessageKind.INVITATION
    ]


def failure_events(jobs: list[Job], found: dict[int, dict[str, Any]]) -> list[AuditEvent]:
    """One delivery_failed audit event per failed job."""
    result = []
    for job in jobs:
        deployment_id = found.get(job.row.invitation_id or 0, {}).get("deployment_id")
        organisation_id = job.row.organisation_id
        scope = Scope(ScopeLevel.DEPLOYMENT, organisation_id, deployment_id)  # only the ids are recorded
        detail = {"kind": job.row.kind, "error": job.error}
        fields = audit.event_fields(
            actor=None, action="delivery_failed", scope=scope, target=job.row.recipient, outcome="failed", detail=detail
        )
        result.append(AuditEvent(**fields))
    return result
