"""Large sends: send() a paced step at a time, each its own transaction, with progress, ends per address and a
clean stop part-way (the pop-out and its CSV import send through here)."""

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from tortoise.exceptions import OperationalError

from services.access import grant_terms, roles
from services.access import service as access
from services.access.service import Actor
from services.errors import DomainError, InvalidInput
from services.invitations import addresses as emails
from services.invitations import pacing
from services.invitations import service as invitations

log = logging.getLogger(__name__)


async def send_in_steps(
    *,
    actor: Actor,
    addresses: list[str],
    role_id: int,
    lifetime_hours: int,
    organisation_id: int | None = None,
    deployment_id: int | None = None,
    on_progress: invitations.Progress | None = None,
    step: int | None = None,
    ends_at: datetime | None = None,
    sponsor_email: str | None = None,
    ends_for: Mapping[str, datetime] | None = None,
) -> invitations.SendResult:
    """send() a step of addresses at a time (each its own transaction), telling on_progress (done, total) after each.

    Steps are sized by services/invitations/pacing.py (about 80 ms of the database each), or `step` addresses each;
    a step holds addresses of one end. ends_for gives some addresses an end of their own (a CSV's second column),
    checked like the address: an end the role's rules refuse leaves that address out, named with why. The end the
    other addresses share and the sponsor are checked before the first step (FieldErrors: nothing sent).

    A refusal (or database error) of the first step is raised (nothing was sent); a later one ends the send there:
    the steps before it stay sent, and the result names the addresses not sent and why (stopped).
    """
    if len(addresses) > invitations.MAX_ADDRESSES:
        raise InvalidInput(f"At most {invitations.MAX_ADDRESSES:,} addresses can be invited at once.")
    unique = await invitations.off_the_loop(_first_spellings, addresses)
    result = invitations.SendResult()
    groups, result.invalid = await _by_end(
        actor, unique, ends_at, ends_for or {}, role_id, organisation_id, deployment_id, sponsor_email
    )
    queue = [(end, address) for end, group in groups for address in group]
    pacer, done = pacing.Pacer(fixed=step), 0
    while done < len(queue):
        if done:
            await asyncio.sleep(pacing.PAUSE_SECONDS)  # the pages' queries that waited for the last step go first
        end, chunk = _one_end(queue[done : done + pacer.start()])
        try:
            part = await invitations.send(
                actor=actor,
                addresses=chunk,
                role_id=role_id,
                lifetime_hours=lifetime_hours,
                organisation_id=organisation_id,
                deployment_id=deployment_id,
                ends_at=end,
                sponsor_email=sponsor_email,
            )
        except (DomainError, OperationalError) as refusal:
            if done == 0:
                raise
            result.not_sent, result.stopped = [address for _, address in queue[done:]], _why_stopped(refusal)
            break
        pacer.finished()
        done += len(chunk)
        result.add(part)
        if on_progress is not None:
            on_progress(done, len(queue))
    return result


def _one_end(window: list[tuple[datetime | None, str]]) -> tuple[datetime | None, list[str]]:
    """The first end in the window and its addresses up to the next end: a step sends one end."""
    end = window[0][0]
    chunk = []
    for address_end, address in window:
        if address_end != end:
            break
        chunk.append(address)
    return end, chunk


def _why_stopped(refusal: Exception) -> str:
    if isinstance(refusal, DomainError):
        return str(refusal)
    log.exception("a send in steps stopped part-way on a database error")
    return "The database could not take the rest of this send just now. Please send the remaining addresses again."


def _first_spellings(addresses: list[str]) -> list[str]:
    """Each address once, as first written: two spellings in different steps would replace each other's invitation."""
    firsts: dict[str, str] = {}
    for address in addresses:
        firsts.setdefault(emails.canonical(address.strip()), address)
    return list(firsts.values())


async def _by_end(
    actor: Actor,
    addresses: list[str],
    ends_at: datetime | None,
    ends_for: Mapping[str, datetime],
    role_id: int,
    organisation_id: int | None,
    deployment_id: int | None,
    sponsor_email: str | None,
) -> tuple[list[tuple[datetime | None, list[str]]], list[tuple[str, str]]]:
    """The addresses grouped by end (grant_terms.group_by_end), once every group's terms are checked: a shared end or
    sponsor the rules refuse raises FieldErrors before the first step, so that nothing is sent (one end: the first
    step checks it)."""
    if not ends_for:
        return [(ends_at, addresses)], []
    role = await roles.get(role_id=role_id)
    scope = await access.scope_of(organisation_id=organisation_id, deployment_id=deployment_id)
    longest = await grant_terms.longest_days(organisation_id=scope.organisation_id, role_id=role.id)
    groups, refused = grant_terms.group_by_end(
        addresses, ends_at=ends_at, ends_for=ends_for, role=role, longest=longest
    )
    if groups:  # the lines' own ends are checked: the shared end (if any group uses it) and the sponsor remain
        shared = ends_at if any(end == ends_at for end, _ in groups) else groups[0][0]
        await grant_terms.check_terms(actor=actor, role=role, scope=scope, ends_at=shared, sponsor_email=sponsor_email)
    return groups, refused
