"""What the passkey actions (services/access/passkeys.py) mean, said as sentences (services/audit/sentences.py says
the others)."""

from collections.abc import Callable
from typing import Any

LABELS = {
    "add_passkey": "Passkeys added",
    "remove_passkey": "Passkeys removed",
    "use_passkey": "Passkeys refused",
}

# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "add_passkey": lambda t, p, d: (f"added the passkey “{t}” to their account", "add a passkey to their account"),
    "remove_passkey": lambda t, p, d: (
        f"removed their passkey “{t}”",
        "remove their last passkey (their access needs a second factor)"
        if d.get("reason") == "last second factor"
        else "remove a passkey",
    ),
    "use_passkey": lambda t, p, d: (
        f"confirmed it was them with the passkey “{t}”",
        "confirm it was them with a passkey",
    ),
}
