"""How a scope is named to people: one name for each, the same in every list, page, email and audit sentence."""

PLATFORM = "the Gatehouse platform"


def place_name(*, organisation: str | None, deployment: str | None = None) -> str:
    """'Heart Failure Trial at St Mary's Trust', "St Mary's Trust (whole organisation)", or the platform."""
    if organisation is None:
        return PLATFORM
    if deployment is None:
        return f"{organisation} (whole organisation)"
    return f"{deployment} at {organisation}"
