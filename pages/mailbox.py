"""The development mailbox: what the embedded mail sink received, newest first, refreshed as mail arrives."""

import ipaddress

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from nicegui import ui

from components.frame import LANGUAGE, frame
from services.mail import sink as mail_sink
from services.mail.sink import MailSink, SinkMessage

REFRESH_SECONDS = 1.0
NOT_FOUND = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Not found · Gatehouse</title></head>'
    "<body><main><h1>404: Not found</h1></main></body></html>"
)


def create() -> None:
    """Register /dev/mailbox."""

    @ui.page("/dev/mailbox", language=LANGUAGE)
    def mailbox(request: Request) -> Response | None:
        sink = mail_sink.current()
        if sink is None or not _from_this_machine(request):
            return HTMLResponse(NOT_FOUND, status_code=404)
        with frame("Mailbox"):
            _mailbox(sink)
        return None


def _from_this_machine(request: Request) -> bool:
    """The mailbox shows every link: only a browser on this machine may see it (the first start listens on
    loopback, but an operator may name another interface)."""
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_loopback


def _mailbox(sink: MailSink) -> None:
    opened: set[int] = set()
    seen = {"revision": sink.revision}

    @ui.refreshable
    def listing() -> None:
        messages = sink.messages()
        with ui.row().classes("items-center justify-between w-full q-mb-sm"):
            ui.label(f"{len(messages)} message{'' if len(messages) == 1 else 's'} (the newest {sink.limit} kept)")
            ui.button("Clear mailbox", on_click=sink.clear).props("outline no-caps").set_enabled(bool(messages))
        if not messages:
            ui.label("No mail yet. Invitations sent from Gatehouse appear here within a second.").classes("text-grey-8")
        with ui.list().props("bordered separator").classes("w-full bg-white"):
            for message in messages:
                _message(message, opened)

    def check() -> None:
        if sink.revision != seen["revision"]:
            seen["revision"] = sink.revision
            listing.refresh()

    listing()
    ui.timer(REFRESH_SECONDS, check)


def _message(message: SinkMessage, opened: set[int]) -> None:
    caption = f"To {', '.join(message.to)} · from {message.mail_from} · {message.received_at:%Y-%m-%d %H:%M:%S} UTC"
    item = ui.expansion(message.subject or "(no subject)", caption=caption, value=message.id in opened)
    item.classes("w-full").props('role="listitem"')  # the mailbox is a role="list": each message is an item
    with item:
        body = ui.column().classes("w-full gap-2")

    def fill() -> None:
        body.clear()
        with body:
            _contents(message)

    def toggled() -> None:
        if item.value:
            opened.add(message.id)
            if not body.default_slot.children:
                fill()
        else:
            opened.discard(message.id)

    item.on_value_change(toggled)
    if item.value:
        fill()


def _contents(message: SinkMessage) -> None:
    if message.link:
        label = "Create account" if "Create your account" in message.text else "Open link"
        ui.link(label, message.link, new_tab=True).classes("text-body1 text-weight-bold")
    ui.label("Plain text").classes("text-subtitle2 q-mt-sm")
    ui.label(message.text).classes(
        "whitespace-pre-wrap break-anywhere font-mono text-body2 bg-grey-2 q-pa-sm rounded w-full"
    )
    if message.html:
        ui.label("HTML").classes("text-subtitle2 q-mt-sm")
        frame_element = ui.element("iframe").classes("w-full rounded").style("height: 520px; border: 1px solid #ccc")
        # An empty sandbox: no scripts, no forms, an opaque origin; whatever the message holds stays inert.
        frame_element.props["sandbox"] = ""
        frame_element.props["srcdoc"] = message.html
        frame_element.props["referrerpolicy"] = "no-referrer"
        frame_element.props["title"] = f"HTML version of {message.subject}"
