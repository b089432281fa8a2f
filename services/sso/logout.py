"""OpenID Connect Back-Channel Logout 1.0: the provider posts a signed logout_token naming a subject (sub) or its
own session (sid); every Gatehouse session that provider opened for them ends, in every process."""

import logging
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models import Session, SsoConnection, SsoSession
from services.access import service as access
from services.access import sessions
from services.audit import service as audit
from services.errors import DomainError
from services.platform import events
from services.platform.clock import now
from services.sso import provider

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"


class LogoutRefused(DomainError):
    """The logout_token is not one to act on (answered 400, per the specification)."""


async def back_channel_logout(*, organisation_id: int, logout_token: str) -> int:
    """Verify the logout_token (signature, iss, aud, iat, jti, the logout event, sub or sid, no nonce) and end the
    sessions it names; returns how many ended."""
    row = await SsoConnection.get_or_none(organisation_id=organisation_id)
    if row is None or not logout_token or len(logout_token) > 20_000:
        raise LogoutRefused("unknown organisation or no logout_token")
    try:
        found = await provider.discover(row.issuer)
        claims = await provider.verified_claims(logout_token, found, values={"aud": row.client_id}, present=("jti",))
    except (DomainError, provider.ProviderError) as problem:
        log.warning("back-channel logout for organisation %s refused: %s", organisation_id, problem)
        raise LogoutRefused("the logout_token failed a check") from None
    subject, sid = _named(claims)
    ended = await _end_sessions(organisation_id, subject, sid)
    sessions.sessions_ended(token_hashes=ended)  # this process's open pages leave at once
    # Every process forgets the actors it remembers, and the organisation's open pages refresh: pages of the ended
    # sessions, in any process, read their session afresh and go to log-in.
    await events.publish(organisation_id=organisation_id, kind=sessions.SESSION_ENDED)
    return len(ended)


def _named(claims: dict[str, Any]) -> tuple[str | None, str | None]:
    event = claims.get("events")
    if not isinstance(event, dict) or not isinstance(event.get(EVENT), dict):
        raise LogoutRefused("not a back-channel logout event")
    if "nonce" in claims:
        raise LogoutRefused("a logout_token never carries a nonce")
    subject, sid = claims.get("sub"), claims.get("sid")
    if not subject and not sid:
        raise LogoutRefused("neither sub nor sid")
    return (str(subject) if subject else None), (str(sid) if sid else None)


async def _end_sessions(organisation_id: int, subject: str | None, sid: str | None) -> list[str]:
    named = Q(subject=subject) if subject else Q()
    if sid:  # with both, the provider's session of that subject only
        named &= Q(sid=sid)
    session_ids = Subquery(SsoSession.filter(named, organisation_id=organisation_id).values("session_id"))
    scope = await access.scope_of(organisation_id=organisation_id)
    async with in_transaction() as connection:
        open_sessions = Session.filter(id__in=session_ids, revoked_at=None).using_db(connection)
        hashes: list[str] = await open_sessions.values_list("token_hash", flat=True)  # type: ignore[assignment]
        if hashes:
            await Session.filter(token_hash__in=hashes).using_db(connection).update(revoked_at=now())
        detail = {"sessions_ended": len(hashes), "sid": sid or ""}
        await audit.record(
            actor=None, action="sso_logout", scope=scope, target=subject or "", detail=detail, connection=connection
        )
    return hashes
