"""The Invite staff pop-out's stories: imports that keep known people apart, invalid addresses that stay, a large send
that asks first, the right words for the wrong file, roles with their meaning, and refusals that stay in place."""

from datetime import UTC, datetime

from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from models import Invitation, InvitationState, MessageKind, Organisation, OutboxMessage, RoleAssignment
from services.approvals import rules
from services.invitations import service as invitations
from tests import factories
from tests.ui_helpers import eventually, select_labelled, sign_in, table

RETRIES = 50
CSV = "\ufeffE-mail;Name\nann@example.org;Ann\nnurse@trust.org;N\nwaiting@example.org;W\nbroken;B\nANN@example.org;A\n"


async def _open_care_pop_out(user: User, world: factories.World) -> factories.Actor:
    controller = await sign_in(user, "ac@trust.org", "access_controller", org=world.org)
    await user.open("/care")
    await eventually(lambda: len(table(user, "staff").rows) >= 1)
    user.find(marker="manage").trigger("choose", "invite")
    await _see(user, "Send invites")
    return controller


async def _upload(user: User, name: str, data: bytes) -> None:
    upload = next(iter(user.find(kind=ui.upload).elements))
    await upload.handle_uploads([SmallFileUpload(name=name, content_type="text/csv", _data=data)])


async def _see(user: User, text: str) -> None:
    """should_see with room for a loaded machine (two test workers on two cores)."""
    await user.should_see(text, retries=RETRIES)


async def _not_see(user: User, text: str) -> None:
    await user.should_not_see(text, retries=RETRIES)


def _lines(user: User, role: str) -> list[str]:
    """The text of the pop-out's status (role="status") or alert (role="alert") area."""
    areas = [c for c in user.find(kind=ui.column).elements if c.props.get("role") == role]
    return [label.text for area in areas for label in area.descendants() if isinstance(label, ui.label)]


HEART_FAILURE, WHOLE = "Heart Failure Trial at St Mary's Trust", "St Mary's Trust (whole organisation)"


def _choose(user: User, label: str, option: str) -> None:
    select = select_labelled(user, label)
    select.value = next(k for k, v in select.options.items() if v == option)  # type: ignore[union-attr]


def _send_button(user: User) -> ui.button:
    return next(iter(user.find(kind=ui.button, content="Send invites").elements))


async def test_an_import_keeps_members_and_invitees_apart_and_sends_them_only_when_ticked(user: User) -> None:
    world = await factories.world()
    await factories.member("nurse@trust.org", "supervisor", dep=world.dep)
    controller = await _open_care_pop_out(user, world)
    supervisor = await factories.role("supervisor")
    await invitations.send(
        actor=controller, addresses=["waiting@example.org"], role_id=supervisor.id, lifetime_hours=24,
        deployment_id=world.dep.id,
    )  # fmt: skip
    waiting = await Invitation.get(email="waiting@example.org")

    await _upload(user, "staff.csv", CSV.encode())
    await _see(
        user,
        "Read 5 rows: 1 address added for review, 2 already known (shown apart, not sent unless you choose), "
        "2 lines with problems.",
    )
    await _see(user, "1 valid address")  # only the new address became a chip
    await _see(user, "Already members (1): not sent unless you tick the box")
    await _see(
        user,
        f"Line 3: nurse@trust.org — Holds Supervisor in {HEART_FAILURE}: would also get the role you choose, "
        "with a notice email.",
    )
    _choose(user, "Role", "Supervisor")
    await _see(
        user,
        "Line 3: nurse@trust.org — Holds Supervisor in Heart Failure Trial at St Mary's Trust: would also get "
        "Supervisor in St Mary's Trust (whole organisation), with a notice email.",
    )
    await _see(
        user,
        "Line 4: waiting@example.org — Invited as Supervisor in Heart Failure Trial at St Mary's Trust: would get a "
        "second invitation, as Supervisor in St Mary's Trust (whole organisation).",
    )
    _choose(user, "Where", HEART_FAILURE)  # the invitation there would be replaced, the role is already held
    await _see(user, "Line 3: nurse@trust.org — Already holds Supervisor in Heart Failure Trial at St Mary's Trust")
    await _see(user, f"Line 4: waiting@example.org — Invited as Supervisor in {HEART_FAILURE}: that invitation")

    user.find(kind=ui.button, content="Send invites").click()
    await eventually(lambda: "Invited (1)" in _lines(user, "status"))
    assert _lines(user, "status") == [
        "Invited (1)",
        "ann@example.org",
        "Kept apart, not sent (you did not tick them) (2)",
        "nurse@trust.org, waiting@example.org",
    ]
    assert (await Invitation.get(email="waiting@example.org")).state == InvitationState.PENDING  # not replaced
    assert (await Invitation.get(id=waiting.id)).state == InvitationState.PENDING

    user.find(kind=ui.checkbox, content="Send to this address too").click()
    assert _send_button(user).enabled
    user.find(kind=ui.button, content="Send invites").click()
    await eventually(lambda: "Replaced a pending invitation (1)" in _lines(user, "status"))
    assert (await Invitation.get(id=waiting.id)).state == InvitationState.DELETED
    assert "nurse@trust.org" in _lines(user, "status")[-1]  # the member is still kept apart
    assert await RoleAssignment.filter(member__email="nurse@trust.org").count() == 1


