"""Rendering the outgoing emails (invitation, role notice, first administrator) straight to message bytes."""

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

from services.platform.clock import now
from services.platform.settings import Settings

PRODUCT = "Gatehouse"
KINDS = ("invitation", "first_admin", "role_notice")

_INVITATION_TEXT = """\
Hello,

{{ inviter }} has invited you to join {{ scope_name }} as {{ role_name }}.
{% if access_ends %}Your access ends on {{ access_ends }}.
{% endif %}{% if sponsor_name %}Your sponsor, accountable for this access, is {{ sponsor_name }}.
{% endif %}
Create your account:
{{ link }}

This invitation is valid until {{ expires }}. The link works once.
If you already have a Gatehouse account, the link asks you to log in instead.

If you were not expecting this email, you can ignore it.

-- Gatehouse
"""

_ROLE_NOTICE_TEXT = """\
Hello,

{{ inviter }} has given you the role {{ role_name }} in {{ scope_name }}.
{% if access_ends %}Your access ends on {{ access_ends }}.
{% endif %}{% if sponsor_name %}Your sponsor, accountable for this access, is {{ sponsor_name }}.
{% endif %}
Log in to use it:
{{ link }}

If you were not expecting this email, please tell your administrator.

-- Gatehouse
"""

_HTML_FRAME = """\
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ subject }}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2933">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;\
background:#ffffff;border-radius:8px"><tr><td style="padding:32px">
<p style="margin:0 0 16px;font-size:20px;font-weight:bold">Gatehouse</p>
{% block body %}{% endblock %}
</td></tr></table></body></html>
"""

_INVITATION_HTML = """{% extends "frame" %}{% block body %}\
<p style="font-size:16px;line-height:1.5">Hello,</p>
<p style="font-size:16px;line-height:1.5"><strong>{{ inviter_name }}</strong>\
{% if inviter_email %} ({{ inviter_email }}){% endif %} has invited you to join <strong>{{ scope_name }}</strong> \
as <strong>{{ role_name }}</strong>.</p>
{% if access_ends %}<p style="font-size:16px;line-height:1.5">Your access ends on \
<strong>{{ access_ends }}</strong>.</p>
{% endif %}{% if sponsor_name %}<p style="font-size:16px;line-height:1.5">Your sponsor, accountable for this \
access, is <strong>{{ sponsor_name }}</strong>.</p>
{% endif %}<p style="margin:28px 0"><a href="{{ link }}" style="background:#1d4ed8;color:#ffffff;padding:12px 24px;\
border-radius:6px;text-decoration:none;font-size:16px;font-weight:bold;display:inline-block">Create account</a></p>
<p style="font-size:14px;line-height:1.5">This invitation is valid until <strong>{{ expires }}</strong>. \
The link works once. If you already have a Gatehouse account, the link asks you to log in instead.</p>
<p style="font-size:13px;line-height:1.5;color:#52606d">If the button does not work, copy this link into your \
browser:<br><a href="{{ link }}" style="color:#1d4ed8;word-break:break-all">{{ link }}</a></p>
<p style="font-size:13px;color:#52606d">If you were not expecting this email, you can ignore it.</p>
{% endblock %}"""

_ROLE_NOTICE_HTML = """{% extends "frame" %}{% block body %}\
<p style="font-size:16px;line-height:1.5">Hello,</p>
<p style="font-size:16px;line-height:1.5"><strong>{{ inviter_name }}</strong>\
{% if inviter_email %} ({{ inviter_email }}){% endif %} has given you the role <strong>{{ role_name }}</strong> \
in <strong>{{ scope_name }}</strong>.</p>
{% if access_ends %}<p style="font-size:16px;line-height:1.5">Your access ends on \
<strong>{{ access_ends }}</strong>.</p>
{% endif %}{% if sponsor_name %}<p style="font-size:16px;line-height:1.5">Your sponsor, accountable for this \
access, is <strong>{{ sponsor_name }}</strong>.</p>
{% endif %}<p style="margin:28px 0"><a href="{{ link }}" style="background:#1d4ed8;color:#ffffff;padding:12px 24px;\
border-radius:6px;text-decoration:none;font-size:16px;font-weight:bold;display:inline-block">Log in</a></p>
<p style="font-size:13px;color:#52606d">If you were not expecting this email, please tell your administrator.</p>
{% endblock %}"""


_html_env = Environment(loader=DictLoader({"frame": _HTML_FRAME}), autoescape=True, keep_trailing_newline=True)
_text_env = Environment(autoescape=False, keep_trailing_newline=True)  # noqa: S701  plain text: no HTML escaping
_TEMPLATES: dict[str, tuple[Template, Template]] = {
    "invitation": (_text_env.from_string(_INVITATION_TEXT), _html_env.from_string(_INVITATION_HTML)),
    "role_notice": (_text_env.from_string(_ROLE_NOTICE_TEXT), _html_env.from_string(_ROLE_NOTICE_HTML)),
}
_TEMPLATES["first_admin"] = _TEMPLATES["invitation"]
_DEFAULTS = {
    "inviter_name": PRODUCT,
    "inviter_email": "",
    "scope_name": PRODUCT,
    "role_name": "",
    "expires_at": "",
    "ends_at": "",  # when the access the email gives ends (issue 18); "" when it does not
    "sponsor_name": "",  # who is accountable for it, when not the inviter
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
