"""A database as an organisation has it when it imports staff: roles, an owner, history, pending invitations."""

import shutil
from dataclasses import dataclass
from pathlib import Path

from tortoise import Tortoise, connections

from bench.common import addresses
from models import Deployment, Organisation, Role, RoleAssignment, StaffMember
from services.access import roles
from services.access import service as access
from services.access.service import Actor
from services.invitations import service as invitations
from services.platform import settings
from services.platform.database import connected

SECRET = "bench-secret-that-is-long-enough-for-the-settings-check"
BACKGROUND_PENDING = 2_000  # earlier invitations of the same deployment, still pending
BACKGROUND_MEMBERS = 500
# A migrated, empty SQLite file that new SQLite databases start from as a copy instead of migrating (4 s each);
# None: migrate. The smoke tests set it (tests/conftest.py's migrated_sqlite); a benchmark run leaves it None.
MIGRATED_START: Path | None = None


@dataclass(frozen=True)
class World:
    organisation_id: int
    deployment_id: int
    role_id: int
    owner_id: int
    owner_email: str
    owner_name: str
    background_pending: int

    async def actor(self) -> Actor:
        return await access.load_actor(member_id=self.owner_id, email=self.owner_email, full_name=self.owner_name)


def configure(database_url: str) -> None:
    """Settings as a deployment has them (links on a real origin), without reading the environment."""
    env = {
        "GATEHOUSE_DATABASE_URL": database_url,
        "GATEHOUSE_SECRET": SECRET,
        "GATEHOUSE_BASE_URL": "https://gatehouse.example.org",
        "GATEHOUSE_SMTP_HOST": "127.0.0.1",
        "GATEHOUSE_SMTP_TLS": "none",
        "GATEHOUSE_MAIL_FROM": "Gatehouse <noreply@gatehouse.example.org>",
    }
    settings.configure(settings.load(env))


async def populate(pending: int = BACKGROUND_PENDING, members: int = BACKGROUND_MEMBERS) -> World:
    """Default roles, an organisation with a deployment and its owner, members and earlier pending invitations."""
    await roles.seed_defaults()
    organisation = await Organisation.create(name="St Mary's Trust")
    deployment = await Deployment.create(organisation=organisation, name="Heart Failure Trial")
    owner = await StaffMember.create(
        email="olive.owner@stmarys.nhs.example", full_name="Olive Owner", password_hash="-"
    )
    owner_role = await Role.get(key="organisation_owner")
    await RoleAssignment.create(
        member=owner,
        role=owner_role,
        level="organisation",
        organisation=organisation,
        scope_key=f"org:{organisation.id}",
    )
    await StaffMember.bulk_create(
        StaffMember(email=email, full_name="Member", password_hash="-")
        for email in addresses(members, prefix="member.")
    )
    clinician = await Role.get(key="clinician")
    world = World(organisation.id, deployment.id, clinician.id, owner.id, owner.email, owner.full_name, pending)
    await invitations.send(
        actor=await world.actor(),
        addresses=addresses(pending, prefix="earlier."),
        role_id=clinician.id,
        lifetime_hours=72,
        deployment_id=deployment.id,
    )
    return world


async def sqlite_template(folder: Path, *, scale: float = 1.0) -> tuple[Path, World]:
    """A populated SQLite file to copy for every run (each run starts from the same state)."""
    path = folder / "template.sqlite3"
    start_sqlite(path)
    configure(f"sqlite://{path}")
    async with connected(f"sqlite://{path}"):
        world = await populate(int(BACKGROUND_PENDING * scale), int(BACKGROUND_MEMBERS * scale))
    return path, world


def start_sqlite(path: Path) -> None:
    """Remove the SQLite file at path (and its journal); start it from MIGRATED_START when that is set."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if MIGRATED_START is not None:
        shutil.copyfile(MIGRATED_START, path)


def sqlite_copy(template: Path, name: str) -> Path:
    target = template.with_name(name)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return target


async def fresh_postgres(url: str) -> World:
    """Empty the benchmark database's schema, migrate it and populate it."""
    configure(url)
    config = {"connections": {"default": url}, "apps": {"models": {"models": ["models"]}}}
    await Tortoise.init(config=config)
    try:
        await connections.get("default").execute_script("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await Tortoise.close_connections()
    async with connected(url):
        world = await populate()
        await connections.get("default").execute_script("VACUUM ANALYZE")
    return world
