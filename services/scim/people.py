"""The people and roles of a token's scope, as the SCIM adapter sees them, and the changes an identity provider
makes to them; every change goes through the services that own its rules (invitations, staff, grants)."""

import base64
import binascii
from dataclasses import dataclass, field

from tortoise.expressions import Q

from models import Invitation, InvitationState, RoleAssignment
from services.access import grants, roles
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, RoleInfo, Scope, ScopeLevel
from services.errors import InvalidInput, NotFound
from services.integrations import tokens
from services.invitations import service as invitations
from services.organisations import staff
from services.scim import records, sso_ready

INVITATION_HOURS = 168  # the longest expiry the pop-out offers: a provisioned person may be on leave for days
NO_USER = "There is no such user here."
SAY_WHICH_ROLE = (
    "Say which role to give (roles[].value, a role id or name of this organisation), or choose this token's role for "
    "users created without one on the Integrations page."
)


class AlreadyThere(InvalidInput):
    """The address already holds or is invited to a role in the scope (SCIM uniqueness)."""


@dataclass
class Person:
    """One SCIM User: an address holding grants or pending invitations in the token's scope, or one the identity
    provider made or deactivated there and has not deleted (records.USER)."""

    email: str
    full_name: str = ""
    roles: dict[int, str] = field(default_factory=dict)  # role id -> name, held or invited to
    assignment_ids: list[int] = field(default_factory=list)  # live grants there
    invitation_ids: list[int] = field(default_factory=list)  # pending invitations there
    user_name: str = ""  # the identity provider's userName ("": the address)
    external_id: str | None = None

    @property
    def active(self) -> bool:
        """Whether the person holds or is invited to anything there."""
        return bool(self.assignment_ids or self.invitation_ids)

    @property
    def id(self) -> str:
        """The SCIM id: the address, base64url, so that it stays the same when the invitation is accepted."""
        return user_id(self.email)


def user_id(email: str) -> str:
    """The SCIM id of an address."""
    return base64.urlsafe_b64encode(email.lower().encode()).decode().rstrip("=")


