"""Open the Invite staff pop-out for one or several scopes, wired to the services as the current actor."""

import asyncio
from datetime import tzinfo

from components.invite_dialog import RoleChoice, ScopeChoice, open_invite_dialog
from components.invite_terms import AccessTerms
from components.session import PageSession, notify_errors
from services.access import grant_terms, role_summaries, roles
from services.access import service as access
from services.access.service import RoleInfo, Scope
from services.invitations import csv_import, review, steps
from services.invitations import service as invitations
from services.invitations.review import ImportReview
from services.invitations.service import SendResult
from services.organisations import service as organisations


async def invite_staff(
    session: PageSession, *, title: str, organisation_id: int | None = None, deployment_id: int | None = None
) -> None:
    """The Admin Portal's pop-out for one organisation, one deployment, or the platform."""
    actor = await session.actor()
    if actor is None:
        return
    scope = await notify_errors(lambda: access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id))
    if scope is not None:
        choice = await _choice(title, scope, await roles.grantable(actor=actor, scope=scope))
        _open(session, title, [scope], [choice], with_import=False, sponsor=actor.email)


async def invite_care_staff(session: PageSession, *, organisation_id: int) -> None:
    """The Care Portal's pop-out: the whole organisation or one deployment, with CSV import."""
    actor = await session.actor()
    if actor is None:
        return
    offers = await roles.invite_scopes(actor=actor, organisation_id=organisation_id)
    choices = [await _choice(o.label, o.scope, o.roles) for o in offers]
    _open(session, "Invite staff members", [o.scope for o in offers], choices, with_import=True, sponsor=actor.email)


def _open(
    session: PageSession,
    title: str,
    scopes: list[Scope],
    choices: list[ScopeChoice],
    *,
    with_import: bool,
    sponsor: str,
) -> None:
    # Refusals (DomainError) reach the pop-out, which shows them in place rather than in a passing notification.
    async def send(
        addresses: list[str],
        role_id: int,
        hours: int,
        index: int,
        on_progress: invitations.Progress,
        terms: AccessTerms,
    ) -> SendResult | None:
        actor = await session.actor()
        if actor is None:
            return None
        scope = scopes[index]
        return await steps.send_in_steps(
            actor=actor,
            addresses=addresses,
            role_id=role_id,
            lifetime_hours=hours,
            on_progress=on_progress,
            organisation_id=None if scope.deployment_id else scope.organisation_id,
            deployment_id=scope.deployment_id,
            ends_at=terms.ends_at,
            sponsor_email=terms.sponsor or None,
            ends_for=terms.ends_for,
        )

    async def import_csv(data: bytes, name: str, index: int, role_id: int | None, zone: tzinfo) -> ImportReview | None:
        actor = await session.actor()
        organisation_id = scopes[index].organisation_id
        if actor is None or organisation_id is None:
            return None
        result = await asyncio.to_thread(lambda: csv_import.parse_file(data=data, name=name))
        return await review.review_import(
            actor=actor, organisation_id=organisation_id, result=result, role_id=role_id, zone=zone
        )

    open_invite_dialog(
        title=title,
        scopes=choices,
        on_send=send,
        on_import=import_csv if with_import else None,
        sponsor=sponsor,
    )


async def _choice(label: str, scope: Scope, offered: list[RoleInfo]) -> ScopeChoice:
    rules = await grant_terms.policies(organisation_id=scope.organisation_id) if scope.organisation_id else {}
    options = [RoleChoice(r.id, r.name, role_summaries.summary(r.permissions), rules.get(r.id)) for r in offered]
    return ScopeChoice(label, options, place=await organisations.scope_name(scope=scope), key=scope.key)
