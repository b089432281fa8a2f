"""What the single sign-on actions (issue 21 item 2) mean, said as sentences (services/audit/sentences.py says the
others)."""

from collections.abc import Callable
from typing import Any

from services.platform.words import count

LABELS = {
    "set_sso": "Single sign-on connected or changed",
    "remove_sso": "Single sign-on removed",
    "sso_sign_in": "Single sign-on sign-ins",
    "sso_logout": "Logged out by the identity provider",
    "provision_sso": "Accounts made ready for single sign-on",
}


def _set(target: str, place: str, d: dict[str, Any]) -> tuple[str, str]:
    required = ", required" if d.get("required") else ""
    return (
        f"connected {place} to the identity provider {target} ({d.get('issuer', '')}){required}",
        f"connect {place} to an identity provider",
    )


# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "set_sso": _set,
    "remove_sso": lambda t, p, d: (f"removed the identity provider {t} of {p}", f"remove the identity provider of {p}"),
    "read_sso": lambda t, p, d: (
        f"read the single sign-on settings of {p}",
        f"read the single sign-on settings of {p}",
    ),
    "sso_sign_in": lambda t, p, d: (
        f"signed in {t} through single sign-on (second factor: {d.get('second_factor', 'not recorded')})",
        f"sign in {t or 'someone'} through single sign-on ({d.get('reason', '')})",
    ),
    "provision_sso": lambda t, p, d: (
        f"made the account of {t} ready for single sign-on with {d.get('provider', '')}, as {d.get('role', '')} in {p}",
        f"make an account ready for single sign-on in {p}",
    ),
    "sso_logout": lambda t, p, d: (
        f"was told by the identity provider of {p} that {t or 'a provider session'} logged out: "
        f"{count(int(d.get('sessions_ended') or 0), 'session')} ended",
        "",
    ),
}
