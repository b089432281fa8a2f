"""The rules behind the pop-out: which imported addresses are already known and what sending would do to them,
a send in steps with its progress, when a send asks first, and what each role allows in one line."""

from datetime import UTC, timedelta
from typing import Any

import pytest
from tortoise.exceptions import OperationalError

from models import Invitation, InvitationState, Organisation
from services.access import grant_terms, role_summaries, roles
from services.errors import PermissionDenied
from services.invitations import csv_import, review, steps
from services.invitations import service as invitations
from services.invitations.csv_import import ImportResult
from services.invitations.review import KnownAddress
from services.platform.clock import now
from tests import factories


def _imported(*addresses: str) -> ImportResult:
    lines = list(range(2, len(addresses) + 2))
    return ImportResult(addresses=list(addresses), problems=[], total_rows=len(addresses), lines=lines)


@pytest.mark.parametrize("big", [False, True], ids=["small file", "big file: walked in a thread"])
async def test_an_import_is_sorted_into_new_addresses_members_and_pending_invitations(
    db: str, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    if big:
        monkeypatch.setattr(review, "IN_THREAD_ABOVE", 0)
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await factories.member("nurse@trust.org", "supervisor", dep=world.dep)
    await factories.member("far@north.org", "clinician", org=world.other_org)  # another organisation: new here
    supervisor = await factories.role("supervisor")
    await invitations.send(
        actor=owner, addresses=["waiting@example.org"], role_id=supervisor.id, lifetime_hours=24,
        organisation_id=world.org.id,
    )  # fmt: skip

    found = await review.review_import(
        actor=owner,
        organisation_id=world.org.id,
        result=_imported("new@example.org", "Nurse@trust.org", "waiting@EXAMPLE.org", "far@north.org"),
    )

    assert found.new == ["new@example.org", "far@north.org"]
    [nurse] = found.members
    assert (nurse.address, nurse.line, [str(h) for h in nurse.holds]) == (
        "Nurse@trust.org",
        3,
        ["Supervisor in Heart Failure Trial at St Mary's Trust"],
    )
    [waiting] = found.invited
    assert [str(h) for h in waiting.invited] == ["Supervisor in St Mary's Trust (whole organisation)"]


def test_what_sending_would_do_depends_on_the_role_and_the_place_chosen() -> None:
    held = review.Holding(7, "Supervisor", "dep:2", "Heart Failure Trial")
    member = KnownAddress("nurse@trust.org", 3, holds=(held,))
    invitee = KnownAddress("waiting@example.org", 4, invited=(held,))
    here, elsewhere = {"scope_key": "dep:2", "place": "HFT"}, {"scope_key": "org:1", "place": "St Mary's"}

    assert review.effect(member, role=None, **elsewhere) == (
        "Holds Supervisor in Heart Failure Trial: would also get the role you choose, with a notice email."
    )
    assert review.effect(member, role=(8, "Clinician"), **here).startswith("Holds Supervisor in Heart Failure Trial")
    assert (
        review.effect(member, role=(7, "Supervisor"), **here)
        == "Already holds Supervisor in HFT: nothing would change."
    )
    assert review.effect(invitee, role=(8, "Clinician"), **here) == (
        "Invited as Supervisor in Heart Failure Trial: that invitation would be replaced by one as Clinician in HFT, "
        "new link."
    )
    assert review.effect(invitee, role=(8, "Clinician"), **elsewhere) == (
        "Invited as Supervisor in Heart Failure Trial: would get a second invitation, as Clinician in St Mary's."
    )


async def test_a_send_in_steps_reports_its_progress_and_stops_at_a_refusal_naming_the_rest(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    addresses = [f"p{n}@example.org" for n in range(5)] + ["P0@example.org", "not-an-address"]
    progress: list[tuple[int, int]] = []

    result = await steps.send_in_steps(
        actor=owner, addresses=addresses, role_id=clinician.id, lifetime_hours=24, organisation_id=world.org.id,
        on_progress=lambda done, total: progress.append((done, total)), step=2,
    )  # fmt: skip

    assert progress == [(2, 6), (4, 6), (6, 6)]  # the second spelling of p0 is sent once, in the first step
    assert result.invited == [f"p{n}@example.org" for n in range(5)]
    assert result.invalid == [("not-an-address", "missing @")] and not result.not_sent

    with pytest.raises(PermissionDenied):  # a refusal of the first step: nothing went out, the refusal is raised
        await steps.send_in_steps(
            actor=owner, addresses=["x@example.org"], role_id=clinician.id, lifetime_hours=24,
            organisation_id=world.other_org.id,
        )  # fmt: skip


@pytest.mark.parametrize("trouble", ["archived", "database locked"])
async def test_a_refusal_or_database_error_after_the_first_step_ends_the_send_and_names_what_was_not_sent(
    db: str, monkeypatch: pytest.MonkeyPatch, trouble: str
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    send_one_step = invitations.send
    calls = 0

    async def trouble_at_the_second_step(**arguments: Any) -> invitations.SendResult:
        nonlocal calls
        calls += 1
        if calls == 2 and trouble == "archived":  # someone archives the organisation while the send is under way
            await Organisation.filter(id=world.org.id).update(archived_at=now())
        elif calls == 2:  # e.g. SQLite's "database is locked" once its busy timeout ran out
            raise OperationalError("database is locked")
        return await send_one_step(**arguments)

    monkeypatch.setattr(invitations, "send", trouble_at_the_second_step)
    result = await steps.send_in_steps(
        actor=owner, addresses=["a@example.org", "b@example.org", "c@example.org"], role_id=clinician.id,
        lifetime_hours=24, organisation_id=world.org.id, step=2,
    )  # fmt: skip

    assert result.invited == ["a@example.org", "b@example.org"]
    assert result.not_sent == ["c@example.org"]
    assert ("is archived" if trouble == "archived" else "send the remaining addresses again") in result.stopped
    assert await Invitation.filter(state=InvitationState.PENDING, organisation_id=world.org.id).count() == 2
    if trouble != "archived":  # the same error in the first step: nothing was sent, the error is raised
        calls = 1
        with pytest.raises(OperationalError):
            await steps.send_in_steps(
                actor=owner, addresses=["d@example.org"], role_id=clinician.id, lifetime_hours=24,
                organisation_id=world.org.id,
            )  # fmt: skip


def test_the_pop_out_asks_first_only_above_the_threshold() -> None:
    assert not invitations.needs_confirmation(count=invitations.CONFIRM_ABOVE)
    assert invitations.needs_confirmation(count=invitations.CONFIRM_ABOVE + 1)


async def test_every_role_has_a_one_line_summary_derived_from_its_rights_custom_roles_too(db: str) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    custom = await roles.create_custom(
        actor=owner, organisation_id=world.org.id, name="Research Nurse", permissions=["contact_patient"]
    )
    assert role_summaries.summary(custom.permissions) == "Views patient data, contacts patients"
    admin = await factories.role("admin")
    assert role_summaries.summary(admin.permissions) == (
        "Invites and manages staff, edits roles, approves and reviews access, manages integrations, "
        "all work with patients and their data"
    )
    administrator = await factories.role("administrator")
    assert role_summaries.summary(administrator.permissions) != role_summaries.summary(admin.permissions)
    assert role_summaries.summary([]) == "No permissions"


async def test_an_imported_end_in_the_past_or_beyond_the_roles_longest_duration_is_a_problem_of_its_line(
    db: str,
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)
    soon, far, past = (now().replace(tzinfo=None) + timedelta(days=days) for days in (30, 120, -1))
    result = csv_import.parse(
        data=f"Email,Ends\na@x.org,{soon:%Y-%m-%d}\nb@x.org,{far:%Y-%m-%d}\nc@x.org,{past:%Y-%m-%d}\nd@x.org,\n".encode()
    )
    found = await review.review_import(
        actor=owner, organisation_id=world.org.id, result=result, role_id=clinician.id, zone=UTC
    )
    assert found.new == ["a@x.org", "d@x.org"] and list(found.result.ends) == ["a@x.org"]
    assert [(p.line, p.value) for p in found.result.problems] == [(3, "b@x.org"), (4, "c@x.org")]
    assert "Clinician may hold access for at most 90 days from" in found.result.problems[0].reason
    assert found.result.problems[1].reason.endswith("The end of access must be in the future.")
    unchosen = await review.review_import(actor=owner, organisation_id=world.org.id, result=result)
    assert unchosen.new == ["a@x.org", "b@x.org", "d@x.org"]  # no role chosen yet: only the past is refused
