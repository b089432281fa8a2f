"""First start: with no staff at all, invite the first Super Admin and print the link."""

import logging
from datetime import timedelta

from tortoise.transactions import in_transaction

from models import Invitation, InvitationState, MessageKind, Role, StaffMember
from services.access import catalogue, tokens
from services.access import service as access
from services.audit import service as audit
from services.errors import InvalidInput
from services.invitations import addresses as emails
from services.mail import outbox
from services.organisations import naming
from services.platform import settings
from services.platform.clock import now

log = logging.getLogger("gatehouse")
FIRST_ADMIN_HOURS = 168


async def ensure_first_admin() -> str | None:
    """Invite GATEHOUSE_ADMIN_EMAIL as Super Admin when nobody has an account; returns the link printed."""
    if await StaffMember.exists():
        return None
    config = settings.current()
    email = _admin_address(config.admin_email)
    role = await Role.get(key=catalogue.SUPER_ADMIN)
    seed, hashed = tokens.new_link_seed()
    at = now()
    expires = at + timedelta(hours=FIRST_ADMIN_HOURS)
    link = config.link(f"/accept/{tokens.link_token(seed, secret=config.secret)}")  # printed, never stored
    async with in_transaction() as connection:
        # A restart replaces the earlier first-admin link: only its hash was kept, so it could not be shown again.
        await (
            Invitation.filter(scope_key="platform", state=InvitationState.PENDING, invited_by_id=None)
            .using_db(connection)
            .update(state=InvitationState.DELETED, deleted_at=at)
        )
        invitation = await Invitation.create(
            using_db=connection,
            email=email,
            role_id=role.id,
            level="platform",
            scope_key="platform",
            token_hash=hashed,
            lifetime_hours=FIRST_ADMIN_HOURS,
            created_at=at,
            last_sent_at=at,
            expires_at=expires,
        )
        context = {
            "inviter_name": "Gatehouse",
            "inviter_email": config.mail_from,
            "scope_name": naming.place_name(organisation=None),
            "role_name": role.name,
            "expires_at": expires.isoformat(),
        }
        await outbox.enqueue(
            connection=connection,
            kind=MessageKind.INVITATION,
            recipient=email,
            context=context,
            link_seed=seed,
            invitation_id=invitation.id,
            organisation_id=None,
        )
        await audit.record(
            actor=None,
            action="invite",
            scope=access.PLATFORM_SCOPE,
            target=email,
            detail={"role": role.name, "first_admin": True},
            connection=connection,
        )
    log.info("First start: invited %s as Super Admin (link printed on the console)", email)
    print(f"\nGatehouse first start: create the Super Admin account for {email} at\n\n    {link}\n", flush=True)
    return link


def _admin_address(raw: str) -> str:
    """The operator's own address may be a local one such as admin@localhost, which public checks refuse."""
    try:
        return emails.canonical(emails.normalise(raw))
    except InvalidInput:
        local, _, domain = raw.strip().rpartition("@")
        if not local or not domain or any(not char.isprintable() or char.isspace() for char in raw.strip()):
            raise InvalidInput(f"GATEHOUSE_ADMIN_EMAIL is not a usable address: {raw!r}") from None
        return emails.canonical(f"{local}@{domain}")
