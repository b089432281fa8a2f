"""An email-address field: Enter, comma, semicolon, space or a pasted list turns text into checked chips."""

import asyncio
import functools
import re
from collections.abc import Callable

from nicegui import ui

from services.invitations import addresses as emails

SEPARATORS = re.compile(r"[,;\s]+")
CHIPS_SHOWN = 60
PROBLEMS_SHOWN = 20
THREAD_THRESHOLD = 200
EMPTY_FIELD_ONLY = "(e) => { if (!e.target.value) emit(); }"  # Backspace in an empty field takes the last chip


class EmailChips:
    """Addresses as chips, each valid or marked with its problem; duplicates collapse.

    Removing a chip (its ×, Backspace or Delete on it, or Backspace in the empty field) keeps the focus in the field.
    While chips are marked invalid the field says so (aria-invalid) and points at their problems (aria-describedby).
    """

    def __init__(self, *, on_change: Callable[[], None] | None = None) -> None:
        self._entries: dict[str, tuple[str, str | None]] = {}  # canonical key -> (shown text, problem)
        self._on_change = on_change
        self.input = (
            ui.input("Email addresses", placeholder="Type an address and press Enter")
            .props('outlined dense autocomplete="off"')
            .classes("w-full")
            .on("keydown.enter", self._commit_input)
            .on("blur", self._commit_input)
            .on("keydown.backspace", self._remove_last, js_handler=EMPTY_FIELD_ONLY)
            .on_value_change(self._split_typed)
        )
        self._help_id = f"{self.input.html_id}-help"
        self._problems_id = f"{self.input.html_id}-problems"
        ui.label("Separate several addresses with Enter, commas, semicolons or spaces; paste a list.").classes(
            "text-caption text-grey-7"
        ).props(f'id="{self._help_id}"')
        self._render()
        self._describe()

    @property
    def valid_addresses(self) -> list[str]:
        return [text for text, problem in self._entries.values() if problem is None]

    @property
    def invalid_count(self) -> int:
        return sum(1 for _, problem in self._entries.values() if problem is not None)

    @property
    def all_addresses(self) -> list[str]:
        """Every chip's address, valid or not, in the order added (the service names why each invalid one fails)."""
        return [text for text, _ in self._entries.values()]

    def focus(self) -> None:
        self.input.run_method("focus")

    async def add_many(self, raws: list[str]) -> None:
        """Add addresses (from a paste or a CSV file), checking them off the event loop when many."""
        if len(raws) > THREAD_THRESHOLD:
            checked = await asyncio.to_thread(emails.validate_many, raws)
        else:
            checked = emails.validate_many(raws)
        for raw, normalised, problem in checked:
            text = normalised or raw.strip()
            key = emails.canonical(text)
            if text and key not in self._entries:
                self._entries[key] = (text, problem)
        self._changed()

    def remove(self, key: str) -> None:
        """Remove one chip; the focus stays in the field (the chip's × that had it is gone)."""
        self._entries.pop(key, None)
        self._changed()
        self.focus()

    def remove_addresses(self, addresses: list[str]) -> None:
        """Remove the chips of these addresses (in any spelling), as after they were sent."""
        for address in addresses:
            self._entries.pop(emails.canonical(address), None)
        self._changed()

    def _remove_last(self) -> None:
        if self._entries:
            self.remove(next(reversed(self._entries)))

    def clear(self) -> None:
        self._entries.clear()
        self.input.value = ""
        self._changed()

    async def _commit_input(self) -> None:
        text = (self.input.value or "").strip()
        if text:
            self.input.value = ""
            await self.add_many([part for part in SEPARATORS.split(text) if part])

    async def _split_typed(self) -> None:
        text = self.input.value or ""
        if not SEPARATORS.search(text.strip()) and not SEPARATORS.fullmatch(text[-1:] or "x"):
            return
        parts = [part for part in SEPARATORS.split(text) if part]
        rest = "" if SEPARATORS.fullmatch(text[-1:]) else parts.pop() if parts else ""
        self.input.value = rest
        if parts:
            await self.add_many(parts)

    def _changed(self) -> None:
        self._render.refresh()
        self._describe()
        if self._on_change:
            self._on_change()

    def _describe(self) -> None:
        invalid = self.invalid_count > 0
        described = f"{self._help_id} {self._problems_id}" if invalid else self._help_id
        self.input.props(f'aria-describedby="{described}" aria-invalid="{"true" if invalid else "false"}"')

    @ui.refreshable_method
    def _render(self) -> None:
        entries = list(self._entries.items())
        if not entries:
            return
        with ui.row().classes("gap-1 q-mt-xs").props('aria-label="Addresses added"'):
            for key, (text, problem) in entries[:CHIPS_SHOWN]:
                self._chip(key, text, problem)
        valid, invalid = len(self.valid_addresses), self.invalid_count
        summary = f"{valid:,} valid address{'es' if valid != 1 else ''}"
        if invalid:
            summary += f", {invalid:,} with problems"
        if len(entries) > CHIPS_SHOWN:
            summary += f" ({len(entries) - CHIPS_SHOWN:,} more not shown as chips)"
        ui.label(summary).classes("text-caption").props('role="status" aria-live="polite"')
        problems = [(text, problem) for text, problem in self._entries.values() if problem]
        with ui.column().classes("gap-0").props(f'id="{self._problems_id}"'):
            for text, problem in problems[:PROBLEMS_SHOWN]:
                ui.label(f"{text}: {problem}").classes("text-caption text-negative")
            if len(problems) > PROBLEMS_SHOWN:
                ui.label(f"… and {len(problems) - PROBLEMS_SHOWN:,} more marked invalid.").classes("text-caption")

    def _chip(self, key: str, text: str, problem: str | None) -> None:
        chip = ui.chip(
            text,
            icon="error" if problem else None,
            color="negative" if problem else "primary",
            text_color="white",
            removable=True,
            on_value_change=lambda event, k=key: None if event.value else self.remove(k),
        ).props("dense")
        chip.on("keydown.delete", functools.partial(self.remove, key))  # Vue's .delete: Delete and Backspace
        chip.props["aria-label"] = f"Invalid address {text}: {problem}" if problem else f"Address {text}"
        chip.props["remove-aria-label"] = f"Remove {text}"  # Quasar's default is a bare "Remove" on every chip
        if problem:
            chip.tooltip(problem)
