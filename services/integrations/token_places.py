"""Where the actor may make API tokens in an organisation (the organisation, each deployment) and the permissions
they could give a token there: the tokens page's choices (services/integrations/tokens.py checks them again)."""

from dataclasses import dataclass

from models import Deployment, Organisation, Permission
from models.enums import PERMISSION_LABELS
from services.access import roles
from services.access import service as access
from services.access.service import Actor, RoleInfo, Scope, ScopeLevel
from services.integrations import tokens
from services.organisations import naming


@dataclass(frozen=True)
class TokenPlace:
    deployment_id: int | None  # None: the whole organisation
    label: str
    permissions: dict[str, str]  # permission -> its label, those the actor holds there
    roles: dict[int, str]  # role id -> name: the roles the actor may hand out there (a token's default role)


async def places(*, actor: Actor, organisation_id: int) -> list[TokenPlace]:
    """The organisation and its deployments where the actor holds manage integrations, in that order."""
    organisation = await Organisation.get_or_none(id=organisation_id)
    if organisation is None:
        return []
    deployments = await Deployment.filter(organisation_id=organisation_id).order_by("name").values_list("id", "name")
    found = [(Scope(ScopeLevel.ORGANISATION, organisation_id), naming.place_name(organisation=organisation.name))]
    for dep_id, name in deployments:
        scope = Scope(ScopeLevel.DEPLOYMENT, organisation_id, int(dep_id))
        found.append((scope, naming.place_name(organisation=organisation.name, deployment=str(name))))
    offered = await roles.available_in(organisation_id=organisation_id)
    return [_place(actor, scope, label, offered) for scope, label in found if tokens.may_manage(actor, scope)]


def may_manage_any(*, actor: Actor, organisation_id: int) -> bool:
    """Whether the actor holds manage integrations in the organisation or one of its deployments (the menu item)."""
    return any(
        tokens.may_manage(actor, grant.scope)
        for grant in actor.grants
        if grant.scope.organisation_id == organisation_id
    ) or tokens.may_manage(actor, Scope(ScopeLevel.ORGANISATION, organisation_id))


def _place(actor: Actor, scope: Scope, label: str, offered: list[RoleInfo]) -> TokenPlace:
    held = access.permissions_in(actor, scope)
    grantable = {role.id: role.name for role in access.grantable_roles(actor, offered, scope) if not role.admin_rank}
    return TokenPlace(
        scope.deployment_id, label, {p.value: PERMISSION_LABELS[p] for p in Permission if p in held}, grantable
    )
