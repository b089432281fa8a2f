"""Nobody leaves an organisation without someone able to manage its staff, nor the platform without a Super Admin
(a role change, a removal, or a role change that waited for approval and is accepted)."""

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Permission, RoleAssignment
from services.access.catalogue import SUPER_ADMIN
from services.access.liveness import live
from services.access.service import ScopeLevel
from services.errors import InvalidInput

LAST_MANAGER = "This would leave the organisation with nobody able to manage its staff."


async def keep_a_staff_manager(organisation_id: int | None, connection: BaseDBAsyncClient) -> None:
    """Raise (rolling the caller's transaction back) when nobody could manage the organisation's staff any more."""
    if organisation_id is None:  # the platform: nor its last Super Admin
        left = RoleAssignment.filter(live(), level=ScopeLevel.PLATFORM, role__key=SUPER_ADMIN).using_db(connection)
        if not await left.exists():
            raise InvalidInput("This would leave the platform with no Super Admin.")
        return
    held = (
        await RoleAssignment.filter(live(), organisation_id=organisation_id, deployment_id=None)
        .using_db(connection)
        .select_related("role")
    )
    if not any(manages_staff(a) for a in held):
        raise InvalidInput(LAST_MANAGER)


def manages_staff(assignment: RoleAssignment) -> bool:
    """Does this grant let its holder manage the whole organisation's staff?"""
    return assignment.deployment_id is None and Permission.INVITE_STAFF.value in assignment.role.permissions
