"""The words of the access notices: a grant's end coming (to the member and to its sponsor), dormant access about to
be suspended or restored, an approval's outcome, and access reviews (a reminder to a reviewer, the unanswered items to
the owners; account_texts.py: a reset second factor, an account ready for single sign-on). Each links to a Gatehouse
page behind log-in (context "path"), never to anything usable alone."""

from services.mail import account_texts
from services.mail.notice_style import BUTTON as _BUTTON
from services.mail.notice_style import P as _P

SUBJECTS = {
    "end_warning": "Your access to {scope_name} ends in {days}",
    "end_warning_sponsor": "Access you sponsor ends in {days}: {member_name}",
    "dormant_warning": "Your access to {scope_name} will be suspended in {days} unless you log in",
    "access_restored": "{actor_name} restored your {role_name} access in {scope_name}",
    "approval_outcome": "Your invitation of {member_name} was {decision}",
    "review_reminder": "Access review “{title}”: {items} still to decide",
    "review_unanswered": "Access review “{title}”: {items} unanswered at the deadline",
    **account_texts.SUBJECTS,
}


_END_WARNING_TEXT = """\
Hello,

Your access as {{ role_name }} in {{ scope_name }} ends on {{ access_ends }}.
{% if sponsor_name %}If you still need it after that, ask your sponsor, {{ sponsor_name }}, to extend it.
{% else %}If you still need it after that, ask an administrator of {{ scope_name }} to extend it.
{% endif %}
See your access (you will be asked to log in):
{{ link }}

If you no longer need this access, you need do nothing.

-- Gatehouse
"""

_END_WARNING_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """Your access as <strong>{{ role_name }}</strong> in <strong>{{ scope_name }}</strong> ends on \
<strong>{{ access_ends }}</strong>.</p>
"""
    + _P
    + """{% if sponsor_name %}If you still need it after that, ask your sponsor, <strong>{{ sponsor_name }}</strong>, \
to extend it.{% else %}If you still need it after that, ask an administrator of {{ scope_name }} to extend it.\
{% endif %}</p>
"""
    + _BUTTON
    + """See your access</a></p>
<p style="font-size:13px;color:#52606d">If you no longer need this access, you need do nothing.</p>
{% endblock %}"""
)

_SPONSOR_TEXT = """\
Hello,

You sponsor the access of {{ member_name }} as {{ role_name }} in {{ scope_name }}. It ends on {{ access_ends }}.

To extend it, or to end it now, open the staff list (you will be asked to log in):
{{ link }}

If it should simply end then, you need do nothing.

-- Gatehouse
"""

_SPONSOR_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """You sponsor the access of <strong>{{ member_name }}</strong> as <strong>{{ role_name }}</strong> in \
<strong>{{ scope_name }}</strong>. It ends on <strong>{{ access_ends }}</strong>.</p>
"""
    + _BUTTON
    + """Open the staff list</a></p>
<p style="font-size:13px;color:#52606d">If it should simply end then, you need do nothing.</p>
{% endblock %}"""
)

_DORMANT_TEXT = """\
Hello,

You have not logged in to Gatehouse for {{ dormant_days }} days. {{ scope_name }} suspends the access of members \
who do not use it: on {{ access_ends }} your roles there stop, unless you log in before then. Your account and any \
access you hold elsewhere are not affected.

To keep your access, log in:
{{ link }}

If you no longer need it, you need do nothing. Once suspended, an owner of {{ scope_name }} can restore it.

-- Gatehouse
"""

_DORMANT_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """You have not logged in to Gatehouse for {{ dormant_days }} days. <strong>{{ scope_name }}</strong> \
suspends the access of members who do not use it: on <strong>{{ access_ends }}</strong> your roles there stop, unless \
you log in before then. Your account and any access you hold elsewhere are not affected.</p>
"""
    + _BUTTON
    + """Log in to keep your access</a></p>
<p style="font-size:13px;color:#52606d">If you no longer need it, you need do nothing. Once suspended, an owner of \
{{ scope_name }} can restore it.</p>
{% endblock %}"""
)

_RESTORED_TEXT = """\
Hello,

{{ actor_name }} restored your access as {{ role_name }} in {{ scope_name }}, suspended because you had not logged in.
{% if access_ends %}It ends on {{ access_ends }}.{% else %}It has no end date.{% endif %}

Log in to use it:
{{ link }}

-- Gatehouse
"""

