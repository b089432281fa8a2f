"""The words of the account notices: a member's second factors reset by an owner, and an account made ready for
single sign-on (notice_texts.py has the access notices and gathers these with them)."""

from services.mail.notice_style import BUTTON as _BUTTON
from services.mail.notice_style import P as _P

SUBJECTS = {
    "factors_reset": "Your Gatehouse second factor was reset",
    "sso_ready": "Your Gatehouse access to {scope_name}: sign in with {provider_name}",
}

_FACTORS_RESET_TEXT = """\
Hello,

{{ actor_name }} reset your second factors (authenticator app, passkeys and recovery codes) on {{ access_ends }}.
You have been logged out everywhere. The next time you log in, you will set up an authenticator app again.

If you did not ask for this, tell {{ actor_name }} or your organisation's administrators at once.

Log in:
{{ link }}

-- Gatehouse
"""

_FACTORS_RESET_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """<strong>{{ actor_name }}</strong> reset your second factors (authenticator app, passkeys and recovery \
codes) on <strong>{{ access_ends }}</strong>. You have been logged out everywhere. The next time you log in, you will \
set up an authenticator app again.</p>
"""
    + _P
    + """If you did not ask for this, tell {{ actor_name }} or your organisation's administrators at once.</p>
"""
    + _BUTTON
    + """Log in</a></p>
{% endblock %}"""
)

_SSO_READY_TEXT = """\
Hello,

Your organisation gave you access to {{ scope_name }} in Gatehouse, as {{ role_name }}.
There is no password to set: sign in with {{ provider_name }}, your organisation's sign-in.

Sign in:
{{ link }}

-- Gatehouse
"""

_SSO_READY_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """Your organisation gave you access to <strong>{{ scope_name }}</strong> in Gatehouse, as \
<strong>{{ role_name }}</strong>. There is no password to set: sign in with <strong>{{ provider_name }}</strong>, your \
organisation's sign-in.</p>
"""
    + _BUTTON
    + """Sign in</a></p>
{% endblock %}"""
)

BODIES = {
    "factors_reset": (_FACTORS_RESET_TEXT, _FACTORS_RESET_HTML),
    "sso_ready": (_SSO_READY_TEXT, _SSO_READY_HTML),
}
