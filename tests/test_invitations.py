"""Sending, replacing, resending, deleting and accepting invitations through the services."""

import asyncio
from datetime import timedelta

import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, RoleAssignment, StaffMember
from services import acceptance, clock, invitations, resending, tokens
from services.access import Actor
from services.errors import InvalidInput, LinkInvalid, PermissionDenied
from services.invitations import SendResult
from tests import factories

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    acceptance.accept_limiter.reset()


async def _owner_and_world() -> tuple[factories.World, Actor]:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    return world, owner


def _link_token(message: OutboxMessage) -> str:
    return factories.token_of(message)


async def _send(
    actor: Actor, world: factories.World, addresses: list[str], role_key: str = "clinician", **scope: int
) -> SendResult:
    role = await factories.role(role_key)
    target = scope or {"deployment_id": world.dep.id}
    return await invitations.send(actor=actor, addresses=addresses, role_id=role.id, lifetime_hours=72, **target)


async def test_send_creates_one_invitation_and_one_queued_email_per_address(db: str) -> None:
    world, owner = await _owner_and_world()
    result = await _send(owner, world, ["Ann@Example.ORG", "bob@example.org", "ann@example.org", "not-an-address"])
    assert result.invited == ["ann@example.org", "bob@example.org"]
    assert [address for address, _ in result.invalid] == ["not-an-address"]
    assert await Invitation.filter(state=InvitationState.PENDING).count() == 2
    messages = await OutboxMessage.all().order_by("id")
    assert [m.recipient for m in messages] == ["ann@example.org", "bob@example.org"]
    assert all(factories.link_of(m).startswith("http://localhost:8080/accept/") for m in messages)
    invitation = await Invitation.get(email="bob@example.org")
    assert invitation.token_hash == tokens.hash_token(factories.token_of(messages[1]))
    assert messages[1].link_seed != factories.token_of(messages[1])  # the stored seed is not the link's token
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
    assert await AuditEvent.filter(action="invite").count() == 2


async def test_a_new_invitation_replaces_the_pending_one_and_kills_its_link(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["ann@example.org"])
    first = await OutboxMessage.get(recipient="ann@example.org")
    result = await _send(owner, world, ["ann@example.org"])
    assert result.replaced == ["ann@example.org"] and result.invited == []
    assert await Invitation.filter(email="ann@example.org", state=InvitationState.PENDING).count() == 1
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=_link_token(first), client="t")


async def test_an_existing_member_gets_the_role_and_a_notice_or_is_reported(db: str) -> None:
    world, owner = await _owner_and_world()
    await factories.member("carl@example.org", "supervisor", org=world.org)
    result = await _send(owner, world, ["carl@example.org"])
    assert result.role_added == ["carl@example.org"]
    assert await StaffMember.filter(email="carl@example.org").count() == 1
    assert await RoleAssignment.filter(member__email="carl@example.org").count() == 2
    assert (await OutboxMessage.get(recipient="carl@example.org")).kind == "role_notice"
    again = await _send(owner, world, ["carl@example.org"])
    assert again.already_had_role == ["carl@example.org"]


async def test_nobody_hands_out_more_than_they_hold_and_refusals_are_audited(db: str) -> None:
    world = await factories.world()
    supervisor = await factories.member("sup@trust.org", "supervisor", org=world.org)
    with pytest.raises(PermissionDenied):
        await _send(supervisor, world, ["x@example.org"], "supervisor")
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    with pytest.raises(PermissionDenied):
        await _send(controller, world, ["x@example.org"], "admin")
    with pytest.raises(PermissionDenied):
        await _send(controller, world, ["x@example.org"], "supervisor", deployment_id=world.other_dep.id)
    assert await Invitation.all().count() == 0
    assert await AuditEvent.filter(outcome="refused", action="invite").count() == 3


async def test_only_the_offered_expiry_lengths_are_accepted(db: str) -> None:
    world, owner = await _owner_and_world()
    role = await factories.role("clinician")
    with pytest.raises(InvalidInput):
        await invitations.send(
            actor=owner, addresses=["a@example.org"], role_id=role.id, lifetime_hours=9999, deployment_id=world.dep.id
        )


