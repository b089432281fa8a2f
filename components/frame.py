"""The shared page frame: header with navigation, the user, log out; content below."""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nicegui import app, ui
from nicegui.language import Language

from components.shared_props import shared_prop
from services.access import auth
from services.access import service as access
from services.access.service import Actor
from services.platform import settings

UTILITIES = Path(__file__).with_name("utilities.css")  # Tailwind's classes the app uses; main.py turns Tailwind off
NAV = (("Admin Portal", "/admin"), ("Care Portal", "/care"))
LANGUAGE: Language = "en-GB"  # every page passes it to @ui.page: the <html lang> attribute and Quasar's own texts
# Quasar's default primary (#5898d4) and positive (#21ba45) give white text a contrast of about 3:1 and 2.6:1;
# these darker shades reach WCAG AA (4.5:1) on buttons, chips, the header and notifications.
PRIMARY = "#1f5f99"
POSITIVE = "#1b7a36"
app.colors(primary=PRIMARY, positive=POSITIVE)
# NiceGUI's link blue is 3.7:1 on white; this is 6.6:1. The page's grey (Quasar's grey-1) without a ui.query element.
FRAME_CSS = ".nicegui-link { color: var(--q-primary); } body { background-color: #fafafa; }"
# What every page runs: keeping the keyboard focus where it was (and giving it back after a dialog), and a select's
# list fit for assistive technology (components/frame.js says how and why).
PAGE_SCRIPT = "<script>\n" + Path(__file__).with_name("frame.js").read_text(encoding="utf-8") + "</script>"
SECURITY_PATH = "/account/security"  # pages/account_security.py
MAIN_ID = "main-content"  # where the skip link leads
app.config.quasar_config.setdefault("loadingBar", {})["aria-label"] = "Loading"  # a progressbar needs a name


def install() -> None:
    """Add the frame's CSS and page script to every page once, instead of a copy held by each page's client."""
    ui.add_css(FRAME_CSS, shared=True)
    ui.add_css(UTILITIES, shared=True)
    ui.add_head_html(PAGE_SCRIPT, shared=True)


@contextmanager
def frame(title: str, actor: Actor | None = None, *, session_token: str | None = None) -> Iterator[None]:
    """Lay out one page: a header (navigation for signed-in users) and a centred main column."""
    ui.page_title(f"{title} · Gatehouse")
    with ui.header().classes("items-center bg-primary text-white q-px-md gap-2"):
        ui.link("Skip to main content", f"#{MAIN_ID}").classes("skip-link")
        # The links grow: the user's name and Log out sit at the right.
        HeaderLinks(_navigation(actor)).classes("col items-center gap-4")
        if actor is not None:
            _user_menu(actor, session_token)
    # Quasar's page is already the <main> landmark: a second, nested <main> would confuse screen readers.
    with ui.element("div").classes("w-full max-w-6xl mx-auto q-pa-md").props(f'id="{MAIN_ID}" tabindex="-1"'):
        ui.label(title).classes("text-h5 q-mb-md").props('role="heading" aria-level="1"')
        yield


def care_page_top(organisation_id: int, *, allowed: bool, refused: str) -> bool:
    """The top of a Care Portal page reached from its Manage menu: the way back, and the refusal (an alert) when the
    viewer may not be here, as the service decided; returns allowed."""
    ui.link("← Back to the Care Portal", f"/care?org={organisation_id}")
    if not allowed:
        ui.label(refused).props('role="alert"')
    return allowed


class HeaderLinks(ui.element, component="header_links.js", default_classes="nicegui-row row"):
    """The home link and the given (text, address) links, in one element."""

    def __init__(self, links: list[list[str]]) -> None:
        super().__init__()
        shared_prop(self, "links", _shared_links(tuple(tuple(link) for link in links)))


@functools.cache
def _shared_links(links: tuple[tuple[str, ...], ...]) -> list[list[str]]:
    """One list for all the pages offered the same links (a prop copied per page costs its observable copy)."""
    return [list(link) for link in links]


def _navigation(actor: Actor | None) -> list[list[str]]:
    if actor is None:
        return []
    shown = [[label, target] for label, target in NAV if target != "/admin" or access.is_admin_portal_user(actor)]
    if settings.current().embedded_mail:
        shown.append(["Mailbox", "/dev/mailbox"])
    return shown


def _user_menu(actor: Actor, session_token: str | None) -> None:
    async def log_out() -> None:
        await auth.logout(session_token=session_token)
        ui.navigate.to("/login")

    # The name leads to the member's own security page (passkeys); its accessible name still begins with the name.
    account = ui.link(actor.full_name, SECURITY_PATH).classes("text-body2 text-white").mark("account")
    account.props["aria-label"] = f"{actor.full_name}: your security"
    ui.button("Log out", on_click=log_out).props("flat color=white no-caps")
