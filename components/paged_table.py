"""A ui.table whose rows come one page at a time from the server: search, sort, pages."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from nicegui import ui

from components import live_push

Key = tuple[str, int]
# Quasar sorts when a sortable header is clicked, but the header never takes the focus: keyboard users could not
# sort. This header cell is focusable when sortable, sorts with Enter or Space, and tells its state (aria-sort).
HEADER_CELL = (
    '<q-th :props="props" :tabindex="props.col.sortable ? 0 : null"'
    " :aria-sort=\"props.col.sortable ? (props.col.__thClass.includes('sorted') ?"
    " (props.col.__thClass.includes('sort-desc') ? 'descending' : 'ascending') : 'none') : null\""
    ' @keydown.enter.space.prevent="props.col.sortable && props.sort(props.col)">{{ props.col.label }}</q-th>'
)


@dataclass(frozen=True)
class PageRequest:
    search: str
    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None = None  # keyset hints for lists that support them; others use page and page_size
    before: Key | None = None


Fetch = Callable[[PageRequest], Awaitable[tuple[list[dict[str, Any]], int] | None]]


class PagedTable:
    """Only the current page of rows ever reaches the browser; the server sorts, filters and counts."""

    def __init__(
        self,
        *,
        columns: list[dict[str, Any]],
        fetch: Fetch,
        label: str,
        sort: str,
        descending: bool = False,
        page_size: int = 25,
        search_label: str = "Search",
        selection: str | None = None,
    ) -> None:
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._edges: tuple[tuple[object, ...], int, Key, Key] | None = None  # (view, page, first key, last key)
        self.search = (
            ui.input(search_label)
            .props('outlined dense clearable debounce="300" type=search')
            .classes("w-72")
            .on_value_change(lambda: self.refresh(page=1))
        )
        self.search.props["aria-label"] = f"{search_label} in {label}"
        pagination = {"page": 1, "rowsPerPage": page_size, "rowsNumber": 0, "sortBy": sort, "descending": descending}
        self.table = ui.table(
            columns=columns,
            rows=[],
            row_key="id",
            pagination=pagination,
            selection=selection,  # type: ignore[arg-type]
        ).classes("w-full")
        self.table.props("flat bordered binary-state-sort")
        self.table.props["rows-per-page-options"] = [10, 25, 50, 100]
        self.table.props["title"] = label
        self.table.props["aria-label"] = label
        self.table.props["role"] = "region"  # a name on a plain <div> is ignored: a named region is announced
        self.table.add_slot("header-cell", HEADER_CELL)
        self.table.on("request", self._on_request)
        self.table.on("update:pagination", self._keep_total)  # the browser may echo a stale rowsNumber
        live_push.resend_on_reconnect(self.table)
        self._total = 0

    async def refresh(self, *, page: int | None = None) -> None:
        """Fetch the current (or given) page again, keeping sort and search."""
        async with self._lock:
            pagination = dict(self.table.pagination)
            if page is not None:
                pagination["page"] = page
            request = self._cursor(
                PageRequest(
                    search="".join(c for c in (self.search.value or "") if c.isprintable()).strip(),
                    sort=str(pagination.get("sortBy") or ""),
                    descending=bool(pagination.get("descending")),
                    page=max(1, int(pagination.get("page") or 1)),
                    page_size=max(1, min(100, int(pagination.get("rowsPerPage") or 25))),
                )
            )
            fetched = await self._fetch(request)
            if fetched is None:
                return
            rows, total = fetched
            self._remember_edges(request, rows)
            rows = _without_keys(rows)
            self._total = total
            pagination["rowsNumber"] = total
            pagination["page"] = request.page
            self._show(rows, pagination)

    async def redraw(self, rows_of: Callable[[], list[dict[str, Any]] | None]) -> None:
        """Show the page's rows again as rows_of() formats them now (relative times, no keys), reading nothing."""
        async with self._lock:
            rows = rows_of()
            if rows is not None:
                self._show(rows, dict(self.table.pagination))

    def _show(self, rows: list[dict[str, Any]], pagination: dict[str, Any]) -> None:
        """Send the browser only what changed: nothing, the changed rows and counters, or (rows came or went) the page.

        A ui.table update resends every row, the columns and the slot templates (about 10 KB for 25 rows); a live
        change usually moves a counter or a cell, so the same rows are patched in place instead.
        """
        old_rows, old_pagination = self.table.rows, self.table.pagination
        changed = _changed_rows(rows, old_rows)
        if changed == {} and pagination == old_pagination:
            return  # the 30 s redraw of relative times, mostly
        if changed is None or not self.table.client.has_socket_connection:
            self.table.props["pagination"] = pagination
            self.table.rows = rows
            return
        with self.table.props.suspend_updates():  # the server's copy follows without resending the element
            if pagination != old_pagination:
                self.table.props["pagination"] = pagination
            for n, row in changed.items():  # in place: replacing the list re-wraps every row in observables
                self.table.rows[n] = row
        live_push.run_javascript(self.table, _patch(self.table.id, pagination, {str(n): r for n, r in changed.items()}))

    def _keep_total(self) -> None:
        if self.table.pagination.get("rowsNumber") != self._total:
            self.table.props["pagination"] = {**self.table.pagination, "rowsNumber": self._total}

    def _cursor(self, request: PageRequest) -> PageRequest:
        """Ask for a neighbouring page, or the current one again, by keyset instead of OFFSET."""
        if self._edges is None or self._edges[0] != _view(request):
            return request
        _, page, first, last = self._edges
        step = 1 if request.descending else -1  # an inclusive start: one id past the first row's key
        if request.page == page + 1:
            return replace(request, after=last)
        if request.page == page - 1:
            return replace(request, before=first)
        if request.page == page:
            return replace(request, after=(first[0], first[1] + step))
        return request

    def _remember_edges(self, request: PageRequest, rows: list[dict[str, Any]]) -> None:
        if rows and "_key" in rows[0] and "_key" in rows[-1]:
            self._edges = (_view(request), request.page, _decode_key(rows[0]["_key"]), _decode_key(rows[-1]["_key"]))
        else:
            self._edges = None

    async def _on_request(self, event: Any) -> None:
        requested = event.args.get("pagination", {}) if isinstance(event.args, dict) else {}
        pagination = dict(self.table.pagination)
        pagination.update({k: requested[k] for k in ("page", "rowsPerPage", "sortBy", "descending") if k in requested})
        self.table.props["pagination"] = pagination
        await self.refresh()


