"""A ui.table whose rows come one page at a time from the server: search, sort, pages."""

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from nicegui import ui

from components import live_push
from components.data_table import DataTable
from components.shared_props import shared_prop
from services.platform import text

Key = tuple[str, int]
ROWS_PER_PAGE_OPTIONS = (10, 25, 50, 100)


@dataclass(frozen=True)
class PageRequest:
    search: str
    sort: str
    descending: bool
    page: int
    page_size: int
    after: Key | None = None  # keyset hints for lists that support them; others use page and page_size
    before: Key | None = None


Diff = tuple[dict[int, dict[str, Any]] | None, str]  # the rows that changed by position (None: all), the patch
Shown = tuple[list[dict[str, Any]], dict[str, Any]]  # rows and pagination
_versions = itertools.count(1)


@dataclass(frozen=True, eq=False)
class Fetched:
    """One page as the browser gets it, and the list's row count; for lists that page by keyset, the keys of the
    page's first and last row (they stay on the server). Pages that share a reading share one Fetched
    (components/live.py): never change one after handing it over. Its version names it for the patches."""

    rows: list[dict[str, Any]]
    total: int
    edges: tuple[Key, Key] | None = None
    capped: bool = False  # total is a floor: the search matched more (the table says "of more than N matches")
    version: int = field(default_factory=lambda: next(_versions))
    _patches: dict[tuple[object, ...], Diff | None] = field(default_factory=dict, repr=False)

    def patch_from(self, element_id: int, shown: "Fetched", was: dict[str, Any], now: dict[str, Any]) -> Diff | None:
        """What a page showing `shown` (pagination `was`) is sent to show this (pagination `now`); None: nothing.
        Worked out once for all the pages that showed the same reading and now show this one."""
        key = (element_id, shown.version, tuple(was.items()), tuple(now.items()))
        if key not in self._patches:
            self._patches[key] = _worked_out(element_id, (shown.rows, was), (self.rows, now))
        return self._patches[key]


