"""Roles: the default catalogue in the database, custom roles per organisation, and role look-ups."""

from collections.abc import Iterable
from typing import Any, NamedTuple

from tortoise.transactions import in_transaction

from models import (
    CARE_PERMISSIONS,
    ApprovalRule,
    ApprovalState,
    Deployment,
    Invitation,
    InvitationState,
    Organisation,
    Permission,
    Role,
    RoleAssignment,
    ScopeLevel,
)
from models.enums import PERMISSION_LABELS
from services.access import catalogue
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound, check_fields
from services.invitations import reminders
from services.organisations import naming
from services.platform import events, sql, words
from services.platform.clock import now

MAX_ROLE_NAME = 80
APPROVAL_BYPASS = (
    "{permissions} needs a second person's approval here, and {who}: they would get it without one. Nothing was "
    "changed. Make a new role with it instead and invite the people who need it: each invitation waits for approval."
)


class ScopeOffer(NamedTuple):
    """One place the invite pop-out offers, with the roles the actor may hand out there."""

    scope: Scope
    label: str
    roles: list[RoleInfo]


class PermissionChoice(NamedTuple):
    permission: Permission
    label: str
    always: bool  # part of every custom role: shown, not chosen


def permission_choices() -> list[PermissionChoice]:
    """The care permissions a custom role is built from, in display order, with their labels."""
    return [PermissionChoice(p, PERMISSION_LABELS[p], p is Permission.VIEW_PATIENT_DATA) for p in CARE_PERMISSIONS]


def permission_summary(permissions: Iterable[Permission]) -> str:
    """The labels of these care permissions, in display order, for a list of roles."""
    held = set(permissions)
    return ", ".join(PERMISSION_LABELS[p] for p in CARE_PERMISSIONS if p in held)


async def seed_defaults() -> None:
    """Insert or refresh the default roles of the catalogue (idempotent, safe at every start)."""
    for default in catalogue.DEFAULT_ROLES:
        values: dict[str, Any] = {
            "name": default.name,
            "levels": [level.value for level in default.levels],
            "permissions": sorted(p.value for p in default.permissions),
            "admin_rank": default.admin_rank,
            "privileged": default.privileged,
        }
        role = await Role.get_or_none(key=default.key)
        if role is None:
            await Role.create(key=default.key, **values)
        elif any(getattr(role, name) != value for name, value in values.items()):
            await Role.filter(id=role.id).update(**values)


async def get(*, role_id: int) -> RoleInfo:
    """One role by id (never a deleted custom role), or NotFound."""
    role = await Role.get_or_none(id=role_id, deleted_at=None)
    if role is None:
        raise NotFound("That role no longer exists.")
    return RoleInfo.of(role)


async def available_in(*, organisation_id: int | None) -> list[RoleInfo]:
    """Default roles and the organisation's custom roles, in catalogue order."""
    rows = await Role.filter(organisation_id=None).order_by("id")
    if organisation_id is not None:
        rows += await Role.filter(organisation_id=organisation_id, deleted_at=None).order_by("name")
    return [RoleInfo.of(role) for role in rows]


async def grantable(*, actor: Actor, scope: Scope) -> list[RoleInfo]:
    """The roles the actor may hand out in the scope, for the role select."""
    return access.grantable_roles(actor, await available_in(organisation_id=scope.organisation_id), scope)


async def invite_scopes(*, actor: Actor, organisation_id: int) -> list[ScopeOffer]:
    """The Care Portal pop-out's places: the whole organisation and each deployment where the actor may invite.

    When the actor may invite nowhere, the whole organisation alone, with no role (the pop-out says so).
    """
    available = await available_in(organisation_id=organisation_id)
    organisation = (await Organisation.get(id=organisation_id)).name
    deployments = await Deployment.filter(organisation_id=organisation_id).order_by("name").values_list("id", "name")
    places = [(Scope(ScopeLevel.ORGANISATION, organisation_id), naming.place_name(organisation=organisation))] + [
        (
            Scope(ScopeLevel.DEPLOYMENT, organisation_id, int(dep_id)),
            naming.place_name(organisation=organisation, deployment=str(name)),
        )
        for dep_id, name in deployments
    ]
    offers = [ScopeOffer(scope, label, access.grantable_roles(actor, available, scope)) for scope, label in places]
    return [offer for offer in offers if offer.roles] or offers[:1]


