"""API tokens: made by whoever holds *manage integrations* in an organisation (or one deployment), shown once, stored
as SHA-256 only, listed with their last use, revoked at once in every process (each call reads the token's row).

A token may do at most what its creator may do there when it is made (no escalation), and when it is used: its
permissions meet its creator's current ones, so a creator who loses access takes their tokens' power with them.
Calls made with it are audited as the token (services/audit: actor "API token “name”"), while rows it writes name
its creator where a person is needed (an invitation's inviter).

A token may name a default role: the role of its scope given to a user its identity provider creates over SCIM
without naming one. Its creator must be allowed to hand that role out there (the same no-escalation rule).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from models import ApiToken, Permission, Role, StaffMember
from services.access import late_requests, roles
from services.access import service as access
from services.access import tokens as hashing
from services.access.service import Actor, Grant, RoleInfo, Scope, ScopeLevel
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotAuthenticated, NotFound, check_fields
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now

PREFIX = "ghk_"
LONGEST_DAYS = 366
NAME_LENGTH = 80
USE_RECORDED_EVERY = timedelta(minutes=1)  # last use is written at most this often per token
REFUSED = "You need the *manage integrations* permission there."
NOT_VALID = "This API token is not valid: it is unknown, expired or revoked."


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    place: str
    permissions: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool
    default_role: str = ""  # the name of the role SCIM gives a user created without one ("" for none)


def may_manage(actor: Actor, scope: Scope) -> bool:
    """Whether the actor may make, list and revoke tokens for this scope."""
    return access.has_permission(actor, Permission.MANAGE_INTEGRATIONS, scope)


async def create(
    *,
    actor: Actor,
    organisation_id: int,
    deployment_id: int | None = None,
    name: str,
    permissions: list[str],
    days: int,
    default_role_id: int | None = None,
) -> tuple[str, TokenRow]:
    """Make a token and return it (shown once) with its row. Refuses permissions the creator does not hold there,
    and a default role the creator may not hand out there."""
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id)
    await _require(actor, scope, "create_token", name)
    await organisations.require_active(organisation_id=organisation_id)
    held = access.permissions_in(actor, scope)
    clean = " ".join((name or "").split())
    check_fields(
        name=lambda: _check_name(clean),
        permissions=lambda: _check_permissions(permissions, held),
        days=lambda: _check_days(days),
    )
    if default_role_id is not None:
        await _require_default_role(actor, scope, default_role_id, clean, permissions)
    raw = PREFIX + secrets.token_urlsafe(32)
    at = now()
    row = await ApiToken.create(
        organisation_id=scope.organisation_id,
        deployment_id=scope.deployment_id,
        name=clean,
        token_hash=hashing.hash_token(raw),
        prefix=raw[:12],
        permissions=sorted(set(permissions)),
        created_by_id=actor.member_id,
        created_at=at,
        expires_at=at + timedelta(days=days),
        default_role_id=default_role_id,
    )
    detail = {"permissions": row.permissions, "days": days, "default_role_id": default_role_id}
    await audit.record(actor=actor, action="create_token", scope=scope, target=clean, detail=detail)
    await events.publish(organisation_id=organisation_id, kind="tokens")
    return raw, await _row(row)


async def listed(*, actor: Actor, organisation_id: int) -> list[TokenRow]:
    """The organisation's tokens the actor may manage, newest first, revoked ones included (marked)."""
    scope = await access.scope_of(organisation_id=organisation_id)
    rows = await ApiToken.filter(organisation_id=organisation_id).order_by("-created_at", "-id")
    mine = [row for row in rows if may_manage(actor, _scope_of(row))]
    if not mine and not may_manage(actor, scope):
        await _require(actor, scope, "list_tokens", "")
    return [await _row(row) for row in mine]


async def revoke(*, actor: Actor, token_id: int) -> str:
    """Revoke a token at once (every process reads it on every call); returns its name."""
    row = await ApiToken.get_or_none(id=token_id)
    if row is None:
        raise NotFound("That token no longer exists.")
    scope = _scope_of(row)
    await _require(actor, scope, "revoke_token", row.name)
    if await ApiToken.filter(id=row.id, revoked_at__isnull=True).update(revoked_at=now()):
        await audit.record(actor=actor, action="revoke_token", scope=scope, target=row.name)
        await events.publish(organisation_id=row.organisation_id, kind="tokens")
    return row.name


