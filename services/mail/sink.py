"""The embedded SMTP sink: receives the app's mail on loopback and keeps the latest messages in memory."""

import email
import logging
import re
import socket
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from typing import Any

from aiosmtpd.controller import Controller

from services.platform.clock import now

DEFAULT_LIMIT = 500
_LINK = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class SinkMessage:
    id: int
    received_at: datetime
    mail_from: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str

    @property
    def link(self) -> str | None:
        """The first web link of the plain text (the invitation's Create account link)."""
        found = _LINK.search(self.text)
        return found.group(0) if found else None


class _Handler:
    def __init__(self, sink: "MailSink") -> None:
        self._sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        self._sink._receive(envelope.mail_from or "", tuple(envelope.rcpt_tos), content)
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on 127.0.0.1 that accepts every message and keeps the newest `limit` of them."""

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1", limit: int = DEFAULT_LIMIT) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        self._messages: deque[SinkMessage] = deque(maxlen=limit)
        self._seen: dict[str, None] = {}  # Message-IDs received, oldest first (bounded)
        self._lock = threading.Lock()
        self._next_id = 1
        self._revision = 0
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen (on a free port when port is 0; aiosmtpd's own readiness check cannot handle port 0)."""
        if self._controller is not None:
            return
        if self.port == 0:
            self.port = _free_port(self.host)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command and address at INFO
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, server_hostname="gatehouse-sink")
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; the messages received so far stay readable."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def revision(self) -> int:
        """Changes whenever a message arrives or the box is cleared (cheap to poll)."""
        return self._revision

    def messages(self) -> list[SinkMessage]:
        """The kept messages, newest first."""
        with self._lock:
            return list(self._messages)

    def clear(self) -> None:
        """Forget every kept message."""
        with self._lock:
            self._messages.clear()
            self._revision += 1

    def _receive(self, mail_from: str, to: tuple[str, ...], content: bytes) -> None:
        message_id, subject, text, html = _parse(content)
        with self._lock:
            if message_id and self._already_seen(message_id):
                return  # a copy sent again after a crash: keep one, as mail providers do
            message = SinkMessage(self._next_id, now(), mail_from, to, subject, text, html)
            self._next_id += 1
            self._messages.appendleft(message)
            self._revision += 1

    def _already_seen(self, message_id: str) -> bool:
        if message_id in self._seen:
            return True
        self._seen[message_id] = None
        if len(self._seen) > 4 * self.limit:
            del self._seen[next(iter(self._seen))]
        return False


def _parse(content: bytes) -> tuple[str, str, str, str]:
    """Message-ID, subject, plain text and HTML (the compat32 parser: about ten times cheaper than policy.default)."""
    message = email.message_from_bytes(content)
    try:
        subject = str(make_header(decode_header(message.get("Subject", ""))))
    except (LookupError, ValueError):
        subject = str(message.get("Subject", ""))
    bodies = {"plain": "", "html": ""}
    for part in message.walk():
        subtype = part.get_content_subtype()
        payload = part.get_payload(decode=True)
        if part.get_content_maintype() != "text" or bodies.get(subtype) != "" or not isinstance(payload, bytes):
            continue
        try:
            bodies[subtype] = payload.decode(part.get_content_charset() or "utf-8", "replace")
        except LookupError:
            bodies[subtype] = payload.decode("utf-8", "replace")
    message_id = str(message.get("Message-ID", "")).strip()
    return (
        message_id,
        " ".join(subject.split()),
        bodies["plain"].replace("\r\n", "\n"),
        bodies["html"].replace("\r\n", "\n"),
    )


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


_current: MailSink | None = None


def current() -> MailSink | None:
    """The app's running sink, or None when mail goes to a real relay."""
    return _current


def set_current(sink: MailSink | None) -> None:
    """Make this the app's sink (or none)."""
    global _current
    _current = sink
