"""A big send goes in steps sized to the time a step holds the database (issue 17 goal 3), with the same outcome
for every address as one send of them all."""

import itertools

import pytest

from models import OutboxMessage
from services.invitations import pacing, steps
from services.invitations import service as invitations
from tests import factories


def _ticking(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Each step takes `seconds` by the pacer's clock (its start and its end are one tick apart)."""
    ticks = itertools.count()
    monkeypatch.setattr(pacing, "clock", lambda: next(ticks) * seconds)


def test_a_slow_step_makes_the_next_smaller_a_quick_one_larger_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    _ticking(monkeypatch, pacing.STEP_SECONDS * 2)
    slow = pacing.Pacer()
    sizes = []
    for _ in range(6):
        sizes.append(slow.start())
        slow.finished()
    assert sizes[0] == pacing.FIRST_STEP
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == pacing.SMALLEST_STEP

    _ticking(monkeypatch, pacing.STEP_SECONDS / 4)
    quick = pacing.Pacer()
    for _ in range(8):
        quick.start()
        quick.finished()
    assert quick.start() == pacing.LARGEST_STEP

    fixed = pacing.Pacer(fixed=7)
    fixed.start()
    fixed.finished()
    assert fixed.start() == 7


@pytest.mark.parametrize("big", [False, True], ids=["small send", "big send: addresses checked in a thread"])
async def test_a_paced_send_in_steps_treats_every_address_as_one_send_of_them_all(
    db: str, monkeypatch: pytest.MonkeyPatch, big: bool
) -> None:
    if big:
        monkeypatch.setattr(invitations, "IN_THREAD_ABOVE", 0)
    world = await factories.world()
    here = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    there = await factories.member("owner@north.org", "organisation_owner", org=world.other_org)
    clinician = await factories.role("clinician")
    for organisation, owner in ((world.org, here), (world.other_org, there)):
        await factories.member("nurse@trust.org", "supervisor", org=organisation)
        await factories.member("doc@trust.org", "clinician", org=organisation)
        await invitations.send(
            actor=owner, addresses=["waiting@example.org"], role_id=clinician.id, lifetime_hours=24,
            organisation_id=organisation.id,
        )  # fmt: skip
    addresses = [f"p{n}@example.org" for n in range(6)]
    addresses += ["Nurse@trust.org", "waiting@example.org", "P1@example.org", "not-an-address", "doc@trust.org"]
    monkeypatch.setattr(pacing, "FIRST_STEP", 4)
    monkeypatch.setattr(pacing, "SMALLEST_STEP", 1)
    _ticking(monkeypatch, pacing.STEP_SECONDS * 2)  # every step slower than aimed: 4, 3, 2, 1 addresses
    progress: list[tuple[int, int]] = []

    in_steps = await steps.send_in_steps(
        actor=here, addresses=addresses, role_id=clinician.id, lifetime_hours=24, organisation_id=world.org.id,
        on_progress=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    at_once = await invitations.send(
        actor=there, addresses=addresses, role_id=clinician.id, lifetime_hours=24, organisation_id=world.other_org.id
    )

    assert progress == [(4, 10), (7, 10), (9, 10), (10, 10)]
    for outcome in ("invited", "replaced", "role_added", "already_had_role", "invalid"):
        assert getattr(in_steps, outcome) == getattr(at_once, outcome), outcome
    assert in_steps.role_added == ["nurse@trust.org"] and in_steps.already_had_role == ["doc@trust.org"]
    assert not in_steps.not_sent and not in_steps.stopped
    emails = [await OutboxMessage.filter(organisation_id=org.id).count() for org in (world.org, world.other_org)]
    assert emails[0] == emails[1] == 1 + 7 + 1  # the earlier invitation, 7 new ones (one replacing it), 1 notice
