"""Rendered emails: valid MIME, the right words, escaped names and no way to inject headers."""

import email
import email.policy
import re
from email.message import EmailMessage

import pytest

from services.mail import templates as mail_templates
from services.mail.templates import message_id, render, smtp_address, subject_for
from services.platform import settings
from tests.conftest import TEST_SECRET

CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_BASE_URL": "https://portal.example.org"})
LINK = "https://portal.example.org/accept/abc123"
INVITATION = {
    "inviter_name": "Ann Inviter",
    "inviter_email": "ann@trust.example",
    "scope_name": "Deployment Alpha at St Mary's Trust",
    "role_name": "Clinician",
    "expires_at": "2026-11-25T10:30:00+00:00",
}


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def test_an_invitation_is_a_well_formed_multipart_message() -> None:
    raw = render("invitation", recipient="bob@example.org", context=INVITATION, link=LINK, settings=CONFIG)
    message = parse(raw)

    assert message.defects == [] and all(part.defects == [] for part in message.walk())
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "Gatehouse <gatehouse@localhost>"
    assert message["To"] == "bob@example.org"
    assert message["Subject"] == "Ann Inviter invited you to Deployment Alpha at St Mary's Trust"
    assert message["Date"].datetime.tzinfo is not None
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@localhost>")
    assert message["MIME-Version"] == "1.0"
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8" and part["Content-Transfer-Encoding"] == "quoted-printable"
    assert raw.isascii() and b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_an_invitation_says_who_where_what_until_with_the_link() -> None:
    text, html = bodies(
        parse(render("invitation", recipient="b@example.org", context=INVITATION, link=LINK, settings=CONFIG))
    )

    expected = (
        "Ann Inviter (ann@trust.example) has invited you to join Deployment Alpha at St Mary's Trust as Clinician."
    )
    assert expected in text
    assert "valid until Wednesday 25 November 2026, 10:30 UTC" in text
    assert f"Create your account:\n{LINK}\n" in text
    assert f'<a href="{LINK}"' in html and ">Create account</a>" in html
    assert "Deployment Alpha at St Mary&#39;s Trust" in html and "25 November 2026, 10:30 UTC" in html
    # One wording for every invitee: nothing in the email depends on whether the address has an account.
    assert "If you already have a Gatehouse account, the link asks you to log in instead." in text
    assert "If you already have a Gatehouse account, the link asks you to log in instead." in html


def test_a_reminder_says_so_and_when_the_invitation_expires_with_the_same_button_and_link() -> None:
    context = {**INVITATION, "sponsor_name": "Sam <Sponsor>"}
    message = parse(render("reminder", recipient="b@example.org", context=context, link=LINK, settings=CONFIG))
    text, html = bodies(message)

    assert message.defects == [] and message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Reminder: Ann Inviter invited you to Deployment Alpha at St Mary's Trust"
    assert (
        "Reminder: Ann Inviter (ann@trust.example) invited you to join Deployment Alpha at St Mary's Trust as "
        "Clinician.\nThis invitation expires on Wednesday 25 November 2026, 10:30 UTC." in text
    )
    assert f"Create your account:\n{LINK}\n" in text and "the same link as in the invitation" in text
    assert "Your sponsor, accountable for this access, is Sam <Sponsor>." in text
    assert f'<a href="{LINK}"' in html and ">Create account</a>" in html
    assert "This invitation expires on <strong>Wednesday 25 November 2026, 10:30 UTC</strong>" in html
    assert "Sam &lt;Sponsor&gt;" in html and "<Sponsor>" not in html


def test_names_are_escaped_in_html_and_kept_on_one_line_in_headers() -> None:
    hostile = {
        **INVITATION,
        "inviter_name": 'Eve <script>alert("x")</script>\r\nBcc: victim@example.org',
        "scope_name": "<b>Trust</b>",
    }
    message = parse(render("invitation", recipient="b@example.org", context=hostile, link=LINK, settings=CONFIG))
    text, html = bodies(message)

    assert message["Bcc"] is None
    assert "\n" not in message["Subject"]
    assert message["Subject"].startswith('Eve <script>alert("x")</script> Bcc: victim@example.org invited you')
    assert "<script>" not in html and "<b>Trust</b>" not in html
    assert "Eve &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html and "&lt;b&gt;Trust&lt;/b&gt;" in html
    assert 'Eve <script>alert("x")</script> Bcc: victim@example.org (ann@trust.example)' in text


@pytest.mark.parametrize(
    "recipient",
    ["bob@example.org\r\nBcc: eve@example.org", "bob@example.org, eve@example.org", "<bob@example.org>", "bob", ""],
)
def test_a_recipient_that_could_inject_or_is_malformed_is_refused(recipient: str) -> None:
    with pytest.raises(ValueError, match="unusable email address"):
        render("invitation", recipient=recipient, context=INVITATION, link=LINK, settings=CONFIG)


@pytest.mark.parametrize("link", [None, "", "javascript:alert(1)", "https://portal.example.org/a b", "https://x/\r\n"])
def test_an_invitation_without_a_usable_link_is_refused(link: str | None) -> None:
    with pytest.raises(ValueError, match="no usable link"):
        render("invitation", recipient="bob@example.org", context=INVITATION, link=link, settings=CONFIG)


