"""Access: outsiders can do and see nothing there, whatever they send, and nobody hands out more than they hold."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, Role, RoleAssignment, StaffMember
from services.access import roles
from services.access import service as access
from services.access.service import Actor, RoleInfo, Scope, ScopeLevel
from services.audit import service as audit
from services.errors import NotFound, PermissionDenied
from services.invitations import pending, resending, review
from services.invitations import service as invitations
from services.invitations.csv_import import ImportResult
from services.organisations import staff
from tests import factories
from tests.security.helpers import invite, owner_and_world

CARE = sorted(p.value for p in access.CARE_PERMISSIONS)
OUTSIDERS = {
    "a clinician of the organisation": ("clinician", "org"),
    "the owner of another organisation": ("organisation_owner", "other_org"),
    "the admin of another deployment": ("admin", "dep2"),
    "a supervisor of the deployment": ("supervisor", "dep"),
}


async def _outsider(world: factories.World, kind: str) -> Actor:
    role_key, where = OUTSIDERS[kind]
    place = getattr(world, where)
    scope = {"dep": place} if where.startswith("dep") else {"org": place}
    return await factories.member("outsider@elsewhere.org", role_key, **scope)


@pytest.mark.parametrize("kind", OUTSIDERS)
async def test_an_outsider_cannot_send_resend_delete_or_change_anything_whatever_the_arguments(
    db: str, kind: str
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["invitee@example.org"])
    invitation = await Invitation.get(email="invitee@example.org")
    carl = await factories.member("carl@trust.org", "clinician", org=world.org)
    [carl_role] = await RoleAssignment.filter(member_id=carl.member_id)
    outsider = await _outsider(world, kind)
    clinician, supervisor = await factories.role("clinician"), await factories.role("supervisor")
    attempts: dict[str, Callable[[], Awaitable[Any]]] = {
        "invite to the deployment": lambda: invite(outsider, world, ["new@example.org"], "clinician"),
        "invite to the organisation": lambda: invite(
            outsider, world, ["new@example.org"], "supervisor", organisation_id=world.org.id
        ),
        "resend": lambda: resending.resend_each(actor=outsider, invitation_ids=[invitation.id]),
        "delete": lambda: invitations.delete(actor=outsider, invitation_ids=[invitation.id]),
        "change a role": lambda: staff.change_role(actor=outsider, assignment_id=carl_role.id, role_id=supervisor.id),
        "remove a role": lambda: staff.remove_from_team(actor=outsider, assignment_id=carl_role.id),
        "create a role": lambda: roles.create_custom(
            actor=outsider, organisation_id=world.org.id, name="Everything", permissions=CARE
        ),
    }
    for name, attempt in attempts.items():
        with pytest.raises(PermissionDenied):
            await attempt()
            pytest.fail(f"{kind} could {name}")

    after = await Invitation.get(id=invitation.id)
    assert (after.state, after.token_hash, after.send_count) == (InvitationState.PENDING, invitation.token_hash, 1)
    assert await Invitation.all().count() == 1 and await OutboxMessage.all().count() == 1
    assert (await RoleAssignment.get(id=carl_role.id)).role_id == clinician.id
    assert not await Role.filter(name="Everything").exists()
    refused = set(await AuditEvent.filter(outcome="refused").values_list("action", flat=True))
    assert {"invite", "resend", "delete", "change_role", "remove_member", "create_role"} <= refused


@pytest.mark.parametrize("kind", OUTSIDERS)
async def test_an_outsider_sees_no_staff_invitations_or_audit_of_a_deployment_it_does_not_manage(
    db: str, kind: str
) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["invitee@example.org"])
    outsider = await _outsider(world, kind)
    org = world.org.id
    readers: dict[str, Callable[[], Awaitable[Any]]] = {
        "pending invitations": lambda: pending.list_pending(actor=outsider, organisation_id=org),
        "expired invitations": lambda: pending.expired_ids(actor=outsider, organisation_id=org),
        "audit log": lambda: audit.events_page(actor=outsider, organisation_id=org),
    }
    if kind != "the admin of another deployment":  # that one is the xfail test below
        readers["who is known"] = lambda: _who_is_known(outsider, org, "invitee@example.org", "owner@trust.org")
    for name, read in readers.items():
        try:
            seen = repr(await read())
        except PermissionDenied:
            continue
        assert "invitee@example.org" not in seen and "owner@trust.org" not in seen, f"{kind} sees {name}"
    if not access.can_view_staff(outsider, Scope(ScopeLevel.ORGANISATION, org)):
        try:
            rows, _ = await staff.staff_page(actor=outsider, organisation_id=org)
        except PermissionDenied:
            rows = []
        assert "owner@trust.org" not in repr(rows)


async def test_the_import_report_reveals_only_members_the_importer_may_see(db: str) -> None:
    world, _ = await owner_and_world()
    outsider = await _outsider(world, "the admin of another deployment")
    assert await _who_is_known(outsider, world.org.id, "owner@trust.org") == ([], [])


async def _who_is_known(actor: Actor, organisation_id: int, *addresses: str) -> tuple[list[Any], list[Any]]:
    """The members and invitees an import report would show apart (what review_import reveals)."""
    lines = list(range(1, len(addresses) + 1))
    imported = ImportResult(addresses=list(addresses), problems=[], total_rows=len(addresses), lines=lines)
    known = await review.review_import(actor=actor, organisation_id=organisation_id, result=imported)
    return known.members, known.invited


async def test_crafted_role_ids_never_hand_out_more_than_allowed(db: str) -> None:
    world, _ = await owner_and_world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    foreign = await roles.create_custom(
        actor=await factories.member("o2@north.org", "organisation_owner", org=world.other_org),
        organisation_id=world.other_org.id,
        name="Northwind Lead",
        permissions=["invite_staff"],
    )
    crafted = {"a role of another organisation": foreign.id, "a Super Admin": (await factories.role("super_admin")).id}
    for what, role_id in crafted.items():
        places: tuple[dict[str, Any], ...] = ({"deployment_id": world.dep.id}, {"organisation_id": world.org.id}, {})
        for scope in places:
            with pytest.raises(PermissionDenied):
                await invitations.send(
                    actor=controller, addresses=["x@example.org"], role_id=role_id, lifetime_hours=24, **scope
                )
                pytest.fail(f"{what} was handed out at {scope}")
    with pytest.raises(NotFound):
        await invitations.send(
            actor=controller,
            addresses=["x@example.org"],
            role_id=999_999,
            lifetime_hours=24,
            deployment_id=world.dep.id,
        )
    assert await Invitation.all().count() == 0


async def _everyone(world: factories.World) -> list[Actor]:
    actors = []
    for number, default in enumerate(access.catalogue.DEFAULT_ROLES):
        where: dict[str, Any] = {}
        if ScopeLevel.PLATFORM not in default.levels:
            where = {"org": world.org} if ScopeLevel.ORGANISATION in default.levels else {"dep": world.dep}
        actors.append(await factories.member(f"m{number}@trust.org", default.key, **where))
    return actors


def _above(actor: Actor, role: RoleInfo, scope: Scope) -> bool:
    """Is the role more than the actor holds there: a higher Admin Portal rank, or a permission it lacks?"""
    if scope.level is ScopeLevel.PLATFORM:
        rank = max((g.role.admin_rank for g in actor.grants if g.scope.level is ScopeLevel.PLATFORM), default=0)
    else:
        rank = access.admin_rank_over(actor, scope.organisation_id)
    peers = any(g.role.admin_rank == rank and g.role.grants_own_rank for g in actor.grants)
    if role.is_admin_portal:
        return role.admin_rank > rank or (role.admin_rank == rank and not peers)
    return rank == 0 and not role.permissions <= access.permissions_in(actor, scope)


async def test_nobody_hands_out_a_role_above_what_they_hold_anywhere(db: str) -> None:
    world = await factories.world()
    actors = await _everyone(world)
    owner = next(a for a in actors if a.grants[0].role.key == "organisation_owner")
    custom = await roles.create_custom(actor=owner, organisation_id=world.org.id, name="All Care", permissions=CARE)
    every_role = [*await roles.available_in(organisation_id=world.org.id)]
    assert custom in every_role
    scopes: dict[str, dict[str, Any]] = {
        "platform": {},
        "organisation": {"organisation_id": world.org.id},
        "deployment": {"deployment_id": world.dep.id},
    }
    scope_of = {
        "platform": access.PLATFORM_SCOPE,
        "organisation": world.org_scope,
        "deployment": world.dep_scope,
    }
    handed_out = 0
    for actor in actors:
        for role in every_role:
            for where, target in scopes.items():
                try:
                    await invitations.send(
                        actor=actor, addresses=["x@example.org"], role_id=role.id, lifetime_hours=24, **target
                    )
                except PermissionDenied:
                    continue
                handed_out += 1
                assert not _above(actor, role, scope_of[where]), f"{actor.email} handed out {role.name} at {where}"
    assert handed_out > 50  # the rules do let people invite: the check above was really exercised


async def test_editing_a_custom_role_cannot_give_it_more_than_the_editor_holds(db: str) -> None:
    world, owner = await owner_and_world()
    lead = await roles.create_custom(
        actor=owner, organisation_id=world.org.id, name="Ward Lead", permissions=["invite_staff", "edit_roles"]
    )
    editor = await factories.member("ac@trust.org", "access_controller", org=world.org)
    holder = await StaffMember.get(email="ac@trust.org")
    await RoleAssignment.create(
        member_id=holder.id, role_id=lead.id, level="organisation", organisation_id=world.org.id,
        scope_key=f"org:{world.org.id}",
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        await roles.update_custom(actor=editor, role_id=lead.id, name="Ward Lead", permissions=CARE)
    me = await factories.actor_of("ac@trust.org")
    assert "offboard_patients" not in access.permissions_in(me, world.org_scope)