async def require_grant(
    *, actor: Actor, role: RoleInfo, scope: Scope, action: str, target: str, refusal: str | None = None
) -> None:
    """Refuse (and audit the refusal) unless the actor may hand out, change or revoke the role in the scope."""
    if access.can_grant(actor, role, scope):
        return
    detail = {"role": role.name}
    await audit.record(actor=actor, action=action, scope=scope, target=target, outcome="refused", detail=detail)
    access.require(False, refusal or f"You may not manage the role “{role.name}” there.")


async def create_custom(
    *, actor: Actor, organisation_id: int, name: str, permissions: list[str], privileged: bool = False
) -> RoleInfo:
    """Create a custom care role in the organisation (needs *edit roles* there); privileged: reviewed more often."""
    scope = await access.scope_of(organisation_id=organisation_id)
    await _require_edit_roles(actor, scope, "create_role", name, set(permissions))
    clean_name, clean_permissions = await _validate(organisation_id, name, permissions, exclude_id=None)
    async with in_transaction() as connection:
        role = await Role.create(
            using_db=connection,
            name=clean_name,
            organisation_id=organisation_id,
            levels=[ScopeLevel.ORGANISATION.value, ScopeLevel.DEPLOYMENT.value],
            permissions=clean_permissions,
            privileged=privileged,
        )
        detail = {"privileged": privileged}
        await audit.record(
            actor=actor, action="create_role", scope=scope, target=clean_name, detail=detail, connection=connection
        )
    await events.publish(organisation_id=organisation_id, kind="roles")
    return RoleInfo.of(role)


async def update_custom(
    *, actor: Actor, role_id: int, name: str, permissions: list[str], privileged: bool | None = None
) -> RoleInfo:
    """Rename a custom role or change its permissions, or whether it is privileged (None: as it is)."""
    role = await _custom_role(role_id)
    assert role.organisation_id is not None
    scope = Scope(ScopeLevel.ORGANISATION, role.organisation_id)
    await _require_edit_roles(actor, scope, "update_role", role.name, set(role.permissions) | set(permissions))
    clean_name, clean_permissions = await _validate(role.organisation_id, name, permissions, exclude_id=role.id)
    await _refuse_approval_bypass(actor, role, set(clean_permissions) - set(role.permissions), scope)
    async with in_transaction() as connection:
        marked = role.privileged if privileged is None else privileged
        changes = {"name": clean_name, "permissions": clean_permissions, "privileged": marked}
        await Role.filter(id=role.id).using_db(connection).update(**changes)
        detail = {
            "from": sorted(role.permissions),
            "to": clean_permissions,
            "old_name": role.name,
            "privileged": marked,
        }
        await audit.record(
            actor=actor, action="update_role", scope=scope, target=clean_name, detail=detail, connection=connection
        )
    await events.publish(organisation_id=role.organisation_id, kind="roles")
    return await get(role_id=role.id)


async def delete_custom(*, actor: Actor, role_id: int) -> None:
    """Delete a custom role: members lose it, pending invitations with it are deleted."""
    role = await _custom_role(role_id)
    assert role.organisation_id is not None
    scope = Scope(ScopeLevel.ORGANISATION, role.organisation_id)
    await _require_edit_roles(actor, scope, "delete_role", role.name, set(role.permissions))
    async with in_transaction() as connection:
        ending = RoleAssignment.filter(live(), role_id=role.id).using_db(connection)
        removed = await ending.update(ended_at=now(), end_reason="role_deleted", ended_by_id=actor.member_id)
        dropped = await sql.changed(
            connection,
            await Invitation.filter(role_id=role.id, state=InvitationState.PENDING)
            .using_db(connection)
            .update(state=InvitationState.DELETED, **reminders.NO_REMINDER),
        )
        await Role.filter(id=role.id).using_db(connection).update(deleted_at=now())
        detail = {"assignments_removed": removed, "invitations_deleted": dropped}
        await audit.record(
            actor=actor, action="delete_role", scope=scope, target=role.name, detail=detail, connection=connection
        )
    await events.publish(organisation_id=role.organisation_id, kind="roles")


