"""What the integration actions (API tokens, API calls, webhooks) mean, said as sentences (services/audit/sentences.py
says the others)."""

from collections.abc import Callable
from typing import Any

from services.platform.words import count

LABELS = {
    "create_token": "API tokens made",
    "revoke_token": "API tokens revoked",
    "create_webhook": "Webhook endpoints added",
    "change_webhook": "Webhook endpoints changed",
}

# action -> (target, place, detail) -> (what was done, what was refused)
WHAT: dict[str, Callable[[str, str, dict[str, Any]], tuple[str, str]]] = {
    "create_token": lambda t, p, d: (
        f"made the API token “{t}” for {p}, valid {count(int(d.get('days') or 0), 'day')}",
        f"make an API token for {p}",
    ),
    "revoke_token": lambda t, p, d: (f"revoked the API token “{t}” of {p}", f"revoke the API token “{t}”"),
    "api_call": lambda t, p, d: (
        f"called the API at {d.get('path', '')}",
        f"call the API at {d.get('path', '')} with {t} ({d.get('reason', '')})",
    ),
    "list_tokens": lambda t, p, d: (f"listed the API tokens of {p}", f"list the API tokens of {p}"),
    "create_webhook": lambda t, p, d: (f"added the webhook endpoint {t} for {p}", f"add a webhook endpoint for {p}"),
    "change_webhook": lambda t, p, d: (
        f"{d.get('change') or 'changed'} the webhook endpoint {t} of {p}"
        + (f" ({d['reason']})" if d.get("reason") else ""),
        f"change the webhook endpoints of {p}",
    ),
}