async def test_accepting_creates_the_account_and_role_from_the_invitation_row(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["dana@example.org"], "clinician")
    token = _link_token(await OutboxMessage.get(recipient="dana@example.org"))
    preview = await acceptance.preview(token=token, client="t")
    assert (preview.email, preview.role_name, preview.has_account) == ("dana@example.org", "Clinician", False)
    assert preview.scope_name == "Heart Failure Trial at St Mary's Trust"
    assert await acceptance.preview(token=token, client="t")  # opening twice spends nothing
    email = await acceptance.accept_new_account(
        token=token, full_name=" Dana  Scully ", password=PASSWORD, repeat=PASSWORD, client="t"
    )
    member = await StaffMember.get(email=email)
    assert member.full_name == "Dana Scully" and member.password_hash.startswith("$argon2id$")
    assignment = await RoleAssignment.get(member=member).select_related("role")
    assert (assignment.role.key, assignment.deployment_id) == ("clinician", world.dep.id)
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=token, client="t")


async def test_expired_used_deleted_and_unknown_links_all_give_the_same_refusal(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["e@example.org", "d@example.org"])
    expired = _link_token(await OutboxMessage.get(recipient="e@example.org"))
    deleted_invitation = await Invitation.get(email="d@example.org")
    deleted = _link_token(await OutboxMessage.get(recipient="d@example.org"))
    await invitations.delete(actor=owner, invitation_ids=[deleted_invitation.id])
    messages = set()
    for token in (deleted, "unknown-token", ""):
        with pytest.raises(LinkInvalid) as refused:
            await acceptance.accept_new_account(
                token=token, full_name="X", password=PASSWORD, repeat=PASSWORD, client="t"
            )
        messages.add(str(refused.value))
    clock.advance(timedelta(hours=72))
    with pytest.raises(LinkInvalid) as refused:
        await acceptance.preview(token=expired, client="t")
    messages.add(str(refused.value))
    assert len(messages) == 1
    assert await StaffMember.filter(email__in=["e@example.org", "d@example.org"]).count() == 0


async def test_resend_gives_a_new_link_and_expiry_and_kills_the_old_one_even_when_expired(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["f@example.org"])
    invitation = await Invitation.get(email="f@example.org")
    old = _link_token(await OutboxMessage.get(recipient="f@example.org"))
    clock.advance(timedelta(hours=100))
    result = await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    assert result.resent == ["f@example.org"]
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=old, client="t")
    newest = await OutboxMessage.filter(recipient="f@example.org").order_by("-id").first()
    assert newest is not None
    renewed = await acceptance.preview(token=_link_token(newest), client="t")
    assert renewed.expires_at - clock.now() > timedelta(hours=71)
    again = await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    assert again.resent == [] and "less than a minute" in again.skipped[0][1]


async def test_concurrent_accepts_of_one_link_give_exactly_one_account(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["g@example.org"])
    token = _link_token(await OutboxMessage.get(recipient="g@example.org"))

    async def attempt() -> str:
        try:
            return await acceptance.accept_new_account(
                token=token, full_name="G", password=PASSWORD, repeat=PASSWORD, client="t"
            )
        except (LinkInvalid, PermissionDenied) as refused:
            return type(refused).__name__

    outcomes = await asyncio.gather(*(attempt() for _ in range(8)))
    assert outcomes.count("g@example.org") == 1
    assert await StaffMember.filter(email="g@example.org").count() == 1
    assert await RoleAssignment.filter(member__email="g@example.org").count() == 1


async def test_an_address_with_an_account_accepts_by_logging_in_never_by_setting_a_password(db: str) -> None:
    world, owner = await _owner_and_world()
    await _send(owner, world, ["h@example.org"])
    token = _link_token(await OutboxMessage.get(recipient="h@example.org"))
    await factories.member("h@example.org", "supervisor", org=world.other_org, password_hash="original")
    with pytest.raises(PermissionDenied):
        await acceptance.accept_new_account(
            token=token, full_name="Mallory", password=PASSWORD, repeat=PASSWORD, client="t"
        )
    assert (await StaffMember.get(email="h@example.org")).password_hash == "original"
    stranger = await factories.member("someone@else.org")
    with pytest.raises(PermissionDenied):
        await acceptance.accept_as_member(actor=stranger, token=token, client="t")
    h = await factories.actor_of("h@example.org")
    assert await acceptance.accept_as_member(actor=h, token=token, client="t") == "Clinician"
    assert await RoleAssignment.filter(member_id=h.member_id, deployment_id=world.dep.id).exists()
