"""Rendering the outgoing emails (invitation, its reminder, role notice, first administrator) straight to message
bytes."""

import binascii
import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from jinja2 import DictLoader, Environment, Template
from markupsafe import escape

from services.mail import notice_texts, texts
from services.platform.clock import now
from services.platform.settings import Settings

PRODUCT = "Gatehouse"

_html_env = Environment(loader=DictLoader({"frame": texts.HTML_FRAME}), autoescape=True, keep_trailing_newline=True)
_text_env = Environment(autoescape=False, keep_trailing_newline=True)  # noqa: S701  plain text: no HTML escaping
_TEMPLATES: dict[str, tuple[Template, Template]] = {
    kind: (_text_env.from_string(text), _html_env.from_string(html))
    for kind, (text, html) in (texts.BODIES | notice_texts.BODIES).items()
}
_DEFAULTS = {
    "inviter_name": PRODUCT,
    "inviter_email": "",
    "scope_name": PRODUCT,
    "role_name": "",
    "expires_at": "",
    "ends_at": "",  # when the access the email gives ends (issue 18); "" when it does not
    "sponsor_name": "",  # who is accountable for it
    "sponsor_is_inviter": "",  # "yes": the sponsor is who invited (the email says so after the name)
    "member_name": "",  # an access notice: whose access (to the sponsor)
    "days": "",  # an access notice: "14 days", "1 day"
    "dormant_days": "",
    "actor_name": "",  # an access notice: who did it (a second factor reset, access restored)
    "decision": "",  # an approval outcome: approved | declined, and by whom and why
    "approver_name": "",
    "reason": "",
    "title": "",  # an access review's title
    "items": "",  # an access review: "3 items"
    "unanswered": "",  # an access review: its unanswered items, one line each between " ¦ "
    "removed": "",  # an access review: "2 grants" that ended at its deadline; "" when none did
}
_ADDRESS_FORBIDDEN = frozenset('<>,;:"()[]\\')
_LINK_MARK = "\x00link\x00"  # never in a cleaned context value, nor in a usable (printable) link