Fetch = Callable[[PageRequest], Awaitable[Fetched | None]]


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
        self._shown = Fetched([], 0)  # what the server's copy of the table was last given
        self.search = (
            ui.input(search_label)
            .props('outlined dense clearable debounce="300" type=search')
            .classes("w-72")
            .on_value_change(lambda: self.refresh(page=1))
        )
        self.search.props["aria-label"] = f"{search_label} in {label}"
        pagination = {"page": 1, "rowsPerPage": page_size, "rowsNumber": 0, "sortBy": sort, "descending": descending}
        self.table = DataTable(
            columns=[],  # shared below: ui.table would keep an observable copy of every column for each page
            rows=[],
            row_key="id",
            pagination=pagination,
            selection=selection,  # type: ignore[arg-type]
        ).classes("w-full")
        self.table.props("flat bordered binary-state-sort")
        shared_prop(self.table, "columns", columns)  # the caller's list: never changed once handed over
        shared_prop(self.table, "rows-per-page-options", ROWS_PER_PAGE_OPTIONS)
        self.table.props["title"] = label
        self.table.props["aria-label"] = label
        self.table.props["role"] = "region"  # a name on a plain <div> is ignored: a named region is announced
        self.table.on("request", self._on_request)
        self.table.on("update:pagination", self._keep_total)  # the browser may echo a stale rowsNumber
        live_push.resend_on_reconnect(self.table)
        self._total = 0

    async def refresh(self, *, page: int | None = None, asked: dict[str, Any] | None = None) -> None:
        """Fetch the current (or given) page again, keeping sort and search; `asked`: the browser's new paging."""
        async with self._lock:  # the paging asked is applied inside: a live refresh under way cannot undo it
            pagination = {**self.table.pagination, **(asked or {})}
            if page is not None:
                pagination["page"] = page
            request = self._cursor(
                PageRequest(
                    search=_printable(self.search.value or ""),
                    sort=str(pagination.get("sortBy") or ""),
                    descending=bool(pagination.get("descending")),
                    page=max(1, int(pagination.get("page") or 1)),
                    page_size=text.page_size(int(pagination.get("rowsPerPage") or 25)),
                )
            )
            fetched = await self._fetch(request)
            if fetched is None:
                return
            self._edges = (_view(request), request.page, *fetched.edges) if fetched.edges else None
            self._total = fetched.total
            pagination["rowsNumber"] = fetched.total
            pagination["capped"] = fetched.capped
            pagination["page"] = request.page
            self._show(fetched, pagination)

    async def redraw(self, rows_of: Callable[[], list[dict[str, Any]] | None]) -> None:
        """Show the page's rows again as rows_of() formats them now (relative times, no keys), reading nothing."""
        async with self._lock:
            rows = rows_of()
            if rows is not None:
                self._show(Fetched(rows, self._total), dict(self.table.pagination))

    def _show(self, fetched: Fetched, pagination: dict[str, Any]) -> None:
        """Send the browser only what changed: nothing, or a patch of the changed rows or all rows and the counters.

        A ui.table update resends every row, the columns and the slot templates (about 10 KB for 25 rows); a live
        change usually moves a counter or a cell. Pages that showed the same rows and now show the same rows share
        one worked-out patch and one message (components/live_push.py).
        """
        if not self.table.client.has_socket_connection:  # being built, or offline: the element goes out whole
            self._follow(pagination, fetched.rows, None)  # plain: observable rows were a deep copy per page
            self.table.update()
            self._shown = fetched
            return
        diff = fetched.patch_from(self.table.id, self._shown, dict(self.table.pagination), pagination)
        if diff is None:
            return  # the 30 s redraw of relative times, mostly; the shown reading stays the one others share
        self._shown = fetched
        changed, code = diff
        self._follow(pagination, fetched.rows, changed)
        live_push.run_javascript(self.table, code)

    def _follow(self, pagination: dict[str, Any], rows: list[dict[str, Any]], changed: dict[int, Any] | None) -> None:
        """Bring the server's copy of the table to what the patch shows the browser, without sending it.

        Plain dict and list writes, not NiceGUI's observable ones: each of those dispatches the change handlers
        (suspended or not), which with hundreds of open pages cost more per change than sending the patch. The
        copy is what NiceGUI sends when the element goes out whole (a reconnect, another prop set); rows are
        never changed in place, so unobserved rows are safe to hold.
        """
        dict.__setitem__(self.table.props, "pagination", pagination)
        if changed is None:
            list.__setitem__(self.table.rows, slice(None), rows)
        for n, row in (changed or {}).items():
            list.__setitem__(self.table.rows, n, row)

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
        if request.page == page > 1:  # the first page always starts at the top: a row may have come before it
            return replace(request, after=(first[0], first[1] + step))
        return request

    async def _on_request(self, event: Any) -> None:
        requested = event.args.get("pagination", {}) if isinstance(event.args, dict) else {}
        asked = {k: requested[k] for k in ("page", "rowsPerPage", "sortBy", "descending") if k in requested}
        await self.refresh(asked=asked)


def _worked_out(element_id: int, old: Shown, new: Shown) -> Diff | None:
    changed = _changed_rows(new[0], old[0])
    if changed == {} and new[1] == old[1]:
        return None
    return changed, _patch(element_id, new[1], changed, new[0])


def _patch(
    element_id: int, pagination: dict[str, Any], changed: dict[int, dict[str, Any]] | None, rows: list[dict[str, Any]]
) -> str:
    """JavaScript that applies the change to the table's element in the page, as an update message would: through
    NiceGUI's documented getElement and the table's own applyPatch (components/data_table.js)."""
    content = {"rows": rows} if changed is None else {"changed": {str(n): r for n, r in changed.items()}}
    patch = json.dumps({"pagination": pagination, **content}, separators=(",", ":"))  # ASCII: a safe JS literal
    return f"getElement({element_id})?.applyPatch({patch})"


def _changed_rows(rows: list[dict[str, Any]], old_rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]] | None:
    """The rows that differ by position, or None when rows came or went."""
    if [row.get("id") for row in rows] != [row.get("id") for row in old_rows]:
        return None
    return {n: row for n, (row, old) in enumerate(zip(rows, old_rows, strict=True)) if row != old}


def _printable(text: str) -> str:
    return (text if text.isprintable() else "".join(c for c in text if c.isprintable())).strip()


def _view(request: PageRequest) -> tuple[object, ...]:
    return (request.search, request.sort, request.descending, request.page_size)
