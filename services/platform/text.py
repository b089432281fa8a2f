"""Cleaning free text typed into search boxes before it reaches a query."""


def search_term(raw: str, *, limit: int = 320) -> str:
    """Control characters become U+FFFD, which matches nothing (PostgreSQL refuses NUL in text); trimmed."""
    if raw.isprintable():  # the common case, and every open page's refresh asks
        return raw.strip()[:limit]
    return "".join(char if char.isprintable() else "\ufffd" for char in raw).strip()[:limit]
