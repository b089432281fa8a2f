"""Races: double sends, two admins at once, delete against accept, many accepts of one link. Each ends with exactly
one outcome, told the same way by the database, the audit log and the pending list (SQLite and PostgreSQL)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Invitation, InvitationState, OutboxMessage, OutboxState, RoleAssignment, StaffMember
from services.access.service import Actor
from services.errors import LinkInvalid, PermissionDenied
from services.invitations import acceptance, acceptance_steps, pending, resending
from services.invitations import service as invitations
from services.platform import clock
from tests import factories
from tests.security.helpers import accept, invite, latest_token, owner_and_world
from tests.ui_helpers import eventually, select_labelled, sign_in, table


async def outcome(action: Awaitable[Any]) -> Any:
    """The result, or the name of the refusal."""
    try:
        return await action
    except (LinkInvalid, PermissionDenied) as refused:
        return type(refused).__name__


async def _two_managers() -> tuple[factories.World, Actor, Actor]:
    world, owner = await owner_and_world()
    editor = await factories.member("editor@trust.org", "organisation_editor", org=world.org)
    return world, owner, editor


def _waiting_for_each_other(step: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Force the worst interleaving of two concurrent calls: both finish this step before either goes on.

    Where transactions take turns (SQLite), the first waits in vain for half a second and goes on alone.
    """
    both_done = asyncio.Barrier(2)

    async def step_then_wait(*args: Any, **kwargs: Any) -> Any:
        result = await step(*args, **kwargs)
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            await asyncio.wait_for(both_done.wait(), timeout=0.5)
        return result

    return step_then_wait


async def _pending_emails(actor: Actor, world: factories.World) -> list[str]:
    return [row.email for row in (await pending.list_pending(actor=actor, organisation_id=world.org.id)).rows]


async def test_a_double_click_on_send_invites_each_address_once(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "deployments").rows) == 2)
    user.find(marker="deployments").trigger("invite", table(user, "deployments").rows[0])
    await user.should_see("Send invites")
    user.find("Email addresses").type("ann@example.org, bob@example.org").trigger("keydown.enter")
    await user.should_see("2 valid addresses")
    role = select_labelled(user, "Role")
    role.value = next(k for k, v in role.options.items() if v == "Clinician")  # type: ignore[union-attr]

    send = user.find(kind=ui.button, content="Send invites")
    send.click()
    send.click()
    await user.should_see("Invited (2)")

    assert await Invitation.filter(organisation_id=world.org.id).count() == 2
    assert await OutboxMessage.filter(recipient__in=["ann@example.org", "bob@example.org"]).count() == 2
    assert await AuditEvent.filter(action="invite", target__in=["ann@example.org", "bob@example.org"]).count() == 2


async def test_two_sends_of_one_address_at_once_leave_one_pending_invitation(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(invitations, "_plan", _waiting_for_each_other(invitations._plan))
    world, owner, editor = await _two_managers()

    await asyncio.gather(invite(owner, world, ["ann@example.org"]), invite(editor, world, ["ann@example.org"]))

    assert await Invitation.filter(email="ann@example.org", state=InvitationState.PENDING).count() == 1
    live = await OutboxMessage.filter(recipient="ann@example.org", state=OutboxState.QUEUED).count()
    assert live == 1


async def test_two_admins_resending_one_invitation_at_once_resend_it_once(db: str) -> None:
    world, owner, editor = await _two_managers()
    await invite(owner, world, ["ann@example.org"])
    first_link = await latest_token("ann@example.org")
    invitation = await Invitation.get(email="ann@example.org")
    clock.advance(timedelta(minutes=5))

    results = await asyncio.gather(
        resending.resend_each(actor=owner, invitation_ids=[invitation.id]),
        resending.resend_each(actor=editor, invitation_ids=[invitation.id]),
    )

    assert sorted(len(result.resent) for result in results) == [0, 1]
    assert (await Invitation.get(id=invitation.id)).send_count == 2
    states = await OutboxMessage.filter(invitation_id=invitation.id).order_by("id").values_list("state", flat=True)
    assert list(states) == [OutboxState.FAILED, OutboxState.QUEUED]  # the first email dies, one new one waits
    assert await AuditEvent.filter(action="resend", outcome="ok").count() == 1
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=first_link, client="c")
    assert (
        await acceptance.preview(token=await latest_token("ann@example.org"), client="c")
    ).email == "ann@example.org"
    assert await _pending_emails(owner, world) == ["ann@example.org"]