_RESTORED_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """<strong>{{ actor_name }}</strong> restored your access as <strong>{{ role_name }}</strong> in \
<strong>{{ scope_name }}</strong>, suspended because you had not logged in. {% if access_ends %}It ends on \
<strong>{{ access_ends }}</strong>.{% else %}It has no end date.{% endif %}</p>
"""
    + _BUTTON
    + """Log in</a></p>
{% endblock %}"""
)

_OUTCOME_TEXT = """\
Hello,

{{ approver_name }} {{ decision }} your invitation of {{ member_name }} as {{ role_name }} in {{ scope_name }}.
{% if decision == "approved" %}The invitation email has now been sent.
{% else %}No email was sent. The reason given: {{ reason }}
{% endif %}
See the pending invitations (you will be asked to log in):
{{ link }}

-- Gatehouse
"""

_OUTCOME_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """<strong>{{ approver_name }}</strong> {{ decision }} your invitation of <strong>{{ member_name }}</strong> as \
<strong>{{ role_name }}</strong> in <strong>{{ scope_name }}</strong>.</p>
"""
    + _P
    + """{% if decision == "approved" %}The invitation email has now been sent.{% else %}No email was sent. \
The reason given: {{ reason }}{% endif %}</p>
"""
    + _BUTTON
    + """See the pending invitations</a></p>
{% endblock %}"""
)

_REVIEW_REMINDER_TEXT = """\
Hello,

The access review “{{ title }}” of {{ scope_name }} closes on {{ access_ends }}. You still have {{ items }} to \
decide: for each, keep the access, change the role, set an end, or remove it.

Open the review (you will be asked to log in):
{{ link }}

Whatever is not decided by then goes to the organisation's owners.

-- Gatehouse
"""

_REVIEW_REMINDER_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """The access review <strong>“{{ title }}”</strong> of <strong>{{ scope_name }}</strong> closes on \
<strong>{{ access_ends }}</strong>. You still have <strong>{{ items }}</strong> to decide: for each, keep the access, \
change the role, set an end, or remove it.</p>
"""
    + _BUTTON
    + """Open the review</a></p>
<p style="font-size:13px;color:#52606d">Whatever is not decided by then goes to the organisation's owners.</p>
{% endblock %}"""
)

_REVIEW_UNANSWERED_TEXT = """\
Hello,

The access review “{{ title }}” of {{ scope_name }} reached its deadline on {{ access_ends }} with {{ items }} nobody \
answered:
{% for line in unanswered.split(" ¦ ") %}- {{ line }}
{% endfor %}
{% if handed_over %}They are now yours to decide: what nobody answers by the deadline goes to the organisation's \
owners, and the review stays open, overdue, until the last of them is decided.
{% elif removed %}As the organisation chose, this access has ended ({{ removed }}).
{% else %}This access continues until someone changes it from the staff list.
{% endif %}
{% if handed_over %}Decide them in the review{% else %}See the review{% endif %} (you will be asked to log in):
{{ link }}

-- Gatehouse
"""

_REVIEW_UNANSWERED_HTML = (
    """{% extends "frame" %}{% block body %}"""
    + _P
    + """Hello,</p>
"""
    + _P
    + """The access review <strong>“{{ title }}”</strong> of <strong>{{ scope_name }}</strong> reached its deadline \
on <strong>{{ access_ends }}</strong> with <strong>{{ items }}</strong> nobody answered:</p>
<ul style="font-size:16px;line-height:1.5">{% for line in unanswered.split(" ¦ ") %}<li>{{ line }}</li>{% endfor %}</ul>
"""
    + _P
    + """{% if handed_over %}They are now yours to decide: what nobody answers by the deadline goes to the \
organisation's owners, and the review stays open, overdue, until the last of them is decided.\
{% elif removed %}As the organisation chose, this access has ended ({{ removed }}).\
{% else %}This access continues until someone changes it from the staff list.{% endif %}</p>
"""
    + _BUTTON
    + """{% if handed_over %}Decide them in the review{% else %}See the review{% endif %}</a></p>
{% endblock %}"""
)

BODIES = {
    "end_warning": (_END_WARNING_TEXT, _END_WARNING_HTML),
    "end_warning_sponsor": (_SPONSOR_TEXT, _SPONSOR_HTML),
    "dormant_warning": (_DORMANT_TEXT, _DORMANT_HTML),
    "access_restored": (_RESTORED_TEXT, _RESTORED_HTML),
    "approval_outcome": (_OUTCOME_TEXT, _OUTCOME_HTML),
    "review_reminder": (_REVIEW_REMINDER_TEXT, _REVIEW_REMINDER_HTML),
    "review_unanswered": (_REVIEW_UNANSWERED_TEXT, _REVIEW_UNANSWERED_HTML),
    **account_texts.BODIES,
}
