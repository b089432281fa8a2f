"""Story of the Webhooks page (issue 20 item 4): an owner adds an endpoint (a bad address is refused at its field),
copies the secret shown once, sends a test event and sees it in the delivery log, then disables and deletes it."""

from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction

from models import AuditEvent, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.ui_helpers import error_of, eventually, input_labelled, sign_in, table

URL = "Endpoint URL (https://…)"


async def test_an_owner_adds_an_endpoint_sends_a_test_event_and_reads_its_log(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open(f"/care?org={world.org.id}")
    user.find(marker="manage").trigger("choose", "webhooks")
    await user.should_see("Add an endpoint", retries=50)
    await user.should_see("No endpoint yet.")

    user.find(URL).type("http://hooks.example.org/in")
    user.find(marker="event-invitation.sent").click()
    user.find(marker="add").click()
    await eventually(lambda: "https://" in error_of(user, URL))
    assert not await WebhookEndpoint.exists()

    input_labelled(user, URL).value = "https://hooks.example.org/in"
    user.find(marker="add").click()
    await user.should_see("it is not shown again")
    endpoint = await WebhookEndpoint.get()
    secret = next(i for i in user.find(kind=ui.input).elements if i.props.get("label") == "Signing secret").value
    assert secret == endpoint.secret and secret.startswith("whsec_")
    assert endpoint.event_types == ["invitation.sent"]

    await eventually(lambda: user.find(kind=ui.button, content="Send test event"))  # the list is read again
    user.find(kind=ui.button, content="Send test event").click()
    await user.should_see("Test event queued.")
    await eventually(lambda: [r["event"] for r in table(user, f"log-{endpoint.id}").rows] == ["webhook.test"])
    assert table(user, f"log-{endpoint.id}").rows[0]["state"] == "Waiting"
    assert await WebhookDelivery.filter(event_type="webhook.test").count() == 1

    user.find(kind=ui.button, content="Disable").click()
    await user.should_see("Endpoint disabled.")
    await user.should_see("Disabled · Events: Invitation sent")
    user.find(kind=ui.button, content="Delete").click()
    await user.should_see("Delete this endpoint?")
    confirm = max(user.find(kind=ui.button, content="Delete").elements, key=lambda b: b.id)  # the dialog's
    UserInteraction(user, {confirm}, None).click()
    await user.should_see("Endpoint deleted.")
    await user.should_see("No endpoint yet.")
    assert not await WebhookEndpoint.exists() and not await WebhookDelivery.exists()
    assert await AuditEvent.filter(action="change_webhook").count() == 2  # disabled, deleted


async def test_the_page_and_its_menu_item_are_only_for_holders_of_manage_integrations(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "c@trust.org", "clinician", org=world.org)
    await user.open(f"/care/webhooks?org={world.org.id}")
    await user.should_see("You need the *manage integrations* permission in this organisation.")
    await user.should_not_see("Add an endpoint")
