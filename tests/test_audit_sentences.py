"""The audit log in sentences: what each action means (services/audit/sentences.py), with names, not codes."""

from models import AuditEvent
from services.access.service import Scope, ScopeLevel
from services.audit import sentences
from services.audit import service as audit
from tests import factories


async def _said(actor: factories.Actor, organisation_id: int) -> list[str]:
    rows, _ = await audit.events_page(actor=actor, organisation_id=organisation_id, page_size=50)
    return [r.sentence for r in reversed(rows)]


async def test_each_action_is_said_as_a_sentence_naming_people_and_places(db: str) -> None:
    world = await factories.world()
    ada = await factories.member("ada@trust.org", "organisation_owner", org=world.org, full_name="Ada Admin")
    await factories.member("bob@trust.org", "clinician", dep=world.dep, full_name="Bob Brown")
    dep = world.dep_scope
    org = world.org_scope
    for action, scope, target, detail in (
        ("grant_role", dep, "bob@trust.org", {"role": "Clinician"}),
        ("invite", org, "x@y.org", {"role": "Supervisor", "expires_in_hours": 72}),
        ("invite", dep, "z@y.org", {"role": "Admin", "expires_in_hours": 168}),
        ("change_role", dep, "bob@trust.org", {"from": "Clinician", "to": "Admin", "invitations_deleted": 1}),
        ("remove_member", dep, "bob@trust.org", {"role": "Admin", "invitations_deleted": 0}),
        (
            "update_role",
            org,
            "Ward Lead",
            {"from": ["view_patient_data"], "to": ["view_patient_data", "contact_patient"], "old_name": "Lead"},
        ),
        ("delete_role", org, "Ward Lead", {"assignments_removed": 1, "invitations_deleted": 2}),
        ("rename_organisation", org, "St Mary's Trust", {"old_name": "St Marys"}),
    ):
        await audit.record(actor=ada, action=action, scope=scope, target=target, detail=detail)
    await audit.record(
        actor=None,
        action="delivery_failed",
        scope=dep,
        target="z@y.org",
        outcome="failed",
        detail={"kind": "invitation", "error": "550 No such user"},
    )
    await audit.record(
        actor=None,
        action="purge",
        scope=org,
        target="finished invitations",
        detail={"invitations": 1, "retention_days": 90},
    )
    await audit.record(
        actor=ada, action="resend", scope=dep, target="z@y.org", outcome="refused", detail={"role": "Admin"}
    )
    heart = "Heart Failure Trial at St Mary's Trust"
    assert await _said(ada, world.org.id) == [
        f"Ada Admin gave Bob Brown (bob@trust.org) the role Clinician in {heart}.",
        "Ada Admin invited x@y.org as Supervisor to St Mary's Trust (whole organisation), with a link valid 72 hours.",
        f"Ada Admin invited z@y.org as Admin to {heart}, with a link valid 7 days.",
        f"Ada Admin changed the role of Bob Brown (bob@trust.org) in {heart} from Clinician to Admin; "
        "1 pending invitation they had sent there was deleted.",
        f"Ada Admin took the role Admin in {heart} away from Bob Brown (bob@trust.org).",
        "Ada Admin changed the custom role Ward Lead (renamed from Lead): added Contact patient.",
        "Ada Admin deleted the custom role Ward Lead (1 member lost it, 2 pending invitations with it deleted).",
        "Ada Admin renamed the organisation St Marys to St Mary's Trust.",
        "The email to z@y.org could not be delivered: 550 No such user.",
        "Gatehouse removed 1 finished invitation older than 90 days.",
        "Ada Admin tried to resend the invitation to z@y.org, and was refused "
        "(the role Admin is not theirs to hand out there).",
    ]
    rows, _ = await audit.events_page(actor=ada, organisation_id=world.org.id, action="purge")
    assert [(r.actor, r.outcome) for r in rows] == [("Gatehouse", "Done")]


async def test_an_action_without_a_sentence_and_a_vanished_place_are_still_said_plainly(db: str) -> None:
    world = await factories.world()
    ada = await factories.member("ada@trust.org", "organisation_owner", org=world.org, full_name="Ada Admin")
    await AuditEvent.create(**audit.event_fields(actor=ada, action="export_report", scope=world.org_scope, target="Q3"))
    gone = Scope(ScopeLevel.DEPLOYMENT, world.org.id, 999_999)
    await audit.record(actor=ada, action="resend", scope=gone, target="a@b.org")
    assert await _said(ada, world.org.id) == [
        "Ada Admin export report Q3.",
        "Ada Admin resent the invitation to a@b.org for a deployment that no longer exists at St Mary's Trust "
        "with a new link.",
    ]


async def test_a_changed_end_an_early_end_and_a_suspension_are_said_with_from_and_to(db: str) -> None:
    world = await factories.world()
    ada = await factories.member("ada@trust.org", "organisation_owner", org=world.org, full_name="Ada Admin")
    await factories.member("max@trust.org", "clinician", dep=world.dep, full_name="Max Mole")
    heart = "Heart Failure Trial at St Mary's Trust"
    ends = {"role": "Clinician", "from": "2027-01-01T17:00:00+00:00", "to": "2027-03-01T17:00:00+00:00"}
    await audit.record(actor=ada, action="set_end", scope=world.dep_scope, target="max@trust.org", detail=ends)
    await audit.record(
        actor=ada, action="set_end", scope=world.dep_scope, target="max@trust.org",
        detail={"role": "Clinician", "from": "2027-03-01T17:00:00+00:00", "to": "does not end"},
    )  # fmt: skip
    await audit.record(
        actor=ada, action="end_now", scope=world.dep_scope, target="max@trust.org",
        detail={"role": "Clinician", "from": "does not end"},
    )  # fmt: skip
    assert await _said(ada, world.org.id) == [
        f"Ada Admin changed the end of the Clinician access of Max Mole (max@trust.org) in {heart} "
        "from 1 Jan 2027, 17:00 UTC to 1 Mar 2027, 17:00 UTC.",
        f"Ada Admin changed the end of the Clinician access of Max Mole (max@trust.org) in {heart} "
        "from 1 Mar 2027, 17:00 UTC to no end.",
        f"Ada Admin ended the Clinician access of Max Mole (max@trust.org) in {heart} now (it was to end: no end).",
    ]
    suspended = AuditEvent(
        action="suspend_account", target="max@trust.org", actor_id=ada.member_id, outcome="ok",
        detail={"sessions_ended": 2, "invitations_deleted": 1},
    )  # fmt: skip
    restored = AuditEvent(action="restore_account", target="max@trust.org", actor_id=ada.member_id, outcome="ok")
    names = await sentences.names_for([suspended, restored])
    assert sentences.sentence(suspended, names) == (
        "Ada Admin suspended the account of Max Mole (max@trust.org): every access stopped at once, 2 sessions "
        "ended, 1 pending invitation they had sent was deleted."
    )
    assert sentences.sentence(restored, names) == "Ada Admin restored the account of Max Mole (max@trust.org)."
    assert {"set_end", "end_now", "suspend_account", "restore_account"} <= set(sentences.ACTION_LABELS)
