"""Stories of the role editor and the audit log pages."""

import re
from zoneinfo import ZoneInfo

from nicegui import ui
from nicegui.testing import User

from components import viewer_zone
from models import AuditEvent, Role
from services.invitations import service as invitations
from tests import factories
from tests.ui_helpers import eventually, sign_in, table


async def test_an_access_controller_adds_edits_and_deletes_a_custom_role(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care/roles?org={world.org.id}")
    await user.should_see("No custom roles yet.")
    user.find(kind=ui.button, content="Add a new role").click()
    await user.should_see("Role name")
    user.find("Role name").type("Phone Support")
    user.find("Export patient data").click()
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Role saved.")
    role = await Role.get(name="Phone Support", organisation_id=world.org.id)
    assert sorted(role.permissions) == ["export_patient_data", "view_patient_data"]
    await user.should_see("Phone Support")
    user.find(kind=ui.button, content="Delete").click()
    user.find(kind=ui.button, content="Delete role").click()
    await user.should_see("Role deleted.")
    await user.should_see("No custom roles yet.")


async def test_a_custom_role_is_marked_privileged_for_the_shorter_review_schedule(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care/roles?org={world.org.id}&add=1")
    await user.should_see("Role name")
    user.find("Role name").type("Data Steward")
    next(e for e in user.find(marker="privileged").elements if isinstance(e, ui.checkbox)).value = True
    user.find(kind=ui.button, content="Save").click()
    await user.should_see("Role saved.")
    assert (await Role.get(name="Data Steward")).privileged
    await user.should_see("Data Steward (privileged)")
    assert (await Role.get(key="access_controller")).privileged  # staff managers are, in the catalogue
    assert not (await Role.get(key="clinician")).privileged


async def test_the_role_editor_is_closed_to_those_without_edit_roles(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await user.open(f"/care/roles?org={world.org.id}")
    await user.should_see("You need the *edit roles and permissions* permission in this organisation.")
    await user.should_not_see("Add a new role")


async def test_the_audit_log_lists_changes_and_refusals_and_filters_by_action(user: User) -> None:
    world = await factories.world()
    controller = await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    supervisor = await factories.role("supervisor")
    await invitations.send(
        actor=controller,
        addresses=["a@example.org"],
        role_id=supervisor.id,
        lifetime_hours=24,
        organisation_id=world.org.id,
    )
    admin = await factories.role("admin")
    try:
        await invitations.send(
            actor=controller,
            addresses=["b@example.org"],
            role_id=admin.id,
            lifetime_hours=24,
            deployment_id=world.dep.id,
        )
    except Exception as refused:
        assert "may not hand out" in str(refused)
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "Asia/Tokyo"
    await user.open(f"/care/audit?org={world.org.id}")
    await eventually(lambda: len(table(user, "audit").rows) == 2)
    outcomes = {(r["action"], r["outcome"]) for r in table(user, "audit").rows}
    assert outcomes == {("invite", "Done"), ("invite", "Refused")}
    # In sentences, with names, not codes; times in the browser's zone, named.
    assert {r["sentence"] for r in table(user, "audit").rows} == {
        "Ac invited a@example.org as Supervisor to St Mary's Trust (whole organisation), with a link valid 24 hours.",
        "Ac tried to invite b@example.org as Admin to Heart Failure Trial at St Mary's Trust, and was refused "
        "(the role Admin is not theirs to hand out there).",
    }
    await user.should_see("Times are shown in Asia/Tokyo.")
    await eventually(lambda: all(r["at"].endswith(" JST") for r in table(user, "audit").rows))
    newest = await AuditEvent.filter(organisation_id=world.org.id).order_by("-at", "-id").first()
    assert newest is not None
    assert table(user, "audit").rows[0]["at"] == newest.at.astimezone(ZoneInfo("Asia/Tokyo")).strftime(
        "%-d %b %Y, %H:%M:%S JST"
    )
    action = next(iter(user.find(kind=ui.select).elements))
    assert (
        isinstance(action.options, dict) and action.options["grant_role"] == "Roles given to members"
    )  # the filter speaks words too
    action.value = "invite"
    await eventually(lambda: len(table(user, "audit").rows) == 2)
    action.value = "archive_organisation"
    await eventually(lambda: len(table(user, "audit").rows) == 0)
    assert table(user, "audit").props["no-data-label"].startswith("No event matches these filters.")


async def test_the_audit_log_is_closed_to_those_who_do_not_manage_staff(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await user.open(f"/care/audit?org={world.org.id}")
    await user.should_see("Only those who manage this organisation's staff may read its audit log.")
