"""The signed-in actor of the current page, fetched fresh from the session for every action."""

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar
from urllib.parse import quote

from fastapi import Request
from nicegui import ui

from components.form_errors import FormErrors
from services.access import auth, sessions
from services.access.service import Actor
from services.errors import DomainError, FieldErrors, NotAuthenticated, PermissionDenied

T = TypeVar("T")
_live_refresh: ContextVar[bool] = ContextVar("live_refresh", default=False)


class live_refresh:  # a class, not @contextmanager: every open page enters it for every change
    """Within the block the page only re-reads what it shows (components/live.py): the actor may come from
    auth.live_actor_for. Every user action runs outside it, so its actor is always read afresh."""

    def __enter__(self) -> None:
        self.token = _live_refresh.set(True)

    def __exit__(self, *_: object) -> None:
        _live_refresh.reset(self.token)


class PageSession:
    """Holds the page's session cookie value; every handler asks the services who that is *now*."""

    def __init__(self, request: Request) -> None:
        self.token = request.cookies.get(auth.SESSION_COOKIE)
        self.path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self._listening = False

    async def actor(self) -> Actor | None:
        """The current actor, or None after sending the browser to the log-in page."""
        try:
            read = auth.live_actor_for if _live_refresh.get() else auth.actor_for
            actor = await read(session_token=self.token)
        except NotAuthenticated:
            _go(f"/login?redirect_to={quote(self.path)}")
            return None
        if not self._listening and self.token:
            self._listening = True
            leave_when_session_ends(self.token)
        return actor

    async def run(
        self, action: Callable[[Actor], Awaitable[T]], *, success: str | None = None, form: FormErrors | None = None
    ) -> T | None:
        """Run a service call as the current actor; domain errors become a clear notification (or, given a form,
        messages at its fields)."""
        actor = await self.actor()
        if actor is None:
            return None
        if _live_refresh.get():
            return await notify_errors(lambda: self._refreshing(action, actor))
        return await notify_errors(lambda: action(actor), success=success, form=form)

    async def _refreshing(self, action: Callable[[Actor], Awaitable[T]], actor: Actor) -> T | None:
        """A live refresh's reading. Refused, the page is built again from the access that remains: what it shows
        came from access the viewer no longer holds (an end, a removal), and a notification would leave it there."""
        try:
            return await action(actor)
        except PermissionDenied:
            _go(self.path)
            return None


def _go(path: str) -> None:
    """Send the page elsewhere, unless it closed while its refresh was reading (nobody is left to send)."""
    if not ui.context.client.is_deleted:
        ui.navigate.to(path)


def leave_when_session_ends(session_token: str) -> None:
    """Send this page to the log-in page as soon as its session ends (log-out in any tab of the browser)."""
    client = ui.context.client

    def leave() -> None:
        if not client.is_deleted:
            with client:
                ui.navigate.to("/login")

    client.on_delete(sessions.subscribe(session_token=session_token, on_end=leave))


async def notify_errors(
    action: Callable[[], Awaitable[T]], *, success: str | None = None, form: FormErrors | None = None
) -> T | None:
    """Await the action; show DomainError messages to the user instead of tracebacks: at the form's fields and in
    its alert when a form is given (they stay), else as a notification."""
    try:
        result = await action()
    except DomainError as problem:
        if form is None:
            ui.notify(str(problem), type="negative", multi_line=True)
        elif isinstance(problem, FieldErrors):
            form.show(problem.fields)
        else:
            form.show({}, summary=str(problem))
        return None
    if form is not None:
        form.clear()
    if success:
        ui.notify(success, type="positive")
    return result


def client_address(request: Request) -> str:
    """The peer address, used only as a rate-limit key."""
    return request.client.host if request.client else "unknown"
