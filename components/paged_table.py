"""A ui.table whose rows come one page at a time from the server: search, sort, pages."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from nicegui import ui

Key = tuple[str, int]


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
        self.table.on("request", self._on_request)
        self.table.on("update:pagination", self._keep_total)  # the browser may echo a stale rowsNumber
        self._total = 0

    async def refresh(self, *, page: int | None = None) -> None:
        """Fetch the current (or given) page again, keeping sort and search."""
        async with self._lock:
            pagination = dict(self.table.pagination)
            if page is not None:
                pagination["page"] = page
            request = self._cursor(
                PageRequest(
                    search=(self.search.value or "").strip(),
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
            self._total = total
            pagination["rowsNumber"] = total
            pagination["page"] = request.page
            self.table.props["pagination"] = pagination
            self.table.rows = rows

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
        keys = [_decode_key(row["_key"]) for row in rows if "_key" in row]
        if len(keys) == len(rows) and rows:
            self._edges = (_view(request), request.page, keys[0], keys[-1])
        else:
            self._edges = None

    async def _on_request(self, event: Any) -> None:
        requested = event.args.get("pagination", {}) if isinstance(event.args, dict) else {}
        pagination = dict(self.table.pagination)
        pagination.update({k: requested[k] for k in ("page", "rowsPerPage", "sortBy", "descending") if k in requested})
        self.table.props["pagination"] = pagination
        await self.refresh()


def _view(request: PageRequest) -> tuple[object, ...]:
    return (request.search, request.sort, request.descending, request.page_size)


def encode_key(key: Key) -> str:
    """A row's keyset key as a plain string cell (lists in table rows upset the browser)."""
    return f"{key[1]}:{key[0]}"


def _decode_key(text: str) -> Key:
    row_id, _, value = text.partition(":")
    return value, int(row_id)
