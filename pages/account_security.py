"""Your security (/account/security): the signed-in member's own passkeys, listed, one added (components/passkey.py)
and one removed after confirming. The second-factor flow's enrolment and log-in steps use the same components."""

from fastapi import Request
from nicegui import ui

from components import dialogs, formatting
from components.frame import LANGUAGE, SECURITY_PATH, frame
from components.passkey import enrol_passkey, verify_passkey
from components.session import PageSession
from services.access import passkeys
from services.access.passkeys import PasskeyRow
from services.platform.clock import now

TITLE = "Your security"
ABOUT = (
    "A passkey confirms it is you with something you have: your phone, your computer's fingerprint reader or face "
    "recognition, or a security key. It is made for this site only, so it cannot be phished, and no secret of it is "
    "kept here."
)
CHECK = "Make sure a passkey works before you need it: your browser asks for one of yours, as at log-in."
NONE_YET = "You have no passkey yet."


def create() -> None:
    """Register /account/security."""

    @ui.page(SECURITY_PATH, language=LANGUAGE)
    async def security_page(request: Request) -> None:
        session = PageSession(request)
        actor = await session.actor()
        if actor is None:
            return
        with frame(TITLE, actor, session_token=session.token):
            page = _SecurityPage(session)
            await page.refresh()


class _SecurityPage:
    def __init__(self, session: PageSession) -> None:
        self.session = session
        ui.label("Passkeys").classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(ABOUT).classes("text-body1 q-mb-md").style("max-width: 48rem")
        self.list = ui.element("ul").classes("q-pl-none q-my-none w-full").style("list-style: none; max-width: 48rem")
        self.list.props('aria-label="Your passkeys"').mark("passkeys")
        with ui.card().classes("w-full q-mt-md").props("flat bordered").style("max-width: 48rem"):
            ui.label("Add a passkey").classes("text-subtitle1").props('role="heading" aria-level="3"')
            enrol_passkey(member=self._member_id, on_done=lambda _: self.refresh())
        with ui.card().classes("w-full q-mt-md").props("flat bordered").style("max-width: 48rem"):
            ui.label("Check a passkey").classes("text-subtitle1").props('role="heading" aria-level="3"')
            ui.label(CHECK).classes("text-body2")
            verify_passkey(member=self._member_id, on_done=lambda _: self.refresh(), action="Check a passkey")

    async def _member_id(self) -> int | None:
        actor = await self.session.actor()
        return actor.member_id if actor else None

    async def refresh(self) -> None:
        rows = await self.session.run(lambda a: passkeys.listed(actor=a))
        if rows is None:
            return
        self.list.clear()
        with self.list:
            if not rows:
                with ui.element("li"):
                    ui.label(NONE_YET).classes("text-body2").mark("no-passkeys")
            for row in rows:
                self._item(row)

    def _item(self, row: PasskeyRow) -> None:
        at = now()
        used = f"last used {formatting.relative(row.last_used_at, at)}" if row.last_used_at else "not used yet"
        with ui.element("li").classes("row items-center justify-between gap-2 q-py-sm").mark(f"passkey-{row.id}"):
            with ui.column().classes("gap-0"):
                ui.label(row.label).classes("text-body1 text-weight-medium break-anywhere")
                ui.label(f"Added {formatting.relative(row.created_at, at)}, {used}").classes("text-body2")
            remove = ui.button("Remove", on_click=lambda: self._remove(row)).props("no-caps outline color=negative")
            remove.mark(f"remove-passkey-{row.id}")
            remove.props["aria-label"] = f"Remove the passkey {row.label}"

    def _remove(self, row: PasskeyRow) -> None:
        async def go() -> bool:
            removed = await self.session.run(lambda a: passkeys.remove(actor=a, passkey_id=row.id))
            if removed is None:
                return False
            ui.notify(f"Removed the passkey “{removed}”.", type="positive")
            await self.refresh()
            return True

        dialogs.confirm(
            title=f"Remove the passkey “{row.label}”?",
            message="It will no longer confirm it is you here. You can add it again later.",
            action="Remove passkey",
            on_confirm=go,
        )