async def actor_for(*, raw: str) -> Actor:
    """The actor a call made with this token acts as (NotAuthenticated if it is not valid now)."""
    if not raw or len(raw) > 200 or not raw.startswith(PREFIX):
        raise NotAuthenticated(NOT_VALID)
    at = now()
    row = await ApiToken.get_or_none(token_hash=hashing.hash_token(raw), revoked_at__isnull=True, expires_at__gt=at)
    creator = await StaffMember.get_or_none(id=row.created_by_id, is_active=True) if row and row.created_by_id else None
    if row is None or creator is None:
        raise NotAuthenticated(NOT_VALID)
    if row.last_used_at is None or at - row.last_used_at >= USE_RECORDED_EVERY:
        await ApiToken.filter(id=row.id).update(last_used_at=at)
    scope = _scope_of(row)
    person = await access.load_actor(member_id=creator.id, email=creator.email, full_name=creator.full_name)
    late_requests.note_allowed(person)  # the creator's grants let the call through
    allowed = frozenset(Permission(p) for p in row.permissions) & access.permissions_in(person, scope)
    role = RoleInfo(
        id=0,
        key=None,
        name=f"API token “{row.name}”",
        levels=frozenset({scope.level}),
        permissions=allowed,
        admin_rank=0,
        organisation_id=row.organisation_id,
    )
    return Actor(
        member_id=creator.id,
        email=creator.email,
        full_name=role.name,
        grants=(Grant(role, scope),),
        token=row.name,
        token_id=row.id,
        on_behalf_of=person,
    )


async def default_role_of(*, actor: Actor) -> int | None:
    """The default role of the token the actor is (None when it names none, or when the actor is no token)."""
    row = await ApiToken.get_or_none(id=actor.token_id) if actor.token_id else None
    if row is None or row.default_role_id is None:
        return None
    return row.default_role_id if await Role.exists(id=row.default_role_id, deleted_at=None) else None


async def _require_default_role(actor: Actor, scope: Scope, role_id: int, name: str, permissions: list[str]) -> None:
    """The default role must be a care role of the scope that the creator may hand out there (refusal audited) and
    whose permissions the token holds (a token hands out only what it holds, as anyone without Admin Portal rank)."""
    offered = {role.id: role for role in await roles.available_in(organisation_id=scope.organisation_id)}
    role = offered.get(role_id)
    if role is None or role.admin_rank or scope.level not in role.levels:
        raise FieldErrors({"default_role": "Choose a role of this place, or none."})
    if missing := sorted(p.value for p in role.permissions if p.value not in permissions):
        needed = ", ".join(missing)
        raise FieldErrors({"default_role": f"The token could not hand out “{role.name}”: let it also {needed}."})
    refusal = f"You may not hand out the role “{role.name}” there, so a token cannot either."
    await roles.require_grant(actor=actor, role=role, scope=scope, action="create_token", target=name, refusal=refusal)


def _scope_of(row: ApiToken) -> Scope:
    if row.deployment_id is not None:
        return Scope(ScopeLevel.DEPLOYMENT, row.organisation_id, row.deployment_id)
    return Scope(ScopeLevel.ORGANISATION, row.organisation_id)


async def _require(actor: Actor, scope: Scope, action: str, target: str) -> None:
    if may_manage(actor, scope):
        return
    await audit.record(actor=actor, action=action, scope=scope, target=target, outcome="refused")
    access.require(False, REFUSED)


def _check_name(name: str) -> None:
    if not name:
        raise InvalidInput("Give the token a name that says what uses it.")
    if len(name) > NAME_LENGTH or not name.isprintable():
        raise InvalidInput(f"Use up to {NAME_LENGTH} printable characters.")


def _check_permissions(wanted: list[str], held: frozenset[Permission]) -> None:
    known = {p.value for p in Permission}
    if not wanted:
        raise InvalidInput("Choose what the token may do.")
    if unknown := [p for p in wanted if p not in known]:
        raise InvalidInput(f"Unknown permission: {unknown[0][:40]}.")
    if beyond := sorted(set(wanted) - {p.value for p in held}):
        raise InvalidInput(f"You do not hold {', '.join(beyond)} there: a token gets no more.")


def _check_days(days: int) -> None:
    if not 1 <= days <= LONGEST_DAYS:
        raise InvalidInput(f"Choose between 1 and {LONGEST_DAYS} days.")


async def _row(row: ApiToken) -> TokenRow:
    creator = await StaffMember.get_or_none(id=row.created_by_id) if row.created_by_id else None
    default = await Role.get_or_none(id=row.default_role_id, deleted_at=None) if row.default_role_id else None
    return TokenRow(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        place=await organisations.scope_name(scope=_scope_of(row)),
        permissions=tuple(row.permissions),
        created_by=creator.email if creator else "",
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked_at is not None,
        default_role=default.name if default else "",
    )
