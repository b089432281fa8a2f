"""What an actor may see and do in an organisation: the questions pages ask, answered here from the two rules.

Pages and components only ask; every service checks the same answers again before it changes anything.
Which roles may be handed out where (the invite pop-out's places, require_grant) is in roles.py.
"""

from models import Permission, ScopeLevel
from services.access.service import (
    PLATFORM_SCOPE,
    Actor,
    RoleInfo,
    Scope,
    admin_reach,
    can_grant,
    can_manage_staff,
    can_view_staff,
    has_permission,
    is_super_admin,
    platform_rank,
)


def organisations_seen(*, actor: Actor) -> frozenset[int] | None:
    """The organisations the actor may see (its staff list somewhere in it, or Admin Portal reach); None: all."""
    reach = admin_reach(actor)
    if reach is None:
        return None
    return reach | frozenset(
        g.scope.organisation_id
        for g in actor.grants
        if g.scope.organisation_id is not None and can_view_staff(actor, g.scope)
    )


def may_see_organisation(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor open the organisation in the Care Portal (see organisations_seen)."""
    seen = organisations_seen(actor=actor)
    return seen is None or organisation_id in seen


def may_invite(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor invite (and manage pending invitations) in the organisation or one of its deployments."""
    if can_manage_staff(actor, _organisation(organisation_id)):
        return True
    return any(can_manage_staff(actor, g.scope) for g in actor.grants if g.scope.organisation_id == organisation_id)


def may_invite_to_deployment(*, actor: Actor, organisation_id: int, deployment_id: int) -> bool:
    """May the actor invite staff to this deployment (the Admin Portal's Deployments row menu)."""
    return can_manage_staff(actor, Scope(ScopeLevel.DEPLOYMENT, organisation_id, deployment_id))


def may_manage_member(*, actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    """May the actor change or take away this role held in this scope (Change role, Remove from team)."""
    return can_grant(actor, role, scope)


def may_restore_access(*, actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    """May the actor give back this role in this scope after dormancy suspended it (those who may manage it there)."""
    return can_grant(actor, role, scope)


def may_read_audit(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor read the organisation's audit log (those who manage its staff organisation-wide)."""
    return can_manage_staff(actor, _organisation(organisation_id))


def may_edit_roles(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor add, change and delete the organisation's custom roles."""
    return has_permission(actor, Permission.EDIT_ROLES, _organisation(organisation_id))


def may_change_access_settings(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor change the organisation's access settings and end-date rules (those who may edit its roles)."""
    return may_edit_roles(actor=actor, organisation_id=organisation_id)


def may_set_deployment_review_schedule(*, actor: Actor, organisation_id: int, deployment_id: int) -> bool:
    """May the actor give a deployment its own access review schedule (those who may change the organisation's access
    settings, and the deployment's admins: *edit roles* and *review access* there)."""
    if may_change_access_settings(actor=actor, organisation_id=organisation_id):
        return True
    there = Scope(ScopeLevel.DEPLOYMENT, organisation_id, deployment_id)
    return has_permission(actor, Permission.EDIT_ROLES, there) and has_permission(
        actor, Permission.REVIEW_ACCESS, there
    )


def may_review_access(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor take part in the organisation's access reviews (*review access* there or in one of its
    deployments): services/reviews checks each campaign and item again."""
    if has_permission(actor, Permission.REVIEW_ACCESS, _organisation(organisation_id)):
        return True
    return any(
        has_permission(actor, Permission.REVIEW_ACCESS, g.scope)
        for g in actor.grants
        if g.scope.organisation_id == organisation_id
    )


def may_create_organisation(*, actor: Actor) -> bool:
    """May the actor create organisations (Super Admin, Platform Support, Account Manager)."""
    return has_permission(actor, Permission.CREATE_ORGANISATION, PLATFORM_SCOPE)


def may_invite_admin_staff(*, actor: Actor) -> bool:
    """May the actor invite Admin Portal staff at the platform (rule 1: Platform Support and above)."""
    return platform_rank(actor) > 0


def may_add_deployment(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor create deployments in the organisation."""
    return has_permission(actor, Permission.MANAGE_DEPLOYMENTS, _organisation(organisation_id))


def may_rename_organisation(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor rename the organisation."""
    return has_permission(actor, Permission.MANAGE_ORGANISATION, _organisation(organisation_id))


def may_archive_organisation(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor archive the organisation (those who may delete it: an Organisation Editor may not)."""
    return has_permission(actor, Permission.DELETE_ORGANISATION, _organisation(organisation_id))


def may_restore_organisation(*, actor: Actor) -> bool:
    """May the actor restore archived organisations (Super Admin only)."""
    return is_super_admin(actor)


def may_suspend_accounts(*, actor: Actor) -> bool:
    """May the actor suspend and restore accounts at all (Platform Support and Super Admin)."""
    return platform_rank(actor) > 0


def may_see_platform_staff(*, actor: Actor) -> bool:
    """May the actor see the platform's staff, look up any account and read the platform's audit log (Platform
    Support and Super Admin: those who may suspend accounts)."""
    return may_suspend_accounts(actor=actor)


def may_suspend(*, actor: Actor, member_id: int, member_platform_rank: int) -> bool:
    """May the actor suspend (or restore) this account: never their own; a Super Admin anyone else's; Platform
    Support the accounts below its own platform rank (not another Platform Support's, not a Super Admin's)."""
    if member_id == actor.member_id or not may_suspend_accounts(actor=actor):
        return False
    return is_super_admin(actor) or member_platform_rank < platform_rank(actor)


def _organisation(organisation_id: int) -> Scope:
    return Scope(ScopeLevel.ORGANISATION, organisation_id)
