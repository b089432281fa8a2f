"""Shared by the security and fault tests: inviting, finding a link's token, accepting, dumping the data, a relay."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import Tortoise

from models import Deployment, Organisation, OutboxMessage
from services.access import auth
from services.access.service import Actor
from services.invitations import acceptance
from services.invitations import service as invitations
from services.invitations.service import SendResult
from services.platform import settings
from tests import factor_helpers, factories
from tests.conftest import TEST_SECRET

PASSWORD = "correct horse battery staple"
FROZEN_AT = datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)


async def owner_and_world(email: str = "owner@trust.org") -> tuple[factories.World, Actor]:
    """Two organisations, and an Organisation Owner of the first."""
    world = await factories.world()
    owner = await factories.member(email, "organisation_owner", org=world.org, full_name="Olive Owner")
    return world, owner


async def invite(
    actor: Actor,
    world: factories.World,
    addresses: list[str],
    role_key: str = "clinician",
    *,
    hours: int = 72,
    **scope: int,
) -> SendResult:
    """Invite to the first deployment (or the given scope) through the service, as the browser's handler does."""
    role = await factories.role(role_key)
    target: dict[str, Any] = scope or {"deployment_id": world.dep.id}
    return await invitations.send(actor=actor, addresses=addresses, role_id=role.id, lifetime_hours=hours, **target)


async def latest_token(recipient: str) -> str:
    """The token of the newest queued email to the address (derived from its seed, as the mail worker does)."""
    message = await OutboxMessage.filter(recipient=recipient, kind="invitation").order_by("-id").first()
    assert message is not None and message.link_seed is not None, f"no queued invitation email to {recipient}"
    return factories.token_of(message)


async def accept(token: str, *, name: str = "New Starter", client: str = "browser") -> str:
    """Accept a link as a newcomer (name and password) from one client."""
    accepted = await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(), token=token, full_name=name, password=PASSWORD, repeat=PASSWORD, client=client
    )
    return accepted.email


async def member_with_password(
    email: str, role_key: str | None = None, *, org: Organisation | None = None, dep: Deployment | None = None
) -> Actor:
    """A member who can log in with PASSWORD."""
    return await factories.member(email, role_key, org=org, dep=dep, password_hash=await auth.hash_password(PASSWORD))


async def database_text() -> str:
    """Every row of every table, as one text: what someone holding a copy of the database could read."""
    rows: list[str] = []
    for model in Tortoise.apps["models"].values():
        rows.extend(repr(row) for row in await model.all().values())
    return "\n".join(rows)


def reset_limits() -> None:
    acceptance.accept_limiter.reset()
    auth.login_limiter.reset()


MICROSECOND = timedelta(microseconds=1)


def relay_settings(port: int) -> settings.Settings:
    """The app's settings with an SMTP relay on loopback at the port (no TLS)."""
    return settings.load(
        {
            "GATEHOUSE_SMTP_HOST": "127.0.0.1",
            "GATEHOUSE_SMTP_PORT": str(port),
            "GATEHOUSE_SMTP_TLS": "none",
            "GATEHOUSE_SECRET": TEST_SECRET,
        }
    )