def email_of(scim_id: str) -> str:
    """The address a SCIM id stands for (NotFound when it is none)."""
    try:
        email = base64.urlsafe_b64decode(scim_id + "=" * (-len(scim_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound(NO_USER) from None
    if "@" not in email:
        raise NotFound(NO_USER)
    return email


def scope_of(actor: Actor) -> Scope:
    """The scope a token acts in (its one grant)."""
    return actor.grants[0].scope


async def people(*, actor: Actor, email: str | None = None) -> list[Person]:
    """The Users of the token's scope (only the one address when given), sorted by address."""
    scope = scope_of(actor)
    access.require(access.can_view_staff(actor, scope), "This token may not see the staff there.")
    where = _in_scope(scope) & (Q(member__email=email.lower()) if email else Q())
    found: dict[str, Person] = {}
    for grant in await RoleAssignment.filter(live(), where).select_related("member", "role"):
        person = found.setdefault(grant.member.email, Person(grant.member.email, grant.member.full_name))
        person.roles[grant.role_id] = grant.role.name
        person.assignment_ids.append(grant.id)
    invited = Q(email=email.lower()) if email else Q()
    pending = Invitation.filter(_in_scope(scope), invited, state=InvitationState.PENDING).select_related("role")
    for invitation in await pending:
        person = found.setdefault(invitation.email, Person(invitation.email))
        person.roles[invitation.role_id] = invitation.role.name
        person.invitation_ids.append(invitation.id)
    remembered = await records.known(scope=scope, kind=records.USER, key=email.lower() if email else None)
    for key, record in remembered.items():
        person = found.setdefault(key, Person(key))
        person.user_name, person.external_id = record.user_name or "", record.external_id
    return sorted(found.values(), key=lambda p: p.email)


async def person(*, actor: Actor, scim_id: str) -> Person:
    """One User of the token's scope by SCIM id (NotFound when the address holds nothing there)."""
    found = await people(actor=actor, email=email_of(scim_id))
    if not found:
        raise NotFound(NO_USER)
    return found[0]


async def scope_roles(*, actor: Actor) -> list[RoleInfo]:
    """The roles available in the token's scope (the SCIM Groups): default roles and the organisation's own."""
    scope = scope_of(actor)
    access.require(access.can_view_staff(actor, scope), "This token may not see the staff there.")
    return [role for role in await roles.available_in(organisation_id=scope.organisation_id) if not role.admin_rank]


async def address_of(*, actor: Actor, user_name: str) -> str:
    """The address of the User a userName names in the token's scope (the userName itself when no record names it)."""
    return await records.key_of_user_name(scope=scope_of(actor), user_name=user_name) or user_name.strip().lower()


async def provision(
    *, actor: Actor, email: str, user_name: str, role_ids: list[int], active: bool = True, external_id: str | None
) -> Person:
    """Make a new User: invite it with each role, or the token's default role (members of the organisation get it at
    once); one created inactive is only remembered. Refuses an address or userName that is there already."""
    scope, email = scope_of(actor), email.strip().lower()
    if await people(actor=actor, email=email) or await records.key_of_user_name(scope=scope, user_name=user_name):
        raise AlreadyThere(f"{user_name} already holds, is invited to, or was given a role here.")
    if active:
        await _give(actor, email, role_ids)
    named = user_name if user_name.casefold() != email else None
    await records.keep(scope=scope, kind=records.USER, key=email, external_id=external_id, user_name=named)
    return await person(actor=actor, scim_id=user_id(email))


async def reactivate(*, actor: Actor, who: Person) -> None:
    """Make an inactive User active again with the token's default role (the roles themselves come from Groups)."""
    await _give(actor, who.email, [])


async def deactivate(*, actor: Actor, who: Person) -> None:
    """End everything the person holds there; they stay a User (active false) until the provider deletes them."""
    await withdraw(actor=actor, who=who)
    if who.email not in await records.known(scope=scope_of(actor), kind=records.USER, key=who.email):
        await records.keep(scope=scope_of(actor), kind=records.USER, key=who.email, external_id=who.external_id)


async def delete(*, actor: Actor, who: Person) -> None:
    """End everything the person holds there and forget them: no User there any more."""
    await withdraw(actor=actor, who=who)
    await records.forget(scope=scope_of(actor), kind=records.USER, key=who.email)


async def _give(actor: Actor, email: str, role_ids: list[int]) -> None:
    default = await tokens.default_role_of(actor=actor)
    wanted = role_ids or ([default] if default else [])
    if not wanted:
        raise InvalidInput(SAY_WHICH_ROLE)
    for role_id in wanted:
        await invite(actor=actor, email=email, role_id=role_id)


async def invite(*, actor: Actor, email: str, role_id: int) -> None:
    """Give one role in the token's scope: an invitation, or the role at once to a member of the organisation, or,
    where single sign-on is required, a new account ready for it (services/scim/sso_ready.py)."""
    scope = scope_of(actor)
    if await sso_ready.give(actor=actor, scope=scope, email=email, role_id=role_id):
        return
    result = await invitations.send(
        actor=actor,
        addresses=[email],
        role_id=role_id,
        lifetime_hours=INVITATION_HOURS,
        organisation_id=scope.organisation_id,
        deployment_id=scope.deployment_id,
    )
    if result.invalid:
        raise InvalidInput(f"{result.invalid[0][0]}: {result.invalid[0][1]}")


async def withdraw(*, actor: Actor, who: Person, role_ids: set[int] | None = None) -> None:
    """End the person's grants (of these roles, or all) and pending invitations there; sessions end with the last."""
    assignments = RoleAssignment.filter(live(), id__in=who.assignment_ids).select_related("member")
    member_ids = set()
    for grant in await assignments:
        if role_ids is None or grant.role_id in role_ids:
            await staff.remove_from_team(actor=actor, assignment_id=grant.id)
            member_ids.add(grant.member_id)
    invited = await Invitation.filter(id__in=who.invitation_ids, state=InvitationState.PENDING)
    doomed = [i.id for i in invited if role_ids is None or i.role_id in role_ids]
    if doomed:
        await invitations.delete(actor=actor, invitation_ids=doomed)
    await grants.end_sessions_without_grants(member_ids=member_ids)


async def role_id_named(*, actor: Actor, value: str) -> int:
    """The id of the role a SCIM roles[].value or groups[].value names (its id or its name) in the token's scope."""
    for role in await scope_roles(actor=actor):
        if value.strip() in (str(role.id), role.name) or value.strip().casefold() == role.name.casefold():
            return role.id
    raise InvalidInput(f"There is no role “{value[:60]}” here.")


def _in_scope(scope: Scope) -> Q:
    if scope.level is ScopeLevel.DEPLOYMENT:
        return Q(deployment_id=scope.deployment_id)
    return Q(organisation_id=scope.organisation_id)
