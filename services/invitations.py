"""Sending, resending and deleting invitations (accepting is in services/acceptance.py)."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import (
    AuditEvent,
    Invitation,
    InvitationState,
    MessageKind,
    OutboxMessage,
    OutboxState,
    RoleAssignment,
    StaffMember,
)
from services import access, audit, bulk_sql, emails, events, organisations, outbox, roles, settings, tokens
from services.access import Actor, RoleInfo, Scope
from services.clock import now
from services.errors import InvalidInput

EXPIRY_CHOICES: dict[int, str] = {24: "24 hours", 72: "72 hours", 168: "7 days"}
MAX_ADDRESSES = 100_000
SEND_ATTEMPTS = 3
IN_THREAD_ABOVE = 200  # addresses: checking more than this runs off the event loop
TOKENS_PER_TURN = 5_000  # about 15 ms of hashing between two turns of the event loop
_TARGET_LENGTH = AuditEvent._meta.fields_map["target"].max_length  # type: ignore[attr-defined]


@dataclass
class SendResult:
    """What happened to every address of one send."""

    invited: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    role_added: list[str] = field(default_factory=list)
    already_had_role: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Plan:
    new: list[str]
    replace_ids: list[int]
    replaced: list[str]
    members: dict[str, int]
    already: list[str]


async def send(
    *,
    actor: Actor,
    addresses: list[str],
    role_id: int,
    lifetime_hours: int,
    organisation_id: int | None = None,
    deployment_id: int | None = None,
) -> SendResult:
    """Invite each address to the scope with the role; replace pending ones; give existing members the role."""
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id)
    role = await roles.get(role_id=role_id)
    await _require_grant(actor, role, scope, "invite", target=", ".join(addresses[:3]))
    await organisations.require_active(organisation_id=scope.organisation_id)
    if lifetime_hours not in EXPIRY_CHOICES:
        raise InvalidInput("Choose an expiry of 24 hours, 72 hours or 7 days.")
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidInput(f"At most {MAX_ADDRESSES:,} addresses can be invited at once.")
    result = SendResult()
    if len(addresses) > IN_THREAD_ABOVE:
        valid, result.invalid = await asyncio.to_thread(_normalised, addresses)
    else:
        valid, result.invalid = _normalised(addresses)
    context = await _mail_context(actor, role, scope)
    for attempt in range(SEND_ATTEMPTS):
        try:
            async with in_transaction() as connection:
                # Looked up inside the transaction: on SQLite no other send can slip in between look-up and insert.
                plan = await _plan(valid, role, scope, connection)
                await _replace_pending(plan.replace_ids, connection)
                await _insert_invitations(actor, plan.new, role, scope, lifetime_hours, context, connection)
                await _grant_members(actor, plan.members, role, scope, context, connection)
            break
        except IntegrityError:
            # A concurrent send (PostgreSQL, READ COMMITTED) took an address first: plan again from what it wrote.
            if attempt == SEND_ATTEMPTS - 1:
                raise InvalidInput("Someone else is inviting the same people right now. Please try again.") from None
    replaced = set(plan.replaced)
    result.invited = [a for a in plan.new if a not in replaced]
    result.replaced, result.role_added, result.already_had_role = plan.replaced, list(plan.members), plan.already
    await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    wake_mail_worker()
    return result


async def delete(*, actor: Actor, invitation_ids: list[int]) -> list[str]:
    """Delete pending invitations: their links die at once. Returns the addresses deleted."""
    deleted: list[str] = []
    for invitation in await Invitation.filter(id__in=invitation_ids).select_related("role"):
        scope = scope_of_row(invitation)
        await _require_grant(actor, access.RoleInfo.of(invitation.role), scope, "delete", target=invitation.email)
        async with in_transaction() as connection:
            won = (
                await Invitation.filter(id=invitation.id, state=InvitationState.PENDING)
                .using_db(connection)
                .update(state=InvitationState.DELETED, deleted_at=now())
            )
            if not won:
                continue
            await cancel_queued_mail(invitation.id, connection)
            await audit.record(
                actor=actor, action="delete", scope=scope, target=invitation.email, connection=connection
            )
        deleted.append(invitation.email)
        await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    return deleted


def scope_of_row(row: Invitation | RoleAssignment) -> Scope:
    return Scope(access.ScopeLevel(row.level), row.organisation_id, row.deployment_id)


async def cancel_queued_mail(invitation_id: int, connection: BaseDBAsyncClient) -> None:
    """A dead invitation's unsent emails never leave (and their links are wiped)."""
    await (
        OutboxMessage.filter(invitation_id=invitation_id, state=OutboxState.QUEUED)
        .using_db(connection)
        .update(state=OutboxState.FAILED, last_error="invitation no longer pending", link=None)
    )


