"""Who needs a second factor: the rule, held here only. Admin Portal roles always; in an organisation, the roles it
chose on its Access settings, or by default every role holding *view patient data*.

Read by log-in (services/access/factor_login.py) and acceptance (services/invitations/acceptance.py); the choice is
changed by those who may change the organisation's access settings (rights.may_change_access_settings)."""

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import Passkey, Permission, RoleAssignment, SecondFactorPolicy, TotpFactor
from services.access import rights, roles
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, RoleInfo
from services.audit import service as audit
from services.errors import InvalidInput
from services.organisations import service as organisations
from services.platform import events

DEFAULT_PERMISSION = Permission.VIEW_PATIENT_DATA
LAST_FACTOR = (
    "Your access needs a second factor, and this is your last one. Add another passkey or an authenticator app "
    "first, then remove this one."
)
REFUSED = "You need the *edit roles and permissions* permission in this organisation."


@dataclass(frozen=True)
class FactorPolicy:
    """An organisation's choice: role_ids None means the default (roles holding DEFAULT_PERMISSION)."""

    role_ids: frozenset[int] | None = None

    @property
    def is_default(self) -> bool:
        return self.role_ids is None


def required_for(*, role: RoleInfo, policy: FactorPolicy) -> bool:
    """Does holding this role (where this policy applies) need a second factor?"""
    if role.is_admin_portal:
        return True
    if policy.role_ids is None:
        return DEFAULT_PERMISSION in role.permissions
    return role.id in policy.role_ids


async def policy_of(*, organisation_id: int | None) -> FactorPolicy:
    """The organisation's policy (the default where it chose none, and at the platform)."""
    if organisation_id is None:
        return FactorPolicy()
    row = await SecondFactorPolicy.get_or_none(organisation_id=organisation_id)
    return FactorPolicy(frozenset(int(i) for i in row.role_ids)) if row else FactorPolicy()


async def required_for_role(*, role: RoleInfo, organisation_id: int | None) -> bool:
    """Does this role, held in this organisation (None: at the platform), need a second factor?"""
    return required_for(role=role, policy=await policy_of(organisation_id=organisation_id))


async def member_requires(*, member_id: int) -> bool:
    """Does any role the member holds now need a second factor?"""
    assignments = await RoleAssignment.filter(live(), member_id=member_id).select_related("role")
    policies: dict[int | None, FactorPolicy] = {}
    for assignment in assignments:
        where = assignment.organisation_id
        if where not in policies:
            policies[where] = await policy_of(organisation_id=where)
        if required_for(role=RoleInfo.of(assignment.role), policy=policies[where]):
            return True
    return False


async def keeps_a_factor(
    *, member_id: int, connection: BaseDBAsyncClient, without_passkey: int | None = None, without_app: bool = False
) -> bool:
    """After removing this passkey (or their app), has the member still a factor, or do their roles need none? The
    rule every removal a member asks for obeys (an owner's reset is the way back and is not such a removal)."""
    if not without_app and await TotpFactor.filter(member_id=member_id).using_db(connection).exists():
        return True
    others = Passkey.filter(member_id=member_id).using_db(connection)
    if without_passkey is not None:
        others = others.exclude(id=without_passkey)
    return await others.exists() or not await member_requires(member_id=member_id)


async def set_policy(*, actor: Actor, organisation_id: int, role_ids: Iterable[int]) -> FactorPolicy:
    """Choose the roles that need a second factor in the organisation (Admin Portal roles always do); audited."""
    scope = await access.scope_of(organisation_id=organisation_id)
    if not rights.may_change_access_settings(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action="set_second_factor_roles", scope=scope, outcome="refused")
        access.require(False, REFUSED)
    await organisations.require_active(organisation_id=organisation_id)
    offered = {role.id: role for role in await roles.available_in(organisation_id=organisation_id)}
    chosen = frozenset(role_ids)
    if unknown := chosen - set(offered):
        raise InvalidInput(f"{len(unknown)} of those roles cannot be held in this organisation.")
    old = await policy_of(organisation_id=organisation_id)
    if chosen == (default_roles(offered.values()) if old.is_default else old.role_ids):
        return old  # the same roles as now: nothing to record
    async with in_transaction() as connection:
        await SecondFactorPolicy.filter(organisation_id=organisation_id).using_db(connection).delete()
        await SecondFactorPolicy.create(using_db=connection, organisation_id=organisation_id, role_ids=sorted(chosen))
        detail = {"roles": sorted(offered[i].name for i in chosen)}
        await audit.record(
            actor=actor, action="set_second_factor_roles", scope=scope, detail=detail, connection=connection
        )
    await events.publish(organisation_id=organisation_id, kind="settings")
    return FactorPolicy(chosen)


def default_roles(offered: Iterable[RoleInfo]) -> frozenset[int]:
    """The roles among these that the default policy covers (what the settings page ticks before any choice)."""
    return frozenset(role.id for role in offered if required_for(role=role, policy=FactorPolicy()))
