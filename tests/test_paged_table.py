"""What a paged table sends for a change: worked out once for the pages that showed and now show the same."""

from components.paged_table import Fetched

PAGINATION = {"page": 1, "rowsPerPage": 25, "rowsNumber": 2, "sortBy": "expires", "descending": False}
ROWS = [{"id": 1, "email": "one@example.org", "delivery": "queued"}, {"id": 2, "email": "two@example.org"}]


def test_pages_that_showed_and_now_show_the_same_share_one_patch() -> None:
    shown, delivered = Fetched(list(ROWS), 2), Fetched([{**ROWS[0], "delivery": "sent"}, ROWS[1]], 2)
    first = delivered.patch_from(5, shown, dict(PAGINATION), dict(PAGINATION))
    second = delivered.patch_from(5, shown, dict(PAGINATION), dict(PAGINATION))
    assert first is second and first is not None
    changed, code = first
    assert changed == {0: delivered.rows[0]}  # only the row that moved, by position
    assert '"changed":{"0":' in code and "two@example.org" not in code
    other_element = delivered.patch_from(6, shown, dict(PAGINATION), dict(PAGINATION))
    assert other_element is not None and other_element is not first and "getElement(6)" in other_element[1]


def test_an_equal_page_read_again_is_another_reading_with_its_own_patch() -> None:
    shown, now = Fetched(list(ROWS), 2), [{**ROWS[0], "delivery": "sent"}, ROWS[1]]
    first = Fetched(now, 2).patch_from(5, shown, dict(PAGINATION), dict(PAGINATION))
    again = Fetched(list(now), 2).patch_from(5, shown, dict(PAGINATION), dict(PAGINATION))
    assert first == again and first is not again  # named by version, never by which object holds the rows


def test_nothing_is_sent_when_neither_rows_nor_counters_moved() -> None:
    same = Fetched([dict(r) for r in ROWS], 2)
    assert same.patch_from(5, Fetched(ROWS, 2), dict(PAGINATION), dict(PAGINATION)) is None


def test_a_moved_counter_alone_sends_the_counter_and_no_rows() -> None:
    more = {**PAGINATION, "rowsNumber": 3}
    diff = Fetched([dict(r) for r in ROWS], 3).patch_from(5, Fetched(ROWS, 2), dict(PAGINATION), more)
    assert diff is not None
    changed, code = diff
    assert changed == {} and '"rowsNumber":3' in code and "one@example.org" not in code


def test_rows_that_came_or_went_send_the_page_of_rows() -> None:
    arrived = Fetched([{"id": 3, "email": "three@example.org"}, *ROWS], 3)
    diff = arrived.patch_from(5, Fetched(ROWS, 2), dict(PAGINATION), {**PAGINATION, "rowsNumber": 3})
    assert diff is not None
    changed, code = diff
    assert changed is None and '"rows":[{"id":3' in code
