"""Stories of the Integrations page (issue 20 item 1): an owner makes an API token (shown once, with a warning and
a copy button), sees it listed with its permissions and last use, and revokes it after confirming; the list follows
changes live; those without manage integrations get no menu item and the page refuses them."""

from nicegui import ui
from nicegui.testing import User

from models import ApiToken, AuditEvent
from pages.integrations import SHOWN_ONCE
from services.integrations import tokens
from tests import factories
from tests.ui_helpers import eventually, sign_in, table


def _box(user: User, marker: str) -> ui.checkbox:
    return next(e for e in user.find(marker=marker).elements if isinstance(e, ui.checkbox))


async def test_an_owner_makes_a_token_sees_it_once_and_in_the_list(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}")
    user.find(marker="manage").trigger("choose", "integrations")
    await user.should_see("Make an API token", retries=50)
    user.find(marker="token-name").type("Entra ID provisioning")
    _box(user, "permission-invite_staff").value = True
    _box(user, "permission-view_staff_list").value = True
    user.find(marker="token-days").clear().type("30")
    user.find(kind=ui.button, content="Make token").click()
    await user.should_see(SHOWN_ONCE, retries=50)
    shown = next(e for e in user.find(marker="new-token").elements if isinstance(e, ui.input))
    stored = await ApiToken.get(name="Entra ID provisioning")
    assert str(shown.value).startswith(stored.prefix) and stored.permissions == ["invite_staff", "view_staff_list"]
    user.find(kind=ui.button, content="Copy token").click()
    await user.should_see("Copied to the clipboard.")
    user.find(kind=ui.button, content="I have copied it").click()
    await eventually(lambda: table(user, "tokens").rows)  # the list is read again after the token is shown
    rows = table(user, "tokens").rows
    assert [(r["name"], r["permissions"], r["state"], r["last_used"]) for r in rows] == [
        ("Entra ID provisioning", "invite_staff, view_staff_list", "Active", "Never")
    ]
    assert rows[0]["prefix"] == f"{stored.prefix}…" and rows[0]["created_by"] == "owner@trust.org"


async def test_bad_input_is_shown_at_its_fields_and_makes_nothing(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/integrations?org={world.org.id}")
    user.find(marker="token-days").clear().type("400")
    user.find(kind=ui.button, content="Make token").click()
    await user.should_see("Give the token a name that says what uses it.", retries=50)
    await user.should_see("Choose between 1 and 366 days.")
    await user.should_see("Choose what the token may do.")
    assert not await ApiToken.exists()


async def test_a_token_is_revoked_after_confirming_and_the_list_follows_changes_live(user: User) -> None:
    world = await factories.world()
    owner = await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care/integrations?org={world.org.id}")
    await user.should_see("Make an API token")
    raw, row = await tokens.create(
        actor=owner, organisation_id=world.org.id, name="HR feed", permissions=["view_staff_list"], days=5
    )
    await eventually(lambda: [r["name"] for r in table(user, "tokens").rows] == ["HR feed"])
    user.find(marker="tokens").trigger("revoke", table(user, "tokens").rows[0])
    await user.should_see("Revoke the token “HR feed”?", retries=50)
    assert not (await ApiToken.get(id=row.id)).revoked_at
    user.find(kind=ui.button, content="Revoke").click()
    await eventually(lambda: table(user, "tokens").rows[0]["state"] == "Revoked")
    assert await AuditEvent.filter(action="revoke_token", target="HR feed").exists()
    assert raw


async def test_without_manage_integrations_there_is_no_menu_item_and_the_page_refuses(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}")
    await eventually(lambda: len(table(user, "staff").rows) == 1)
    items = [text for _key, text in next(iter(user.find(marker="manage").elements)).props["items"]]
    assert "Integrations" not in items
    await user.open(f"/care/integrations?org={world.org.id}")
    await user.should_see(tokens.REFUSED)
    await user.should_not_see("Make an API token")
