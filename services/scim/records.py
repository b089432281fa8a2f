"""What SCIM remembers of its Users and Groups in a scope beyond grants and invitations (models.ScimRecord): the
identity provider's userName and externalId, and that a deactivated User is still known there until deleted."""

from dataclasses import dataclass

from models import ScimRecord
from services.access.service import Scope

USER, GROUP = "user", "group"


@dataclass(frozen=True)
class Known:
    key: str  # the address, or the role id
    user_name: str | None
    external_id: str | None


async def known(*, scope: Scope, kind: str, key: str | None = None) -> dict[str, Known]:
    """The records of a kind in the scope (only the one key when given), by key."""
    rows = ScimRecord.filter(scope_key=scope.key, kind=kind)
    if key is not None:
        rows = rows.filter(key=key)
    return {row.key: Known(row.key, row.user_name, row.external_id) for row in await rows}


async def key_of_user_name(*, scope: Scope, user_name: str) -> str | None:
    """The address of the User with this userName in the scope (None when no record names it)."""
    row = await ScimRecord.get_or_none(scope_key=scope.key, kind=USER, user_name=user_name)
    return row.key if row else None


async def keep(*, scope: Scope, kind: str, key: str, external_id: str | None, user_name: str | None = None) -> None:
    """Remember a User or Group (its externalId, and a User's userName when it is not its address)."""
    assert scope.organisation_id is not None
    await ScimRecord.update_or_create(
        defaults={"external_id": external_id, "user_name": user_name, "organisation_id": scope.organisation_id},
        scope_key=scope.key,
        kind=kind,
        key=key,
    )


async def set_external_id(*, scope: Scope, kind: str, key: str, external_id: str | None) -> None:
    """Change the externalId of a User or Group (remembering it when it was not yet)."""
    if not await ScimRecord.filter(scope_key=scope.key, kind=kind, key=key).update(external_id=external_id):
        await keep(scope=scope, kind=kind, key=key, external_id=external_id)


async def forget(*, scope: Scope, kind: str, key: str) -> None:
    """Forget a User or Group (deleted over SCIM)."""
    await ScimRecord.filter(scope_key=scope.key, kind=kind, key=key).delete()
