"""Hostile input: addresses, names and CSV files that try to inject headers, markup or formulas, or to wear us out."""

import email
import email.policy
import re
import secrets
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User

from models import AuditEvent, Deployment, Invitation, Organisation, OutboxMessage, StaffMember
from services.access import auth, roles
from services.errors import InvalidInput, PermissionDenied
from services.invitations import acceptance, csv_import, pending
from services.invitations import service as invitations
from services.invitations.csv_import import CsvImportError
from services.mail.worker import MailWorker
from services.organisations import directory, staff
from services.organisations import service as organisations
from tests import factor_helpers, factories
from tests.faults.smtp_server import ScriptedSmtp
from tests.security.helpers import PASSWORD, accept, invite, latest_token, owner_and_world, relay_settings

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_ADDRESSES = {
    "a header after a line break": "ann@example.org\r\nBcc: eve@evil.example",
    "a bare line feed": "ann@example.org\nBcc: eve@evil.example",
    "a NUL": "ann\x00@example.org",
    "quotes": '"ann"@example.org',
    "markup": "<script>alert(1)</script>@example.org",
    "a display name": "Eve <eve@evil.example>",
    "a right-to-left override": "ann\u202e@example.org",
    "a zero-width space": "ann@exa\u200bmple.org",
    "an over-long local part": "a" * 65 + "@example.org",
    "an over-long address": "a@" + ".".join(["b" * 60] * 5) + ".org",
    "an over-long domain label": "ann@" + "b" * 64 + ".org",
    "a spreadsheet formula": "=HYPERLINK(1)@example.org",
    "a leading plus": "+31612345678@example.org",
    "a leading minus": "-2+3@example.org",
    "a Cyrillic letter in a Latin domain": "ann@ex\u0430mple.org",
    "a Greek letter in a Latin domain": "ann@ex\u03b1mple.org",
}


@pytest.mark.parametrize("what", HOSTILE_ADDRESSES)
async def test_an_address_that_could_inject_or_deceive_is_refused_with_its_reason(db: str, what: str) -> None:
    world, owner = await owner_and_world()
    result = await invite(owner, world, [HOSTILE_ADDRESSES[what], "fine@example.org"])
    assert result.invited == ["fine@example.org"]
    [(address, reason)] = result.invalid
    assert address == HOSTILE_ADDRESSES[what] and reason
    assert await OutboxMessage.filter(recipient__not="fine@example.org").count() == 0


async def test_one_address_written_many_ways_is_one_invitation(db: str) -> None:
    world, owner = await owner_and_world()
    spellings = [
        "Ann@Example.org",
        " ann@example.org ",
        "ANN@EXAMPLE.ORG",
        "ann@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.org",
    ]
    idn = ["x@b\u00fccher.example", "X@B\u00dcCHER.EXAMPLE", "x@xn--bcher-kva.example"]
    result = await invite(owner, world, spellings + idn)
    assert result.invited == ["ann@example.org", "x@b\u00fccher.example"]
    again = await invite(owner, world, ["ANN@example.ORG"])
    assert again.replaced == ["ann@example.org"]
    assert await Invitation.filter(state="pending").count() == 2


async def test_names_with_markup_and_line_breaks_stay_text_in_every_part_of_the_email(db: str) -> None:
    org = await Organisation.create(name=organisations.clean_name('<img src=x onerror=alert(1)> "Trust" & Co', "x"))
    dep = await Deployment.create(organisation=org, name=organisations.clean_name("Ward\r\nBcc: eve@evil.example", "x"))
    owner = await factories.member("owner@trust.org", "organisation_owner", org=org, full_name="Olive </b><i>Owner")
    role = await roles.create_custom(
        actor=owner, organisation_id=org.id, name="<b>Boss</b>\r\nX-Injected: yes", permissions=["view_staff_list"]
    )
    await invitations.send(
        actor=owner, addresses=["new@example.org"], role_id=role.id, lifetime_hours=24, deployment_id=dep.id
    )
    relay = ScriptedSmtp()
    try:
        await MailWorker(relay_settings(await relay.start())).run_until_empty()
    finally:
        await relay.stop()

    [received] = relay.received
    assert received.recipients == ["new@example.org"]
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert sorted(message.keys()) == ["Content-Type", "Date", "From", "MIME-Version", "Message-ID", "Subject", "To"]
    assert message["To"] == "new@example.org"
    assert "\n" not in str(message["Subject"]) and "Olive </b><i>Owner" in str(message["Subject"])
    text, html = (part.get_content() for part in message.iter_parts())
    assert "<img src=x" not in html and "<b>Boss</b>" not in html and "</b><i>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;Boss&lt;/b&gt;" in html
    assert '<img src=x onerror=alert(1)> "Trust" & Co' in text
    assert "Ward Bcc: eve@evil.example" in text


