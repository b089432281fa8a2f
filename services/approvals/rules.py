"""An organisation's approval rules: invitations to these roles, or to any role holding these permissions, wait for a
second person's approval. Changed by those who may change the organisation's access settings."""

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models import ApprovalRule, Permission
from services.access import rights, roles
from services.access import service as access
from services.access.service import Actor, RoleInfo
from services.audit import service as audit
from services.errors import InvalidInput
from services.organisations import access_settings
from services.organisations import service as organisations
from services.platform import events


@dataclass(frozen=True)
class ApprovalRules:
    role_ids: frozenset[int] = frozenset()
    permissions: frozenset[Permission] = frozenset()

    def cover(self, role: RoleInfo) -> bool:
        """Does an invitation to this role need approval?"""
        return role.id in self.role_ids or bool(self.permissions & role.permissions)


async def rules_of(*, organisation_id: int | None) -> ApprovalRules:
    """The organisation's rules (none for the platform: Admin Portal invitations never wait)."""
    if organisation_id is None:
        return ApprovalRules()
    rows = await ApprovalRule.filter(organisation_id=organisation_id).values_list("role_id", "permission")
    role_ids = frozenset(int(role_id) for role_id, _ in rows if role_id is not None)
    held = frozenset(Permission(p) for _, p in rows if p in Permission.__members__.values())
    return ApprovalRules(role_ids, held)


async def needs_approval(*, organisation_id: int | None, role: RoleInfo) -> bool:
    """Does an invitation to this role in this organisation wait for a second person?"""
    return (await rules_of(organisation_id=organisation_id)).cover(role)


async def set_rules(
    *, actor: Actor, organisation_id: int, role_ids: Iterable[int], permissions: Iterable[str]
) -> ApprovalRules:
    """Replace the organisation's rules (who may: whoever may change its access settings); audited."""
    scope = await access.scope_of(organisation_id=organisation_id)
    if not rights.may_change_access_settings(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action="set_approval_rules", scope=scope, outcome="refused")
        access.require(False, access_settings.REFUSED)
    await organisations.require_active(organisation_id=organisation_id)
    offered = {role.id: role for role in await roles.available_in(organisation_id=organisation_id)}
    if unknown := set(role_ids) - set(offered):
        raise InvalidInput(f"{len(unknown)} of those roles cannot be held in this organisation.")
    if bad := set(permissions) - {p.value for p in Permission}:
        raise InvalidInput(f"Unknown permission: {sorted(bad)[0][:40]}.")
    new = ApprovalRules(frozenset(role_ids), frozenset(Permission(p) for p in permissions))
    old = await rules_of(organisation_id=organisation_id)
    if new == old:
        return old
    async with in_transaction() as connection:
        await ApprovalRule.filter(organisation_id=organisation_id).using_db(connection).delete()
        rows = [ApprovalRule(organisation_id=organisation_id, role_id=role_id) for role_id in sorted(new.role_ids)]
        rows += [ApprovalRule(organisation_id=organisation_id, permission=p.value) for p in sorted(new.permissions)]
        await ApprovalRule.bulk_create(rows, using_db=connection)
        detail = {
            "roles": sorted(offered[role_id].name for role_id in new.role_ids),
            "permissions": sorted(p.value for p in new.permissions),
        }
        await audit.record(actor=actor, action="set_approval_rules", scope=scope, detail=detail, connection=connection)
    await events.publish(organisation_id=organisation_id, kind="settings")
    return new
