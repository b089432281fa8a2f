"""Open the Invite staff pop-out for one or several scopes, wired to the services as the current actor."""

import asyncio

from components.invite_dialog import RoleChoice, ScopeChoice, open_invite_dialog
from components.session import PageSession, notify_errors
from services.access import roles
from services.access import service as access
from services.access.service import Actor, Scope
from services.invitations import csv_import, pending
from services.invitations import service as invitations
from services.invitations.csv_import import ImportResult
from services.invitations.service import SendResult

NAMES_SHOWN = 10


async def invite_staff(
    session: PageSession, *, title: str, organisation_id: int | None = None, deployment_id: int | None = None
) -> None:
    """The Admin Portal's pop-out for one organisation, one deployment, or the platform."""
    actor = await session.actor()
    if actor is None:
        return
    scope = await notify_errors(lambda: access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id))
    if scope is not None:
        choice = ScopeChoice(title, await _roles(actor, scope))
        _open(session, title, [scope], [choice], with_import=False)


async def invite_care_staff(session: PageSession, *, organisation_id: int) -> None:
    """The Care Portal's pop-out: the whole organisation or one deployment, with CSV import."""
    actor = await session.actor()
    if actor is None:
        return
    offers = await roles.invite_scopes(actor=actor, organisation_id=organisation_id)
    choices = [ScopeChoice(o.label, [RoleChoice(r.id, r.name) for r in o.roles]) for o in offers]
    _open(session, "Invite staff members", [o.scope for o in offers], choices, with_import=True)


def _open(
    session: PageSession, title: str, scopes: list[Scope], choices: list[ScopeChoice], *, with_import: bool
) -> None:
    async def send(addresses: list[str], role_id: int, hours: int, index: int) -> SendResult | None:
        scope = scopes[index]
        target = (
            {"deployment_id": scope.deployment_id}
            if scope.deployment_id
            else {"organisation_id": scope.organisation_id}
        )
        return await session.run(
            lambda a: invitations.send(actor=a, addresses=addresses, role_id=role_id, lifetime_hours=hours, **target)
        )

    async def import_csv(data: bytes, index: int) -> tuple[ImportResult, list[str]] | None:
        result = await notify_errors(lambda: asyncio.to_thread(lambda: csv_import.parse(data=data)))
        organisation_id = scopes[index].organisation_id
        if result is None or organisation_id is None:
            return None
        known = await session.run(
            lambda a: pending.already_known(actor=a, organisation_id=organisation_id, addresses=result.addresses)
        )
        return (result, _known_notes(result, *known)) if known else (result, [])

    open_invite_dialog(title=title, scopes=choices, on_send=send, on_import=import_csv if with_import else None)


async def _roles(actor: Actor, scope: Scope) -> list[RoleChoice]:
    return [RoleChoice(role.id, role.name) for role in await roles.grantable(actor=actor, scope=scope)]


def _known_notes(result: ImportResult, members: set[str], waiting: set[str]) -> list[str]:
    notes = []
    for heading, known in (("Already members", members), ("Already have a pending invitation", waiting)):
        hits = [
            f"line {line}: {address}"
            for address, line in zip(result.addresses, result.lines, strict=False)
            if address.lower() in known
        ]
        if hits:
            more = f" and {len(hits) - NAMES_SHOWN:,} more" if len(hits) > NAMES_SHOWN else ""
            notes.append(f"{heading} ({len(hits):,}): " + "; ".join(hits[:NAMES_SHOWN]) + more)
    return notes