async def _refuse_approval_bypass(actor: Actor, role: Role, added: set[str], scope: Scope) -> None:
    """Refuse (FieldErrors at permissions, audited) adding a permission the organisation's approval rules cover to a
    role that people hold or were sent an invitation to: they would get it without a second person's approval."""
    rules = ApprovalRule.filter(organisation_id=role.organisation_id, permission__in=sorted(added))
    covered: set[str] = set(await rules.values_list("permission", flat=True))  # type: ignore[arg-type]
    if not covered:
        return
    holders = await RoleAssignment.filter(live(), role_id=role.id).count()
    invited = (
        await Invitation.filter(role_id=role.id, state=InvitationState.PENDING)
        .exclude(approval=ApprovalState.AWAITING)
        .count()
    )  # an invitation still awaiting approval is approved (or not) for the role as it is then
    if not holders and not invited:
        return
    labels = ", ".join(sorted(PERMISSION_LABELS[Permission(p)] for p in covered))
    held = [f"{holders:,} {'person holds' if holders == 1 else 'people hold'} “{role.name}”"] if holders else []
    to = "it" if holders else f"“{role.name}”"
    sent = (
        [f"{words.count(invited, 'invitation')} to {to} {'is' if invited == 1 else 'are'} pending"] if invited else []
    )
    who = " and ".join(held + sent)
    message = APPROVAL_BYPASS.format(permissions=labels, who=who)
    detail = {"reason": f"{labels} needs a second person's approval and {who}", "permissions_added": sorted(covered)}
    await audit.record(
        actor=actor, action="update_role", scope=scope, target=role.name, outcome="refused", detail=detail
    )
    raise FieldErrors({"permissions": message})


async def _custom_role(role_id: int) -> Role:
    role = await Role.get_or_none(id=role_id, deleted_at=None)
    if role is None or role.organisation_id is None:
        raise NotFound("That custom role no longer exists.")
    return role


async def _require_edit_roles(
    actor: Actor, scope: Scope, action: str, target: str, permissions: set[str] | None = None
) -> None:
    """Edit roles there, and (short of Admin Portal reach) never shape a role beyond what the actor holds."""
    held = access.permissions_in(actor, scope)
    beyond = (permissions or set()) - {p.value for p in held}
    if Permission.EDIT_ROLES in held and (not beyond or access.admin_rank_over(actor, scope.organisation_id)):
        return
    await audit.record(
        actor=actor,
        action=action,
        scope=scope,
        target=target,
        outcome="refused",
        detail={"permissions_not_held": sorted(beyond)} if beyond else None,
    )
    if Permission.EDIT_ROLES not in held:
        access.require(False, "You need the *edit roles and permissions* permission in this organisation.")
    access.require(False, "A role can only be given permissions you hold yourself.")


async def _validate(
    organisation_id: int, name: str, permissions: list[str], *, exclude_id: int | None
) -> tuple[str, list[str]]:
    clean_name = check_fields(name=lambda: _role_name(name))["name"]
    care = {p.value for p in CARE_PERMISSIONS}
    unknown = set(permissions) - care
    if unknown:
        raise InvalidInput("Custom roles can only hold care permissions.")
    clashes = Role.filter(name__iexact=clean_name, organisation_id=organisation_id, deleted_at=None)
    if exclude_id is not None:
        clashes = clashes.exclude(id=exclude_id)
    if await clashes.exists() or await Role.filter(organisation_id=None, name__iexact=clean_name).exists():
        raise FieldErrors({"name": f"A role called “{clean_name}” already exists in this organisation."})
    return clean_name, sorted(set(permissions) | {Permission.VIEW_PATIENT_DATA.value})


def _role_name(name: str) -> str:
    clean_name = " ".join(name.split())
    if not clean_name:
        raise InvalidInput("Give the role a name.")
    if not clean_name.isprintable():
        raise InvalidInput("A role name cannot contain control or invisible characters.")
    if len(clean_name) > MAX_ROLE_NAME:
        raise InvalidInput(f"A role name can be at most {MAX_ROLE_NAME} characters long.")
    return clean_name