async def test_two_admins_deleting_one_invitation_at_once_delete_it_once(db: str) -> None:
    world, owner, editor = await _two_managers()
    await invite(owner, world, ["ann@example.org"])
    invitation = await Invitation.get(email="ann@example.org")

    results = await asyncio.gather(
        invitations.delete(actor=owner, invitation_ids=[invitation.id]),
        invitations.delete(actor=editor, invitation_ids=[invitation.id]),
    )

    assert sorted(results) == [[], ["ann@example.org"]]
    assert (await Invitation.get(id=invitation.id)).state == InvitationState.DELETED
    assert await AuditEvent.filter(action="delete").count() == 1
    assert await OutboxMessage.filter(state=OutboxState.QUEUED).count() == 0
    assert await _pending_emails(owner, world) == []


async def test_delete_racing_accept_ends_with_exactly_one_of_them(db: str) -> None:
    world, owner = await owner_and_world()
    addresses = [f"racer{n}@example.org" for n in range(4)]
    await invite(owner, world, addresses)
    for address in addresses:
        invitation = await Invitation.get(email=address)
        token = await latest_token(address)
        deleted, accepted = await asyncio.gather(
            outcome(invitations.delete(actor=owner, invitation_ids=[invitation.id])), outcome(accept(token))
        )
        state = (await Invitation.get(id=invitation.id)).state
        has_account = await StaffMember.exists(email=address)
        audited = set(await AuditEvent.filter(target=address, action__in=["delete", "accept"]).values_list(
            "action", flat=True
        ))  # fmt: skip
        if deleted == [address]:
            assert (accepted, state, has_account, audited) == (
                "LinkInvalid",
                InvitationState.DELETED,
                False,
                {"delete"},
            )
        else:
            assert (deleted, accepted) == ([], address)
            assert (state, has_account, audited) == (InvitationState.ACCEPTED, True, {"accept"})
    assert await _pending_emails(owner, world) == []


async def test_resend_racing_accept_ends_with_exactly_one_of_them(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["ann@example.org"])
    invitation = await Invitation.get(email="ann@example.org")
    token = await latest_token("ann@example.org")
    clock.advance(timedelta(minutes=5))

    resent, accepted = await asyncio.gather(
        outcome(resending.resend_each(actor=owner, invitation_ids=[invitation.id])), outcome(accept(token))
    )

    row = await Invitation.get(id=invitation.id)
    if accepted == "ann@example.org":
        assert (resent.resent, row.state, row.send_count) == ([], InvitationState.ACCEPTED, 1)
    else:
        assert (accepted, resent.resent, row.state, row.send_count) == (
            "LinkInvalid", ["ann@example.org"], InvitationState.PENDING, 2,
        )  # fmt: skip
        assert not await StaffMember.exists(email="ann@example.org")


async def test_many_accepts_of_one_link_at_once_make_one_account_with_one_role(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["ann@example.org"])
    token = await latest_token("ann@example.org")

    results = await asyncio.gather(*(outcome(accept(token, name=f"Ann {n}")) for n in range(8)))

    assert results.count("ann@example.org") == 1
    assert set(results) - {"ann@example.org"} <= {"LinkInvalid", "PermissionDenied"}
    member = await StaffMember.get(email="ann@example.org")
    assert await RoleAssignment.filter(member_id=member.id).count() == 1
    assert await AuditEvent.filter(action="accept", target="ann@example.org").count() == 1
    assert (await Invitation.get(email="ann@example.org")).state == InvitationState.ACCEPTED
    assert await _pending_emails(owner, world) == []


async def test_two_links_for_one_address_accepted_at_once_make_one_account_and_leave_the_other_pending(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both have found "no account yet" and claimed their own link before either creates the account.
    monkeypatch.setattr(acceptance_steps, "claim", _waiting_for_each_other(acceptance_steps.claim))
    world, owner = await owner_and_world()
    await invite(owner, world, ["ann@example.org"])
    await invite(owner, world, ["ann@example.org"], "supervisor", organisation_id=world.org.id)
    links = [
        factories.link_of(await OutboxMessage.get(invitation_id=invitation.id))
        for invitation in await Invitation.filter(email="ann@example.org").order_by("id")
    ]

    results = await asyncio.gather(*(outcome(accept(link.rsplit("/", 1)[1])) for link in links))

    assert sorted(results) == ["PermissionDenied", "ann@example.org"]
    assert await StaffMember.filter(email="ann@example.org").count() == 1
    states = sorted(await Invitation.filter(email="ann@example.org").values_list("state", flat=True))
    assert states == [InvitationState.ACCEPTED, InvitationState.PENDING]  # the other: accepted by logging in
    assert await AuditEvent.filter(action="accept").count() == 1
    assert await _pending_emails(owner, world) == ["ann@example.org"]
