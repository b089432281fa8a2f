"""API tokens (issue 20 item 1): made by holders of manage integrations, shown once and stored hashed, never more
than their creator holds, revoked at once, and every call made with one audited as that token."""

from datetime import timedelta

import pytest

from models import ApiToken, AuditEvent, Invitation, RoleAssignment
from services.access import service as access
from services.errors import FieldErrors, NotAuthenticated, PermissionDenied
from services.integrations import tokens
from services.invitations import service as invitations
from services.platform import clock
from tests import factories

INVITE = ["invite_staff", "view_staff_list", "view_patient_data"]


async def _owner_token(world: factories.World, *, permissions: list[str] = INVITE) -> tuple[factories.Actor, str]:
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    raw, _ = await tokens.create(
        actor=owner, organisation_id=world.org.id, name="Entra ID", permissions=permissions, days=30
    )
    return owner, raw


@pytest.mark.data
async def test_a_token_is_shown_once_stored_hashed_and_acts_with_its_permissions_audited_as_itself(db: str) -> None:
    world = await factories.world()
    owner, raw = await _owner_token(world)
    stored = await ApiToken.get(name="Entra ID")
    assert raw.startswith(tokens.PREFIX) and raw not in stored.token_hash and stored.prefix == raw[:12]
    actor = await tokens.actor_for(raw=raw)
    assert access.can_grant(actor, await factories.role("clinician"), world.org_scope)  # as its owner could
    assert not access.can_grant(actor, await factories.role("organisation_editor"), world.org_scope)  # never admin
    supervisor = await factories.role("supervisor")
    await invitations.send(
        actor=actor,
        addresses=["new@example.org"],
        role_id=supervisor.id,
        lifetime_hours=72,
        organisation_id=world.org.id,
    )
    invite = await AuditEvent.get(action="invite")
    assert (invite.actor_id, invite.actor_email) == (None, "API token “Entra ID”")
    assert (await Invitation.get(email="new@example.org")).invited_by_id == owner.member_id
    assert (await tokens.listed(actor=owner, organisation_id=world.org.id))[0].last_used_at is not None


async def test_a_token_never_holds_more_than_its_creator_then_or_now(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    await factories.grant(controller.member_id, "organisation_owner", org=world.org)
    controller = await factories.actor_of("ac@trust.org")
    with pytest.raises(FieldErrors) as refused:
        await tokens.create(
            actor=controller, organisation_id=world.org.id, name="x", permissions=["offboard_patients"], days=5
        )
    assert "You do not hold offboard_patients there" in refused.value.fields["permissions"]
    raw, _ = await tokens.create(
        actor=controller, organisation_id=world.org.id, name="HR feed", permissions=INVITE, days=5
    )
    await RoleAssignment.filter(member__email="ac@trust.org", role__key="access_controller").update(
        ended_at=clock.now()
    )
    await RoleAssignment.filter(member__email="ac@trust.org", role__key="organisation_owner").update(
        ended_at=clock.now()
    )
    actor = await tokens.actor_for(raw=raw)
    assert not access.can_manage_staff(actor, world.org_scope)  # the creator's loss is the token's


async def test_only_holders_of_manage_integrations_make_tokens_and_bad_input_changes_nothing(db: str) -> None:
    world = await factories.world()
    controller = await factories.member("ac@trust.org", "access_controller", org=world.org)
    with pytest.raises(PermissionDenied):
        await tokens.create(actor=controller, organisation_id=world.org.id, name="x", permissions=INVITE, days=5)
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    with pytest.raises(FieldErrors) as refused:
        await tokens.create(actor=owner, organisation_id=world.org.id, name=" ", permissions=[], days=0)
    assert set(refused.value.fields) == {"name", "permissions", "days"}
    assert await ApiToken.all().count() == 0
    assert await AuditEvent.filter(action="create_token", outcome="refused").count() == 1


async def test_a_revoked_or_expired_token_opens_nothing_at_once(db: str) -> None:
    world = await factories.world()
    owner, raw = await _owner_token(world)
    second, _ = await tokens.create(actor=owner, organisation_id=world.org.id, name="Okta", permissions=INVITE, days=1)
    await tokens.actor_for(raw=raw)
    [entra] = [row for row in await tokens.listed(actor=owner, organisation_id=world.org.id) if row.name == "Entra ID"]
    assert await tokens.revoke(actor=owner, token_id=entra.id) == "Entra ID"
    with pytest.raises(NotAuthenticated):
        await tokens.actor_for(raw=raw)
    clock.advance(timedelta(days=1, seconds=1))
    with pytest.raises(NotAuthenticated):
        await tokens.actor_for(raw=second)
    for bad in ("", "ghk_nope", "x" * 500):
        with pytest.raises(NotAuthenticated):
            await tokens.actor_for(raw=bad)
    assert await AuditEvent.filter(action="revoke_token", target="Entra ID").count() == 1
