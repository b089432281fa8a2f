"""The actors remembered for live refreshes: forgotten on every change that matters, never used for actions."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from components import session as page_session
from models import Permission, RoleAssignment, Session, StaffMember
from services.access import auth, roles, sessions, tokens
from services.access.service import Actor
from services.errors import NotAuthenticated, PermissionDenied
from services.invitations import pending
from services.organisations import staff
from services.platform import clock, events
from tests import factories

NURSE = "nurse@trust.org"


async def _signed_in(world: factories.World, role_key: str = "access_controller") -> str:
    member = await factories.member(NURSE, role_key, org=world.org)
    raw, hashed = tokens.new_token()
    at = clock.now()
    await Session.create(
        token_hash=hashed, member_id=member.member_id, last_seen_at=at, expires_at=at + auth.ABSOLUTE_TIMEOUT
    )
    return raw


def _remembered(token: str) -> bool:
    return sessions.recall(tokens.hash_token(token)) is not None


async def _assignment() -> RoleAssignment:
    return await RoleAssignment.get(member__email=NURSE)


async def _sees_pending(actor: Actor, world: factories.World) -> bool:
    try:
        await pending.list_pending(actor=actor, organisation_id=world.org.id)
    except PermissionDenied:
        return False
    return True


async def test_a_live_refresh_reuses_the_actor_an_action_reads_afresh(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    first = await auth.actor_for(session_token=token)
    assert _remembered(token)
    await RoleAssignment.filter(member__email=NURSE).delete()  # as if no change had been announced yet
    assert await auth.live_actor_for(session_token=token) == first  # remembered
    assert (await auth.actor_for(session_token=token)).grants == ()  # an action never uses what is remembered


async def test_log_out_forgets_at_once_and_tells_other_processes(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    await auth.live_actor_for(session_token=token)
    told: list[tuple[int, str]] = []

    async def other_processes(topic: int, kind: str) -> None:
        told.append((topic, kind))

    events.install_remote(other_processes)
    await auth.logout(session_token=token)
    assert not _remembered(token)
    assert told == [(events.PLATFORM_TOPIC, sessions.SESSION_ENDED)]
    with pytest.raises(NotAuthenticated):
        await auth.live_actor_for(session_token=token)


async def test_a_log_out_announced_by_another_process_forgets(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    await auth.live_actor_for(session_token=token)
    await Session.filter(token_hash=tokens.hash_token(token)).update(revoked_at=clock.now())  # the other process
    events.deliver_local(events.PLATFORM_TOPIC, sessions.SESSION_ENDED)  # its NOTIFY arrives here
    with pytest.raises(NotAuthenticated):
        await auth.live_actor_for(session_token=token)


@pytest.mark.parametrize("kind", ["roles", "staff", "organisations", "deployments", "accepted", "resync"])
async def test_every_change_that_may_move_grants_forgets_and_invitation_changes_do_not(db: str, kind: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    await auth.live_actor_for(session_token=token)
    events.deliver_local(world.org.id, "invitations")
    events.deliver_local(events.PLATFORM_TOPIC, "delivery")
    assert _remembered(token)
    events.deliver_local(events.PLATFORM_TOPIC, kind)
    assert not _remembered(token)


async def test_a_role_change_is_seen_by_the_next_live_refresh(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    token = await _signed_in(world)
    assert await _sees_pending(await auth.live_actor_for(session_token=token), world)
    clinician = await factories.role("clinician")
    await staff.change_role(actor=owner, assignment_id=(await _assignment()).id, role_id=clinician.id)
    actor = await auth.live_actor_for(session_token=token)
    assert [grant.role.key for grant in actor.grants] == ["clinician"]
    assert not await _sees_pending(actor, world)


async def test_a_member_removed_from_the_team_is_refused_at_the_next_live_refresh(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    token = await _signed_in(world)
    removed = await _assignment()
    await factories.grant(removed.member_id, "supervisor", dep=world.other_dep)  # keeps the session (see grants)
    await auth.live_actor_for(session_token=token)
    await staff.remove_from_team(actor=owner, assignment_id=removed.id)
    actor = await auth.live_actor_for(session_token=token)
    assert [grant.role.key for grant in actor.grants] == ["supervisor"]
    assert not await _sees_pending(actor, world)


async def test_a_deleted_role_is_gone_at_the_next_live_refresh(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    inviter = await roles.create_custom(
        actor=controller, organisation_id=world.org.id, name="Inviter", permissions=[Permission.INVITE_STAFF.value]
    )
    token = await _signed_in(world, role_key=None)  # type: ignore[arg-type]
    member = await StaffMember.get(email=NURSE)
    await RoleAssignment.create(
        member_id=member.id, role_id=inviter.id, level="organisation", organisation_id=world.org.id,
        scope_key=f"org:{world.org.id}",
    )  # fmt: skip
    assert await _sees_pending(await auth.live_actor_for(session_token=token), world)
    await roles.delete_custom(actor=controller, role_id=inviter.id)
    assert not await _sees_pending(await auth.live_actor_for(session_token=token), world)


async def test_idle_and_absolute_limits_hold_for_remembered_actors(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    await auth.actor_for(session_token=token)
    clock.advance(auth.IDLE_TIMEOUT - timedelta(minutes=1))
    await auth.live_actor_for(session_token=token)
    sessions.forget_actors()
    await auth.live_actor_for(session_token=token)  # read afresh: a live refresh is not activity
    clock.advance(timedelta(minutes=2))
    with pytest.raises(NotAuthenticated):
        await auth.live_actor_for(session_token=token)  # idle, although remembered a minute ago

    fresh = await _signed_in_again(world)
    await Session.filter(token_hash=tokens.hash_token(fresh)).update(expires_at=clock.now() + timedelta(minutes=1))
    await auth.actor_for(session_token=fresh)
    clock.advance(timedelta(minutes=2))
    with pytest.raises(NotAuthenticated):
        await auth.live_actor_for(session_token=fresh)


async def _signed_in_again(world: factories.World) -> str:
    raw, hashed = tokens.new_token()
    member = await StaffMember.get(email=NURSE)
    at = clock.now()
    await Session.create(token_hash=hashed, member_id=member.id, last_seen_at=at, expires_at=at + auth.ABSOLUTE_TIMEOUT)
    return raw


async def test_remembered_actors_are_read_again_after_the_ttl(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    await auth.actor_for(session_token=token)
    await RoleAssignment.filter(member__email=NURSE).delete()  # a change whose announcement was lost
    assert (await auth.live_actor_for(session_token=token)).grants != ()
    clock.advance(auth.LIVE_ACTOR_TTL)
    assert (await auth.live_actor_for(session_token=token)).grants == ()


async def test_a_reading_that_overlaps_a_change_is_not_remembered(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    since = sessions.generation()
    actor = await auth.actor_for(session_token=token)
    sessions.forget_actors()  # a change announced while another reading was under way
    sessions.remember(tokens.hash_token(token), sessions.Remembered(actor, clock.now()), since=since)
    assert not _remembered(token)


async def test_a_page_uses_the_remembered_actor_only_inside_a_live_refresh(db: str) -> None:
    world = await factories.world()
    token = await _signed_in(world)
    request: Any = SimpleNamespace(cookies={auth.SESSION_COOKIE: token}, url=SimpleNamespace(path="/care", query=""))
    page = page_session.PageSession(request)
    page._listening = True  # no page to attach a listener to in a service test
    await auth.actor_for(session_token=token)
    await RoleAssignment.filter(member__email=NURSE).delete()  # its announcement not yet heard
    with page_session.live_refresh():
        during = await page.actor()
    assert during is not None and during.grants != ()  # a read view may lag until the announcement
    action = await page.actor()
    assert action is not None and action.grants == ()  # an action never does
    assert not await _sees_pending(action, world)
