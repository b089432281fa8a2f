"""The development mailbox page: hidden without the sink, and lists and opens what the sink received."""

from collections.abc import Iterator

import aiosmtplib
import httpx
import pytest
from nicegui import core, ui
from nicegui.testing import User

from services.mail import sink as mail_sink
from services.mail.sink import MailSink
from services.mail.templates import render
from services.platform import settings
from tests.conftest import TEST_SECRET

CONFIG = settings.load({"GATEHOUSE_SECRET": TEST_SECRET})
CONTEXT = {
    "inviter_name": "Ann <b>Inviter</b>",
    "inviter_email": "ann@trust.example",
    "scope_name": "St Mary's Trust",
    "role_name": "Supervisor",
    "expires_at": "2026-11-25T10:30:00+00:00",
}


@pytest.fixture
def app_sink() -> Iterator[MailSink]:
    sink = MailSink(port=0)
    sink.start()
    mail_sink.set_current(sink)
    yield sink
    mail_sink.set_current(None)
    sink.stop()


async def deliver(sink: MailSink, recipient: str, link: str) -> None:
    raw = render("invitation", recipient=recipient, context=CONTEXT, link=link, settings=CONFIG)
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port, start_tls=False, local_hostname="test") as smtp:
        await smtp.sendmail("gatehouse@localhost", [recipient], raw)


async def test_with_a_relay_configured_the_mailbox_is_not_found_with_status_404(user: User) -> None:
    response = await user.http_client.get("/dev/mailbox")
    assert response.status_code == 404
    assert "404: Not found" in response.text and "Clear mailbox" not in response.text


async def test_the_mailbox_answers_only_a_browser_on_this_machine(user: User, app_sink: MailSink) -> None:
    await deliver(app_sink, "first@example.org", "http://localhost:8080/accept/first-token")
    for address in ("192.0.2.10", "10.0.0.7", "2001:db8::1", "::ffff:203.0.113.5", "unknown"):
        transport = httpx.ASGITransport(app=core.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as outsider:
            response = await outsider.get("/dev/mailbox")
        assert response.status_code == 404, address
        assert "first-token" not in response.text and "first@example.org" not in response.text
    for address in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
        transport = httpx.ASGITransport(app=core.app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8080") as local:
            assert (await local.get("/dev/mailbox")).status_code == 200, address


async def test_the_mailbox_lists_opens_and_refreshes(user: User, app_sink: MailSink) -> None:
    await deliver(app_sink, "first@example.org", "http://localhost:8080/accept/first-token")
    await user.open("/dev/mailbox")
    await user.should_see("Ann <b>Inviter</b> invited you to St Mary's Trust")

    [item] = user.find(ui.expansion).elements
    assert isinstance(item, ui.expansion)
    assert item.props["caption"].startswith("To first@example.org · from gatehouse@localhost · ")
    item.value = True
    link = user.find("Create account").elements.pop()
    assert isinstance(link, ui.link) and link.props["href"] == "http://localhost:8080/accept/first-token"
    [frame] = [element for element in item.descendants() if element.tag == "iframe"]
    assert frame.props["sandbox"] == "" and "Ann &lt;b&gt;Inviter&lt;/b&gt;" in frame.props["srcdoc"]
    await user.should_see("Ann <b>Inviter</b> (ann@trust.example) has invited you")

    await deliver(app_sink, "second@example.org", "http://localhost:8080/accept/second-token")
    await user.should_see("2 messages", retries=25)  # the page polls the sink once a second
    items = user.find(ui.expansion).elements
    assert len(items) == 2
