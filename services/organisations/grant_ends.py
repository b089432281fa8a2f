"""Changing when a grant ends, from the staff list: extend it, shorten it, make it open-ended where allowed, or end
it now. The grant's sponsor or anyone who may manage that role there may."""

from datetime import datetime

from tortoise.transactions import in_transaction

from models import RoleAssignment
from services.access import grant_terms, grants, roles
from services.access.liveness import is_live
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound
from services.platform import events
from services.platform.clock import now

ALREADY_ENDED = "That access has already ended: invite the person again to give it back."
ENDED_NOW = "ended_now"  # role_assignment.end_reason of a grant its sponsor or a manager ended with End now


async def set_end(*, actor: Actor, assignment_id: int, ends_at: datetime | None) -> str:
    """Give a grant in force a new end (None: it does not end, where the organisation allows that). The
    organisation's longest duration is a cap counted from the grant's start (grant_terms.check_end). Returns the
    member's email."""
    assignment, role, scope = await _checked(actor, assignment_id, "set_end")
    email = assignment.member.email
    longest = await grant_terms.longest_days(organisation_id=scope.organisation_id, role_id=role.id)
    try:
        grant_terms.check_end(ends_at, role=role, longest=longest, start=assignment.created_at)
    except InvalidInput as refusal:
        raise FieldErrors({"ends_at": str(refusal)}) from None
    async with in_transaction() as connection:
        changed = await (
            RoleAssignment.filter(id=assignment.id, ended_at=None).using_db(connection).update(ends_at=ends_at)
        )
        if not changed:
            raise NotFound(ALREADY_ENDED)
        detail = {"role": role.name, "from": _moment(assignment.ends_at), "to": _moment(ends_at)}
        await audit.record(
            actor=actor, action="set_end", scope=scope, target=email, detail=detail, connection=connection
        )
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    return email


async def end_now(*, actor: Actor, assignment_id: int) -> str:
    """End a grant in force at once (End now): it ends as at its end, kept as history, and the member's sessions
    end when nothing else remains. Returns the member's email."""
    assignment, role, scope = await _checked(actor, assignment_id, "end_now")
    email = assignment.member.email
    async with in_transaction() as connection:
        ending = RoleAssignment.filter(id=assignment.id, ended_at=None).using_db(connection)
        if not await ending.update(ends_at=now(), end_reason=ENDED_NOW, ended_by_id=actor.member_id):
            raise NotFound(ALREADY_ENDED)
        detail = {"role": role.name, "from": _moment(assignment.ends_at)}
        await audit.record(
            actor=actor, action="end_now", scope=scope, target=email, detail=detail, connection=connection
        )
    await grants.end_due()  # marks it ended, audits and tells open pages at once, as housekeeping would
    return email


async def _checked(actor: Actor, assignment_id: int, action: str) -> tuple[RoleAssignment, RoleInfo, Scope]:
    """The grant in force, once the actor is its sponsor (a person) or may manage its role there."""
    assignment = await RoleAssignment.get_or_none(id=assignment_id).select_related("role", "member")
    if assignment is None or not is_live(assignment.ended_at, assignment.ends_at):
        raise NotFound(ALREADY_ENDED)
    role, scope = RoleInfo.of(assignment.role), Scope.of(assignment)
    # The sponsor's own say: a person, never an API token that carries its creator's id (it needs the rights).
    if actor.token or assignment.sponsor_id != actor.member_id:
        await roles.require_grant(actor=actor, role=role, scope=scope, action=action, target=assignment.member.email)
    return assignment, role, scope


def _moment(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "does not end"
