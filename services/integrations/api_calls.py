"""Who a REST API call is: the bearer token read, checked (tokens.actor_for), counted against its rate limit; a
call refused for its token (none, unknown, expired, revoked) is audited, in its organisation's log when the token
is known."""

from models import ApiToken
from services.access import tokens as hashing
from services.access.service import Actor, Scope, ScopeLevel
from services.audit import service as audit
from services.errors import NotAuthenticated
from services.integrations import rate_limits, tokens
from services.platform.clock import now

SCHEME = "bearer"
MISSING = "Send an API token as “Authorization: Bearer ghk_…”."


async def authenticate(*, authorization: str | None, path: str) -> Actor:
    """The actor of a call made with this Authorization header; NotAuthenticated (audited) or TooManyCalls."""
    scheme, _, raw = (authorization or "").strip().partition(" ")
    raw = raw.strip()
    if scheme.lower() != SCHEME or not raw:
        await _refused(raw="", path=path, reason="no token")
        raise NotAuthenticated(MISSING)
    try:
        actor = await tokens.actor_for(raw=raw)
    except NotAuthenticated:
        await _refused(raw=raw, path=path, reason="token not valid")
        raise
    await rate_limits.count_call(token_id=actor.token_id)
    return actor


async def _refused(*, raw: str, path: str, reason: str) -> None:
    row = await ApiToken.get_or_none(token_hash=hashing.hash_token(raw)) if raw.startswith(tokens.PREFIX) else None
    scope = None
    if row is not None:
        level = ScopeLevel.DEPLOYMENT if row.deployment_id else ScopeLevel.ORGANISATION
        scope = Scope(level, row.organisation_id, row.deployment_id)
        reason = "revoked" if row.revoked_at else ("expired" if row.expires_at <= now() else "creator has no access")
    target = f"API token “{row.name}”" if row else "an API call"
    detail = {"path": path[:200], "reason": reason}
    await audit.record(actor=None, action="api_call", scope=scope, target=target, outcome="refused", detail=detail)