def test_non_ascii_names_and_domains_are_encoded() -> None:
    context = {**INVITATION, "inviter_name": "Zoë Ångström", "scope_name": "Klinik Zürich " + "ü" * 40}
    raw = render("invitation", recipient="joerg@bücher.example", context=context, link=LINK, settings=CONFIG)
    message = parse(raw)

    assert raw.isascii() and b"Subject: =?utf-8?" in raw
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert message["Subject"] == f"Zoë Ångström invited you to Klinik Zürich {'ü' * 40}"
    assert message["To"] == "joerg@xn--bcher-kva.example"
    assert "Zoë Ångström (ann@trust.example)" in bodies(message)[0]


def test_a_role_notice_points_to_the_login_page() -> None:
    context = {key: INVITATION[key] for key in ("inviter_name", "inviter_email", "scope_name", "role_name")}
    message = parse(render("role_notice", recipient="b@example.org", context=context, link=None, settings=CONFIG))
    text, html = bodies(message)

    assert message["Subject"] == "You are now Clinician in Deployment Alpha at St Mary's Trust"
    assert "has given you the role Clinician in Deployment Alpha at St Mary's Trust." in text
    assert "https://portal.example.org/login" in text and 'href="https://portal.example.org/login"' in html


def test_the_first_administrator_is_invited_by_gatehouse() -> None:
    context = {**INVITATION, "inviter_name": "Gatehouse", "role_name": "Super Admin"}
    assert subject_for("invitation", context=context) == "Set up your Gatehouse account (Super Admin)"
    assert subject_for("first_admin", context=context) == "Set up your Gatehouse account (Super Admin)"
    text, _ = bodies(
        parse(render("first_admin", recipient="a@example.org", context=context, link=LINK, settings=CONFIG))
    )
    assert "as Super Admin" in text and LINK in text


def test_a_configured_sender_name_is_kept_and_an_unknown_kind_refused() -> None:
    config = settings.load(
        {"GATEHOUSE_SECRET": TEST_SECRET, "GATEHOUSE_MAIL_FROM": "Trust Portal <portal@trust.example>"}
    )
    message = parse(render("invitation", recipient="b@example.org", context=INVITATION, link=LINK, settings=config))
    assert message["From"] == "Trust Portal <portal@trust.example>"
    assert message["Message-ID"].endswith("@trust.example>")
    with pytest.raises(ValueError, match="unknown message kind"):
        render("newsletter", recipient="b@example.org", context=INVITATION, link=LINK, settings=CONFIG)
    assert smtp_address("a@Bücher.example") == "a@xn--bcher-kva.example"


def test_an_outbox_rows_message_id_is_the_same_on_every_attempt_and_reveals_nothing() -> None:
    def sent(outbox_id: int, config: settings.Settings = CONFIG) -> str:
        raw = render("invitation", recipient="b@example.org", context=INVITATION, link=LINK, settings=config,
                     outbox_id=outbox_id)  # fmt: skip
        return str(parse(raw)["Message-ID"])

    other_secret = settings.load({"GATEHOUSE_SECRET": "another-secret-" + "x" * 40})
    assert sent(41) == sent(41) == message_id(41, CONFIG)
    assert sent(42) != sent(41) != sent(41, other_secret)
    local, _, domain = sent(41).strip("<>").partition("@")
    assert re.fullmatch(r"[0-9a-f]{32}", local) and domain == "localhost"  # a keyed digest, not the row id


@pytest.mark.parametrize("length", [1, 40, 66, 67, 68, 75, 76, 77, 150, 400])
def test_a_body_encoded_once_but_for_its_link_lines_is_what_encoding_it_whole_gives(length: int) -> None:
    mark = mail_templates._LINK_MARK
    text = (
        "Hello Zoë, \r\n" + "x" * 80 + " \nOpen " + mark + " now. \n\ntrailing tab\t\n"
        + mark + "\n" + "é" * 30 + mark + "=end"
    )  # fmt: skip
    link = "http://localhost:8080/accept/" + "a" * length
    whole = mail_templates._quoted_printable(text.replace(mark, link))
    assert mail_templates._filled(mail_templates._pieces(text), link) == whole


def test_an_invitation_with_an_end_and_a_sponsor_says_both_and_one_without_says_neither() -> None:
    terms = {**INVITATION, "ends_at": "2027-02-28T17:00:00+00:00", "sponsor_name": "Sam <Sponsor>"}
    text, html = bodies(
        parse(render("invitation", recipient="b@example.org", context=terms, link=LINK, settings=CONFIG))
    )
    plain, _ = bodies(
        parse(render("invitation", recipient="b@example.org", context=INVITATION, link=LINK, settings=CONFIG))
    )
    assert "Your access ends on Sunday 28 February 2027, 17:00 UTC." in text
    assert "Your sponsor, accountable for this access, is Sam <Sponsor>." in text
    assert "28 February 2027, 17:00 UTC" in html and "Sam &lt;Sponsor&gt;" in html
    assert "access ends" not in plain and "sponsor" not in plain
