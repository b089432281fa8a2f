"""Words for people on the pages: empty states that say what to do, true expiry in the viewer's zone, the way on
from a dead link, and Add a new role opening its form."""

import re

from nicegui import ui
from nicegui.testing import User

from components import viewer_zone
from tests import factories
from tests.ui_helpers import eventually, sign_in, table


async def test_empty_lists_say_what_to_do_next(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care?org={world.org.id}&view=pending")
    await eventually(lambda: table(user, "pending").props.get("no-data-label", "").startswith("No pending"))
    assert table(user, "pending").props["no-data-label"] == (
        "No pending invitations. Use Invite staff members in the Manage menu to invite someone."
    )
    search = next(i for i in user.find(kind=ui.input).elements if i.props.get("aria-label", "").startswith("Search"))
    search.value = "nobody"
    await eventually(lambda: table(user, "pending").props["no-data-label"].startswith("No pending invitation matches"))
    await user.open(f"/care/roles?org={world.org.id}")
    await user.should_see("No custom roles yet. The default roles are always available; use Add a new role")


async def test_add_a_new_role_in_the_manage_menu_opens_the_add_form(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    user.find(marker="manage").trigger("choose", "roles")
    await user.should_see("Role name")
    await user.should_see(kind=ui.button, content="Save")


async def test_a_dead_link_offers_log_in(user: User) -> None:
    await user.open("/accept/not-a-real-token")
    await user.should_see("This invitation link is not valid.")
    link = next(iter(user.find(kind=ui.link, content="Log in").elements))
    assert link.props["href"] == "/login"


async def test_a_fresh_seven_day_link_says_seven_days_in_the_viewers_zone(user: User) -> None:
    token = await factories.invited_token("new@example.org", lifetime_hours=168)
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "America/New_York"
    await user.open(f"/accept/{token}")
    description = next(iter(user.find(kind=ui.label, marker="invitation").elements))
    await eventually(
        lambda: re.search(r"valid until \d{1,2} \w{3} \d{4}, \d\d:\d\d E[SD]T \(in 7 days\)\.$", description.text)
    )
