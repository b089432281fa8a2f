"""Imported addresses the organisation already knows, shown apart from the address field: each with what sending
would do to it, and sent only when the inviter ticks their group."""

from collections.abc import Callable

from nicegui import ui

from services.invitations import review
from services.invitations.review import ImportReview, KnownAddress

SHOWN = 20
GROUPS = (
    ("members", "Already members", ("this member", "these {count} members"), "the role is added, with a notice email"),
    (
        "invited",
        "Already have a pending invitation",
        ("this address", "these {count} addresses"),
        "a pending invitation at the same place is replaced and a new link sent",
    ),
)


class KnownAddresses:
    """The apart groups; chosen holds the addresses of the groups the inviter ticked."""

    def __init__(self, *, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._groups: dict[str, list[KnownAddress]] = {"members": [], "invited": []}
        self._ticked: dict[str, bool] = {"members": False, "invited": False}
        self._context: tuple[tuple[int, str] | None, str, str] = (None, "", "")
        self._render()

    @property
    def chosen(self) -> list[str]:
        return [k.address for name, group in self._groups.items() if self._ticked[name] for k in group]

    @property
    def left(self) -> list[str]:
        """The addresses kept apart: not ticked, so not sent."""
        return [k.address for name, group in self._groups.items() if not self._ticked[name] for k in group]

    def add(self, found: ImportReview) -> None:
        """Add a file's known addresses; a group that grows must be ticked again."""
        for name, more in (("members", found.members), ("invited", found.invited)):
            present = {k.address for k in self._groups[name]}
            fresh = [k for k in more if k.address not in present]
            if fresh:
                self._groups[name].extend(fresh)
                self._ticked[name] = False
        self._changed()

    def set_context(self, *, role: tuple[int, str] | None, scope_key: str, place: str) -> None:
        """The role (id, name) and place a send would use, for the sentence on each address."""
        if self._context != (role, scope_key, place):
            self._context = (role, scope_key, place)
            self._render.refresh()

    def remove_addresses(self, addresses: list[str]) -> None:
        gone = set(addresses)
        for name, group in self._groups.items():
            self._groups[name] = [k for k in group if k.address not in gone]
        self._changed()

    def _tick(self, name: str, value: bool) -> None:
        self._ticked[name] = value
        self._on_change()

    def _changed(self) -> None:
        self._render.refresh()
        self._on_change()

    @ui.refreshable_method
    def _render(self) -> None:
        role, scope_key, place = self._context
        for name, heading, (one, many), what in GROUPS:
            group = self._groups[name]
            if not group:
                continue
            with ui.column().classes("w-full gap-0 q-pa-sm rounded bg-grey-2").props('role="group"') as box:
                title = ui.label(f"{heading} ({len(group):,}): not sent unless you tick the box").classes(
                    "text-subtitle2"
                )
                box.props(f'aria-labelledby="{title.html_id}"')
                them = one if len(group) == 1 else many.format(count=f"{len(group):,}")
                ui.checkbox(
                    f"Send to {them} too ({what})",
                    value=self._ticked[name],
                    on_change=lambda event, n=name: self._tick(n, bool(event.value)),
                ).props("dense")
                for known in group[:SHOWN]:
                    sentence = review.effect(known, role=role, scope_key=scope_key, place=place)
                    ui.label(f"Line {known.line}: {known.address} — {sentence}").classes("text-caption break-all")
                if len(group) > SHOWN:
                    ui.label(f"… and {len(group) - SHOWN:,} more.").classes("text-caption")
