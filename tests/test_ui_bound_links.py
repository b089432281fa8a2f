"""Stories of a link bound to the person it names (issue 21 item 3): opened in a browser logged in as another
account, the accept page says so and offers to log out first; the grant never goes to the account logged in."""

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Organisation, RoleAssignment, Session
from services.errors import PermissionDenied
from services.invitations import acceptance
from tests import factories
from tests.ui_helpers import sign_in

SOMEONE = "someone@trust.org"


async def _someone_signed_in(user: User) -> factories.Actor:
    return await sign_in(user, SOMEONE, "clinician", org=await Organisation.first())


async def test_a_link_for_a_new_address_opened_while_logged_in_as_someone_else_offers_to_log_out(user: User) -> None:
    token = await factories.invited_token("new@example.org")
    someone = await _someone_signed_in(user)
    await user.open(f"/accept/{token}")
    await user.should_see(f"You are logged in as {SOMEONE}, but this invitation is for new@example.org.")
    await user.should_not_see("Create your account")
    user.find(kind=ui.button, content="Log out and continue").click()
    await user.should_see("Create your account", retries=100)
    assert not await Session.filter(member_id=someone.member_id, revoked_at=None).exists()
    assert await factories.holds(SOMEONE, "clinician")  # logging out took nothing away


async def test_an_existing_accounts_link_opened_as_another_account_never_gives_that_account_the_role(
    user: User,
) -> None:
    token = await factories.invited_token("nurse@trust.org")
    await factories.member("nurse@trust.org", full_name="Nia Nurse")
    someone = await _someone_signed_in(user)
    await user.open(f"/accept/{token}")
    await user.should_see(f"You are logged in as {SOMEONE}, but this invitation is for nurse@trust.org.")
    await user.should_not_see(f"Accept as {SOMEONE}")
    grants_before = await RoleAssignment.filter(member_id=someone.member_id).count()
    with pytest.raises(PermissionDenied):  # the service refuses it too, whatever the page shows
        await acceptance.accept_as_member(actor=someone, token=token, client="testclient")
    assert await RoleAssignment.filter(member_id=someone.member_id).count() == grants_before
    assert await AuditEvent.filter(action="accept", outcome="refused", actor_email=SOMEONE).exists()
    user.find(kind=ui.button, content="Log out and continue").click()
    await user.should_see("nurse@trust.org already has an account. Log in to accept this invitation.", retries=100)
