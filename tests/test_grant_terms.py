"""The end and sponsor of an invitation (issue 18, item 1): checked when sent, carried to the grant on acceptance,
refused with a message at the field and nothing written; an organisation's end-date rules per role."""

from datetime import timedelta

import pytest

from models import AuditEvent, Invitation, OutboxMessage, RoleAssignment
from services.access import grant_terms
from services.errors import FieldErrors, LinkInvalid, PermissionDenied
from services.invitations import acceptance, resending, steps
from services.invitations import service as invitations
from services.mail.templates import render
from services.platform import clock, settings
from tests import factor_helpers, factories
from tests.conftest import TEST_SECRET

PASSWORD = "correct horse battery"
NEWCOMER = "temp@agency.org"
LINK = "https://portal.example.org/accept/abc"
CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_BASE_URL": "https://portal.example.org"})


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    acceptance.accept_limiter.reset()


async def _world_with_owner() -> tuple[factories.World, factories.Actor]:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    return world, owner


async def _send(world: factories.World, actor: factories.Actor, **terms: object) -> invitations.SendResult:
    clinician = await factories.role("clinician")
    return await invitations.send(
        actor=actor, addresses=[NEWCOMER], role_id=clinician.id, lifetime_hours=72, organisation_id=world.org.id,
        **terms,  # type: ignore[arg-type]
    )  # fmt: skip


async def test_the_end_and_sponsor_travel_with_the_invitation_to_the_email_and_become_the_grant(db: str) -> None:
    world, owner = await _world_with_owner()
    sponsor = await factories.member("sam@trust.org", "organisation_editor", org=world.org, full_name="Sam Sponsor")
    ends_at = clock.now() + timedelta(days=30)
    await _send(world, owner, ends_at=ends_at, sponsor_email="SAM@trust.org")
    invitation = await Invitation.get(email=NEWCOMER)
    message = await OutboxMessage.get(recipient=NEWCOMER)
    token = factories.token_of(message)
    preview = await acceptance.preview(token=token, client="t")
    await acceptance.accept_new_account(
        enrolment=factor_helpers.proof(),
        token=token,
        full_name="Tem Porary",
        password=PASSWORD,
        repeat=PASSWORD,
        client="t",
    )
    grant = await RoleAssignment.get(member__email=NEWCOMER)
    invite_audit = await AuditEvent.get(action="invite", target=NEWCOMER)
    assert (invitation.ends_at, invitation.sponsor_id) == (ends_at, sponsor.member_id)
    assert message.context["ends_at"] == ends_at.isoformat() and message.context["sponsor_name"] == "Sam Sponsor"
    assert (preview.ends_at, preview.sponsor_name) == (ends_at, "Sam Sponsor")
    assert (grant.ends_at, grant.sponsor_id) == (ends_at, sponsor.member_id)
    assert invite_audit.detail["ends_at"] == ends_at.isoformat() and invite_audit.detail["sponsor"] == "Sam Sponsor"


async def test_by_default_the_inviter_sponsors_the_email_says_so_and_the_access_does_not_end(db: str) -> None:
    world, owner = await _world_with_owner()
    await _send(world, owner)
    invitation = await Invitation.get(email=NEWCOMER)
    message = await OutboxMessage.get(recipient=NEWCOMER)
    assert (invitation.ends_at, invitation.sponsor_id) == (None, owner.member_id)
    assert message.context["ends_at"] == "" and message.context["sponsor_name"] == "Olive Owner"
    text = render(message.kind, recipient=NEWCOMER, context=message.context, link=LINK, settings=CONFIG).decode()
    said = text.replace("=\r\n", "").replace("\r\n", " ")  # quoted-printable soft line breaks
    assert "Your sponsor, accountable for this access, is Olive Owner (who invited you)." in said


