"""Form errors at their fields (components/form_errors.py): all at once, aria-invalid and aria-describedby naming
the message, and refusals that stay in the form instead of fading."""

from nicegui import ui
from nicegui.testing import User

from models import StaffMember
from tests import factories
from tests.ui_helpers import PASSWORD, error_of, eventually, input_labelled, sign_in, table


async def test_an_empty_log_in_says_at_each_field_what_is_missing(user: User) -> None:
    await user.open("/login")
    user.find(kind=ui.button, content="Log in").click()
    await eventually(lambda: error_of(user, "Email") == "Enter your email address")
    assert error_of(user, "Password") == "Enter your password"
    user.find("Email").type("someone@example.org")
    assert error_of(user, "Email") == ""  # corrected: the field is valid again
    assert error_of(user, "Password") == "Enter your password"


async def test_a_wrong_password_stays_said_in_the_form(user: User) -> None:
    await factories.member("ann@example.org")
    await user.open("/login?email=ann@example.org")
    user.find("Password").type("not the password at all")
    user.find(kind=ui.button, content="Log in").click()
    await user.should_see("That email and password do not match an account.")
    alert = next(e for e in user.find(kind=ui.label).elements if e.props.get("role") == "alert")
    assert alert.visible and alert.text == "That email and password do not match an account."


async def test_the_accept_form_shows_every_problem_at_its_field_at_once(user: User) -> None:
    token = await factories.invited_token("new@example.org")
    await user.open(f"/accept/{token}")
    user.find("Password").type("short")
    user.find("Repeat password").type("different")
    user.find(kind=ui.button, content="Continue").click()  # a Clinician sets up a second factor next
    await eventually(lambda: error_of(user, "Full name") == "Enter your full name.")
    assert error_of(user, "Password").startswith("Choose a password of at least")
    assert error_of(user, "Repeat password") == "The two passwords are not the same."
    assert not await StaffMember.exists(email="new@example.org")
    user.find("Full name").type("Nina New")
    input_labelled(user, "Password").value = PASSWORD
    input_labelled(user, "Repeat password").value = PASSWORD
    user.find(kind=ui.button, content="Continue").click()
    await user.should_see("Set up your authenticator app")
    assert not await StaffMember.exists(email="new@example.org"), "no account before the factor is set up"


async def test_name_forms_show_their_refusal_at_the_name_field(user: User) -> None:
    world = await factories.world()
    await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open(f"/care/roles?org={world.org.id}&add=1")
    await user.should_see("Role name")
    user.find("Role name").type("Clinician")
    user.find(kind=ui.button, content="Save").click()
    await eventually(
        lambda: error_of(user, "Role name") == "A role called “Clinician” already exists in this organisation."
    )

    await sign_in(user, "sa@example.org", "super_admin")
    await user.open("/admin")
    await eventually(lambda: len(table(user, "organisations").rows) == 2)
    user.find(kind=ui.button, content="Create organisation").click()
    await eventually(lambda: error_of(user, "New organisation name") == "Give the organisation a name.")
    row = next(r for r in table(user, "organisations").rows if r["name"] == world.org.name)
    user.find(marker="organisations").trigger("new_deployment", row)
    await user.should_see("Deployment name")
    input_labelled(user, "Deployment name").value = world.dep.name
    user.find(kind=ui.button, content="Create deployment").click()
    await eventually(lambda: "already has a deployment called" in error_of(user, "Deployment name"))
    await user.should_see("Deployment name")  # the dialog stays open to correct it
