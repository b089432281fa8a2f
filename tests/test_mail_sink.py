"""The embedded SMTP sink: what it keeps, in which order, and how it is found."""

from collections.abc import Iterator

import aiosmtplib
import pytest

from services.mail import sink as mail_sink
from services.mail.sink import MailSink
from services.mail.templates import render
from services.platform import settings
from tests.conftest import TEST_SECRET

CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET})
CONTEXT = {
    "inviter_name": "Ann <Inviter>",
    "inviter_email": "ann@trust.example",
    "scope_name": "St Mary's Trust",
    "role_name": "Supervisor",
    "expires_at": "2026-11-25T10:30:00+00:00",
}


@pytest.fixture
def small_sink() -> Iterator[MailSink]:
    sink = MailSink(port=0, limit=3)
    sink.start()
    yield sink
    sink.stop()


async def send(sink: MailSink, *recipients: str) -> None:
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False, local_hostname="test") as smtp:
        for recipient in recipients:
            raw = render(
                "invitation", recipient=recipient, context=CONTEXT, link=f"http://x.test/{recipient}", settings=CONFIG
            )
            await smtp.sendmail("gatehouse@localhost", [recipient], raw)


async def test_messages_are_parsed_and_listed_newest_first(small_sink: MailSink) -> None:
    assert small_sink.port > 0 and small_sink.running
    await send(small_sink, "one@example.org", "two@example.org")

    newest, oldest = small_sink.messages()
    assert (newest.to, oldest.to) == (("two@example.org",), ("one@example.org",))
    assert newest.id > oldest.id and newest.received_at >= oldest.received_at
    assert newest.mail_from == "gatehouse@localhost"
    assert newest.subject == "Ann <Inviter> invited you to St Mary's Trust"
    assert "Ann <Inviter> (ann@trust.example) has invited you to join St Mary's Trust as Supervisor." in newest.text
    assert "\r" not in newest.text
    assert "Ann &lt;Inviter&gt;" in newest.html
    assert newest.link == "http://x.test/two@example.org"


async def test_only_the_newest_messages_are_kept_and_clear_empties_the_box(small_sink: MailSink) -> None:
    before = small_sink.revision
    await send(small_sink, *(f"person{n}@example.org" for n in range(5)))

    assert [message.to[0] for message in small_sink.messages()] == [f"person{n}@example.org" for n in (4, 3, 2)]
    assert small_sink.revision == before + 5
    small_sink.clear()
    assert small_sink.messages() == [] and small_sink.revision == before + 6


def test_the_apps_sink_is_registered_and_stops_cleanly() -> None:
    sink = MailSink(port=0)
    sink.start()
    mail_sink.set_current(sink)
    try:
        assert mail_sink.current() is sink
    finally:
        mail_sink.set_current(None)
        sink.stop()
    assert mail_sink.current() is None and not sink.running


async def test_long_and_non_ascii_subjects_are_decoded(small_sink: MailSink) -> None:
    long_scope = "The Royal Infirmary of Somewhere Rather Far Away, Clinical Research Deployment"
    contexts = [
        {**CONTEXT, "scope_name": long_scope},
        {**CONTEXT, "inviter_name": "Zoë Ångström", "scope_name": "Zürich " * 9},
    ]
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=small_sink.port, start_tls=False, local_hostname="t") as smtp:
        for context in contexts:
            raw = render(
                "invitation", recipient="a@example.org", context=context, link="http://x.test/", settings=CONFIG
            )
            await smtp.sendmail("gatehouse@localhost", ["a@example.org"], raw)

    non_ascii, ascii_only = small_sink.messages()
    assert ascii_only.subject == f"Ann <Inviter> invited you to {long_scope}"
    assert non_ascii.subject == "Zoë Ångström invited you to " + " ".join(["Zürich"] * 9)
    assert "Zoë Ångström (ann@trust.example)" in non_ascii.text and "Zoë Ångström" in non_ascii.html


async def test_a_message_received_twice_is_kept_once(small_sink: MailSink) -> None:
    raw = render(
        "invitation", recipient="a@example.org", context=CONTEXT, link="http://x.test/a", settings=CONFIG, outbox_id=7
    )
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=small_sink.port, start_tls=False) as smtp:
        for _ in range(2):
            await smtp.sendmail("gatehouse@localhost", ["a@example.org"], raw)
    await send(small_sink, "b@example.org", "b@example.org")  # different messages to one person: both kept

    assert [message.to[0] for message in small_sink.messages()] == ["b@example.org", "b@example.org", "a@example.org"]