async def test_the_accept_page_shows_names_with_markup_as_plain_text(user: User) -> None:
    org = await Organisation.create(name="<img src=x onerror=alert(1)> Trust")
    await Deployment.create(organisation=org, name="<script>alert(2)</script>")
    owner = await factories.member("owner@trust.org", "organisation_owner", org=org, full_name="<b>Olive</b>")
    clinician = await factories.role("clinician")
    await invitations.send(
        actor=owner, addresses=["new@example.org"], role_id=clinician.id, lifetime_hours=24, organisation_id=org.id
    )
    acceptance.accept_limiter.reset()
    await user.open(f"/accept/{await latest_token('new@example.org')}")

    [text] = [label for label in user.find(kind=ui.label, content="<b>Olive</b> invited").elements]
    assert "<img src=x onerror=alert(1)> Trust" in text.text
    assert type(text) is ui.label  # rendered as text by Vue, never as HTML


UNSAFE_UI = (
    r"ui\.html\(",
    r"ui\.markdown\(",
    r"v-html",
    r"add_body_html",
    r"sanitize=False",
    r"options-html",
    r"add_head_html\((?![A-Z][A-Z_]*(, shared=True)?\))",  # only a module constant (static markup, never user text)
)


def test_no_page_or_component_renders_text_as_html() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {marker}"
        for folder in ("pages", "components")
        for path in sorted((ROOT / folder).glob("*.py"))
        for marker in UNSAFE_UI
        if re.search(marker, path.read_text())
    ]
    assert offenders == []


async def test_a_refused_request_full_of_hostile_text_is_still_recorded_safely(db: str) -> None:
    world, _ = await owner_and_world()
    outsider = await factories.member("eve@evil.example", "supervisor", org=world.org)
    clinician = await factories.role("clinician")
    hostile = ["x@example.org\r\n2026-01-01 forged audit line", "nul\x00@example.org", "<script>alert(1)</script>"]
    with pytest.raises(PermissionDenied):
        await invitations.send(
            actor=outsider, addresses=hostile, role_id=clinician.id, lifetime_hours=24, deployment_id=world.dep.id
        )
    refusal = await AuditEvent.get(action="invite", outcome="refused")
    assert refusal.target.isprintable() and "\x00" not in refusal.target
    assert "forged audit line" in refusal.target and "<script>" in refusal.target  # kept, as text, for the record


async def test_a_log_in_with_a_nul_in_the_address_is_a_wrong_log_in_not_a_database_error(db: str) -> None:
    with pytest.raises(InvalidInput, match="do not match"):
        await auth.login(email="admin@example.org\x00", password=PASSWORD, redirect_to="/", client="c")


@pytest.mark.parametrize("where", ["pending invitations", "staff", "organisations"])
async def test_a_nul_typed_into_a_search_box_finds_nothing_instead_of_failing(db: str, where: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["ann@example.org"])
    searches = {
        "pending invitations": lambda: pending.list_pending(actor=owner, organisation_id=world.org.id, search="a\x00"),
        "staff": lambda: staff.staff_page(actor=owner, organisation_id=world.org.id, search="o\x00"),
        "organisations": lambda: directory.organisations_page(actor=owner, search="S\x00"),
    }
    found = await searches[where]()
    assert "ann@example.org" not in repr(found) and "owner@trust.org" not in repr(found)
    assert world.org.name not in repr(found)