async def test_a_member_of_the_organisation_gets_the_role_at_once_with_its_end_and_sponsor(db: str) -> None:
    world, owner = await _world_with_owner()
    nurse = await factories.member(NEWCOMER, "supervisor", org=world.org)
    ends_at = clock.now() + timedelta(days=7)
    result = await _send(world, owner, ends_at=ends_at)
    grant = await RoleAssignment.get(member_id=nurse.member_id, role__key="clinician")
    assert result.role_added == [NEWCOMER] and (grant.ends_at, grant.sponsor_id) == (ends_at, owner.member_id)


@pytest.mark.parametrize(
    ("ends_in", "sponsor", "field", "message"),
    [
        (timedelta(minutes=-1), None, "ends_at", "The end of access must be in the future."),
        (timedelta(days=1), "nurse@trust.org", "sponsor", "nurse@trust.org cannot sponsor Clinician there"),
        (timedelta(days=1), "nobody@elsewhere.org", "sponsor", "nobody@elsewhere.org cannot sponsor Clinician there"),
    ],
)
async def test_bad_terms_are_refused_at_their_field_and_nothing_is_written(
    db: str, ends_in: timedelta, sponsor: str | None, field: str, message: str
) -> None:
    world, owner = await _world_with_owner()
    await factories.member("nurse@trust.org", "clinician", org=world.org)  # may not manage staff: may not sponsor
    with pytest.raises(FieldErrors) as refused:
        await _send(world, owner, ends_at=clock.now() + ends_in, sponsor_email=sponsor)
    assert list(refused.value.fields) == [field] and refused.value.fields[field].startswith(message)
    assert not await Invitation.exists() and not await OutboxMessage.exists()
    if sponsor:
        assert await AuditEvent.filter(action="invite", outcome="refused", target=sponsor).count() == 1


async def test_an_organisation_rule_requires_an_end_within_the_longest_duration(db: str) -> None:
    world, owner = await _world_with_owner()
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)
    with pytest.raises(FieldErrors) as missing:
        await _send(world, owner)
    with pytest.raises(FieldErrors) as too_long:
        await _send(world, owner, ends_at=clock.now() + timedelta(days=91))
    await _send(world, owner, ends_at=clock.now() + timedelta(days=90))
    assert missing.value.fields == {"ends_at": "Clinician needs an end of access here: at most 90 days away."}
    assert too_long.value.fields["ends_at"].startswith("Clinician may hold access for at most 90 days from ")
    assert await grant_terms.policies(organisation_id=world.org.id) == {clinician.id: 90}
    assert await grant_terms.longest_days(organisation_id=world.other_org.id, role_id=clinician.id) is None
    assert (await AuditEvent.get(action="set_grant_policy")).detail == {"max_days": 90}
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=None)
    assert await grant_terms.policies(organisation_id=world.org.id) == {}


async def test_only_those_who_edit_roles_set_the_rules_and_durations_are_bounded(db: str) -> None:
    world, owner = await _world_with_owner()
    nurse = await factories.member("nurse@trust.org", "clinician", org=world.org)
    clinician = await factories.role("clinician")
    with pytest.raises(PermissionDenied):
        await grant_terms.set_policy(actor=nurse, organisation_id=world.org.id, role_id=clinician.id, max_days=30)
    with pytest.raises(FieldErrors):
        await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=0)
    assert await grant_terms.policies(organisation_id=world.org.id) == {}
    assert await AuditEvent.filter(action="set_grant_policy", outcome="refused").count() == 1


async def test_csv_ends_are_checked_per_address_and_each_address_gets_its_own(db: str) -> None:
    world, owner = await _world_with_owner()
    clinician = await factories.role("clinician")
    soon, later = clock.now() + timedelta(days=3), clock.now() + timedelta(days=60)
    result = await steps.send_in_steps(
        actor=owner, addresses=["a@x.org", "b@x.org", "c@x.org"], role_id=clinician.id, lifetime_hours=72,
        organisation_id=world.org.id, ends_at=later, ends_for={"a@x.org": soon, "c@x.org": clock.now()},
    )  # fmt: skip
    ends = dict(await Invitation.all().values_list("email", "ends_at"))
    assert ends == {"a@x.org": soon, "b@x.org": later}
    assert result.invalid == [("c@x.org", "its end of access: The end of access must be in the future.")]


