"""The staff list's access that dormancy suspended: how its row says so, and its row menu's Restore access
(services/organisations/dormant_restore.py decides who may and what comes back)."""

from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Any

from nicegui import ui

from components import dialogs
from components.formatting import exact
from components.session import PageSession
from services.access.service import Actor
from services.organisations import dormant_restore, staff

MENU_EVENT = "restore_access"
MENU_LABEL = "Restore access"


def suspended_words(row: staff.StaffRow, zone: tzinfo) -> str | None:
    """What the Access ends column says of a grant dormancy suspended (None: it was not)."""
    if not row.dormant_suspended:
        return None
    said = f"Suspended: no log-in for {row.dormant_suspended} days"
    return f"{said}; restored {exact(row.restored_at, zone)}" if row.restored_at else said


def confirm_restore(
    session: PageSession, row: dict[str, Any], zone: tzinfo, refresh: Callable[[], Awaitable[None]]
) -> None:
    """Ask first; on yes, restore the grant as the viewer, say what came back (or why not), and read the list again."""

    async def confirmed() -> bool:
        done = await session.run(lambda a: dormant_restore.restore_access(actor=a, assignment_id=int(row["id"])))
        if done is not None:
            until = f"until {exact(done.ends_at, zone)}" if done.ends_at else "with no end"
            said = f"{done.email} holds {done.role_name} in {done.scope_name} again, {until}; they are told by email."
            ui.notify(said, type="positive")
        await refresh()
        return True

    dialogs.confirm(
        title=f"Restore the access of {row['name']}?",
        message=f"{row['email']} gets back {row['role']} ({row['scope']}), with the same sponsor and its end if that "
        "is still to come, within this organisation's end-date rules. Their days without a log-in count from now.",
        action=MENU_LABEL,
        on_confirm=confirmed,
    )


async def suspension_notes(actor: Actor) -> None:
    """On the Care Portal landing, a kind note for each organisation where dormancy suspended all the viewer's access
    (rather than an empty screen)."""
    for here in await dormant_restore.suspended_here(actor=actor):
        with ui.card().classes("w-full q-mb-md").props("flat bordered").mark("dormant-note"):
            ui.label(note(here)).classes("text-body1")


def note(here: dormant_restore.SuspendedHere) -> str:
    """The note's words: which organisation, after how many days, and whom to ask (its owners, by name)."""
    said = f"Your access to {here.organisation_name} was suspended after {here.dormant_days} days without a log-in."
    if not here.owners:
        return f"{said} Ask whoever manages its staff to restore it."
    names = here.owners[:-1]
    who = f"{', '.join(names)} or {here.owners[-1]}" if names else here.owners[0]
    return f"{said} Ask an owner ({who}) to restore it."
