"""Open the Invite staff pop-out for one scope, wired to the services as the current actor."""

import asyncio

from components.invite_dialog import RoleChoice, open_invite_dialog
from components.session import PageSession, notify_errors
from services import access, csv_import, invitations, roles
from services.csv_import import ImportResult
from services.invitations import SendResult


async def invite_staff(
    session: PageSession,
    *,
    title: str,
    organisation_id: int | None = None,
    deployment_id: int | None = None,
    with_import: bool = False,
) -> None:
    """Offer only the roles the actor may hand out there; every send is checked again by the service."""
    actor = await session.actor()
    if actor is None:
        return
    scope = await notify_errors(lambda: access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id))
    if scope is None:
        return
    choices = [RoleChoice(role.id, role.name) for role in await roles.grantable(actor=actor, scope=scope)]

    async def send(addresses: list[str], role_id: int, hours: int) -> SendResult | None:
        return await session.run(
            lambda a: invitations.send(
                actor=a,
                addresses=addresses,
                role_id=role_id,
                lifetime_hours=hours,
                organisation_id=organisation_id,
                deployment_id=deployment_id,
            )
        )

    async def import_csv(data: bytes) -> ImportResult | None:
        return await notify_errors(lambda: asyncio.to_thread(lambda: csv_import.parse(data=data)))

    open_invite_dialog(title=title, roles=choices, on_send=send, on_import=import_csv if with_import else None)
