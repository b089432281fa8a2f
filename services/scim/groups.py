"""SCIM Groups are the roles of a token's scope. An identity provider may make a Group (a custom role with no
permission beyond viewing patient data, which the organisation's role editors then shape in the Care Portal), rename
one of the custom roles and delete one (its grants end, its invitations die): each through the roles service, with
its rules (the token needs *edit roles*, never shapes a role beyond what it holds) and audited as the token. The
default roles are the catalogue's own: they are neither renamed nor deleted over SCIM."""

from typing import Any

from scim2_models import Context, MutabilityException, UniquenessException

from models import Permission
from services.access import roles
from services.access.service import Actor, RoleInfo
from services.scim import people, records, resources
from services.scim.schema import PROVIDER, Group

CATALOGUE_ROLE = "“{name}” is one of Gatehouse's default roles: it is not renamed or deleted; only custom roles are."


async def create(*, actor: Actor, payload: dict[str, Any], base: str) -> Group:
    """POST /Groups: a custom role of the organisation with that name, then its members."""
    wanted = Group.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_provider=PROVIDER)
    name = " ".join((wanted.display_name or "").split())
    if any(role.name.casefold() == name.casefold() for role in await people.scope_roles(actor=actor)):
        raise UniquenessException(detail=f"A role called “{name}” already exists here.")
    scope = people.scope_of(actor)
    assert scope.organisation_id is not None
    role = await roles.create_custom(actor=actor, organisation_id=scope.organisation_id, name=name, permissions=[])
    await records.keep(scope=scope, kind=records.GROUP, key=str(role.id), external_id=wanted.external_id)
    return await resources.set_members(actor=actor, role=role, group=wanted, base=base)


async def listed(*, actor: Actor, base: str) -> list[Group]:
    """The Groups of the token's scope: its roles, each with who holds or is invited to it."""
    everyone = await people.people(actor=actor)
    known = await records.known(scope=people.scope_of(actor), kind=records.GROUP)
    return [
        resources.as_group(role, everyone, base, known[str(role.id)].external_id if str(role.id) in known else None)
        for role in await people.scope_roles(actor=actor)
    ]


async def one(*, actor: Actor, role: RoleInfo, base: str) -> Group:
    """The Group of one role of the token's scope."""
    everyone = await people.people(actor=actor)
    return resources.as_group(role, everyone, base, await external_id(actor=actor, role=role))


async def external_id(*, actor: Actor, role: RoleInfo) -> str | None:
    """The externalId the identity provider gave the Group of this role (None when it gave none)."""
    found = await records.known(scope=people.scope_of(actor), kind=records.GROUP, key=str(role.id))
    return found[str(role.id)].external_id if found else None


async def change(*, actor: Actor, role: RoleInfo, wanted: Group, base: str) -> Group:
    """PUT or PATCH /Groups/{id}: rename a custom role, keep the externalId, then set the members."""
    name = " ".join((wanted.display_name or role.name).split())
    if name != role.name:
        if role.organisation_id is None:
            raise MutabilityException(detail=CATALOGUE_ROLE.format(name=role.name))
        kept = sorted(p.value for p in role.permissions if p is not Permission.VIEW_PATIENT_DATA)
        role = await roles.update_custom(actor=actor, role_id=role.id, name=name, permissions=kept)
    if wanted.external_id != await external_id(actor=actor, role=role):
        scope = people.scope_of(actor)
        await records.set_external_id(scope=scope, kind=records.GROUP, key=str(role.id), external_id=wanted.external_id)
    return await resources.set_members(actor=actor, role=role, group=wanted, base=base)


async def delete(*, actor: Actor, role: RoleInfo) -> None:
    """DELETE /Groups/{id}: delete a custom role (its grants end, its pending invitations die); never a default one."""
    if role.organisation_id is None:
        raise MutabilityException(detail=CATALOGUE_ROLE.format(name=role.name))
    await roles.delete_custom(actor=actor, role_id=role.id)
    await records.forget(scope=people.scope_of(actor), kind=records.GROUP, key=str(role.id))
