"""What the second-factor actions (issue 21) mean, said as sentences (services/audit/sentences.py says the others)."""

from collections.abc import Callable
from typing import Any

LABELS = {
    "set_second_factor_roles": "Second-factor rules changed",
    "enrol_second_factor": "Second factors set up",
    "second_factor": "Second factors refused at log-in",
    "recovery_code_used": "Recovery codes used",
    "reset_second_factors": "Second factors reset",
}

# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "set_second_factor_roles": lambda t, p, d: (
        f"required a second factor in {p} for {', '.join(d.get('roles') or []) or 'no role'} (and Admin Portal roles)",
        f"change the second-factor rules of {p}",
    ),
    "enrol_second_factor": lambda t, p, d: (
        f"set up {'a passkey' if d.get('kind') == 'passkey' else 'an authenticator app'} for {t}",
        f"set up a second factor for {t}",
    ),
    "second_factor": lambda t, p, d: (
        f"gave the second factor of {t}",
        f"log in as {t} with {'a passkey' if d.get('kind') == 'passkey' else 'a right second-factor code'}",
    ),
    "recovery_code_used": lambda t, p, d: (
        f"logged in as {t} with a recovery code ({d.get('recovery_codes_left', 0)} left)",
        "",
    ),
    "reset_second_factors": lambda t, p, d: (
        f"reset the second factors of {t} and ended {d.get('sessions_ended', 0)} of their sessions",
        f"reset the second factors of {t}",
    ),
}
