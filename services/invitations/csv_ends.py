"""A CSV's second column of access ends (issue 18): recognised by its heading or its dates, read line by line."""

from datetime import datetime

from services.invitations import addresses as emails

_END_WORDS = ("end", "until", "expir", "leav")
_SAMPLE_CELLS = 50
HOW_TO_WRITE = "write it as 2027-03-31 or 2027-03-31 17:00"


def is_end_column(sample: list[list[str]], *, header: bool) -> bool:
    """Does the second column hold ends of access? Its heading says so, or one of its first cells is a date (any
    other second column, names say, is ignored as before)."""
    seconds = [record[1] for record in sample if len(record) > 1]
    if header and seconds:
        words = "".join(c if c.isalpha() else " " for c in seconds[0].lower()).split()
        return any(word.startswith(_END_WORDS) for word in words)
    return any(read_end(cell)[0] is not None for cell in seconds[:_SAMPLE_CELLS])


def read_end(cell: str) -> tuple[datetime | None, str]:
    """The end of access a cell gives (None when empty) or why it is no date: a date alone is the end of that day."""
    text = cell.strip()
    if not text:
        return None, ""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, f"the end of access “{emails.for_display(text)}” is not a date: {HOW_TO_WRITE}"
    if len(text) == len("2027-03-31"):
        moment = moment.replace(hour=23, minute=59)
    return moment, ""
