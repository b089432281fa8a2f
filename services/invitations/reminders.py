"""Invitation reminders (issue 18, item 4): one email a day before a 72-hour or 7-day link expires, with the same
link, unless the organisation switched reminders off; the pending list shows when it went.

Links are never stored (services/access/tokens.py): a send or resend that will be reminded keeps its email's seed on
the invitation (reminder_seed) with the moment the reminder is due (remind_at), in the same statement that writes the
invitation. Housekeeping (one process) queues the reminder through the outbox with that seed and clears both;
deleting, replacing or accepting the invitation clears them too, so no seed outlives the reminder it is kept for.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import AuditEvent, DeliveryState, Invitation, InvitationState, MessageKind, Organisation, OutboxMessage
from services.access.service import Scope
from services.audit import service as audit
from services.mail import outbox
from services.platform import events
from services.platform.clock import now

log = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(hours=24)
SHORTEST_REMINDED_HOURS = 72  # a 24-hour link gets no reminder: it would come as soon as the invitation
BATCH = 500
REMIND = "remind"  # the audit action
NO_REMINDER: dict[str, Any] = {"remind_at": None, "reminder_seed": None}  # the changes that drop a reminder still due


def due_at(*, lifetime_hours: int, expires_at: datetime, wanted: bool) -> datetime | None:
    """When a new link of this lifetime and expiry is reminded (None: never)."""
    if not wanted or lifetime_hours < SHORTEST_REMINDED_HOURS:
        return None
    return expires_at - REMIND_BEFORE


async def wanted_in(*, organisation_id: int | None) -> bool:
    """Whether invitations to the organisation get a reminder (invitations to the platform always do)."""
    if organisation_id is None:
        return True
    return organisation_id in await _switched_on({organisation_id})


async def queue_due(*, batch: int = BATCH) -> int:
    """Queue the reminder of every invitation whose moment has come, once, and clear its seed; returns how many.

    One transaction per batch, its rows locked (PostgreSQL): two processes, or two passes, never queue one twice. An
    invitation no longer pending, expired, whose access has ended, whose email never arrived, or whose organisation
    switched reminders off (or was archived) meanwhile gets none: its seed is cleared all the same.
    """
    queued = 0
    organisations: set[int | None] = set()
    while True:
        at = now()
        async with in_transaction() as connection:
            # A model query: Tortoise drops FOR UPDATE from a values_list() query (services/access/grants.py found it).
            due = Invitation.filter(remind_at__lte=at).using_db(connection).select_for_update()
            found = await due.order_by("remind_at", "id").limit(batch)
            if not found:
                break
            await Invitation.filter(id__in=[row.id for row in found]).using_db(connection).update(**NO_REMINDER)
            reminded = await _remind(found, at, connection)
        queued += len(reminded)
        organisations |= {invitation.organisation_id for invitation in reminded}
    for organisation_id in organisations:
        await events.publish(organisation_id=organisation_id, kind="invitations")
    if queued:
        outbox.mail_committed()
        log.info("housekeeping queued %s invitation reminders", queued)
    return queued


async def next_due(*, after: datetime) -> datetime | None:
    """When the next reminder is due, if any is (housekeeping wakes for it)."""
    row = await Invitation.filter(remind_at__gt=after).order_by("remind_at").first().values("remind_at")
    return row["remind_at"] if row else None


async def _remind(found: list[Invitation], at: datetime, connection: BaseDBAsyncClient) -> list[Invitation]:
    """Queue the reminders of those found that still want one, in the caller's transaction; returns those."""
    organisation_ids = {row.organisation_id for row in found if row.organisation_id is not None}
    switched_on = await _switched_on(organisation_ids, connection)
    candidates = [row for row in found if _still_wanted(row, at, switched_on)]
    contexts = await _first_emails({row.id for row in candidates}, connection)
    reminded = [row for row in candidates if row.id in contexts]
    if not reminded:
        return []
    await (
        Invitation.filter(id__in=[row.id for row in reminded])
        .using_db(connection)
        .update(reminded_at=at, delivery_state=DeliveryState.QUEUED, delivery_error="")
    )
    messages = [
        OutboxMessage(
            **outbox.message_fields(
                kind=MessageKind.REMINDER,
                recipient=row.email,
                context={**contexts[row.id], "expires_at": row.expires_at.isoformat()},
                link_seed=row.reminder_seed,
                invitation_id=row.id,
                organisation_id=row.organisation_id,
            )
        )
        for row in reminded
    ]
    await OutboxMessage.bulk_create(messages, using_db=connection)
    await AuditEvent.bulk_create([_audit_event(row, at) for row in reminded], using_db=connection)
    return reminded


def _still_wanted(row: Invitation, at: datetime, switched_on: set[int]) -> bool:
    return (
        row.state == InvitationState.PENDING
        and row.reminder_seed is not None
        and row.expires_at > at
        and (row.ends_at is None or row.ends_at > at)
        and row.delivery_state == DeliveryState.SENT  # a reminder follows an email that arrived
        and (row.organisation_id is None or row.organisation_id in switched_on)
    )


async def _first_emails(ids: set[int], connection: BaseDBAsyncClient) -> dict[int, dict[str, Any]]:
    """The words of each invitation's newest invitation email (the one whose link the reminder carries), by id."""
    if not ids:
        return {}
    emails = OutboxMessage.filter(invitation_id__in=ids, kind=MessageKind.INVITATION.value).using_db(connection)
    contexts: dict[int, dict[str, Any]] = {}
    for invitation_id, context in await emails.order_by("id").values_list("invitation_id", "context"):
        contexts[int(invitation_id)] = dict(context)  # the newest last
    return contexts


def _audit_event(row: Invitation, at: datetime) -> AuditEvent:
    detail = {"expires_at": row.expires_at.isoformat()}
    return AuditEvent(
        **audit.event_fields(actor=None, action=REMIND, scope=Scope.of(row), target=row.email, detail=detail, at=at)
    )


async def _switched_on(organisation_ids: Iterable[int], connection: BaseDBAsyncClient | None = None) -> set[int]:
    """The organisations among these that want reminders and are not archived: one read of the column that
    services/organisations/access_settings.py owns, for the whole batch (its settings_of reads one at a time)."""
    ids = sorted(set(organisation_ids))
    if not ids:
        return set()
    wanting = Organisation.filter(id__in=ids, invitation_reminders=True, archived_at__isnull=True).using_db(connection)
    found: list[Any] = list(await wanting.values_list("id", flat=True))
    return {int(organisation_id) for organisation_id in found}
