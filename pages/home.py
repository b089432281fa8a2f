"""The root: send each visitor to the portal that fits them."""

from fastapi import Request
from nicegui import ui

from components.frame import LANGUAGE
from components.session import PageSession
from services.access import service as access


def create() -> None:
    """Register /."""

    @ui.page("/", language=LANGUAGE)
    async def home(request: Request) -> None:
        actor = await PageSession(request).actor()
        if actor is not None:
            ui.navigate.to("/admin" if access.is_admin_portal_user(actor) else "/care")
