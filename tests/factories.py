"""Test data builders: organisations, deployments and members holding roles, as the services see them."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from models import Deployment, Organisation, OutboxMessage, Role, RoleAssignment, StaffMember
from services.access import roles
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, Scope
from services.invitations import service as invitations
from services.mail import records as mail_records
from services.platform import settings

__all__ = ["Actor", "Statements", "World", "actor_of", "grant", "link_of", "member", "role", "token_of", "world"]


@dataclass
class World:
    """One organisation with two deployments, plus a second organisation."""

    org: Organisation
    dep: Deployment
    dep2: Deployment
    other_org: Organisation
    other_dep: Deployment

    @property
    def org_scope(self) -> Scope:
        return Scope(access.ScopeLevel.ORGANISATION, self.org.id)

    @property
    def dep_scope(self) -> Scope:
        return Scope(access.ScopeLevel.DEPLOYMENT, self.org.id, self.dep.id)


async def world() -> World:
    org = await Organisation.create(name="St Mary's Trust")
    other = await Organisation.create(name="Northwind Health")
    return World(
        org=org,
        dep=await Deployment.create(organisation=org, name="Heart Failure Trial"),
        dep2=await Deployment.create(organisation=org, name="Remote Monitoring"),
        other_org=other,
        other_dep=await Deployment.create(organisation=other, name="Diabetes Study"),
    )


async def member(
    email: str,
    role_key: str | None = None,
    *,
    org: Organisation | None = None,
    dep: Deployment | None = None,
    full_name: str = "",
    password_hash: str = "not-a-real-hash",  # noqa: S107
) -> Actor:
    """A staff member holding one role (platform scope when neither org nor dep is given)."""
    person = await StaffMember.get_or_none(email=email)
    if person is None:
        person = await StaffMember.create(
            email=email, full_name=full_name or email.split("@")[0].title(), password_hash=password_hash
        )
    if role_key is not None:
        await grant(person.id, role_key, org=org, dep=dep)
    return await actor_of(email)


async def grant(
    member_id: int,
    role_key: str,
    *,
    org: Organisation | None = None,
    dep: Deployment | None = None,
    ends_at: datetime | None = None,
    sponsor_id: int | None = None,
) -> RoleAssignment:
    role = await Role.get(key=role_key)
    if dep is not None:
        scope = Scope(access.ScopeLevel.DEPLOYMENT, dep.organisation_id, dep.id)
    elif org is not None:
        scope = Scope(access.ScopeLevel.ORGANISATION, org.id)
    else:
        scope = access.PLATFORM_SCOPE
    return await RoleAssignment.create(
        member_id=member_id,
        ends_at=ends_at,
        sponsor_id=sponsor_id,
        role=role,
        level=scope.level.value,
        organisation_id=scope.organisation_id,
        deployment_id=scope.deployment_id,
        scope_key=scope.key,
    )


async def custom_member(owner: Actor, org: Organisation, name: str, permissions: list[str], email: str) -> Actor:
    """A member holding only a new custom role of the organisation (the owner makes it) with these permissions."""
    role = await roles.create_custom(actor=owner, organisation_id=org.id, name=name, permissions=permissions)
    person = await member(email, full_name=f"{name} Holder")
    scope = Scope(access.ScopeLevel.ORGANISATION, org.id)
    await RoleAssignment.create(
        member_id=person.member_id,
        role_id=role.id,
        level=scope.level.value,
        organisation_id=org.id,
        scope_key=scope.key,
    )
    return await actor_of(email)


async def actor_of(email: str) -> Actor:
    person = await StaffMember.get(email=email)
    return await access.load_actor(member_id=person.id, email=person.email, full_name=person.full_name)


async def role(key: str) -> access.RoleInfo:
    return access.RoleInfo.of(await Role.get(key=key))


async def holds(email: str, role_key: str) -> bool:
    return await RoleAssignment.filter(live(), member__email=email, role__key=role_key).exists()


def link_of(message: OutboxMessage) -> str:
    """The link this queued email will carry: derived from its seed, as the mail worker does."""
    link = mail_records.link_of(message.link_seed, settings=settings.current())
    assert link is not None, f"the email to {message.recipient} carries no link of its own"
    return link


def token_of(message: OutboxMessage) -> str:
    """The token of the link this queued email will carry."""
    return link_of(message).rsplit("/", 1)[1]


async def invited_token(email: str, *, lifetime_hours: int = 72) -> str:
    """An Organisation Owner of a fresh world invites email as a Clinician; the token of the link it is sent."""
    the_world = await world()
    owner = await member("ow@trust.org", "organisation_owner", org=the_world.org)
    clinician = await role("clinician")
    await invitations.send(
        actor=owner, addresses=[email], role_id=clinician.id, lifetime_hours=lifetime_hours,
        organisation_id=the_world.org.id,
    )  # fmt: skip
    return token_of(await OutboxMessage.get(recipient=email))


class Statements(logging.Handler):
    """The SQL statements (and values) the ORM's connections run while it is added to tortoise.db_client."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[object]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2 and isinstance(record.args[1], list):
            self.statements.append((str(record.args[0]), list(record.args[1])))


@contextmanager
def statements() -> Iterator[Statements]:
    """The statements the ORM runs inside the block; the query logger's level is put back after (left at DEBUG, every
    later test on the worker would format a log record per query)."""
    captured = Statements()
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.addHandler(captured)
    logger.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        logger.removeHandler(captured)
        logger.setLevel(level)
