"""The platform's own staff (issue 18): their grants are warned before they end like any other, Platform Support
and Super Admin list them and find any account, suspend and restore from there, and read the platform's audit log;
nobody else does any of it."""

from datetime import timedelta

import pytest

from models import AuditEvent, MessageKind, OutboxMessage, StaffMember
from services.audit import service as audit
from services.errors import InvalidInput, PermissionDenied
from services.organisations import end_warnings, grant_ends, platform_staff, staff, suspension
from services.platform import clock
from tests import factories

SUPPORT, ROOT, MANAGER = "support@gatehouse.org", "root@gatehouse.org", "am@gatehouse.org"


async def _support_ending_in(days: int) -> factories.Actor:
    """A Super Admin sponsors a Platform Support grant that ends in `days`; returns the Super Admin."""
    root = await factories.member(ROOT, "super_admin", full_name="Rita Root")
    support = await factories.member(SUPPORT, full_name="Pat Support")
    ends_at = clock.now() + timedelta(days=days)
    await factories.grant(support.member_id, "platform_support", ends_at=ends_at, sponsor_id=root.member_id)
    return root


async def test_a_platform_grant_is_warned_14_7_and_1_days_before_its_end_each_once(db: str) -> None:
    await _support_ending_in(30)
    ends_at = clock.now() + timedelta(days=30)
    for days in (14, 7, 1):
        clock.advance(ends_at - timedelta(days=days) - clock.now())
        assert await end_warnings.warn_due() == 1
        assert await end_warnings.warn_due() == 0, "a warning went twice"
    sent = await OutboxMessage.all().order_by("id")
    kinds = [(m.kind, m.recipient) for m in sent]
    assert kinds == [(MessageKind.END_WARNING.value, SUPPORT), (MessageKind.END_WARNING_SPONSOR.value, ROOT)] * 3
    assert sent[1].context["path"] == "/admin?tab=platform&view=ending"
    assert sent[0].context["scope_name"] == "the Gatehouse platform"
    events = await AuditEvent.filter(action="end_warning").order_by("id")
    assert [(e.detail["days"], e.organisation_id) for e in events] == [(14, None), (7, None), (1, None)]


async def test_platform_support_lists_the_platform_grants_by_filter_and_may_act_only_below_itself(db: str) -> None:
    root = await _support_ending_in(10)
    manager = await factories.member(MANAGER, "account_manager")
    support = await factories.actor_of(SUPPORT)

    rows, total = await platform_staff.platform_staff_page(actor=support)
    assert total == 3 and {r.email for r in rows} == {ROOT, SUPPORT, MANAGER}
    by_email = {r.email: r for r in rows}
    assert by_email[SUPPORT].sponsor_name == "Rita Root" and by_email[SUPPORT].ends_at is not None
    assert by_email[MANAGER].suspendable and by_email[MANAGER].manageable  # below Platform Support
    assert not by_email[ROOT].suspendable and not by_email[ROOT].manageable  # above it
    ending, _ = await platform_staff.platform_staff_page(actor=support, show="ending")
    assert [r.email for r in ending] == [SUPPORT]

    await suspension.suspend(actor=support, member_id=manager.member_id)
    suspended, _ = await platform_staff.platform_staff_page(actor=support, show="suspended")
    assert [(r.email, r.suspended) for r in suspended] == [(MANAGER, True)]
    await suspension.restore(actor=root, member_id=manager.member_id)
    assert (await StaffMember.get(email=MANAGER)).is_active

    grant = by_email[SUPPORT]
    later = clock.now() + timedelta(days=20)
    await grant_ends.set_end(actor=root, assignment_id=grant.assignment_id, ends_at=later)  # the sponsor extends it
    clock.advance(timedelta(days=21))
    ended, _ = await platform_staff.platform_staff_page(actor=root, show="ended")
    assert [r.email for r in ended] == [SUPPORT]


async def test_any_account_is_found_by_email_with_its_state_and_what_the_viewer_may_do(db: str) -> None:
    world = await factories.world()
    support = await factories.member(SUPPORT, "platform_support")
    nurse = await factories.member("nurse@trust.org", "clinician", dep=world.dep, full_name="Nora Nurse")
    await factories.member("root@trust.org", "super_admin")

    assert await platform_staff.accounts_page(actor=support, search="") == ([], 0)
    rows, total = await platform_staff.accounts_page(actor=support, search="TRUST.org")
    assert total == 2 and [r.email for r in rows] == ["nurse@trust.org", "root@trust.org"]
    assert rows[0].suspendable and rows[0].roles == 1 and not rows[1].suspendable
    await suspension.suspend(actor=support, member_id=nurse.member_id)
    rows, _ = await platform_staff.accounts_page(actor=support, search="nurse")
    assert rows[0].suspended

    events, _ = await audit.events_page(actor=support, organisation_id=None)
    assert events[0].sentence.startswith("Support suspended the account of Nora Nurse (nurse@trust.org)")


@pytest.mark.parametrize("role", ["account_manager", "organisation_owner"])
async def test_nobody_else_lists_platform_staff_finds_accounts_or_reads_the_platform_audit(db: str, role: str) -> None:
    world = await factories.world()
    someone = await factories.member("someone@x.org", role, org=world.org if role == "organisation_owner" else None)
    with pytest.raises(PermissionDenied):
        await platform_staff.platform_staff_page(actor=someone)
    with pytest.raises(PermissionDenied):
        await platform_staff.accounts_page(actor=someone, search="x.org")
    with pytest.raises(PermissionDenied):
        await audit.events_page(actor=someone, organisation_id=None)
    refused = await AuditEvent.filter(outcome="refused").values_list("action", "organisation_id")
    assert sorted(refused) == [("list_staff", None), ("list_staff", None), ("view_audit", None)]


async def test_a_super_admin_removes_another_from_the_platform_list_but_never_the_last(db: str) -> None:
    root = await factories.member(ROOT, "super_admin")
    other = await factories.member("other@gatehouse.org", "super_admin")
    rows, _ = await platform_staff.platform_staff_page(actor=root)
    grant_of = {r.email: r.assignment_id for r in rows}
    assert await staff.remove_from_team(actor=root, assignment_id=grant_of[other.email]) == other.email
    with pytest.raises(InvalidInput, match="no Super Admin"):
        await staff.remove_from_team(actor=root, assignment_id=grant_of[ROOT])
    assert await factories.holds(ROOT, "super_admin"), "the last Super Admin was removed"
    ended, _ = await platform_staff.platform_staff_page(actor=root, show="ended")
    assert [(r.email, r.ended_at is not None) for r in ended] == [(other.email, True)]