def wake_mail_worker() -> None:
    outbox.mail_committed()


async def _require_grant(actor: Actor, role: RoleInfo, scope: Scope, action: str, *, target: str) -> None:
    if access.can_grant(actor, role, scope):
        return
    detail = {"role": role.name}
    await audit.record(actor=actor, action=action, scope=scope, target=target, outcome="refused", detail=detail)
    access.require(False, f"You may not hand out the role “{role.name}” there.")


def _normalised(addresses: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The valid addresses in canonical (lower-case) form, first spelling only, and the invalid ones with why."""
    seen: set[str] = set()
    valid: list[str] = []
    invalid: list[tuple[str, str]] = []
    for raw, normalised, reason in emails.validate_many(addresses):
        if normalised is None:
            invalid.append((raw, reason or "not a valid email address"))
        elif (key := emails.canonical(normalised)) not in seen:
            seen.add(key)
            valid.append(key)  # addresses are stored and compared in canonical (lower-case) form
    return valid, invalid


async def _plan(addresses: list[str], role: RoleInfo, scope: Scope, connection: BaseDBAsyncClient) -> _Plan:
    found = dict(
        await bulk_sql.rows_where_in(connection, StaffMember, columns=("email", "id"), key="email", values=addresses)
    )
    pending = dict(
        await bulk_sql.rows_where_in(
            connection,
            Invitation,
            columns=("email", "id"),
            key="email",
            values=addresses,
            where={"scope_key": scope.key, "state": InvitationState.PENDING},
        )
    )
    members = {a: int(found[a]) for a in addresses if a in found}
    held: set[int] = set()
    if members:
        holders = await bulk_sql.rows_where_in(
            connection,
            RoleAssignment,
            columns=("member_id",),
            key="member_id",
            values=list(members.values()),
            where={"role_id": role.id, "scope_key": scope.key},
        )
        held = {int(member_id) for (member_id,) in holders}
    already = [a for a, member_id in members.items() if member_id in held]
    members = {a: member_id for a, member_id in members.items() if member_id not in held}
    new = [a for a in addresses if a not in found]
    replaced = [a for a in new if a in pending]
    return _Plan(new, [int(pending[a]) for a in replaced], replaced, members, already)


async def _mail_context(actor: Actor, role: RoleInfo, scope: Scope) -> dict[str, str]:
    return {
        "inviter_name": actor.full_name,
        "inviter_email": actor.email,
        "scope_name": await organisations.scope_name(scope=scope),
        "role_name": role.name,
    }


async def _replace_pending(ids: list[int], connection: BaseDBAsyncClient) -> None:
    await bulk_sql.update_where_in(
        connection,
        Invitation,
        changes={"state": InvitationState.DELETED, "deleted_at": now()},
        key="id",
        values=ids,
        where={"state": InvitationState.PENDING},
    )
    await bulk_sql.update_where_in(
        connection,
        OutboxMessage,
        changes={"state": OutboxState.FAILED, "last_error": "replaced by a newer invitation", "link": None},
        key="invitation_id",
        values=ids,
        where={"state": OutboxState.QUEUED},
    )


async def _insert_invitations(
    actor: Actor,
    addresses: list[str],
    role: RoleInfo,
    scope: Scope,
    lifetime_hours: int,
    context: dict[str, str],
    connection: BaseDBAsyncClient,
) -> None:
    at = now()
    expires = at + timedelta(hours=lifetime_hours)
    pairs = await _new_tokens(len(addresses))
    ids = await bulk_sql.insert_returning_ids(
        connection,
        Invitation,
        columns=("email", "token_hash"),
        rows=[(address, hashed) for address, (_, hashed) in zip(addresses, pairs, strict=True)],
        constants={
            "role_id": role.id,
            "level": scope.level.value,
            "organisation_id": scope.organisation_id,
            "deployment_id": scope.deployment_id,
            "scope_key": scope.key,
            "invited_by_id": actor.member_id,
            "lifetime_hours": lifetime_hours,
            "created_at": at,
            "last_sent_at": at,
            "expires_at": expires,
        },
        key="token_hash",
    )
    accept = settings.current().link("/accept/")
    message = outbox.message_fields(
        kind=MessageKind.INVITATION,
        recipient="",
        context={**context, "expires_at": expires.isoformat()},
        link=None,
        invitation_id=None,
        organisation_id=scope.organisation_id,
    )
    await bulk_sql.insert(
        connection,
        OutboxMessage,
        columns=("recipient", "link", "invitation_id"),
        rows=[(a, accept + raw, i) for a, (raw, _), i in zip(addresses, pairs, ids, strict=True)],
        constants=_other_than(message, "recipient", "link", "invitation_id"),
    )
    detail = {"role": role.name, "expires_in_hours": lifetime_hours}
    event = audit.event_fields(actor=actor, action="invite", scope=scope, detail=detail)
    await _audit_each(addresses, event, connection)


async def _new_tokens(count: int) -> list[tuple[str, str]]:
    """count (raw, hash) pairs, in slices so the event loop keeps answering meanwhile."""
    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        pairs.extend(tokens.new_token() for _ in range(min(TOKENS_PER_TURN, count - len(pairs))))
        await asyncio.sleep(0)
    return pairs


async def _grant_members(
    actor: Actor,
    members: dict[str, int],
    role: RoleInfo,
    scope: Scope,
    context: dict[str, str],
    connection: BaseDBAsyncClient,
) -> None:
    if not members:
        return
    await bulk_sql.insert(
        connection,
        RoleAssignment,
        columns=("member_id",),
        rows=[(member_id,) for member_id in members.values()],
        constants={
            "role_id": role.id,
            "level": scope.level.value,
            "organisation_id": scope.organisation_id,
            "deployment_id": scope.deployment_id,
            "scope_key": scope.key,
            "granted_by_id": actor.member_id,
            "created_at": now(),
        },
    )
    message = outbox.message_fields(
        kind=MessageKind.ROLE_NOTICE,
        recipient="",
        context=context,
        link=settings.current().link("/login"),
        invitation_id=None,
        organisation_id=scope.organisation_id,
    )
    await bulk_sql.insert(
        connection,
        OutboxMessage,
        columns=("recipient",),
        rows=[(email,) for email in members],
        constants=_other_than(message, "recipient"),
    )
    event = audit.event_fields(actor=actor, action="grant_role", scope=scope, detail={"role": role.name})
    await _audit_each(list(members), event, connection)


async def _audit_each(targets: list[str], event: dict[str, Any], connection: BaseDBAsyncClient) -> None:
    """One audit event per target, otherwise alike."""
    rows = [(target[:_TARGET_LENGTH],) for target in targets]
    await bulk_sql.insert(
        connection, AuditEvent, columns=("target",), rows=rows, constants=_other_than(event, "target")
    )


def _other_than(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name not in names}
