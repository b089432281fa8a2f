"""What a list request may ask for: search text cleaned before it reaches a query, and page sizes capped."""

MAX_PAGE_SIZE = 100  # rows per page, for every list


def page_size(requested: int) -> int:
    """The rows per page a list serves for a request: at least 1, at most MAX_PAGE_SIZE."""
    return max(1, min(requested, MAX_PAGE_SIZE))


def search_term(raw: str, *, limit: int = 320) -> str:
    """Control characters become U+FFFD, which matches nothing (PostgreSQL refuses NUL in text); trimmed."""
    if raw.isprintable():  # the common case, and every open page's refresh asks
        return raw.strip()[:limit]
    return "".join(char if char.isprintable() else "\ufffd" for char in raw).strip()[:limit]
