"""Organisations and deployments: create, rename, archive and restore them, and how a scope is named."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Deployment, Organisation, ScopeLevel
from services.access import rights
from services.access import service as access
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotFound
from services.organisations import naming
from services.platform import events
from services.platform.clock import now

MAX_NAME = 120


@dataclass(frozen=True)
class OrganisationInfo:
    id: int
    name: str
    created_at: datetime
    archived: bool


@dataclass(frozen=True)
class DeploymentInfo:
    id: int
    name: str
    organisation_id: int
    organisation_name: str
    created_at: datetime


async def create_organisation(*, actor: Actor, name: str) -> OrganisationInfo:
    """Create an organisation (Super Admin, Platform Support, Account Manager)."""
    clean = clean_name(name, "organisation")
    if not rights.may_create_organisation(actor=actor):
        await audit.record(actor=actor, action="create_organisation", target=clean, outcome="refused")
        access.require(False, "You may not create organisations.")
    if await Organisation.filter(name__iexact=clean).exists():
        raise FieldErrors({"name": f"An organisation called “{clean}” already exists."})
    try:
        async with in_transaction() as connection:
            org = await Organisation.create(name=clean, created_by_id=actor.member_id, using_db=connection)
            scope = Scope(ScopeLevel.ORGANISATION, org.id)
            await audit.record(
                actor=actor, action="create_organisation", scope=scope, target=clean, connection=connection
            )
    except IntegrityError:
        raise FieldErrors({"name": f"An organisation called “{clean}” already exists."}) from None
    await events.publish(organisation_id=None, kind="organisations")
    return _org_info(org)


async def create_deployment(*, actor: Actor, organisation_id: int, name: str) -> DeploymentInfo:
    """Create a deployment in an organisation the actor manages."""
    clean = clean_name(name, "deployment")
    org = await _active_organisation(organisation_id)
    scope = Scope(ScopeLevel.ORGANISATION, org.id)
    if not rights.may_add_deployment(actor=actor, organisation_id=org.id):
        await audit.record(actor=actor, action="create_deployment", scope=scope, target=clean, outcome="refused")
        access.require(False, "You may not create deployments in this organisation.")
    if await Deployment.filter(organisation_id=org.id, name__iexact=clean).exists():
        raise FieldErrors({"name": f"“{org.name}” already has a deployment called “{clean}”."})
    try:
        async with in_transaction() as connection:
            deployment = await Deployment.create(organisation_id=org.id, name=clean, using_db=connection)
            dep_scope = Scope(ScopeLevel.DEPLOYMENT, org.id, deployment.id)
            await audit.record(
                actor=actor, action="create_deployment", scope=dep_scope, target=clean, connection=connection
            )
    except IntegrityError:
        raise FieldErrors({"name": f"“{org.name}” already has a deployment called “{clean}”."}) from None
    await events.publish(organisation_id=org.id, kind="deployments")
    return DeploymentInfo(deployment.id, deployment.name, org.id, org.name, deployment.created_at)


async def scope_name(*, scope: Scope) -> str:
    """How a scope is named to people (naming.place_name)."""
    if scope.level is ScopeLevel.PLATFORM:
        return naming.place_name(organisation=None)
    if scope.level is ScopeLevel.ORGANISATION:
        org = await Organisation.get(id=scope.organisation_id)
        return naming.place_name(organisation=org.name)
    dep = await Deployment.get(id=scope.deployment_id).select_related("organisation")
    return naming.place_name(organisation=dep.organisation.name, deployment=dep.name)


async def require_active(*, organisation_id: int | None) -> None:
    """Refuse changes inside an archived organisation."""
    if organisation_id is not None:
        await _active_organisation(organisation_id)


def clean_name(name: str, what: str) -> str:
    """Trim and fold white space; refuse empty, over-long or control characters (at the form's name field)."""
    clean = " ".join((name or "").split())
    if not clean:
        raise FieldErrors({"name": f"Give the {what} a name."})
    if len(clean) > MAX_NAME:
        raise FieldErrors({"name": f"A {what} name can be at most {MAX_NAME} characters long."})
    if any(ord(char) < 32 or ord(char) == 127 for char in clean):
        raise FieldErrors({"name": f"A {what} name cannot contain control characters."})
    return clean


async def _active_organisation(organisation_id: int) -> Organisation:
    org = await Organisation.get_or_none(id=organisation_id)
    if org is None:
        raise NotFound("That organisation no longer exists.")
    if org.archived_at is not None:
        raise InvalidInput(f"“{org.name}” is archived: nothing can be changed in it until a Super Admin restores it.")
    return org


def _org_info(org: Organisation) -> OrganisationInfo:
    return OrganisationInfo(org.id, org.name, org.created_at, org.archived_at is not None)


async def rename_organisation(*, actor: Actor, organisation_id: int, name: str) -> None:
    """Rename an organisation the actor manages."""
    clean = clean_name(name, "organisation")
    org = await _active_organisation(organisation_id)
    scope = Scope(ScopeLevel.ORGANISATION, org.id)
    await _require(
        actor, rights.may_rename_organisation(actor=actor, organisation_id=org.id), scope, "rename_organisation", clean
    )
    if await Organisation.filter(name__iexact=clean).exclude(id=org.id).exists():
        raise FieldErrors({"name": f"An organisation called “{clean}” already exists."})
    async with in_transaction() as connection:
        await Organisation.filter(id=org.id).using_db(connection).update(name=clean)
        await audit.record(
            actor=actor,
            action="rename_organisation",
            scope=scope,
            target=clean,
            detail={"old_name": org.name},
            connection=connection,
        )
    await events.publish(organisation_id=org.id, kind="organisations")


async def archive_organisation(*, actor: Actor, organisation_id: int) -> None:
    """Archive an organisation: nothing changes inside it and its pending invitations stop working."""
    org = await _active_organisation(organisation_id)
    scope = Scope(ScopeLevel.ORGANISATION, org.id)
    await _require(
        actor,
        rights.may_archive_organisation(actor=actor, organisation_id=org.id),
        scope,
        "archive_organisation",
        org.name,
    )
    async with in_transaction() as connection:
        await Organisation.filter(id=org.id).using_db(connection).update(archived_at=now())
        await audit.record(
            actor=actor, action="archive_organisation", scope=scope, target=org.name, connection=connection
        )
    await events.publish(organisation_id=org.id, kind="organisations")


async def restore_organisation(*, actor: Actor, organisation_id: int) -> None:
    """Restore an archived organisation (Super Admin only)."""
    org = await Organisation.get_or_none(id=organisation_id)
    if org is None:
        raise NotFound("That organisation no longer exists.")
    scope = Scope(ScopeLevel.ORGANISATION, org.id)
    if not rights.may_restore_organisation(actor=actor):
        await audit.record(actor=actor, action="restore_organisation", scope=scope, target=org.name, outcome="refused")
        access.require(False, "Only a Super Admin can restore an archived organisation.")
    async with in_transaction() as connection:
        await Organisation.filter(id=org.id).using_db(connection).update(archived_at=None)
        await audit.record(
            actor=actor, action="restore_organisation", scope=scope, target=org.name, connection=connection
        )
    await events.publish(organisation_id=org.id, kind="organisations")


async def _require(actor: Actor, allowed: bool, scope: Scope, action: str, target: str) -> None:
    if allowed:
        return
    await audit.record(actor=actor, action=action, scope=scope, target=target, outcome="refused")
    access.require(False)
