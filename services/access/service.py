"""Who may do what where: the two "who may invite whom" rules of PRODUCT.md, decided here only."""

from dataclasses import dataclass, field
from datetime import datetime

from models import CARE_PERMISSIONS, Deployment, Invitation, Organisation, Permission, Role, RoleAssignment, ScopeLevel
from services.access import catalogue, liveness
from services.errors import PermissionDenied


@dataclass(frozen=True)
class Scope:
    """Where a role applies: the platform, one organisation, or one deployment of an organisation."""

    level: ScopeLevel
    organisation_id: int | None = None
    deployment_id: int | None = None

    @property
    def key(self) -> str:
        if self.level is ScopeLevel.PLATFORM:
            return "platform"
        if self.level is ScopeLevel.ORGANISATION:
            return f"org:{self.organisation_id}"
        return f"dep:{self.deployment_id}"

    @classmethod
    def of(cls, row: Invitation | RoleAssignment) -> "Scope":
        """The scope an invitation or a role assignment applies to, from its own columns."""
        return cls(ScopeLevel(row.level), row.organisation_id, row.deployment_id)


PLATFORM_SCOPE = Scope(ScopeLevel.PLATFORM)


@dataclass(frozen=True)
class RoleInfo:
    id: int
    key: str | None
    name: str
    levels: frozenset[ScopeLevel]
    permissions: frozenset[Permission]
    admin_rank: int
    organisation_id: int | None
    privileged: bool = False  # its grants are reviewed more often (issue 19: the organisation's privileged schedule)

    @property
    def is_admin_portal(self) -> bool:
        return self.admin_rank > 0

    @property
    def grants_own_rank(self) -> bool:
        default = catalogue.BY_KEY.get(self.key or "")
        return bool(default and default.grants_own_rank)

    @classmethod
    def of(cls, role: Role) -> "RoleInfo":
        return cls(
            id=role.id,
            key=role.key,
            name=role.name,
            levels=frozenset(ScopeLevel(level) for level in role.levels),
            permissions=frozenset(Permission(p) for p in role.permissions),
            admin_rank=role.admin_rank,
            organisation_id=role.organisation_id,
            privileged=role.privileged,
        )


@dataclass(frozen=True)
class Grant:
    role: RoleInfo
    scope: Scope
    ends_at: datetime | None = None
    assignment_id: int = 0  # the role_assignment row (0: not one, as an API token's own grant)


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member with the grants they hold right now (loaded fresh for every action)."""

    member_id: int
    email: str
    full_name: str
    grants: tuple[Grant, ...]
    created_organisation_ids: frozenset[int] = field(default_factory=frozenset)
    token: str = ""  # an API token's name when a call is made with one (services/integrations/tokens.py)
    token_id: int = 0  # and its id (the REST API's rate limit counts calls per token)
    on_behalf_of: "Actor | None" = None  # a token's creator, as they are now: what the token hands out, they could

    @property
    def label(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def first_end(self) -> datetime | None:
        """When the first of the actor's grants ends (None: none ends): what is remembered of it lasts no longer."""
        return min((g.ends_at for g in self.grants if g.ends_at is not None), default=None)


async def load_actor(*, member_id: int, email: str, full_name: str) -> Actor:
    """Load the member's current grants (and, for Account Managers, the organisations they created)."""
    assignments = await RoleAssignment.filter(liveness.live(), member_id=member_id).select_related("role")
    grants = tuple(Grant(RoleInfo.of(a.role), Scope.of(a), a.ends_at, a.id) for a in assignments)
    created: frozenset[int] = frozenset()
    if any(g.role.key == catalogue.ACCOUNT_MANAGER for g in grants):
        ids = await Organisation.filter(created_by_id=member_id).values_list("id", flat=True)
        created = frozenset(int(i) for i in ids)  # type: ignore[call-overload]
    return Actor(member_id, email, full_name, grants, created)


def admin_rank_over(actor: Actor, organisation_id: int | None) -> int:
    """Rule 1's reach: the highest Admin Portal rank the actor holds over that organisation (0: none)."""
    best = 0
    for grant in actor.grants:
        role = grant.role
        if not role.is_admin_portal:
            continue
        if role.key == catalogue.ACCOUNT_MANAGER:
            reaches = organisation_id is not None and organisation_id in actor.created_organisation_ids
        elif grant.scope.level is ScopeLevel.PLATFORM:
            reaches = True
        else:
            reaches = organisation_id is not None and grant.scope.organisation_id == organisation_id
        if reaches:
            best = max(best, role.admin_rank)
    return best


def platform_rank(actor: Actor) -> int:
    """Rule 1's reach at the platform itself: the actor's platform rank if Platform Support or above, else 0."""
    rank = max((g.role.admin_rank for g in actor.grants if g.scope.level is ScopeLevel.PLATFORM), default=0)
    return rank if rank >= catalogue.BY_KEY["platform_support"].admin_rank else 0


