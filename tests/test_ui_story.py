"""The newcomer's story through the UI (NiceGUI's simulated user): first admin, organisation, invite, accept."""

from collections.abc import Callable

from nicegui import ui
from nicegui.testing import User

from models import OutboxMessage
from services.access import auth
from services.invitations import acceptance
from tests import factories
from tests.ui_helpers import accept_with_app, eventually, log_in_with_code

PASSWORD = "a long enough password"


def _reset_limits() -> None:
    acceptance.accept_limiter.reset()
    auth.login_limiter.reset()


async def _latest_link(recipient: str) -> str:
    message = await OutboxMessage.filter(recipient=recipient, kind="invitation").order_by("-id").first()
    assert message is not None
    return factories.link_of(message).removeprefix("http://localhost:8080")


async def test_the_newcomer_story_from_first_admin_to_an_invited_clinician(
    user: User, create_user: Callable[[], User]
) -> None:
    _reset_limits()
    await user.open("/")
    await user.should_see("Welcome to Gatehouse")
    admin_app = await accept_with_app(user, await _latest_link("admin@localhost"), "Ada Admin")  # Super Admin: always
    await log_in_with_code(user, "admin@localhost", admin_app)
    await user.should_see("Admin Portal", retries=30)
    await user.should_see("Organisations")

    user.find("New organisation name").type("St Mary's Trust")
    user.find("Create organisation").click()
    await user.should_see("Organisation created.")
    organisations = user.find(kind=ui.table, marker="organisations").elements.pop()
    await eventually(lambda: any(row["name"] == "St Mary's Trust" for row in organisations.rows))  # after the notice
    org_row = next(row for row in organisations.rows if row["name"] == "St Mary's Trust")
    user.find(marker="organisations").trigger("new_deployment", org_row)
    await user.should_see("New deployment in St Mary's Trust")
    user.find("Deployment name").type("Heart Failure Trial")
    user.find("Create deployment").click()
    await user.should_see("Deployment created.")

    deployments = user.find(kind=ui.table, marker="deployments").elements.pop()
    await eventually(lambda: len(deployments.rows) == 1)  # the list refreshes after the notification
    user.find(marker="deployments").trigger("invite", deployments.rows[0])
    await user.should_see("Invite staff to Heart Failure Trial (St Mary's Trust)")
    send = user.find(kind=ui.button, content="Send invites").elements.pop()
    assert not send.enabled
    user.find("Email addresses").type("dana@example.org").trigger("keydown.enter")
    await user.should_see("1 valid address")
    role_select = next(s for s in user.find(kind=ui.select).elements if s.props.get("label") == "Role")
    clinician = next(key for key, label in role_select.options.items() if label == "Clinician")  # type: ignore[union-attr]
    role_select.value = clinician
    assert send.enabled
    user.find("Send invites").click()
    await user.should_see("Invited (1)")

    invitee = create_user()
    dana_app = await accept_with_app(invitee, await _latest_link("dana@example.org"), "Dana Scully")
    await log_in_with_code(invitee, "dana@example.org", dana_app)
    await invitee.should_see("Care Portal", retries=30)
    await invitee.should_see("Clinician — Heart Failure Trial at St Mary's Trust")
    await invitee.open("/admin")
    await invitee.should_see("The Admin Portal is for platform and organisation administrators.")
