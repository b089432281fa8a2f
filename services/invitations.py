"""Sending, resending and deleting invitations (accepting is in services/acceptance.py)."""

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
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
from services import access, audit, emails, events, organisations, outbox, roles, settings, tokens
from services.access import Actor, RoleInfo, Scope
from services.clock import now
from services.errors import InvalidInput

EXPIRY_CHOICES: dict[int, str] = {24: "24 hours", 72: "72 hours", 168: "7 days"}
MAX_ADDRESSES = 100_000
CHUNK = 500  # SQLite's bound-parameter limit stays far away


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
    valid = await _normalise_all(addresses, result)
    plan = await _plan(valid, role, scope)
    context = await _mail_context(actor, role, scope)
    async with in_transaction() as connection:
        await _replace_pending(plan.replace_ids, connection)
        await _insert_invitations(actor, plan.new, role, scope, lifetime_hours, context, connection)
        await _grant_members(actor, plan.members, role, scope, context, connection)
    result.invited = [a for a in plan.new if a not in set(plan.replaced)]
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


async def _normalise_all(addresses: list[str], result: SendResult) -> list[str]:
    checked = (
        await asyncio.to_thread(emails.validate_many, addresses)
        if len(addresses) > 200
        else (emails.validate_many(addresses))
    )
    seen: set[str] = set()
    valid: list[str] = []
    for raw, normalised, reason in checked:
        if normalised is None:
            result.invalid.append((raw, reason or "not a valid email address"))
        elif (key := emails.canonical(normalised)) not in seen:
            seen.add(key)
            valid.append(key)  # addresses are stored and compared in canonical (lower-case) form
    return valid


async def _plan(addresses: list[str], role: RoleInfo, scope: Scope) -> _Plan:
    members: dict[str, int] = {}
    already: list[str] = []
    pending: dict[str, int] = {}
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        for member_id, email in await StaffMember.filter(email__in=chunk).values_list("id", "email"):
            members[str(email)] = int(member_id)
        rows = Invitation.filter(email__in=chunk, scope_key=scope.key, state=InvitationState.PENDING)
        for invitation_id, email in await rows.values_list("id", "email"):
            pending[str(email)] = int(invitation_id)
    if members:
        holders = RoleAssignment.filter(member_id__in=list(members.values()), role_id=role.id, scope_key=scope.key)
        held = set(await holders.values_list("member_id", flat=True))
        already = [email for email, member_id in members.items() if member_id in held]
        members = {email: member_id for email, member_id in members.items() if member_id not in held}
    new = [a for a in addresses if a not in members and a not in already]
    replaced = [a for a in new if a in pending]
    return _Plan(new, [pending[a] for a in replaced], replaced, members, already)


async def _mail_context(actor: Actor, role: RoleInfo, scope: Scope) -> dict[str, str]:
    return {
        "inviter_name": actor.full_name,
        "inviter_email": actor.email,
        "scope_name": await organisations.scope_name(scope=scope),
        "role_name": role.name,
    }


async def _replace_pending(ids: list[int], connection: BaseDBAsyncClient) -> None:
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await (
            Invitation.filter(id__in=chunk, state=InvitationState.PENDING)
            .using_db(connection)
            .update(state=InvitationState.DELETED, deleted_at=now())
        )
        await (
            OutboxMessage.filter(invitation_id__in=chunk, state=OutboxState.QUEUED)
            .using_db(connection)
            .update(state=OutboxState.FAILED, last_error="replaced by a newer invitation", link=None)
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
    raw_by_hash: dict[str, str] = {}
    rows = []
    for address in addresses:
        raw, hashed = tokens.new_token()
        raw_by_hash[hashed] = raw
        rows.append(
            Invitation(
                email=address,
                role_id=role.id,
                level=scope.level.value,
                organisation_id=scope.organisation_id,
                deployment_id=scope.deployment_id,
                scope_key=scope.key,
                invited_by_id=actor.member_id,
                token_hash=hashed,
                lifetime_hours=lifetime_hours,
                created_at=at,
                last_sent_at=at,
                expires_at=expires,
            )
        )
    await Invitation.bulk_create(rows, using_db=connection)
    ids = await _ids_by_hash(list(raw_by_hash), connection)
    mail_context = {**context, "expires_at": expires.isoformat()}
    base = settings.current()
    messages = [
        OutboxMessage(
            **outbox.message_fields(
                kind=MessageKind.INVITATION,
                recipient=address,
                context=mail_context,
                link=base.link(f"/accept/{raw_by_hash[hashed]}"),
                invitation_id=ids[hashed],
                organisation_id=scope.organisation_id,
            )
        )
        for address, hashed in zip(addresses, raw_by_hash, strict=True)
    ]
    await OutboxMessage.bulk_create(messages, using_db=connection)
    events_rows = [
        AuditEvent(
            **audit.event_fields(
                actor=actor,
                action="invite",
                scope=scope,
                target=address,
                detail={"role": role.name, "expires_in_hours": lifetime_hours},
            )
        )
        for address in addresses
    ]
    await AuditEvent.bulk_create(events_rows, using_db=connection)


async def _ids_by_hash(hashes: list[str], connection: BaseDBAsyncClient) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(hashes), CHUNK):
        query = Invitation.filter(token_hash__in=hashes[start : start + CHUNK]).using_db(connection)
        found.update({str(h): int(i) for i, h in await query.values_list("id", "token_hash")})
    return found


async def _grant_members(
    actor: Actor,
    members: dict[str, int],
    role: RoleInfo,
    scope: Scope,
    context: dict[str, str],
    connection: BaseDBAsyncClient,
) -> None:
    for email, member_id in members.items():
        await RoleAssignment.create(
            using_db=connection,
            member_id=member_id,
            role_id=role.id,
            level=scope.level.value,
            organisation_id=scope.organisation_id,
            deployment_id=scope.deployment_id,
            scope_key=scope.key,
            granted_by_id=actor.member_id,
        )
        await outbox.enqueue(
            connection=connection,
            kind=MessageKind.ROLE_NOTICE,
            recipient=email,
            context=context,
            link=settings.current().link("/login"),
            invitation_id=None,
            organisation_id=scope.organisation_id,
        )
        await audit.record(
            actor=actor,
            action="grant_role",
            scope=scope,
            target=email,
            detail={"role": role.name},
            connection=connection,
        )
