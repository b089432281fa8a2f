"""Stories of an invitation's end and sponsor (issue 18): the pop-out takes them (the end in the viewer's zone) and says
at the field what is wrong, changing nothing; the accept page says when the access ends and who sponsors it."""

import re
from datetime import UTC, datetime

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from components import viewer_zone
from models import Invitation, OutboxMessage
from services.access import grant_terms
from services.invitations import service as invitations
from tests import factories
from tests.ui_helpers import error_of, eventually, input_labelled, select_labelled, sign_in, table

RETRIES = 50
ENDS = "Access ends (optional)"


async def _owner_opens_the_pop_out(user: User, world: factories.World) -> factories.Actor:
    owner = await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) >= 1)
    user.find(marker="manage").trigger("choose", "invite")
    await user.should_see("Send invites", retries=RETRIES)
    role = select_labelled(user, "Role")
    role.value = next(k for k, v in role.options.items() if v == "Clinician")  # type: ignore[union-attr]
    user.find("Email addresses").type("temp@agency.org").trigger("keydown.enter")
    await user.should_see("1 valid address", retries=RETRIES)
    return owner


async def test_the_pop_out_sends_an_end_entered_in_the_viewers_zone_with_the_inviter_as_sponsor(user: User) -> None:
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "America/New_York"
    world = await factories.world()
    owner = await _owner_opens_the_pop_out(user, world)
    await eventually(lambda: "America/New_York" in str(input_labelled(user, ENDS).props.get("hint")))
    assert input_labelled(user, "Sponsor").value == "owner@trust.org"
    input_labelled(user, ENDS).value = "2099-01-15T17:00"
    user.find(kind=ui.button, content="Send invites").click()
    await user.should_see("Invited (1)", retries=RETRIES)
    invitation = await Invitation.get(email="temp@agency.org")
    assert invitation.ends_at == datetime(2099, 1, 15, 22, 0, tzinfo=UTC)  # 17:00 in New York in winter
    assert invitation.sponsor_id == owner.member_id


async def test_an_end_in_the_past_and_a_sponsor_who_may_not_are_said_at_their_fields_and_nothing_is_sent(
    user: User,
) -> None:
    world = await factories.world()
    await factories.member("nurse@trust.org", "clinician", org=world.org)
    await _owner_opens_the_pop_out(user, world)
    input_labelled(user, ENDS).value = "2020-01-01T10:00"
    input_labelled(user, "Sponsor").value = "nurse@trust.org"
    user.find(kind=ui.button, content="Send invites").click()
    await eventually(lambda: error_of(user, ENDS) == "The end of access must be in the future.")
    assert error_of(user, "Sponsor").startswith("nurse@trust.org cannot sponsor Clinician there")
    input_labelled(user, ENDS).value = "not a date"
    user.find(kind=ui.button, content="Send invites").click()
    await eventually(lambda: error_of(user, ENDS) == "Enter a date and time, like 2027-03-31 17:00.")
    assert not await Invitation.exists(email="temp@agency.org")
    assert not await OutboxMessage.exists(recipient="temp@agency.org")
    await user.should_see("1 valid address")  # the address stays, to send once corrected


async def test_the_accept_page_says_when_the_access_ends_and_who_sponsors_it(user: User) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org, full_name="Olive Owner")
    await factories.member("sam@trust.org", "organisation_editor", org=world.org, full_name="Sam Sponsor")
    clinician = await factories.role("clinician")
    ends_at = datetime(2099, 3, 31, 17, 0, tzinfo=UTC)
    await invitations.send(
        actor=owner, addresses=["temp@agency.org"], role_id=clinician.id, lifetime_hours=72,
        organisation_id=world.org.id, ends_at=ends_at, sponsor_email="sam@trust.org",
    )  # fmt: skip
    token = factories.token_of(await OutboxMessage.get(recipient="temp@agency.org"))
    await user.open(f"/accept/{token}")
    await user.should_see(
        "Your access ends on 31 Mar 2099, 17:00 UTC. Your sponsor, accountable for this access, is Sam Sponsor."
    )


async def test_the_accept_page_of_access_without_end_says_so(user: User) -> None:
    token = await factories.invited_token("new@example.org")
    await user.open(f"/accept/{token}")
    await user.should_see("Your access does not end on a set date. Your sponsor, accountable for this access, is Ow.")


async def test_the_staff_list_shows_each_grants_end_in_the_viewers_zone_and_its_sponsor(user: User) -> None:
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "Europe/London"
    world = await factories.world()
    await sign_in(user, "owner@trust.org", "organisation_owner", org=world.org)
    sponsor = await factories.member("sam@trust.org", "organisation_editor", org=world.org, full_name="Sam Sponsor")
    nurse = await factories.member("nurse@trust.org", full_name="Nia Nurse")
    ends_at = datetime(2099, 7, 1, 16, 0, tzinfo=UTC)
    await factories.grant(nurse.member_id, "clinician", org=world.org, ends_at=ends_at, sponsor_id=sponsor.member_id)
    await user.open("/care")

    def row_of(name: str) -> dict[str, str]:
        return next(row for row in table(user, "staff").rows if row["name"] == name)

    await eventually(lambda: row_of("Nia Nurse")["ends"] == "1 Jul 2099, 17:00 BST")
    assert row_of("Nia Nurse")["sponsor"] == "Sam Sponsor"
    assert row_of("Sam Sponsor")["ends"] == "Does not end"


async def test_an_imported_file_gives_each_line_its_own_end_read_in_the_viewers_zone(user: User) -> None:
    world = await factories.world()
    await _owner_opens_the_pop_out(user, world)
    upload = next(iter(user.find(kind=ui.upload).elements))
    data = b"Email,Access ends\nann@x.org,2099-03-31\nbob@x.org,\nbad@x.org,soon\nold@x.org,2020-01-01\n"
    await upload.handle_uploads([SmallFileUpload(name="temps.csv", content_type="text/csv", _data=data)])
    await user.should_see("1 address keeps the end of access given in the file:", retries=RETRIES)
    await user.should_see("ann@x.org: access ends 31 Mar 2099, 23:59 UTC")  # each line's end by its address
    await user.should_see("the end of access “soon” is not a date", retries=RETRIES)
    await user.should_see(  # found at import, like "not a date", and never sent
        "Line 5: old@x.org — its end of access 2020-01-01 23:59: The end of access must be in the future."
    )
    user.find(kind=ui.button, content="Send invites").click()
    await user.should_see("Invited (3)", retries=RETRIES)
    ends = dict(await Invitation.filter(email__endswith="x.org").values_list("email", "ends_at"))
    assert ends == {"ann@x.org": datetime(2099, 3, 31, 23, 59, tzinfo=UTC), "bob@x.org": None}


async def test_a_role_that_must_end_drops_optional_and_says_its_longest_duration(user: User) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    clinician = await factories.role("clinician")
    await grant_terms.set_policy(actor=owner, organisation_id=world.org.id, role_id=clinician.id, max_days=90)
    await _owner_opens_the_pop_out(user, world)  # Clinician chosen
    assert "at most 90 days from today" in str(input_labelled(user, "Access ends").props.get("hint"))
    assert not [i for i in user.find(kind=ui.input).elements if i.props.get("label") == ENDS]
    role = select_labelled(user, "Role")
    role.value = next(k for k, v in role.options.items() if v == "Supervisor")  # type: ignore[union-attr]
    await eventually(lambda: "does not end" in str(input_labelled(user, ENDS).props.get("hint")))
