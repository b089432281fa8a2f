"""The rows of one send of invitations, written in the caller's transaction with a few statements per table.

Replaced invitations and their queued emails, new invitations, their emails, role grants for members and the audit
events: up to 100,000 of each without a per-row await (docs/PERFORMANCE.md).
"""

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models import (
    ApprovalState,
    AuditEvent,
    Invitation,
    InvitationState,
    MessageKind,
    OutboxMessage,
    OutboxState,
    RoleAssignment,
)
from services.access import tokens
from services.access.grant_terms import GrantTerms
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.invitations import pending_search, reminders
from services.mail import outbox
from services.platform import sql
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

TOKENS_PER_TURN = 1_000  # a few ms of hashing between two turns of the event loop
_TARGET_LENGTH = AuditEvent._meta.fields_map["target"].max_length  # type: ignore[attr-defined]


@dataclass
class Plan:
    """What one send does to each valid address."""

    new: list[str]
    replace_ids: list[int]
    replaced: list[str]
    members: dict[str, int]
    already: list[str]


async def new_tokens(count: int) -> list[tuple[str, str]]:
    """count (link seed, hash) pairs, in slices so the event loop keeps answering meanwhile."""
    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        pairs.extend(tokens.new_link_seed() for _ in range(min(TOKENS_PER_TURN, count - len(pairs))))
        await asyncio.sleep(0)
    return pairs


async def write(
    *,
    plan: Plan,
    actor: Actor,
    addresses: list[str],
    secrets: list[tuple[str, str]],
    role: RoleInfo,
    scope: Scope,
    lifetime_hours: int,
    context: dict[str, str],
    terms: GrantTerms,
    connection: BaseDBAsyncClient,
    remind: bool,
    approval: bool = False,
) -> None:
    """Write all the rows of the plan; secrets holds one token pair per address of the send; remind: whether the
    organisation wants invitation reminders (the lifetime decides the rest: services/invitations/reminders.py);
    approval: the invitations wait for a second person (services/approvals), so no email is queued yet."""
    await replace_pending(plan.replace_ids, connection)
    await asyncio.sleep(0)  # each step below walks every address: the event loop gets a turn in between
    new_secrets = _secrets_of(plan.new, addresses, secrets)
    await asyncio.sleep(0)
    await _insert_invitations(
        actor,
        plan.new,
        new_secrets,
        role,
        scope,
        lifetime_hours,
        context,
        terms,
        connection,
        remind and not approval,
        approval,
    )
    await _grant_members(actor, plan.members, role, scope, context, terms, connection)


