"""The shared page frame: header with navigation, the user, log out; content below."""

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from services import access, auth, settings
from services.access import Actor

NAV = (("Admin Portal", "/admin"), ("Care Portal", "/care"))


@contextmanager
def frame(title: str, actor: Actor | None = None, *, session_token: str | None = None) -> Iterator[None]:
    """Lay out one page: a header (navigation for signed-in users) and a centred main column."""
    ui.page_title(f"{title} · Gatehouse")
    ui.query("body").classes("bg-grey-1")
    with ui.header().classes("items-center justify-between bg-primary text-white q-px-md"):
        with ui.row().classes("items-center gap-4"):
            ui.link("Gatehouse", "/").classes("text-h6 text-white no-underline").props('aria-label="Gatehouse home"')
            if actor is not None:
                _navigation(actor)
        if actor is not None:
            _user_menu(actor, session_token)
    with ui.element("main").classes("w-full max-w-6xl mx-auto q-pa-md"):
        ui.label(title).classes("text-h5 q-mb-md").props('role="heading" aria-level="1"')
        yield


def _navigation(actor: Actor) -> None:
    for label, target in NAV:
        if target == "/admin" and not access.is_admin_portal_user(actor):
            continue
        ui.link(label, target).classes("text-white")
    if settings.current().embedded_mail:
        ui.link("Mailbox", "/dev/mailbox").classes("text-white")


def _user_menu(actor: Actor, session_token: str | None) -> None:
    async def log_out() -> None:
        await auth.logout(session_token=session_token)
        ui.navigate.to("/login")

    with ui.row().classes("items-center gap-2"):
        ui.label(actor.full_name).classes("text-body2")
        ui.button("Log out", on_click=log_out).props("flat color=white no-caps")