async def test_a_custom_role_name_with_control_characters_is_refused(db: str) -> None:
    world, owner = await owner_and_world()
    with pytest.raises(InvalidInput):
        await roles.create_custom(
            actor=owner, organisation_id=world.org.id, name="Nurse\x00\x1b[2J", permissions=["view_staff_list"]
        )


@pytest.mark.parametrize("name", ["Eve\u202eevE", "Eve\x1b[31mRed", "Eve\u200bHidden", "Eve\x9b31mNext", "Eve\x00"])
async def test_a_name_with_invisible_or_control_characters_is_refused_at_acceptance(db: str, name: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["new@example.org"])
    with pytest.raises(InvalidInput, match="control or invisible"):
        await acceptance.accept_new_account(
            enrolment=factor_helpers.proof(),
            token=await latest_token("new@example.org"),
            full_name=name,
            password=PASSWORD,
            repeat=PASSWORD,
            client="c",
        )


async def test_a_name_in_any_script_with_punctuation_is_welcome(db: str) -> None:
    world, owner = await owner_and_world()
    await invite(owner, world, ["new@example.org"])
    name = "Zoë O'Brien-Łukasz 山田"
    await accept(await latest_token("new@example.org"), name=name)
    member = await StaffMember.get(email="new@example.org")
    assert member.full_name == name


PNG = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(2048)
BINARIES = {
    "an image": PNG,
    "random bytes": secrets.token_bytes(4096) + b"\x00",
    "a workbook": b"PK\x03\x04" + secrets.token_bytes(512),
    "a PDF": b"%PDF-1.7\n" + secrets.token_bytes(512),
    "an old Excel file": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + secrets.token_bytes(512),
    "mostly control characters": bytes(range(1, 9)) * 1000,
}


@pytest.mark.parametrize("what", BINARIES)
def test_a_binary_file_is_refused_as_a_whole(what: str) -> None:
    with pytest.raises(CsvImportError):
        csv_import.parse(data=BINARIES[what])


def test_a_huge_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(CsvImportError, match="too large"):
        csv_import.parse(data=b"a@example.org\n" * (csv_import.DEFAULT_MAX_BYTES // 14 + 1))


@pytest.mark.parametrize(
    "data",
    [
        b"a" * (5 * 1024 * 1024),  # one endless line without a break
        b"ann@example.org\n" + b"x," * 2_000_000,  # an endless row of cells
        b'ann@example.org\n"never closed\n' + b"b@example.org\n" * 100_000,  # a quote that swallows the rest
    ],
    ids=["endless line", "endless row", "unclosed quote"],
)
def test_endless_lines_are_refused_with_the_line_number(data: bytes) -> None:
    with pytest.raises(CsvImportError, match=r"Line [12] "):
        csv_import.parse(data=data)


def test_too_many_rows_are_refused() -> None:
    with pytest.raises(CsvImportError, match="more than 10 rows"):
        csv_import.parse(data=b"".join(b"u%d@example.org\n" % n for n in range(11)), max_rows=10)


def test_formula_cells_never_become_addresses() -> None:
    cells = [
        "=HYPERLINK(\"http://evil.example\";\"x\")@example.org", "+cmd|' /C calc'!A0@example.org", "-2+3@example.org",
        "@SUM(1+1)*cmd@example.org", "\t=1+1@example.org", " =1+1@example.org", '"=1+1@example.org"',
        "Eve <=1+1@example.org>", "ok@example.org",
    ]  # fmt: skip
    data = "\n".join(["email", *cells]).encode()

    result = csv_import.parse(data=data)

    assert result.addresses == ["ok@example.org"]
    assert len(result.problems) == len(cells) - 1
    assert all(problem.reason for problem in result.problems)
    assert all(not problem.value.startswith(("=", "+", "-", "@")) or problem.reason for problem in result.problems)
