"""Changing when a grant ends, from the staff list: extend it, shorten it, or make it open-ended where allowed."""

from datetime import datetime

from tortoise.transactions import in_transaction

from models import RoleAssignment
from services.access import grant_terms, roles
from services.access.liveness import is_live
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound
from services.platform import events


async def set_end(*, actor: Actor, assignment_id: int, ends_at: datetime | None) -> str:
    """Give a grant in force a new end (None: it does not end, where the organisation allows that). The grant's
    sponsor or anyone who may manage that role there may; the organisation's longest duration counts from now.
    Returns the member's email."""
    assignment = await RoleAssignment.get_or_none(id=assignment_id).select_related("role", "member")
    if assignment is None or not is_live(assignment.ended_at, assignment.ends_at):
        raise NotFound("That access has already ended: invite the person again to give it back.")
    role, scope, email = RoleInfo.of(assignment.role), Scope.of(assignment), assignment.member.email
    # The sponsor's own say: a person, never an API token that carries its creator's id (it needs the rights).
    if actor.token or assignment.sponsor_id != actor.member_id:
        await roles.require_grant(actor=actor, role=role, scope=scope, action="set_end", target=email)
    longest = await grant_terms.longest_days(organisation_id=scope.organisation_id, role_id=role.id)
    try:
        grant_terms.check_end(ends_at, role=role, longest=longest)
    except InvalidInput as refusal:
        raise FieldErrors({"ends_at": str(refusal)}) from None
    async with in_transaction() as connection:
        changed = await (
            RoleAssignment.filter(id=assignment.id, ended_at=None).using_db(connection).update(ends_at=ends_at)
        )
        if not changed:
            raise NotFound("That access has already ended: invite the person again to give it back.")
        detail = {"role": role.name, "from": _moment(assignment.ends_at), "to": _moment(ends_at)}
        await audit.record(
            actor=actor, action="set_end", scope=scope, target=email, detail=detail, connection=connection
        )
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    return email


def _moment(value: datetime | None) -> str:
    return value.isoformat() if value is not None else "does not end"