async def test_invalid_addresses_stay_in_the_field_and_the_result_names_each_and_why(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    user.find("Email addresses").type("ok@example.org, not-an-address, bad@@example.org").trigger("keydown.enter")
    await _see(user, "1 valid address, 2 with problems")
    field = user.find("Email addresses").elements.pop()
    assert field.props["aria-invalid"] == "true"
    assert field.props["aria-describedby"].endswith("-problems")
    _choose(user, "Role", "Supervisor")
    user.find(kind=ui.button, content="Send invites").click()
    await eventually(lambda: "Invited (1)" in _lines(user, "status"))
    status = _lines(user, "status")
    assert status[2] == "Not invited, still in the field to correct (2)"
    assert status[3].startswith("not-an-address (missing @), bad@@example.org (")
    await _see(user, "0 valid addresses, 2 with problems")  # the invited one left, the invalid ones stayed
    assert {c.text for c in user.find(kind=ui.chip).elements} == {"not-an-address", "bad@@example.org"}
    assert not _send_button(user).enabled
    await _see(user, "Correct the addresses marked invalid or add a valid one.")


async def test_an_invitation_that_needs_approval_is_reported_awaiting_a_second_person_with_no_email(
    user: User,
) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    supervisor = await factories.role("supervisor")
    await rules.set_rules(actor=owner, organisation_id=world.org.id, role_ids=[supervisor.id], permissions=[])
    await _open_care_pop_out(user, world)
    user.find("Email addresses").type("new@example.org, other@example.org").trigger("keydown.enter")
    await _see(user, "2 valid addresses")
    _choose(user, "Role", "Supervisor")
    user.find(kind=ui.button, content="Send invites").click()
    waiting = "Awaiting a second person's approval: no email until then (2)"
    await eventually(lambda: waiting in _lines(user, "status"))
    assert _lines(user, "status") == [waiting, "new@example.org, other@example.org"]
    assert not await OutboxMessage.filter(kind=MessageKind.INVITATION, recipient__endswith="@example.org").exists()


async def test_a_large_send_asks_first_with_count_role_and_place_and_its_outcome_stays(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    addresses = [f"person{n}@example.org" for n in range(invitations.CONFIRM_ABOVE + 1)]
    user.find("Email addresses").type(" ".join(addresses)).trigger("keydown.enter")
    await _see(user, f"{len(addresses)} valid addresses")
    _choose(user, "Role", "Supervisor")
    user.find(kind=ui.button, content="Send invites").click()
    await _see(user, f"Send 51 invitations as Supervisor for {WHOLE}?")
    user.find(kind=ui.button, content="Cancel").click()
    await _not_see(user, f"Send 51 invitations as Supervisor for {WHOLE}?")
    assert await Invitation.filter(organisation_id=world.org.id).count() == 0
    user.find(kind=ui.button, content="Send invites").click()
    await user.should_see(kind=ui.button, content="Send 51 invitations", retries=RETRIES)
    user.find(kind=ui.button, content="Send 51 invitations").click()
    await eventually(lambda: "Invited (51)" in _lines(user, "status"))
    assert await Invitation.filter(organisation_id=world.org.id).count() == 51


async def test_the_wrong_file_is_told_what_it_is_and_what_to_do_instead(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    await _see(user, "A .csv, .txt or .tsv file of up to 10 MB: one address per line, or the addresses in")
    # The browser refused the file: its name and why come with the event.
    user.find(kind=ui.upload).trigger("rejected", [["staff.xlsx", "accept"]])
    excel = "“staff.xlsx” is an Excel workbook: save it as “CSV UTF-8” from your spreadsheet and import that file."
    await eventually(lambda: _lines(user, "alert") == [excel])
    user.find(kind=ui.upload).trigger("rejected", [["big.csv", "max-file-size"]])
    await eventually(lambda: _lines(user, "alert") == ["“big.csv” is larger than 10 MB: split it into smaller files."])

    await _upload(user, "staff.xlsx", b"PK\x03\x04 a workbook")  # a browser that sends it anyway
    await eventually(lambda: _lines(user, "alert") == [excel])
    await _upload(user, "staff.csv", b"Name,Email\nAnn,ann@example.org\nBob,bob@example.org\n")
    column = "The email addresses are in column 2 (“Email”), not in the first column."
    await eventually(lambda: any(line.startswith(column) for line in _lines(user, "alert")))
    await _not_see(user, "missing @")


async def test_roles_say_what_they_allow_and_changing_where_keeps_a_role_still_offered(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    role = select_labelled(user, "Role")
    option = role.slots["option"].template or ""
    assert "Sees the staff list, views patient data, exports patient data" in option  # Supervisor
    manager = "Invites and manages staff, edits roles, approves and reviews access, views patient data, exports"
    assert manager in option
    await _see(user, "Add at least one address and choose a role.")
    send = _send_button(user)
    assert send.props["aria-describedby"].endswith("-missing")

    _choose(user, "Role", "Supervisor")
    await _see(user, "Add at least one address.")
    _choose(user, "Where", HEART_FAILURE)
    assert role.options[role.value] == "Supervisor"  # offered there too: kept

    _choose(user, "Where", WHOLE)
    _choose(user, "Role", "Access Controller")
    _choose(user, "Where", HEART_FAILURE)
    assert role.value is None
    await _see(user, f"Access Controller is not offered for {HEART_FAILURE}: choose another role.")
    assert role.props["aria-invalid"] == "true" and role.props["aria-describedby"].endswith("-note")
    _choose(user, "Role", "Supervisor")
    await _not_see(user, "Access Controller is not offered")
    assert "aria-invalid" not in role.props


async def test_a_refusal_stays_in_the_pop_out_and_the_addresses_stay_to_try_again(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    user.find("Email addresses").type("ann@example.org").trigger("keydown.enter")
    _choose(user, "Role", "Supervisor")
    await Organisation.filter(id=world.org.id).update(archived_at=datetime.now(UTC))  # archived meanwhile
    user.find(kind=ui.button, content="Send invites").click()
    archived = "“St Mary's Trust” is archived: nothing can be changed in it until a Super Admin restores it."
    await eventually(lambda: _lines(user, "alert") == [archived])
    await _see(user, "1 valid address")
    assert await Invitation.filter(organisation_id=world.org.id).count() == 0


async def test_backspace_in_the_empty_field_or_on_a_chip_removes_it(user: User) -> None:
    world = await factories.world()
    await _open_care_pop_out(user, world)
    user.find("Email addresses").type("a@example.org b@example.org c@example.org").trigger("keydown.enter")
    await _see(user, "3 valid addresses")
    user.find("Email addresses").trigger("keydown.backspace")
    await _see(user, "2 valid addresses")
    assert {c.text for c in user.find(kind=ui.chip).elements} == {"a@example.org", "b@example.org"}
    user.find(kind=ui.chip, content="a@example.org").trigger("keydown.delete")
    await _see(user, "1 valid address")