def _secrets_of(chosen: list[str], addresses: list[str], secrets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # A helper, so that the set of 100,000 addresses is gone before the inserts (the collector would walk it).
    wanted = set(chosen)
    return [pair for address, pair in zip(addresses, secrets, strict=True) if address in wanted]


async def replace_pending(ids: list[int], connection: BaseDBAsyncClient) -> None:
    """Delete these pending invitations, their queued emails failed as replaced by a newer invitation."""
    await sql.update_where_in(
        connection,
        Invitation,
        changes={"state": InvitationState.DELETED, "deleted_at": now(), **reminders.NO_REMINDER},
        key="id",
        values=ids,
        where={"state": InvitationState.PENDING},
    )
    await sql.update_where_in(
        connection,
        OutboxMessage,
        changes={"state": OutboxState.FAILED, "last_error": "replaced by a newer invitation", "link_seed": None},
        key="invitation_id",
        values=ids,
        where={"state": OutboxState.QUEUED},
    )


async def _insert_invitations(
    actor: Actor,
    addresses: list[str],
    pairs: list[tuple[str, str]],
    role: RoleInfo,
    scope: Scope,
    lifetime_hours: int,
    context: dict[str, str],
    terms: GrantTerms,
    connection: BaseDBAsyncClient,
    remind: bool,
    approval: bool,
) -> None:
    at = now()
    expires = at + timedelta(hours=lifetime_hours)
    remind_at = reminders.due_at(lifetime_hours=lifetime_hours, expires_at=expires, wanted=remind)
    async with pending_search.indexed_in_one_go(connection):  # SQLite's search index: one statement, not a row each
        ids = await sql.insert_returning_ids(
            connection,
            Invitation,
            # A link to be reminded keeps its email's seed until then, written here: no statement more per send.
            columns=("email", "token_hash", "reminder_seed"),
            rows=(
                (address, hashed, seed if remind_at else None)
                for address, (seed, hashed) in zip(addresses, pairs, strict=True)
            ),
            constants={
                **_granted(role, scope, terms),
                "invited_by_id": actor.member_id,
                "lifetime_hours": lifetime_hours,
                "created_at": at,
                "last_sent_at": at,
                "expires_at": expires,
                "remind_at": remind_at,
                "approval": ApprovalState.AWAITING if approval else ApprovalState.NONE,
            },
            key="token_hash",
        )
    detail = {"role": role.name, "expires_in_hours": lifetime_hours, **_terms_detail(terms)}
    if approval:  # no email until a second person approves (services/approvals/service.py sends it then)
        event = audit.event_fields(actor=actor, action="invite", scope=scope, detail={**detail, "approval": "awaiting"})
        await _audit_each(addresses, event, connection)
        return
    message = outbox.message_fields(
        kind=MessageKind.INVITATION,
        recipient="",
        context={**context, "expires_at": expires.isoformat()},
        link_seed=None,
        invitation_id=None,
        organisation_id=scope.organisation_id,
    )
    await sql.insert(
        connection,
        OutboxMessage,
        columns=("recipient", "link_seed", "invitation_id"),
        rows=((a, seed, i) for a, (seed, _), i in zip(addresses, pairs, ids, strict=True)),
        constants=_other_than(message, "recipient", "link_seed", "invitation_id"),
    )
    sent = {"organisation_id": scope.organisation_id, "deployment_id": scope.deployment_id, "role_id": role.id}
    await webhooks.record(
        connection=connection,
        organisation_id=scope.organisation_id,
        event_type=EventType.INVITATION_SENT,
        data=(
            {"invitation_id": i, "email": a, **sent, "expires_at": expires} for a, i in zip(addresses, ids, strict=True)
        ),
    )
    event = audit.event_fields(actor=actor, action="invite", scope=scope, detail=detail)
    await _audit_each(addresses, event, connection)


async def _grant_members(
    actor: Actor,
    members: dict[str, int],
    role: RoleInfo,
    scope: Scope,
    context: dict[str, str],
    terms: GrantTerms,
    connection: BaseDBAsyncClient,
) -> None:
    if not members:
        return
    await sql.insert(
        connection,
        RoleAssignment,
        columns=("member_id",),
        rows=((member_id,) for member_id in members.values()),
        constants={
            **_granted(role, scope, terms),
            "granted_by_id": actor.member_id,
            "created_at": now(),
        },
    )
    message = outbox.message_fields(
        kind=MessageKind.ROLE_NOTICE,
        recipient="",
        context=context,
        link_seed=None,  # a notice links to the log-in page
        invitation_id=None,
        organisation_id=scope.organisation_id,
    )
    await sql.insert(
        connection,
        OutboxMessage,
        columns=("recipient",),
        rows=((email,) for email in members),
        constants=_other_than(message, "recipient"),
    )
    detail = {"role": role.name, **_terms_detail(terms)}
    event = audit.event_fields(actor=actor, action="grant_role", scope=scope, detail=detail)
    await _audit_each(list(members), event, connection)


async def _audit_each(targets: list[str], event: dict[str, Any], connection: BaseDBAsyncClient) -> None:
    """One audit event per target, otherwise alike."""
    rows = ((target[:_TARGET_LENGTH],) for target in targets)
    await sql.insert(connection, AuditEvent, columns=("target",), rows=rows, constants=_other_than(event, "target"))


def _terms_detail(terms: GrantTerms) -> dict[str, Any]:
    """What the audit event says of the grant's end and sponsor."""
    ends = {"ends_at": terms.ends_at.isoformat()} if terms.ends_at else {}
    return {**ends, "sponsor": terms.sponsor_name}


def _other_than(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name not in names}


def _granted(role: RoleInfo, scope: Scope, terms: GrantTerms) -> dict[str, object]:
    """The columns an invitation and the grant it becomes share: the role, where, its sponsor and its end."""
    return {
        "role_id": role.id,
        "level": scope.level.value,
        "organisation_id": scope.organisation_id,
        "deployment_id": scope.deployment_id,
        "scope_key": scope.key,
        "sponsor_id": terms.sponsor_id,
        "ends_at": terms.ends_at,
    }
