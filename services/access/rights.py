"""What an actor may see and do in an organisation: the questions pages ask, answered here from the two rules.

Pages and components only ask; every service checks the same answers again before it changes anything.
Which roles may be handed out where (the invite pop-out's places, require_grant) is in roles.py.
"""

from models import Permission, ScopeLevel
from services.access.service import (
    PLATFORM_SCOPE,
    Actor,
    Scope,
    admin_reach,
    can_manage_staff,
    can_view_staff,
    has_permission,
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


def may_read_audit(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor read the organisation's audit log (those who manage its staff organisation-wide)."""
    return can_manage_staff(actor, _organisation(organisation_id))


def may_edit_roles(*, actor: Actor, organisation_id: int) -> bool:
    """May the actor add, change and delete the organisation's custom roles."""
    return has_permission(actor, Permission.EDIT_ROLES, _organisation(organisation_id))


def may_create_organisation(*, actor: Actor) -> bool:
    """May the actor create organisations (Super Admin, Platform Support, Account Manager)."""
    return has_permission(actor, Permission.CREATE_ORGANISATION, PLATFORM_SCOPE)


def may_invite_admin_staff(*, actor: Actor) -> bool:
    """May the actor invite Admin Portal staff at the platform (rule 1: Platform Support and above)."""
    return platform_rank(actor) > 0


def _organisation(organisation_id: int) -> Scope:
    return Scope(ScopeLevel.ORGANISATION, organisation_id)