async def test_an_invitation_whose_access_has_ended_can_no_longer_be_accepted(db: str) -> None:
    world, owner = await _world_with_owner()
    await _send(world, owner, ends_at=clock.now() + timedelta(hours=1))
    token = factories.token_of(await OutboxMessage.get(recipient=NEWCOMER))
    clock.advance(timedelta(hours=1))
    with pytest.raises(LinkInvalid):
        await acceptance.preview(token=token, client="t")


async def test_accepting_as_a_member_lengthens_an_earlier_end_of_the_same_role(db: str) -> None:
    world, owner = await _world_with_owner()
    other = await factories.member(NEWCOMER, "clinician", org=world.other_org)
    ends_at = clock.now() + timedelta(days=20)
    clinician = await factories.role("clinician")
    await invitations.send(
        actor=owner, addresses=[NEWCOMER], role_id=clinician.id, lifetime_hours=72, deployment_id=world.dep.id,
        ends_at=ends_at,
    )  # fmt: skip
    token = factories.token_of(await OutboxMessage.get(recipient=NEWCOMER))
    # Meanwhile the same role was given there until sooner (by any path): accepting keeps the later end.
    grant = await factories.grant(other.member_id, "clinician", dep=world.dep, ends_at=clock.now() + timedelta(days=1))
    await acceptance.accept_as_member(
        enrolment=factor_helpers.proof(), actor=await factories.actor_of(NEWCOMER), token=token, client="t"
    )
    assert (await RoleAssignment.get(id=grant.id)).ends_at == ends_at


async def test_a_resend_keeps_the_end_and_sponsor_and_skips_an_invitation_whose_access_has_ended(db: str) -> None:
    world, owner = await _world_with_owner()
    await factories.member("sam@trust.org", "organisation_editor", org=world.org, full_name="Sam Sponsor")
    ends_at = clock.now() + timedelta(hours=2)
    await _send(world, owner, ends_at=ends_at, sponsor_email="sam@trust.org")
    invitation = await Invitation.get(email=NEWCOMER)
    clock.advance(timedelta(hours=1))
    resent = await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    message = await OutboxMessage.filter(recipient=NEWCOMER).order_by("-id").first()
    clock.advance(timedelta(hours=1))
    ended = await resending.resend_each(actor=owner, invitation_ids=[invitation.id])
    assert resent.resent == [NEWCOMER] and message is not None
    assert (message.context["ends_at"], message.context["sponsor_name"]) == (ends_at.isoformat(), "Sam Sponsor")
    assert ended.skipped == [(NEWCOMER, resending.ACCESS_ENDED)]


async def test_a_file_with_mixed_ends_sends_nothing_when_the_shared_end_or_the_sponsor_is_refused(db: str) -> None:
    world, owner = await _world_with_owner()
    await factories.member("nurse@trust.org", "clinician", org=world.org)  # may not sponsor
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)
    own = {"a@x.org": clock.now() + timedelta(days=30)}  # a@x.org's own end is fine; b@x.org shares the pop-out's
    for shared, sponsor, field in (
        (None, None, "ends_at"),
        (clock.now() + timedelta(days=10), "nurse@trust.org", "sponsor"),
    ):
        with pytest.raises(FieldErrors) as refused:
            await steps.send_in_steps(
                actor=owner, addresses=["a@x.org", "b@x.org"], role_id=clinician.id, lifetime_hours=72,
                organisation_id=world.org.id, step=1, ends_at=shared, ends_for=own, sponsor_email=sponsor,
            )  # fmt: skip
        assert list(refused.value.fields) == [field]
    assert refused.value.fields["sponsor"].startswith("nurse@trust.org cannot sponsor Clinician there")
    assert not await Invitation.exists() and not await OutboxMessage.exists()
