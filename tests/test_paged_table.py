"""What a paged table sends for a change: worked out once for the pages that showed and now show the same."""

from components import paged_table

PAGINATION = {"page": 1, "rowsPerPage": 25, "rowsNumber": 2, "sortBy": "expires", "descending": False}
ROWS = [{"id": 1, "email": "one@example.org", "delivery": "queued"}, {"id": 2, "email": "two@example.org"}]


def test_pages_that_showed_and_now_show_the_same_share_one_patch() -> None:
    shown, delivered = list(ROWS), [{**ROWS[0], "delivery": "sent"}, ROWS[1]]
    first = paged_table._diff(5, (shown, dict(PAGINATION)), (delivered, dict(PAGINATION)))
    second = paged_table._diff(5, (shown, dict(PAGINATION)), (delivered, dict(PAGINATION)))
    assert first is second and first is not None
    changed, code = first
    assert changed == {0: delivered[0]}  # only the row that moved, by position
    assert '"changed":{"0":' in code and "two@example.org" not in code
    other_element = paged_table._diff(6, (shown, dict(PAGINATION)), (delivered, dict(PAGINATION)))
    assert other_element is not None and other_element is not first and "getElement(6)" in other_element[1]


def test_nothing_is_sent_when_neither_rows_nor_counters_moved() -> None:
    assert paged_table._diff(5, (ROWS, dict(PAGINATION)), ([dict(r) for r in ROWS], dict(PAGINATION))) is None


def test_a_moved_counter_alone_sends_the_counter_and_no_rows() -> None:
    diff = paged_table._diff(5, (ROWS, dict(PAGINATION)), ([dict(r) for r in ROWS], {**PAGINATION, "rowsNumber": 3}))
    assert diff is not None
    changed, code = diff
    assert changed == {} and '"rowsNumber":3' in code and "one@example.org" not in code


def test_rows_that_came_or_went_send_the_page_of_rows() -> None:
    arrived = [{"id": 3, "email": "three@example.org"}, *ROWS]
    diff = paged_table._diff(5, (ROWS, dict(PAGINATION)), (arrived, {**PAGINATION, "rowsNumber": 3}))
    assert diff is not None
    changed, code = diff
    assert changed is None and '"rows":[{"id":3' in code
