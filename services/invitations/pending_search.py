"""SQLite's side of the pending list's search: candidates from its trigram index (models/derived.py).

An FTS5 table of the pending addresses whose rowid is `organisation_id << 32 | invitation id`: a search reads
only its organisation's range of each trigram's list, never the organisation's rows (issue 17, goal 2). The
LIKE the list keeps beside it checks every candidate, so the semantics are the LIKE's.
"""

from typing import Any, NamedTuple

# Rowids of one organisation: a range FTS5 seeks in each trigram's list.
_MATCHING = "FROM invitation_search WHERE invitation_search MATCH ? AND rowid BETWEEN ? AND ?"
CANDIDATES = f"SELECT rowid - ? {_MATCHING}"
COUNT = f"SELECT count(*) {_MATCHING}"
# Above this many matches a page walks the sort's index and keeps candidates (about 50 x rows / matches read);
# below it, it reads the candidates and sorts them (matches read): either way a few thousand rows at most.
WALK_ABOVE = 1_000


class Candidates(NamedTuple):
    """What CANDIDATES needs for a term, and whether the index's count is the list's (COUNT) without the LIKE."""

    params: list[Any]
    exact: bool


def candidates(organisation_id: int, term: str) -> Candidates | None:
    """The index's question for a lowered term; None below three characters, which no trigram holds."""
    if len(term) < 3:
        return None
    local, at, _ = term.partition("@")
    # A domain's trigrams are in most of the organisation's addresses: a whole address asks for its local part and
    # the @, which make it rare; the LIKE checks the rest.
    wanted = local + at if at and len(local) >= 3 else term
    base = organisation_id << 32
    # The index holds lower(email) (ASCII letters only, as LIKE folds them) matched case-sensitively against the
    # lowered term: for the whole term its matches are exactly the LIKE's.
    return Candidates([base, '"' + wanted.replace('"', '""') + '"', base, base + 0xFFFFFFFF], wanted == term)