def message_id(outbox_id: int, settings: Settings) -> str:
    """The Message-ID of an outbox row: the same on every attempt, unguessable, and telling nothing of the row."""
    # A worker killed after the relay took a message but before it recorded that sends the row again once its lease
    # ends: mail systems recognise the second copy by this header and keep one (docs/DEPLOYMENT.md).
    digest = hmac.new(settings.secret.encode(), f"outbox:{outbox_id}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"<{digest}@{sender_address(settings).rpartition('@')[2]}>"


def _random_message_id(sender: str) -> str:
    return f"<{secrets.token_hex(16)}@{sender.rpartition('@')[2]}>"


def subject_for(kind: str, *, context: Mapping[str, Any]) -> str:
    """The one-line subject of a message of this kind."""
    return _subject(kind, _clean_context(context))


def _subject(kind: str, values: dict[str, str]) -> str:
    if kind == "first_admin" or (kind == "invitation" and values["inviter_name"] == PRODUCT):
        return f"Set up your Gatehouse account ({values['role_name']})"
    if kind == "invitation":
        return f"{values['inviter_name']} invited you to {values['scope_name']}"
    if kind == "role_notice":
        return f"You are now {values['role_name']} in {values['scope_name']}"
    if kind in notice_texts.SUBJECTS:
        return notice_texts.SUBJECTS[kind].format_map(values)
    if kind == "reminder":
        return f"Reminder: {values['inviter_name']} invited you to {values['scope_name']}"
    raise ValueError(f"unknown message kind {kind!r}")


def render(
    kind: str,
    *,
    recipient: str,
    context: Mapping[str, Any],
    link: str | None,
    settings: Settings,
    outbox_id: int | None = None,
) -> bytes:
    """The complete message (headers, plain text and HTML alternatives) as bytes ready for SMTP DATA.

    With outbox_id the Message-ID is that row's own (see message_id), so a copy sent again is recognisably the same.
    """
    if kind not in _TEMPLATES:
        raise ValueError(f"unknown message kind {kind!r}")
    if kind == "role_notice" and not link:
        link = settings.link("/login")
    elif kind in notice_texts.BODIES and not link:  # a page behind log-in (never a token)
        path = str(context.get("path") or "/login")
        link = settings.link(path if path.startswith("/") and not path.startswith("//") else "/login")
    if not link or not link.startswith(("https://", "http://")) or not link.isprintable() or " " in link:
        raise ValueError("the message has no usable link")
    subject, text, html = _prepared(kind, tuple(_clean_context(context).items()))
    sender, sender_address = _sender(settings.mail_from)
    boundary = "=_gatehouse_" + secrets.token_hex(12)
    head = "\r\n".join(
        (
            f"Date: {format_datetime(now())}",
            f"From: {sender}",
            f"To: {smtp_address(recipient)}",
            f"Subject: {subject}",
            f"Message-ID: {message_id(outbox_id, settings) if outbox_id else _random_message_id(sender_address)}",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative;",
            f' boundary="{boundary}"',
            "",
            f"--{boundary}",
            'Content-Type: text/plain; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "",
        )
    )
    middle = f'\r\n--{boundary}\r\nContent-Type: text/html; charset="utf-8"\r\n'
    middle += "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    return b"".join(
        (
            head.encode(),
            _filled(text, link),
            middle.encode(),
            _filled(html, str(escape(link))),
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )


Pieces = tuple[bytes | str, ...]  # quoted-printable already, or a line still holding the link's mark


@functools.lru_cache(maxsize=256)
def _prepared(kind: str, items: tuple[tuple[str, str], ...]) -> tuple[str, Pieces, Pieces]:
    """The encoded subject, plain text and HTML of one kind and context, with a mark where the link goes.

    All emails of one send share their context and differ only in the link: rendering the templates once per
    send instead of once per email takes most of the cost out of building a message, and so does encoding once
    every line but those that hold the link (quoted-printable encodes each line on its own).
    """
    values = dict(items)
    subject = _subject(kind, values)
    inviter = values["inviter_name"] + (f" ({values['inviter_email']})" if values["inviter_email"] else "")
    access_ends = _when(values["ends_at"]) if values["ends_at"] else ""
    values.update(link=_LINK_MARK, inviter=inviter, expires=_when(values["expires_at"]), subject=subject)
    values.update(access_ends=access_ends)
    text, html = (_pieces(template.render(values)) for template in _TEMPLATES[kind])
    return _encoded_subject(subject), text, html


def _pieces(text: str) -> Pieces:
    pieces: list[bytes | str] = []
    plain: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").splitlines(keepends=True):
        if _LINK_MARK not in line:
            plain.append(line)
            continue
        if plain:
            pieces.append(_quoted_printable("".join(plain)))
            plain = []
        pieces.append(line)
    if plain:
        pieces.append(_quoted_printable("".join(plain)))
    return tuple(pieces)


def _filled(pieces: Pieces, link: str) -> bytes:
    """The quoted-printable body with the link in place of its mark."""
    return b"".join(p if isinstance(p, bytes) else _quoted_printable(p.replace(_LINK_MARK, link)) for p in pieces)


def smtp_address(address: str) -> str:
    """The address for the envelope and the To header (IDNA domain); ValueError if it could inject or is malformed."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or not address.isprintable() or " " in address:
        raise ValueError(f"unusable email address {address!r}")
    if _ADDRESS_FORBIDDEN.intersection(address):
        raise ValueError(f"unusable email address {address!r}")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def _clean_context(context: Mapping[str, Any]) -> dict[str, str]:
    """Every value on one line, without control characters (they end up in headers and single-line text)."""
    values = dict(_DEFAULTS)
    for key, value in context.items():
        if value is None:
            continue
        text = str(value)
        if not text.isprintable():
            text = "".join(ch if ch.isprintable() else " " for ch in text)
        values[key] = " ".join(text.split())
    return values


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return f"{moment:%A} {moment.day} {moment:%B %Y}, {moment:%H:%M} UTC"


_senders: dict[str, tuple[str, str]] = {}


def _sender(mail_from: str) -> tuple[str, str]:
    """The From header value and the bare address, from a setting like 'a@b' or 'Name <a@b>'."""
    cached = _senders.get(mail_from)
    if cached is None:
        name, address = parseaddr(mail_from)
        address = smtp_address(address)
        cached = _senders[mail_from] = (formataddr((" ".join(name.split()) or PRODUCT, address), "utf-8"), address)
    return cached


def sender_address(settings: Settings) -> str:
    """The bare envelope sender address of the configured From."""
    return _sender(settings.mail_from)[1]


def _encoded_subject(subject: str) -> str:
    if subject.isascii() and len(subject) <= 68:
        return subject
    charset = "us-ascii" if subject.isascii() else "utf-8"
    return Header(subject, charset, maxlinelen=76, header_name="Subject").encode(linesep="\r\n")


def _quoted_printable(text: str) -> bytes:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(text.encode(), istext=True).replace(b"\n", b"\r\n")
