"""Each role a grant held: a role change keeps the grant (reviews, the REST API and live lists know it by its id) and
writes what it was, what it became, when, by whom and who approved it (the evidence pack's role periods)."""

from tortoise.backends.base.client import BaseDBAsyncClient

from models import RoleChange
from services.access.service import RoleInfo
from services.platform.clock import now


async def record_change(
    *,
    assignment_id: int,
    old: RoleInfo,
    new: RoleInfo,
    changed_by_id: int | None,
    approved_by_id: int | None = None,
    connection: BaseDBAsyncClient,
) -> None:
    """Write one role change of a grant, inside the transaction that changes it (approved_by_id None: no approval)."""
    await RoleChange.create(
        using_db=connection,
        assignment_id=assignment_id,
        from_role_id=old.id,
        to_role_id=new.id,
        from_role_name=old.name,
        to_role_name=new.name,
        changed_at=now(),
        changed_by_id=changed_by_id,
        approved_by_id=approved_by_id,
    )
