"""Downloads of the evidence pack and of the audit log (CSV or JSON), streamed from services/audit/evidence.py.

Plain HTTP routes behind the session cookie, so that a large organisation's export streams to the browser instead
of travelling through the page's socket; the audit page links to them with its filters."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from nicegui import app

from services.access import auth
from services.audit import evidence
from services.errors import DomainError, NotAuthenticated, PermissionDenied
from services.platform.clock import now

MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def create() -> None:
    """Register /care/export/evidence.{csv,json} and /care/export/audit.{csv,json}."""

    @app.get("/care/export/{what}.{fmt}", include_in_schema=False)
    async def export(
        request: Request,
        what: str,
        fmt: str,
        org: int = 0,
        since: str = "",
        until: str = "",
        action: str = "",
        who: str = "",
    ) -> Response:
        if what not in ("evidence", "audit") or fmt not in MEDIA:
            return PlainTextResponse("There is no such export.", status_code=404)
        try:
            period = evidence.Period(_day(since, "From"), _end_of_day(until))
            actor = await auth.actor_for(session_token=request.cookies.get(auth.SESSION_COOKIE))
            rows = await _primed(_rows(what, actor, org, period, action, who))
        except NotAuthenticated:
            return RedirectResponse(f"/login?redirect_to=/care/audit%3Forg%3D{org}", status_code=303)
        except PermissionDenied as refusal:
            return PlainTextResponse(str(refusal), status_code=403)
        except DomainError as refusal:
            return PlainTextResponse(str(refusal), status_code=400)
        columns = evidence.GRANT_COLUMNS if what == "evidence" else evidence.AUDIT_COLUMNS
        heading = {"organisation_id": org, "since": since, "until": until, "exported_at": now().isoformat()}
        if what == "evidence":
            heading |= {"time_to_revoke": evidence.TIME_TO_REVOKE, "platform_staff": evidence.PLATFORM_STAFF}
        body = evidence.as_csv(rows, columns) if fmt == "csv" else evidence.as_json(rows, heading, _key(what))
        name = f"gatehouse-{what}-{org}-{now():%Y%m%d-%H%M}.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
        return StreamingResponse(_encoded(body), media_type=MEDIA[fmt], headers=headers)


def _rows(what: str, actor: Any, org: int, period: evidence.Period, action: str, who: str) -> AsyncIterator[dict]:
    if what == "evidence":
        return evidence.grants(actor=actor, organisation_id=org, period=period)
    filters = evidence.AuditFilters(actor_email=who, action=action, period=period)
    return evidence.audit_events(actor=actor, organisation_id=org, filters=filters)


async def _primed(rows: AsyncIterator[dict]) -> AsyncIterator[dict]:
    """The rows with the first one already read: the service's permission check runs before the response starts."""
    try:
        first = await anext(rows)
    except StopAsyncIteration:
        return _none()
    return _chained(first, rows)


async def _none() -> AsyncIterator[dict]:
    return
    yield {}


async def _chained(first: dict, rest: AsyncIterator[dict]) -> AsyncIterator[dict]:
    yield first
    async for row in rest:
        yield row


async def _encoded(parts: AsyncIterator[str]) -> AsyncIterator[bytes]:
    async for part in parts:
        yield part.encode()


def _key(what: str) -> str:
    return "grants" if what == "evidence" else "events"


def _day(value: str, label: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise evidence.BadPeriod(f"{label}: give a date as YYYY-MM-DD, not “{value[:20]}”.") from None


def _end_of_day(value: str) -> datetime | None:
    day = _day(value, "To")
    return day + timedelta(days=1) if day else None
