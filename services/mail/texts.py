"""The words of each outgoing email, as Jinja templates (plain text, and HTML inside one frame)."""

_TERMS_TEXT = """\
{% if access_ends %}Your access ends on {{ access_ends }}.
{% endif %}{% if sponsor_name %}Your sponsor, accountable for this access, is {{ sponsor_name }}\
{% if sponsor_is_inviter %} (who invited you){% endif %}.
{% endif %}"""

_INVITATION_TEXT = (
    """\
Hello,

{{ inviter }} has invited you to join {{ scope_name }} as {{ role_name }}.
"""
    + _TERMS_TEXT
    + """
Create your account:
{{ link }}

This invitation is valid until {{ expires }}. The link works once.
If you already have a Gatehouse account, the link asks you to log in instead.

If you were not expecting this email, you can ignore it.

-- Gatehouse
"""
)

# A day before a 72-hour or 7-day link expires (services/invitations/reminders.py): the same link, said again.
_REMINDER_TEXT = (
    """\
Hello,

Reminder: {{ inviter }} invited you to join {{ scope_name }} as {{ role_name }}.
This invitation expires on {{ expires }}.
"""
    + _TERMS_TEXT
    + """
Create your account:
{{ link }}

This is the same link as in the invitation; it works once.
If you already have a Gatehouse account, the link asks you to log in instead.

If you were not expecting this email, you can ignore it.

-- Gatehouse
"""
)

_ROLE_NOTICE_TEXT = """\
Hello,

{{ inviter }} has given you the role {{ role_name }} in {{ scope_name }}.
{% if access_ends %}Your access ends on {{ access_ends }}.
{% endif %}{% if sponsor_name %}Your sponsor, accountable for this access, is {{ sponsor_name }}\
{% if sponsor_is_inviter %} (who gave you this role){% endif %}.
{% endif %}
Log in to use it:
{{ link }}

If you were not expecting this email, please tell your administrator.

-- Gatehouse
"""

HTML_FRAME = """\
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

_INVITER_HTML = """<strong>{{ inviter_name }}</strong>{% if inviter_email %} ({{ inviter_email }}){% endif %}"""
_TERMS_HTML = """\
{% if access_ends %}<p style="font-size:16px;line-height:1.5">Your access ends on \
<strong>{{ access_ends }}</strong>.</p>
{% endif %}{% if sponsor_name %}<p style="font-size:16px;line-height:1.5">Your sponsor, accountable for this \
access, is <strong>{{ sponsor_name }}</strong>{% if sponsor_is_inviter %} (who invited you){% endif %}.</p>
{% endif %}"""
_CREATE_ACCOUNT_HTML = """\
<p style="margin:28px 0"><a href="{{ link }}" style="background:#1d4ed8;color:#ffffff;padding:12px 24px;\
border-radius:6px;text-decoration:none;font-size:16px;font-weight:bold;display:inline-block">Create account</a></p>
"""
_LINK_AGAIN_HTML = """\
<p style="font-size:13px;line-height:1.5;color:#52606d">If the button does not work, copy this link into your \
browser:<br><a href="{{ link }}" style="color:#1d4ed8;word-break:break-all">{{ link }}</a></p>
<p style="font-size:13px;color:#52606d">If you were not expecting this email, you can ignore it.</p>
{% endblock %}"""

_INVITATION_HTML = (
    """{% extends "frame" %}{% block body %}\
<p style="font-size:16px;line-height:1.5">Hello,</p>
<p style="font-size:16px;line-height:1.5">"""
    + _INVITER_HTML
    + """ has invited you to join <strong>{{ scope_name }}</strong> \
as <strong>{{ role_name }}</strong>.</p>
"""
    + _TERMS_HTML
    + _CREATE_ACCOUNT_HTML
    + """\
<p style="font-size:14px;line-height:1.5">This invitation is valid until <strong>{{ expires }}</strong>. \
The link works once. If you already have a Gatehouse account, the link asks you to log in instead.</p>
"""
    + _LINK_AGAIN_HTML
)

_REMINDER_HTML = (
    """{% extends "frame" %}{% block body %}\
<p style="font-size:16px;line-height:1.5">Hello,</p>
<p style="font-size:16px;line-height:1.5">Reminder: """
    + _INVITER_HTML
    + """ invited you to join <strong>{{ scope_name }}</strong> \
as <strong>{{ role_name }}</strong>. This invitation expires on <strong>{{ expires }}</strong>.</p>
"""
    + _TERMS_HTML
    + _CREATE_ACCOUNT_HTML
    + """\
<p style="font-size:14px;line-height:1.5">This is the same link as in the invitation; it works once. \
If you already have a Gatehouse account, the link asks you to log in instead.</p>
"""
    + _LINK_AGAIN_HTML
)

_ROLE_NOTICE_HTML = """{% extends "frame" %}{% block body %}\
<p style="font-size:16px;line-height:1.5">Hello,</p>
<p style="font-size:16px;line-height:1.5"><strong>{{ inviter_name }}</strong>\
{% if inviter_email %} ({{ inviter_email }}){% endif %} has given you the role <strong>{{ role_name }}</strong> \
in <strong>{{ scope_name }}</strong>.</p>
{% if access_ends %}<p style="font-size:16px;line-height:1.5">Your access ends on \
<strong>{{ access_ends }}</strong>.</p>
{% endif %}{% if sponsor_name %}<p style="font-size:16px;line-height:1.5">Your sponsor, accountable for this \
access, is <strong>{{ sponsor_name }}</strong>{% if sponsor_is_inviter %} (who gave you this role){% endif %}.</p>
{% endif %}<p style="margin:28px 0"><a href="{{ link }}" style="background:#1d4ed8;color:#ffffff;padding:12px 24px;\
border-radius:6px;text-decoration:none;font-size:16px;font-weight:bold;display:inline-block">Log in</a></p>
<p style="font-size:13px;color:#52606d">If you were not expecting this email, please tell your administrator.</p>
{% endblock %}"""


BODIES = {  # kind -> (plain text, HTML) templates
    "invitation": (_INVITATION_TEXT, _INVITATION_HTML),
    "first_admin": (_INVITATION_TEXT, _INVITATION_HTML),
    "role_notice": (_ROLE_NOTICE_TEXT, _ROLE_NOTICE_HTML),
    "reminder": (_REMINDER_TEXT, _REMINDER_HTML),
}
