"""Pages offer only what the viewer may do (services/access/rights.py); the services refuse the rest anyway."""

from typing import Any

from nicegui.testing import User

from models import Organisation
from services.platform.clock import now
from tests import factories
from tests.ui_helpers import eventually, sign_in, table


def _offered(user: User, marker: str, row: dict[str, Any]) -> set[str]:
    """The row menu's items the table shows in this row (the rule of data_table.js's itemsFor)."""
    menu = table(user, marker).props.get("row-menu")
    if menu is None:
        return set()
    return {
        item["label"]
        for item in menu["items"]
        if (not item["only_if"] or row.get(item["only_if"])) and not (item["unless"] and row.get(item["unless"]))
    }


async def test_a_clinician_is_offered_only_access_history(user: User) -> None:
    world = await factories.world()
    await factories.member("su@trust.org", "supervisor", dep=world.dep, full_name="Sue")
    await sign_in(user, "nurse@trust.org", "clinician", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 2)
    staff = table(user, "staff")
    assert all(_offered(user, "staff", row) == {"Access history"} for row in staff.rows)  # who may see the list


async def test_a_staff_manager_is_offered_the_actions_only_on_the_roles_it_may_change(user: User) -> None:
    world = await factories.world()
    await factories.member("su@trust.org", "supervisor", dep=world.dep, full_name="Sue")
    await factories.member("ow@trust.org", "organisation_owner", org=world.org, full_name="Olga Owner")
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) == 3)
    offered = {row["email"]: _offered(user, "staff", row) for row in table(user, "staff").rows}
    managed = {"Change role", "Change end of access", "Remove from team", "Access history"}
    assert offered == {
        "su@trust.org": managed | {"Reset second factor"},
        "ac@trust.org": managed,  # nobody resets their own second factor
        "ow@trust.org": {"Access history"},
    }


async def test_an_organisation_editor_is_offered_no_archive_and_only_a_super_admin_restore(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ed@trust.org", "organisation_editor", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "organisations").rows) == 1)
    assert _offered(user, "organisations", table(user, "organisations").rows[0]) == {
        "Invite staff",
        "New deployment",
        "Rename",
    }
    assert all(_offered(user, "deployments", row) == {"Invite staff"} for row in table(user, "deployments").rows)


async def test_an_owner_is_offered_archive_and_a_super_admin_restore_of_an_archived_one(user: User) -> None:
    world = await factories.world()
    await Organisation.filter(id=world.other_org.id).update(archived_at=now())
    await sign_in(user, "ow@trust.org", "organisation_owner", org=world.org)
    await user.open("/admin")
    await eventually(lambda: len(table(user, "organisations").rows) == 1)
    assert "Archive" in _offered(user, "organisations", table(user, "organisations").rows[0])
    await sign_in(user, "sa@example.org", "super_admin")
    await user.open("/admin")
    user.find("Show archived").click()
    await eventually(lambda: len(table(user, "organisations").rows) == 2)
    rows = {row["name"]: _offered(user, "organisations", row) for row in table(user, "organisations").rows}
    assert rows[world.other_org.name] == {"Restore"}
    assert "Restore" not in rows[world.org.name] and "Archive" in rows[world.org.name]
