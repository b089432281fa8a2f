"""Staff members: what a member holds, the staff list of an organisation, role changes and removal."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import Deployment, Organisation, RoleAssignment
from services.access import grants, rights, roles
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, RoleInfo, Scope, ScopeLevel
from services.approvals import role_changes
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.invitations import service as invitations
from services.organisations import access_settings, dormant_restore, factor_reset, naming, role_history, staff_managers
from services.organisations import service as organisations
from services.organisations.grant_pages import ENDING_WITHIN as ENDING_WITHIN  # the staff list's, for its pages
from services.organisations.grant_pages import SHOWS as SHOWS
from services.organisations.grant_pages import grants_page, shown_grants
from services.platform import events
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType


@dataclass(frozen=True)
class AccessRow:
    role_name: str
    scope_name: str
    level: str


@dataclass(frozen=True)
class StaffRow:
    assignment_id: int
    member_id: int
    name: str
    email: str
    role_id: int
    role_name: str
    scope_name: str
    deployment_id: int | None
    joined: datetime
    manageable: bool  # may the actor change or remove this role (rights.may_manage_member)
    ends_at: datetime | None = None  # when the grant ends by itself (None: it does not)
    sponsor_name: str = ""  # who is accountable for the grant
    suspended: bool = False  # the account is suspended: this grant is stopped with every other
    last_login: datetime | None = None  # None: never logged in
    dormant: bool = False  # no log-in (or, never logged in, no account) for the organisation's dormant_days
    suspendable: bool = False  # may the actor suspend or restore the account (rights.may_suspend)
    ended_at: datetime | None = None  # the grant ended then (at its end, or removed): history, not access
    may_set_end: bool = False  # may the actor change when it ends (its sponsor, or who may manage it: grant_ends)
    resettable: bool = False  # may the actor reset the member's second factors (factor_reset.may_reset)
    dormant_suspended: int = 0  # suspended after this many days without a log-in (dormancy.py); 0: it was not
    restored_at: datetime | None = None  # when that suspension was undone (Restore access gave it back)
    restorable: bool = False  # may the actor restore it (dormant_restore.restorable, rights.may_restore_access)


@dataclass(frozen=True)
class RoleChanged:
    role_name: str
    message: str  # for the person who asked: done, or waiting for a second person's approval
    awaiting: bool = False  # the change waits for approval (an invitation awaiting approval); nothing changed yet


@dataclass(frozen=True)
class OrganisationChoice:
    id: int
    name: str


async def my_access(*, actor: Actor) -> list[AccessRow]:
    """The roles the actor holds and where, for their own view."""
    rows = []
    for assignment in (
        await RoleAssignment.filter(live(), member_id=actor.member_id).select_related("role").order_by("id")
    ):
        scope = Scope.of(assignment)
        rows.append(AccessRow(assignment.role.name, await organisations.scope_name(scope=scope), assignment.level))
    return rows


async def my_organisations(*, actor: Actor) -> list[OrganisationChoice]:
    """The active organisations the actor may see (rights.organisations_seen), for the switcher."""
    seen = rights.organisations_seen(actor=actor)
    query = Organisation.filter(archived_at__isnull=True)
    if seen is not None:
        query = query.filter(id__in=sorted(seen))
    return [OrganisationChoice(o.id, o.name) for o in await query.order_by("name").limit(500)]


async def staff_page(
    *,
    actor: Actor,
    organisation_id: int,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    page_size: int = 25,
    show: str = "all",
) -> tuple[list[StaffRow], int]:
    """One page of the organisation's staff that the actor may see, one row per grant: in force (show "all"), of
    dormant members ("dormant": no log-in for the organisation's dormant_days), ending within ENDING_WITHIN
    ("ending"), or ended, as history ("ended")."""
    visible = await visible_grants(actor, organisation_id, access.can_view_staff, "see the staff of this organisation")
    dormant_after = (await access_settings.settings_of(organisation_id=organisation_id)).dormant_after
    query = RoleAssignment.filter(shown_grants(show, dormant_after), organisation_id=organisation_id).filter(visible)
    rows, total = await grants_page(query, search=search, sort=sort, descending=descending, page=page, size=page_size)
    ranks = await platform_ranks({a.member_id for a in rows}) if rights.may_suspend_accounts(actor=actor) else None
    resettable = await factor_reset.resettable(actor=actor, member_ids={a.member_id for a in rows})
    shown = [staff_row(a, actor, ranks, dormant_after) for a in rows]
    return [replace(r, resettable=r.ended_at is None and r.member_id in resettable) for r in shown], total


async def change_role(*, actor: Actor, assignment_id: int, role_id: int) -> RoleChanged:
    """Give a member another role in the same scope (the actor must be able to grant both). A role the organisation's
    approval rules cover is not given at once: the change waits for a second person (services/approvals/role_changes)
    and the member keeps their role until then. Says which, for the person who asked."""
    assignment = await _assignment(assignment_id)
    scope = Scope.of(assignment)
    old, new = RoleInfo.of(assignment.role), await roles.get(role_id=role_id)
    for role in (old, new):
        await roles.require_grant(
            actor=actor, role=role, scope=scope, action="change_role", target=assignment.member.email
        )
    await organisations.require_active(organisation_id=scope.organisation_id)
    if await RoleAssignment.filter(
        live(), member_id=assignment.member_id, role_id=new.id, scope_key=scope.key
    ).exists():
        raise InvalidInput(f"{assignment.member.email} already holds “{new.name}” there.")
    name = assignment.member.full_name or assignment.member.email
    if await role_changes.covered(organisation_id=scope.organisation_id, role=new):
        await role_changes.ask(actor=actor, grant=assignment, new=new)
        await events.publish(organisation_id=scope.organisation_id, kind="invitations")
        return RoleChanged(new.name, role_changes.waits(role=new.name, name=name, old=old.name), awaiting=True)
    async with in_transaction() as connection:
        await RoleAssignment.filter(id=assignment.id).using_db(connection).update(role_id=new.id)
        # The grant keeps its id; what it held before, and who gave the new role, stay as its role history.
        await role_history.record_change(
            assignment_id=assignment.id, old=old, new=new, changed_by_id=actor.member_id, connection=connection
        )
        await webhooks.record(
            connection=connection,
            organisation_id=scope.organisation_id,
            event_type=EventType.MEMBER_ROLE_CHANGED,
            data=[webhooks.grant_data(assignment, email=assignment.member.email, role_id=new.id, from_role_id=old.id)],
        )
        detail = {"from": old.name, "to": new.name}
        await _settle_role_taken(actor, assignment, scope, "change_role", detail, connection)
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    return RoleChanged(new.name, f"Role changed: {name} now holds “{new.name}”.")


async def remove_from_team(*, actor: Actor, assignment_id: int) -> str:
    """Take one role away from a member; their pending invitations there die with it, and their sessions when nothing
    else remains. Returns the email."""
    assignment = await _assignment(assignment_id)
    scope = Scope.of(assignment)
    role, email = RoleInfo.of(assignment.role), assignment.member.email
    await roles.require_grant(actor=actor, role=role, scope=scope, action="remove_member", target=email)
    async with in_transaction() as connection:
        # The grant ends now and stays as the member's history (as one that reaches its end does).
        removing = RoleAssignment.filter(id=assignment.id, ended_at__isnull=True).using_db(connection)
        if await removing.update(ended_at=now(), end_reason="removed", ended_by_id=actor.member_id):
            await role_changes.drop_for_grant(grant_id=assignment.id, connection=connection)
            await webhooks.record(
                connection=connection,
                organisation_id=scope.organisation_id,
                event_type=EventType.MEMBER_REMOVED,
                data=[webhooks.grant_data(assignment, email=email)],
            )
        detail = {"role": assignment.role.name}
        await _settle_role_taken(actor, assignment, scope, "remove_member", detail, connection)
    # As at a grant's end: left with nothing, the member's sessions end (before the lists hear of it, so that their
    # pages in every process go to log-in rather than show an empty portal).
    await grants.end_sessions_without_grants(member_ids={assignment.member_id})
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    return assignment.member.email


async def _settle_role_taken(
    actor: Actor,
    assignment: RoleAssignment,
    scope: Scope,
    action: str,
    detail: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> None:
    """After a role was changed or removed, in its transaction: someone still manages staff, the invitations the
    member sent there die, and the audit event counts them."""
    if staff_managers.manages_staff(assignment):
        await staff_managers.keep_a_staff_manager(scope.organisation_id, connection)
    dropped = await invitations.drop_sent_by(member_id=assignment.member_id, scope=scope, connection=connection)
    await audit.record(
        actor=actor,
        action=action,
        scope=scope,
        target=assignment.member.email,
        detail={**detail, "invitations_deleted": dropped},
        connection=connection,
    )


async def visible_grants(actor: Actor, organisation_id: int, check: Callable[[Actor, Scope], bool], what: str) -> Q:
    """Which of the organisation's grants the actor may see by `check` (all, or those of its deployments it may);
    refused, audited as a refused staff list read, when none."""
    if check(actor, Scope(ScopeLevel.ORGANISATION, organisation_id)):
        return Q()
    dep_ids: list[int] = await Deployment.filter(organisation_id=organisation_id).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    mine = [d for d in dep_ids if check(actor, Scope(ScopeLevel.DEPLOYMENT, organisation_id, d))]
    if not mine:
        await audit.record(
            actor=actor, action="list_staff", scope=Scope(ScopeLevel.ORGANISATION, organisation_id), outcome="refused"
        )
        access.require(False, f"You may not {what}.")
    return Q(deployment_id__in=mine)


async def _assignment(assignment_id: int) -> RoleAssignment:
    assignment = await RoleAssignment.get_or_none(live(), id=assignment_id).select_related("role", "member")
    if assignment is None:
        raise NotFound("That person no longer holds this role.")
    return assignment


async def platform_ranks(member_ids: set[int]) -> dict[int, int]:
    """The highest platform rank of each member (0: none), for may_suspend."""
    held = await RoleAssignment.filter(live(), member_id__in=member_ids, level=ScopeLevel.PLATFORM).values_list(
        "member_id", "role__admin_rank"
    )
    ranks: dict[int, int] = {}
    for member_id, rank in held:
        ranks[member_id] = max(ranks.get(member_id, 0), rank)
    return ranks


def staff_row(a: RoleAssignment, actor: Actor, ranks: dict[int, int] | None, dormant_after: timedelta) -> StaffRow:
    """One grant as a staff list row, with what the actor may do to it (ranks: platform_ranks, None: no suspending)."""
    organisation = a.organisation.name if a.organisation else None
    ended = a.ended_at or (a.ends_at if a.ends_at is not None and a.ends_at <= now() else None)
    role, scope = RoleInfo.of(a.role), Scope.of(a)
    manages = rights.may_manage_member(actor=actor, role=role, scope=scope)
    restores = dormant_restore.restorable(a) and rights.may_restore_access(actor=actor, role=role, scope=scope)
    scope_name = naming.place_name(organisation=organisation, deployment=a.deployment.name if a.deployment else None)
    return StaffRow(
        a.id,
        a.member_id,
        a.member.full_name,
        a.member.email,
        a.role_id,
        a.role.name,
        scope_name,
        a.deployment_id,
        a.created_at,
        ended is None and manages,
        a.ends_at,
        a.sponsor.full_name if a.sponsor else "",
        suspended=not a.member.is_active,
        last_login=a.member.last_login_at,
        dormant=(a.member.last_login_at or a.member.created_at) <= now() - dormant_after,
        suspendable=ranks is not None
        and rights.may_suspend(actor=actor, member_id=a.member_id, member_platform_rank=ranks.get(a.member_id, 0)),
        ended_at=ended,
        may_set_end=ended is None and (a.sponsor_id == actor.member_id or manages),
        dormant_suspended=dormant_after.days if a.end_reason == dormant_restore.END_REASON else 0,
        restored_at=a.restored_at,
        restorable=restores,
    )
