"""Sending, resending and deleting invitations (accepting is in services/invitations/acceptance.py)."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Invitation, InvitationState, RoleAssignment, StaffMember
from services.access import grant_terms, grants, roles
from services.access import service as access
from services.access.grant_terms import GrantTerms
from services.access.liveness import is_live
from services.access.service import Actor, RoleInfo, Scope
from services.approvals import rules as approval_rules
from services.audit import service as audit
from services.errors import InvalidInput
from services.invitations import addresses as emails
from services.invitations import reminders
from services.invitations import rows as invite_rows
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events, sql
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

EXPIRY_CHOICES: dict[int, str] = {24: "24 hours", 72: "72 hours", 168: "7 days"}
MAX_ADDRESSES = 100_000
SEND_ATTEMPTS = 3
IN_THREAD_ABOVE = 200  # addresses: checking more than this runs off the event loop
CONFIRM_ABOVE = 50  # addresses: a send of more asks the inviter to confirm how many, which role and where
Progress = Callable[[int, int], None]  # (addresses done, addresses in all)
Checked = TypeVar("Checked")
log = logging.getLogger(__name__)


@dataclass
class SendResult:
    """What happened to every address of one send."""

    invited: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    role_added: list[str] = field(default_factory=list)  # members of the same organisation only (_plan)
    already_had_role: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)
    not_sent: list[str] = field(default_factory=list)  # a send in steps stopped before these (see stopped)
    awaiting: list[str] = field(default_factory=list)  # waiting for a second person's approval: no email yet
    stopped: str = ""  # why a send in steps stopped part-way

    def add(self, other: "SendResult") -> None:
        """Add what another part of the same send did."""
        for name in ("invited", "replaced", "role_added", "already_had_role", "invalid", "not_sent", "awaiting"):
            getattr(self, name).extend(getattr(other, name))

    @property
    def handled(self) -> list[str]:
        """Every address that needs nothing more: invited, replaced, awaiting approval, given the role or holding it
        already."""
        return [*self.invited, *self.replaced, *self.awaiting, *self.role_added, *self.already_had_role]


def needs_confirmation(*, count: int) -> bool:
    """Whether sending to this many addresses should first be confirmed (count, role and place stated)."""
    return count > CONFIRM_ABOVE


async def send(
    *,
    actor: Actor,
    addresses: list[str],
    role_id: int,
    lifetime_hours: int,
    organisation_id: int | None = None,
    deployment_id: int | None = None,
    ends_at: datetime | None = None,
    sponsor_email: str | None = None,
) -> SendResult:
    """Invite each address to the scope with the role; replace pending ones; members of the organisation get it.

    The grant ends at ends_at (None: never) and is sponsored by the inviter or the member of sponsor_email, who must
    be allowed to manage the role there (grant_terms.check_terms: FieldErrors at ends_at and sponsor).
    """
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id)
    role = await roles.get(role_id=role_id)
    await roles.require_grant(
        actor=actor, role=role, scope=scope, action="invite", target=", ".join(addresses[:3]), refusal=_refusal(role)
    )
    await organisations.require_active(organisation_id=scope.organisation_id)
    if lifetime_hours not in EXPIRY_CHOICES:
        raise InvalidInput("Choose an expiry of 24 hours, 72 hours or 7 days.")
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidInput(f"At most {MAX_ADDRESSES:,} addresses can be invited at once.")
    terms = await grant_terms.check_terms(
        actor=actor, role=role, scope=scope, ends_at=ends_at, sponsor_email=sponsor_email
    )
    result = SendResult()
    valid, result.invalid = await off_the_loop(_normalised, addresses)
    context = await _mail_context(actor, role, scope, terms)
    secrets = await invite_rows.new_tokens(len(valid))  # before the transaction, which then only reads and writes
    remind = await reminders.wanted_in(organisation_id=scope.organisation_id)
    approval = await approval_rules.needs_approval(organisation_id=scope.organisation_id, role=role)
    await grants.end_due()  # a grant whose end came moments ago is ended first: the same grant may then be given again
    for attempt in range(SEND_ATTEMPTS):
        try:
            async with in_transaction() as connection:
                # Looked up inside the transaction: on SQLite no other send can slip in between look-up and insert.
                plan = await _plan(valid, role, scope, connection)
                if approval:  # members too get an invitation, which waits: nobody gets the role before approval
                    plan = invite_rows.Plan(
                        [*plan.new, *plan.members], plan.replace_ids, plan.replaced, {}, plan.already
                    )
                await invite_rows.write(
                    plan=plan,
                    actor=actor,
                    addresses=valid,
                    secrets=secrets,
                    role=role,
                    scope=scope,
                    lifetime_hours=lifetime_hours,
                    context=context,
                    terms=terms,
                    connection=connection,
                    remind=remind,
                    approval=approval,
                )
            break
        except IntegrityError:
            # A concurrent send (PostgreSQL, READ COMMITTED) took an address first: plan again from what it wrote.
            if attempt == SEND_ATTEMPTS - 1:
                raise InvalidInput("Someone else is inviting the same people right now. Please try again.") from None
    replaced = set(plan.replaced)
    result.invited = [a for a in plan.new if a not in replaced]
    result.replaced, result.role_added, result.already_had_role = plan.replaced, list(plan.members), plan.already
    if approval:
        result.awaiting, result.invited, result.replaced = plan.new, [], []
    await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    outbox.mail_committed()
    return result


async def delete(*, actor: Actor, invitation_ids: list[int]) -> list[str]:
    """Delete pending invitations: their links die at once. Returns the addresses deleted."""
    deleted: list[str] = []
    for invitation in await Invitation.filter(id__in=invitation_ids).select_related("role"):
        scope, role = Scope.of(invitation), RoleInfo.of(invitation.role)
        await roles.require_grant(
            actor=actor, role=role, scope=scope, action="delete", target=invitation.email, refusal=_refusal(role)
        )
        async with in_transaction() as connection:
            won = (
                await Invitation.filter(id=invitation.id, state=InvitationState.PENDING)
                .using_db(connection)
                .update(state=InvitationState.DELETED, deleted_at=now(), **reminders.NO_REMINDER)
            )
            if not won:
                continue
            await outbox.cancel_queued(invitation_id=invitation.id, connection=connection)
            await webhooks.record(
                connection=connection,
                organisation_id=invitation.organisation_id,
                event_type=EventType.INVITATION_DELETED,
                data=[webhooks.invitation_data(invitation)],
            )
            await audit.record(
                actor=actor, action="delete", scope=scope, target=invitation.email, connection=connection
            )
        deleted.append(invitation.email)
        await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    return deleted


async def drop_sent_by(*, member_id: int, scope: Scope, connection: BaseDBAsyncClient) -> int:
    """Delete the pending invitations the member sent within scope (everywhere at the platform), in the caller's
    transaction, their emails unsent; returns how many."""
    query = Invitation.filter(invited_by_id=member_id, state=InvitationState.PENDING)
    if scope.level is access.ScopeLevel.DEPLOYMENT:
        query = query.filter(deployment_id=scope.deployment_id)
    elif scope.organisation_id is not None:
        query = query.filter(organisation_id=scope.organisation_id)
    ids = [int(i) for i in await query.using_db(connection).values_list("id", flat=True)]  # type: ignore[call-overload]
    await outbox.cancel_queued_of(invitation_ids=ids, connection=connection)  # one statement, not one per invitation
    dropped = (
        await Invitation.filter(id__in=ids)
        .using_db(connection)
        .update(state=InvitationState.DELETED, deleted_at=now(), **reminders.NO_REMINDER)
    )
    return await sql.changed(connection, dropped)


async def off_the_loop(work: Callable[[list[str]], Checked], addresses: list[str]) -> Checked:
    """work(addresses), in a thread for more than a few: 100,000 addresses would hold the event loop 60-120 ms."""
    if len(addresses) > IN_THREAD_ABOVE:
        return await asyncio.to_thread(work, addresses)
    return work(addresses)


def _refusal(role: RoleInfo) -> str:
    return f"You may not hand out the role “{role.name}” there."


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


async def _plan(addresses: list[str], role: RoleInfo, scope: Scope, connection: BaseDBAsyncClient) -> invite_rows.Plan:
    """Members of the scope's organisation get the role directly; every other address, account or not, an invitation.

    An account elsewhere on the platform is invited exactly like a new address (PRODUCT.md flow 6): adding it at once
    would tell the inviter that it exists and pull it in without consent. For a platform-scope role "the organisation"
    is the platform: only holders of a platform role are members there.
    """
    found = dict(
        await sql.rows_where_in(connection, StaffMember, columns=("email", "id"), key="email", values=addresses)
    )
    pending = dict(
        await sql.rows_where_in(
            connection,
            Invitation,
            columns=("email", "id"),
            key="email",
            values=addresses,
            where={"scope_key": scope.key, "state": InvitationState.PENDING},
        )
    )
    held_there = await sql.rows_where_in(
        connection,
        RoleAssignment,
        columns=("member_id", "role_id", "scope_key", "ended_at", "ends_at"),
        key="member_id",
        # Asked even when no address has an account (0 is no member's id), so that a send takes the same
        # statements whether or not its addresses have accounts somewhere.
        values=[int(member_id) for member_id in found.values()] or [0],
        where=_same_organisation(scope),
    )
    held_there = [
        row[:3] for row in held_there if is_live(sql.timestamp(row[3]), sql.timestamp(row[4]))
    ]  # ended grants: history
    insiders = {int(member_id) for member_id, _, _ in held_there}
    held = {int(member_id) for member_id, role_id, key in held_there if role_id == role.id and key == scope.key}
    members = {a: int(found[a]) for a in addresses if a in found and int(found[a]) in insiders}
    new = [a for a in addresses if a not in members]
    already = [a for a, member_id in members.items() if member_id in held]
    members = {a: member_id for a, member_id in members.items() if member_id not in held}
    replaced = [a for a in new if a in pending]
    return invite_rows.Plan(new, [int(pending[a]) for a in replaced], replaced, members, already)


def _same_organisation(scope: Scope) -> dict[str, object]:
    """The role assignments that make a member "of the same organisation" as the scope (its deployments included)."""
    if scope.organisation_id is None:
        return {"level": access.ScopeLevel.PLATFORM.value}
    return {"organisation_id": scope.organisation_id}


async def _mail_context(actor: Actor, role: RoleInfo, scope: Scope, terms: GrantTerms) -> dict[str, str]:
    return {
        "inviter_name": actor.full_name,
        "inviter_email": actor.email,
        "scope_name": await organisations.scope_name(scope=scope),
        "role_name": role.name,
        "ends_at": terms.ends_at.isoformat() if terms.ends_at else "",
        "sponsor_name": terms.sponsor_name,
        "sponsor_is_inviter": "yes" if terms.sponsor_id == actor.member_id else "",
    }
