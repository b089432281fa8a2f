"""Sending, replacing, resending, deleting and accepting invitations through the services."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, RoleAssignment, StaffMember
from services.access import tokens
from services.access.service import Actor
from services.errors import InvalidInput, LinkInvalid, PermissionDenied
from services.invitations import acceptance, pending, resending
from services.invitations import service as invitations
from services.invitations.service import SendResult
from services.organisations import directory, staff
from services.platform import clock
from tests import factor_helpers, factories

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
    target: dict[str, Any] = scope or {"deployment_id": world.dep.id}
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
    accepted = await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(),
        token=token,
        full_name=" Dana  Scully ",
        password=PASSWORD,
        repeat=PASSWORD,
        client="t",
    )
    email = accepted.email
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
                enrolment=factor_helpers.proof(),
                token=token,
                full_name="X",
                password=PASSWORD,
                repeat=PASSWORD,
                client="t",
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
            accepted = await acceptance.accept_new_account(
                enrolment=factor_helpers.proof(),
                token=token,
                full_name="G",
                password=PASSWORD,
                repeat=PASSWORD,
                client="t",
            )
            return accepted.email
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
            enrolment=factor_helpers.proof(),
            token=token,
            full_name="Mallory",
            password=PASSWORD,
            repeat=PASSWORD,
            client="t",
        )
    assert (await StaffMember.get(email="h@example.org")).password_hash == "original"
    stranger = await factories.member("someone@else.org")
    with pytest.raises(PermissionDenied):
        await acceptance.accept_as_member(enrolment=factor_helpers.proof(), actor=stranger, token=token, client="t")
    h = await factories.actor_of("h@example.org")
    assert (
        await acceptance.accept_as_member(enrolment=factor_helpers.proof(), actor=h, token=token, client="t")
    ).role_name == "Clinician"
    assert await RoleAssignment.filter(member_id=h.member_id, deployment_id=world.dep.id).exists()


async def _what_the_inviter_can_see_of(email: str, owner: Actor, world: factories.World) -> dict[str, object]:
    """Everything an inviter can learn about one invited address, its own spelling taken out."""
    invitation = await Invitation.get(email=email).values("role_id", "level", "scope_key", "state", "lifetime_hours")
    message = await OutboxMessage.get(recipient=email).values("kind", "context", "state", "organisation_id")
    message["context"].pop("expires_at")  # the two sends are moments apart
    event = await AuditEvent.get(target=email).values("action", "outcome", "organisation_id", "deployment_id", "detail")
    [row] = (await pending.list_pending(actor=owner, organisation_id=world.org.id, search=email)).rows
    moments = ("id", "email", "created_at", "last_sent_at", "expires_at")
    listed = {name: value for name, value in vars(row).items() if name not in moments}
    return {"invitation": invitation, "email": message, "audit": event, "pending row": listed}


async def _staff_of(owner: Actor, world: factories.World, search: str = "") -> list[tuple[str, str, str]]:
    rows, _ = await staff.staff_page(actor=owner, organisation_id=world.org.id, search=search)
    return [(row.name, row.email, row.role_name) for row in rows]


async def _counts_seen_by(owner: Actor) -> list[tuple[int, int]]:
    organisations, _ = await directory.organisations_page(actor=owner)
    deployments, _ = await directory.deployments_page(actor=owner)
    return [(o.staff, o.pending) for o in organisations] + [(d.staff, d.pending) for d in deployments]


async def test_an_owner_inviting_someone_with_an_account_in_another_organisation_sees_what_a_new_address_gives(
    db: str,
) -> None:
    world, owner = await _owner_and_world()
    await factories.member("mo@north.org", "clinician", org=world.other_org, full_name="Mo Northwind")

    elsewhere = await _send(owner, world, ["MO@north.org"])
    counts_after_elsewhere = await _counts_seen_by(owner)
    new = await _send(owner, world, ["nina@new.org"])

    assert elsewhere == SendResult(invited=["mo@north.org"])
    assert new == SendResult(invited=["nina@new.org"])
    assert await _what_the_inviter_can_see_of("mo@north.org", owner, world) == await _what_the_inviter_can_see_of(
        "nina@new.org", owner, world
    )
    assert (await OutboxMessage.get(recipient="mo@north.org")).kind == "invitation"
    assert await _counts_seen_by(owner) == [(1, 2), (0, 2), (0, 0)]  # the owner; two invitations, both pending
    assert counts_after_elsewhere == [(1, 1), (0, 1), (0, 0)]
    assert not await RoleAssignment.filter(member__email="mo@north.org", organisation_id=world.org.id).exists()


async def test_someone_from_another_organisation_joins_the_staff_list_only_after_accepting_by_logging_in(
    db: str,
) -> None:
    world, owner = await _owner_and_world()
    await factories.member(
        "mo@north.org", "clinician", org=world.other_org, full_name="Mo Northwind", password_hash="original"
    )
    await _send(owner, world, ["mo@north.org"])

    assert await _staff_of(owner, world) == [("Olive Owner", "owner@trust.org", "Organisation Owner")]
    assert await _staff_of(owner, world, search="Northwind") == []
    token = _link_token(await OutboxMessage.get(recipient="mo@north.org"))
    assert (await acceptance.preview(token=token, client="t")).has_account  # the page asks them to log in
    with pytest.raises(PermissionDenied, match="log in to accept"):
        await acceptance.accept_new_account(
            enrolment=factor_helpers.proof(),
            token=token,
            full_name="Mallory",
            password=PASSWORD,
            repeat=PASSWORD,
            client="t",
        )
    assert (await StaffMember.get(email="mo@north.org")).password_hash == "original"
    assert await _staff_of(owner, world, search="north") == []

    mo = await factories.actor_of("mo@north.org")
    assert (
        await acceptance.accept_as_member(enrolment=factor_helpers.proof(), actor=mo, token=token, client="t")
    ).role_name == "Clinician"

    assert await _staff_of(owner, world, search="north") == [("Mo Northwind", "mo@north.org", "Clinician")]


async def test_a_member_of_the_same_organisation_still_gets_the_role_directly_wherever_they_hold_theirs(
    db: str,
) -> None:
    world, owner = await _owner_and_world()
    await factories.member("dee@trust.org", "supervisor", dep=world.dep2)  # only in a sibling deployment
    await factories.member("ora@trust.org", "supervisor", org=world.org)

    to_deployment = await _send(owner, world, ["dee@trust.org", "ora@trust.org"])
    to_organisation = await _send(owner, world, ["dee@trust.org"], organisation_id=world.org.id)

    assert to_deployment == SendResult(role_added=["dee@trust.org", "ora@trust.org"])
    assert to_organisation == SendResult(role_added=["dee@trust.org"])
    assert await Invitation.all().count() == 0
    assert {m.kind for m in await OutboxMessage.all()} == {"role_notice"}
    assert ("Dee", "dee@trust.org", "Clinician") in await _staff_of(owner, world, search="dee")
    again = await _send(owner, world, ["dee@trust.org"], organisation_id=world.org.id)
    assert again == SendResult(already_had_role=["dee@trust.org"])


async def test_a_platform_administrator_is_invited_to_an_organisation_like_anyone_else(db: str) -> None:
    world, owner = await _owner_and_world()
    await factories.member("pat@gatehouse.org", "platform_support")  # Admin Portal role: no organisation's member

    result = await _send(owner, world, ["pat@gatehouse.org"], "organisation_editor", organisation_id=world.org.id)

    assert result == SendResult(invited=["pat@gatehouse.org"])
    assert await _staff_of(owner, world, search="pat") == []


async def test_an_admin_portal_role_goes_directly_only_to_those_who_already_hold_one(db: str) -> None:
    world = await factories.world()
    admin = await factories.member("sa@gatehouse.org", "super_admin")
    await factories.member("pat@gatehouse.org", "platform_support")
    await factories.member("mo@north.org", "clinician", org=world.other_org)
    manager = await factories.role("account_manager")

    result = await invitations.send(
        actor=admin, addresses=["pat@gatehouse.org", "mo@north.org"], role_id=manager.id, lifetime_hours=72
    )

    assert result == SendResult(invited=["mo@north.org"], role_added=["pat@gatehouse.org"])
    assert await Invitation.filter(email="mo@north.org", level="platform").exists()


async def test_a_second_send_to_an_account_elsewhere_replaces_its_invitation_like_a_new_address(db: str) -> None:
    world, owner = await _owner_and_world()
    await factories.member("mo@north.org", "clinician", org=world.other_org)
    await _send(owner, world, ["mo@north.org", "nina@new.org"])
    first = _link_token(await OutboxMessage.get(recipient="mo@north.org"))

    again = await _send(owner, world, ["mo@north.org", "nina@new.org"])

    assert again == SendResult(replaced=["mo@north.org", "nina@new.org"])
    assert await Invitation.filter(state=InvitationState.PENDING).count() == 2
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=first, client="t")