def _patch(element_id: int, pagination: dict[str, Any], rows: dict[str, dict[str, Any]]) -> str:
    """JavaScript that applies the change to the table's element in the page's state, as an update message would.

    NiceGUI 3.x keeps that state in `mounted_app.elements` (reactive: Vue re-renders what changed); an update
    message replaces a whole element there. If an upgrade moves it, the patch finds no element and does nothing:
    tests/browser/test_care_portal.py then sees no live count.
    """
    patch = json.dumps({"pagination": pagination, "rows": rows}, separators=(",", ":"))  # ASCII: a safe JS literal
    return (
        f"(() => {{ const element = mounted_app.elements[{json.dumps(str(element_id))}]; if (!element) return; "
        f"const patch = {patch}; element.props.pagination = patch.pagination; "
        "for (const [n, row] of Object.entries(patch.rows)) element.props.rows[Number(n)] = row; })()"
    )


def _changed_rows(rows: list[dict[str, Any]], old_rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]] | None:
    """The rows that differ by position, or None when rows came or went."""
    if [row.get("id") for row in rows] != [row.get("id") for row in old_rows]:
        return None
    return {n: row for n, (row, old) in enumerate(zip(rows, old_rows, strict=True)) if row != old}


def _without_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as the browser gets them: the keyset keys stay on the server."""
    return [{k: v for k, v in row.items() if k != "_key"} for row in rows]


def _view(request: PageRequest) -> tuple[object, ...]:
    return (request.search, request.sort, request.descending, request.page_size)


def encode_key(key: Key) -> str:
    """A row's keyset key as a plain string cell (lists in table rows upset the browser)."""
    return f"{key[1]}:{key[0]}"


def _decode_key(text: str) -> Key:
    row_id, _, value = text.partition(":")
    return value, int(row_id)
