"""Before a send: which imported addresses already belong to the organisation's staff or already have a pending
invitation there, and what sending would do to each, so that the pop-out shows them apart (PRODUCT.md flow 6)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

from models import Deployment, Invitation, InvitationState, Organisation, RoleAssignment
from services.access import grant_terms, roles
from services.access.liveness import live
from services.access.service import Actor
from services.errors import InvalidInput
from services.invitations import addresses as emails
from services.invitations.csv_import import ImportResult, LineProblem
from services.invitations.pending import visibility_filter
from services.organisations import naming

CHUNK = 500
IN_THREAD_ABOVE = 200  # addresses
Done = TypeVar("Done")


@dataclass(frozen=True)
class Holding:
    """A role someone holds, or is invited to, somewhere in the organisation."""

    role_id: int
    role_name: str
    scope_key: str
    place: str

    def __str__(self) -> str:
        return f"{self.role_name} in {self.place}"


@dataclass(frozen=True)
class KnownAddress:
    """An imported address the organisation already knows: the roles it holds there, or its pending invitations."""

    address: str
    line: int
    holds: tuple[Holding, ...] = ()
    invited: tuple[Holding, ...] = ()


@dataclass
class ImportReview:
    """A file's addresses sorted: new ones for the address field, members and invitees to be sent only on request."""

    result: ImportResult
    new: list[str] = field(default_factory=list)
    members: list[KnownAddress] = field(default_factory=list)
    invited: list[KnownAddress] = field(default_factory=list)


async def review_import(
    *,
    actor: Actor,
    organisation_id: int,
    result: ImportResult,
    role_id: int | None = None,
    zone: tzinfo = UTC,
) -> ImportReview:
    """Sort the file's addresses into new ones, members of the organisation and addresses with a pending invitation.

    A line whose own end (second column; read in zone when the file gave none) is in the past, or beyond the
    organisation's longest duration for the chosen role (role_id), becomes a problem of its line, as one that is
    not a date does. Only what the actor may see counts: a deployment manager learns nothing about other deployments.
    """
    if result.ends:
        role = await roles.get(role_id=role_id) if role_id is not None else None
        longest = await grant_terms.longest_days(organisation_id=organisation_id, role_id=role.id) if role else None
        result = await _off_the_loop(
            lambda: _refuse_ends(result, lambda end: grant_terms.check_end(end, role=role, longest=longest), zone),
            result,
        )
    keys = await _off_the_loop(lambda: [emails.canonical(address) for address in result.addresses], result)
    holds, invited = await _known(actor, organisation_id, keys)
    return await _off_the_loop(lambda: _sorted(result, keys, holds, invited), result)


async def _off_the_loop(work: Callable[[], Done], result: ImportResult) -> Done:
    """work(), in a thread for a big file: walking 100,000 addresses would hold the event loop 60-120 ms."""
    return await asyncio.to_thread(work) if len(result.addresses) > IN_THREAD_ABOVE else work()


def _refuse_ends(result: ImportResult, check: Callable[[datetime], None], zone: tzinfo) -> ImportResult:
    """The result without the lines whose own end check refuses (InvalidInput), each then a problem of its line."""
    refused: list[LineProblem] = []
    kept = ImportResult(addresses=[], problems=[], total_rows=result.total_rows)
    for address, line in zip(result.addresses, result.lines, strict=True):
        key = emails.canonical(address)
        end = result.ends.get(key)
        try:
            if end is not None:
                check(end.replace(tzinfo=zone) if end.tzinfo is None else end)
        except InvalidInput as problem:
            shown = emails.for_display(address)
            refused.append(LineProblem(line, shown, f"its end of access {end:%Y-%m-%d %H:%M}: {problem}"))
            continue
        kept.addresses.append(address)
        kept.lines.append(line)
        if end is not None:
            kept.ends[key] = end
    if not refused:
        return result
    kept.problems = sorted(result.problems + refused, key=lambda problem: problem.line)
    return kept


def _sorted(
    result: ImportResult, keys: list[str], holds: dict[str, list[Holding]], invited: dict[str, list[Holding]]
) -> ImportReview:
    review = ImportReview(result=result)
    for address, key, line in zip(result.addresses, keys, result.lines, strict=True):
        if key in holds:
            review.members.append(KnownAddress(address, line, holds=tuple(holds[key])))
        elif key in invited:
            review.invited.append(KnownAddress(address, line, invited=tuple(invited[key])))
        else:
            review.new.append(address)
    return review


def effect(known: KnownAddress, *, role: tuple[int, str] | None, scope_key: str, place: str) -> str:
    """What sending the chosen role (id, name) to the chosen place would do to this address, in one sentence."""
    chosen = f"{role[1]} in {place}" if role else "the role you choose"
    if known.holds:
        if role and any(h.role_id == role[0] and h.scope_key == scope_key for h in known.holds):
            return f"Already holds {chosen}: nothing would change."
        return f"Holds {_listed(known.holds)}: would also get {chosen}, with a notice email."
    same_place = [h for h in known.invited if h.scope_key == scope_key]
    if same_place:
        return f"Invited as {_listed(same_place)}: that invitation would be replaced by one as {chosen}, new link."
    return f"Invited as {_listed(known.invited)}: would get a second invitation, as {chosen}."


def _listed(holdings: tuple[Holding, ...] | list[Holding]) -> str:
    return "; ".join(str(h) for h in holdings)


async def _known(
    actor: Actor, organisation_id: int, keys: list[str]
) -> tuple[dict[str, list[Holding]], dict[str, list[Holding]]]:
    visible = await visibility_filter(actor, organisation_id)
    organisation = await Organisation.get(id=organisation_id).values_list("name", flat=True)
    deployments = await Deployment.filter(organisation_id=organisation_id).values_list("id", "name")
    names: dict[object, str] = {None: naming.place_name(organisation=str(organisation))}
    names.update(
        (dep_id, naming.place_name(organisation=str(organisation), deployment=str(name)))
        for dep_id, name in deployments
    )
    holds: dict[str, list[Holding]] = {}
    invited: dict[str, list[Holding]] = {}
    columns = ("role_id", "role__name", "scope_key", "deployment_id")
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found = RoleAssignment.filter(live(), organisation_id=organisation_id, member__email__in=chunk).filter(visible)
        for email, *holding in await found.order_by("id").values_list("member__email", *columns):
            holds.setdefault(str(email), []).append(_holding(holding, names))
        waiting = Invitation.filter(state=InvitationState.PENDING, organisation_id=organisation_id, email__in=chunk)
        for email, *holding in await waiting.filter(visible).order_by("id").values_list("email", *columns):
            invited.setdefault(str(email), []).append(_holding(holding, names))
    return holds, invited


def _holding(values: list[object], place_names: dict[object, str]) -> Holding:
    role_id, role_name, scope_key, deployment_id = values
    return Holding(int(str(role_id)), str(role_name), str(scope_key), place_names.get(deployment_id, ""))
