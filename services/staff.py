"""Staff members: what a member holds, the staff lists, role changes and removal."""

from dataclasses import dataclass

from models import RoleAssignment
from services import organisations
from services.access import Actor, Scope, ScopeLevel


@dataclass(frozen=True)
class AccessRow:
    role_name: str
    scope_name: str
    level: str


async def my_access(*, actor: Actor) -> list[AccessRow]:
    """The roles the actor holds and where, for their own view."""
    rows = []
    for assignment in await RoleAssignment.filter(member_id=actor.member_id).select_related("role").order_by("id"):
        scope = Scope(ScopeLevel(assignment.level), assignment.organisation_id, assignment.deployment_id)
        rows.append(AccessRow(assignment.role.name, await organisations.scope_name(scope=scope), assignment.level))
    return rows