def admin_reach(actor: Actor) -> frozenset[int] | None:
    """The organisations within rule 1's reach; None means every organisation."""
    reach: set[int] = set(actor.created_organisation_ids)
    for grant in actor.grants:
        if not grant.role.is_admin_portal or grant.role.key == catalogue.ACCOUNT_MANAGER:
            continue
        if grant.scope.level is ScopeLevel.PLATFORM:
            return None
        if grant.scope.organisation_id is not None:
            reach.add(grant.scope.organisation_id)
    return frozenset(reach)


def permissions_in(actor: Actor, scope: Scope) -> frozenset[Permission]:
    """Every permission the actor holds in the scope (an organisation-level grant covers its deployments)."""
    held: set[Permission] = set()
    for grant in actor.grants:
        if _covers(grant.scope, scope):
            held |= grant.role.permissions
        if grant.role.key == catalogue.ACCOUNT_MANAGER and scope.organisation_id in actor.created_organisation_ids:
            held |= catalogue.ACCOUNT_MANAGER_REACH_PERMISSIONS
    return frozenset(held)


def has_permission(actor: Actor, permission: Permission, scope: Scope) -> bool:
    return permission in permissions_in(actor, scope)


def can_grant(actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    """May the actor hand out (or change, resend, revoke) this role in this scope?"""
    if scope.level not in role.levels:
        return False
    if role.organisation_id is not None and role.organisation_id != scope.organisation_id:
        return False
    if actor.on_behalf_of is not None:  # a token: what its creator may hand out there, if it may invite; no admin role
        creator = actor.on_behalf_of
        return (
            not role.is_admin_portal
            and has_permission(actor, Permission.INVITE_STAFF, scope)
            and can_grant(creator, role, scope)
        )
    return _rule_one_allows(actor, role, scope) or _rule_two_allows(actor, role, scope)


def grantable_roles(actor: Actor, roles: list[RoleInfo], scope: Scope) -> list[RoleInfo]:
    """The roles, in the given order, that the actor may hand out in the scope."""
    return [role for role in roles if can_grant(actor, role, scope)]


def can_manage_staff(actor: Actor, scope: Scope) -> bool:
    """Invite, list pending invitations and manage members in the scope."""
    if scope.level is not ScopeLevel.PLATFORM and admin_rank_over(actor, scope.organisation_id):
        return True
    return has_permission(actor, Permission.INVITE_STAFF, scope)


def can_view_staff(actor: Actor, scope: Scope) -> bool:
    return can_manage_staff(actor, scope) or has_permission(actor, Permission.VIEW_STAFF_LIST, scope)


def require(allowed: bool, message: str = "You do not have permission to do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def is_super_admin(actor: Actor) -> bool:
    return any(g.role.key == catalogue.SUPER_ADMIN for g in actor.grants)


def is_admin_portal_user(actor: Actor) -> bool:
    return any(g.role.is_admin_portal for g in actor.grants)


async def scope_of(*, organisation_id: int | None = None, deployment_id: int | None = None) -> Scope:
    """Build a checked scope from ids; a deployment's organisation comes from the database, never the caller."""
    if deployment_id is not None:
        deployment = await Deployment.get_or_none(id=deployment_id)
        if deployment is None:
            raise PermissionDenied("That deployment does not exist or you cannot see it.")
        return Scope(ScopeLevel.DEPLOYMENT, deployment.organisation_id, deployment.id)
    if organisation_id is not None:
        if not await Organisation.exists(id=organisation_id):
            raise PermissionDenied("That organisation does not exist or you cannot see it.")
        return Scope(ScopeLevel.ORGANISATION, organisation_id)
    return PLATFORM_SCOPE


def _covers(held: Scope, target: Scope) -> bool:
    if held.level is ScopeLevel.PLATFORM:
        return True
    if held.level is ScopeLevel.ORGANISATION:
        return target.level is not ScopeLevel.PLATFORM and held.organisation_id == target.organisation_id
    return target.level is ScopeLevel.DEPLOYMENT and held.deployment_id == target.deployment_id


def _rule_one_allows(actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    at_platform = scope.level is ScopeLevel.PLATFORM
    rank = platform_rank(actor) if at_platform else admin_rank_over(actor, scope.organisation_id)
    if rank == 0:
        return False
    if not role.is_admin_portal:
        return True
    held_role = next(g.role for g in actor.grants if g.role.admin_rank == rank)
    return role.admin_rank < rank or (role.admin_rank == rank and held_role.grants_own_rank)


def _rule_two_allows(actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    if role.is_admin_portal or not role.permissions <= frozenset(CARE_PERMISSIONS):
        return False
    held = permissions_in(actor, scope)
    return Permission.INVITE_STAFF in held and role.permissions <= held
