"""Care Portal: the member's access, and (for staff managers) the staff and pending invitations."""

from fastapi import Request
from nicegui import ui

from components.frame import frame
from components.session import PageSession
from services import staff


def create() -> None:
    """Register /care."""

    @ui.page("/care")
    async def care_page(request: Request) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame("Care Portal", actor, session_token=session.token):
            access_rows = await staff.my_access(actor=actor)
            with ui.card().classes("w-full"):
                ui.label("Your access").classes("text-h6").props('role="heading" aria-level="2"')
                if not access_rows:
                    ui.label("You hold no role yet.")
                for row in access_rows:
                    ui.label(f"{row.role_name} — {row.scope_name}").classes("text-body1").props('data-testid="my-role"')
