"""Access history (issue 18 item 2): the staff list's row menu item opening a member's history in the organisation,
and the Care Portal landing's "Your earlier access" (services/organisations/access_history.py decides who may read
what). Times are in the viewer's time zone, as everywhere in the Care Portal."""

from datetime import tzinfo
from typing import Any

from nicegui import ui

from components import dialogs
from components.formatting import exact, zone_label
from components.session import PageSession
from components.viewer_zone import ViewerZone
from services.access.service import Actor
from services.organisations import access_history
from services.organisations.access_history import Ending, HistoryLine

MENU_EVENT = "access_history"
MENU_LABEL = "Access history"
HEADERS = ("Role", "Scope", "From", "To", "Given or changed by", "Approved by", "Sponsor", "How it ended")
NOBODY = "—"


def ending_words(ending: Ending, zone: tzinfo) -> str:
    """How a line of history stopped, in words: 'Removed by Olga Owner', 'End reached', 'Still held'..."""
    by = f" by {ending.by}" if ending.by else ""
    if ending.how == "dormant":
        said = f"Suspended after {ending.dormant_days} days without a log-in"
        return f"{said}; {_restored(ending, zone)}"
    if ending.how == "suspended":
        return f"Account suspended{by}; {_restored(ending, zone)}"
    words = {
        "held": "Still held",
        "changed": "Role changed",
        "end_reached": "End reached",
        "ended_now": f"Ended early{by}",
        "removed": f"Removed{by}",
        "review": "Ended by an access review: nobody answered for it",
        "role_deleted": f"Ended: the role was deleted{by}",
    }
    return words.get(ending.how, ending.how.replace("_", " ").capitalize())


def cells(line: HistoryLine, zone: tzinfo) -> tuple[str, ...]:
    """One line of the history as the dialog's table shows it (HEADERS)."""
    if line.grant_id == 0:  # a suspension of the account
        until = exact(line.until, zone) if line.until else "Not restored"
        return ("Account suspended", line.scope, exact(line.since, zone), until, line.given_by or NOBODY,
                NOBODY, NOBODY, ending_words(line.ending, zone))  # fmt: skip
    until = exact(line.until, zone) if line.until else "Now"
    return (line.role, line.scope, exact(line.since, zone), until, line.given_by or NOBODY,
            line.approved_by or NOBODY, line.sponsor or NOBODY, ending_words(line.ending, zone))  # fmt: skip


async def show_history(session: PageSession, organisation_id: int, row: dict[str, Any], zone: tzinfo) -> None:
    """Read the row's member's access history as the viewer and show it in a dialog (refused: a notification)."""
    member_id = int(row["member_id"])
    history = await session.run(
        lambda a: access_history.member_history(actor=a, organisation_id=organisation_id, member_id=member_id)
    )
    if history is None:
        return
    title = f"Access history of {history.name}"
    with dialogs.disposable(title) as dialog, ui.card().style("max-width: 95vw; width: 72rem"):
        ui.label(title).classes("text-h6").props('role="heading" aria-level="2"')
        ui.label(f"{history.email}. Times in your time zone ({zone_label(zone)}), oldest first.")
        # on a phone the table scrolls sideways inside its box: a named region the keyboard can reach and scroll
        scroller = ui.element("div").classes("w-full").style("overflow-x: auto")
        scroller.props(f'tabindex="0" role="region" aria-label="{title}, scrolls sideways"')
        with scroller:
            _table(title, [cells(line, zone) for line in history.lines])
        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat no-caps autofocus")
    dialog.open()


async def earlier_access(actor: Actor) -> None:
    """On the Care Portal landing, under the viewer's live access: their ended grants by organisation, collapsed (and
    built when first opened); nothing when there are none."""
    found = await access_history.my_earlier_access(actor=actor)
    if not found:
        return
    part = ui.expansion("Your earlier access", icon="history", value=False).classes("w-full q-mt-md")
    part.mark("earlier-access")

    def show() -> None:
        part.clear()
        with part:
            _earlier(found, zone.zone)

    def first_opened() -> None:
        if not part.default_slot.children:
            show()

    zone = ViewerZone(on_known=lambda: show() if part.default_slot.children else None)
    part.on_value_change(first_opened)


def _earlier(found: list[access_history.EarlierAccess], zone: tzinfo) -> None:
    ui.label(f"Times in your time zone ({zone_label(zone)}).").classes("text-caption")
    organisation = None
    for access in found:
        if access.organisation != organisation:
            organisation = access.organisation
            ui.label(organisation).classes("text-subtitle1 q-mt-sm").props('role="heading" aria-level="2"')
        ended = f"Ended {exact(access.ending.at, zone)}: " if access.ending.at else "Ended: "
        how = _lower(access.ending, zone)
        words = f"{access.role} — {access.scope}, from {exact(access.since, zone)}. {ended}{how}."
        ui.label(words).classes("text-body1").props('data-testid="earlier-role"')


def _lower(ending: Ending, zone: tzinfo) -> str:
    words = ending_words(ending, zone)
    return words[:1].lower() + words[1:]


def _restored(ending: Ending, zone: tzinfo) -> str:
    if ending.restored_at is None:
        return "not restored"
    by = f" by {ending.restored_by}" if ending.restored_by else ""
    return f"restored {exact(ending.restored_at, zone)}{by}"


def _table(caption: str, rows: list[tuple[str, ...]]) -> None:
    """A plain HTML table named by the dialog's title: column headers, one row per line (read as a table)."""
    table = ui.element("table").style("border-collapse: collapse; width: 100%").mark("access-history")
    table.props["aria-label"] = caption
    with table:
        with ui.element("thead"), ui.element("tr"):
            for header in HEADERS:
                _cell("th", header, scope="col")
        with ui.element("tbody"):
            for row in rows:
                with ui.element("tr").props('data-testid="history-line"'):
                    for value in row:
                        _cell("td", value)


def _cell(tag: str, text: str, **attributes: str) -> None:
    cell = ui.element(tag).style(
        "text-align: left; padding: 4px 8px; vertical-align: top; border-bottom: 1px solid #ddd"
    )
    for name, value in attributes.items():
        cell.props[name] = value
    with cell:
        ui.label(text)
