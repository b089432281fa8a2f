"""Suspending an account: grants stop at once, sessions end everywhere, the invitations it sent are deleted."""

import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, OutboxState, Session, StaffMember
from services.access import auth, sessions, tokens
from services.errors import InvalidInput, NotAuthenticated, PermissionDenied
from services.invitations import service as invitations
from services.organisations import suspension
from services.platform import clock, events
from tests import factor_helpers, factories

NURSE = "nurse@trust.org"
PASSWORD = "a long enough password"


async def _signed_in(email: str) -> str:
    member = await StaffMember.get(email=email)
    raw, hashed = tokens.new_token()
    at = clock.now()
    await Session.create(token_hash=hashed, member_id=member.id, last_seen_at=at, expires_at=at + auth.ABSOLUTE_TIMEOUT)
    return raw


async def _owner_and_nurse(world: factories.World) -> tuple[factories.Actor, factories.Actor]:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    nurse = await factories.member(
        NURSE, "organisation_owner", org=world.org, password_hash=await auth.hash_password(PASSWORD)
    )
    return owner, nurse


async def test_a_suspended_account_loses_every_session_its_invitations_and_its_log_in(db: str) -> None:
    world = await factories.world()
    support = await factories.member("support@platform.org", "platform_support")
    _, nurse = await _owner_and_nurse(world)
    tokens_held = [await _signed_in(NURSE), await _signed_in(NURSE)]
    told: list[str] = []
    sessions.subscribe(session_token=tokens_held[0], on_end=lambda: told.append("left"))
    role_id = (await factories.role("clinician")).id
    await invitations.send(actor=nurse, addresses=["new@trust.org"], role_id=role_id, lifetime_hours=72,
                           deployment_id=world.dep.id)  # fmt: skip
    heard: list[tuple[int | None, str]] = []
    events.subscribe(organisation_id=world.org.id, handler=lambda kind: heard.append((world.org.id, kind)))

    assert await suspension.suspend(actor=support, member_id=nurse.member_id) == NURSE

    for token in tokens_held:  # every session, not only one
        with pytest.raises(NotAuthenticated):
            await auth.actor_for(session_token=token)
    assert told == ["left"], "the open page of the suspended member did not leave"
    invitation = await Invitation.get(email="new@trust.org")
    assert invitation.state == InvitationState.DELETED
    assert not await OutboxMessage.filter(invitation_id=invitation.id, state=OutboxState.QUEUED).exists()
    with pytest.raises(InvalidInput, match="suspended"):
        await auth.login(email=NURSE, password=PASSWORD, redirect_to="/", client="test")
    with pytest.raises(InvalidInput, match="do not match"):  # a wrong password learns nothing of the suspension
        await auth.login(email=NURSE, password="wrong password!", redirect_to="/", client="test")
    assert (world.org.id, "staff") in heard, "the organisation's open lists were not told"
    said = await AuditEvent.filter(action="suspend_account").order_by("id")
    assert [e.organisation_id for e in said] == [None, world.org.id], "the organisation's own log must see it"
    assert {(e.target, str(e.detail)) for e in said} == {(NURSE, str({"sessions_ended": 2, "invitations_deleted": 1}))}
    assert await factories.holds(NURSE, "organisation_owner"), "the grants stay, to come back on restore"


async def test_restoring_gives_back_exactly_what_the_member_held(db: str) -> None:
    world = await factories.world()
    admin = await factories.member("root@platform.org", "super_admin")
    _, nurse = await _owner_and_nurse(world)
    await suspension.suspend(actor=admin, member_id=nurse.member_id)
    with pytest.raises(InvalidInput, match="already suspended"):
        await suspension.suspend(actor=admin, member_id=nurse.member_id)

    assert await suspension.restore(actor=admin, member_id=nurse.member_id) == NURSE

    ticket = await factor_helpers.ticket(
        await auth.login(email=NURSE, password=PASSWORD, redirect_to="/", client="test"), NURSE
    )
    session = await auth.complete_login(ticket=ticket)
    actor = await auth.actor_for(session_token=session.session_token)
    assert [g.role.key for g in actor.grants] == ["organisation_owner"]
    assert (await StaffMember.get(email=NURSE)).suspended_at is None
    assert await AuditEvent.filter(action="restore_account", target=NURSE).exists()
    with pytest.raises(InvalidInput, match="not suspended"):
        await suspension.restore(actor=admin, member_id=nurse.member_id)


@pytest.mark.parametrize(
    ("actor_role", "target_role", "allowed"),
    [
        ("organisation_owner", None, False),  # an organisation's owner does not suspend platform accounts
        ("platform_support", "platform_support", False),  # not a peer
        ("platform_support", "super_admin", False),  # not above oneself
        ("super_admin", "super_admin", True),  # a Super Admin may suspend another
        ("super_admin", "platform_support", True),
    ],
)
async def test_who_may_suspend_whom(db: str, actor_role: str, target_role: str | None, allowed: bool) -> None:
    world = await factories.world()
    org = world.org if actor_role == "organisation_owner" else None
    actor = await factories.member("actor@platform.org", actor_role, org=org)
    target = await factories.member("target@platform.org", target_role)
    if target_role is None:
        await factories.grant(target.member_id, "clinician", dep=world.dep)
    if allowed:
        await suspension.suspend(actor=actor, member_id=target.member_id)
        assert not (await StaffMember.get(id=target.member_id)).is_active
        return
    with pytest.raises(PermissionDenied):
        await suspension.suspend(actor=actor, member_id=target.member_id)
    assert (await StaffMember.get(id=target.member_id)).is_active, "a refused suspension changed something"
    assert await AuditEvent.filter(action="suspend_account", outcome="refused").exists()


async def test_nobody_suspends_their_own_account(db: str) -> None:
    admin = await factories.member("root@platform.org", "super_admin")
    with pytest.raises(PermissionDenied, match="your own account"):
        await suspension.suspend(actor=admin, member_id=admin.member_id)
    assert (await StaffMember.get(id=admin.member_id)).is_active
