"""Words and times for people (components/formatting.py, components/viewer_zone.py)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from components import formatting
from components.viewer_zone import known_zone

NOW = datetime(2026, 11, 12, 14, 3, 30, tzinfo=UTC)


def test_counts_take_the_plural_they_need() -> None:
    assert [formatting.count(n, "line") for n in (0, 1, 2, 1250)] == ["0 lines", "1 line", "2 lines", "1,250 lines"]
    assert formatting.count(1, "address") == "1 address" and formatting.count(3, "address") == "3 addresses"
    assert formatting.count(1, "invitation") == "1 invitation"
    assert [formatting.duration(h) for h in (1, 24, 72, 168)] == ["1 hour", "24 hours", "72 hours", "7 days"]


def test_relative_times_are_rounded_so_a_fresh_link_keeps_its_whole_lifetime() -> None:
    sent_a_moment_ago = NOW - timedelta(seconds=2)
    assert formatting.relative(sent_a_moment_ago + timedelta(days=7), NOW) == "in 7 days"
    assert formatting.relative(sent_a_moment_ago + timedelta(hours=72), NOW) == "in 3 days"
    assert formatting.relative(sent_a_moment_ago + timedelta(hours=24), NOW) == "in 24 hours"
    assert formatting.relative(NOW + timedelta(minutes=1), NOW) == "in 1 minute"
    assert formatting.relative(NOW - timedelta(minutes=59, seconds=50), NOW) == "1 hour ago"
    assert formatting.relative(NOW - timedelta(seconds=20), NOW) == "just now"
    assert formatting.relative(NOW + timedelta(seconds=20), NOW) == "in under a minute"


def test_exact_times_are_in_the_viewers_zone_and_name_it() -> None:
    assert formatting.exact(NOW) == "12 Nov 2026, 14:03 UTC"
    assert formatting.exact(NOW, ZoneInfo("Europe/Berlin"), seconds=True) == "12 Nov 2026, 15:03:30 CET"
    assert (
        formatting.exact(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), ZoneInfo("Europe/London")) == "1 Jul 2026, 10:00 BST"
    )
    assert formatting.zone_label(ZoneInfo("Asia/Tokyo")) == "Asia/Tokyo" and formatting.zone_label(UTC) == "UTC"


def test_only_a_zone_this_machine_knows_is_taken_from_the_browser() -> None:
    assert known_zone("Europe/London") == ZoneInfo("Europe/London")
    assert known_zone("Etc/UTC") is UTC
    for answer in ("../../etc/passwd", "/etc/localtime", "Mars/Olympus", "", None, 3, "Europe/London\x00"):
        assert known_zone(answer) is None


def test_delivery_states_are_words() -> None:
    assert formatting.delivery("queued") == "Waiting to send"
    assert formatting.delivery("sent") == "Sent"
    assert formatting.delivery("failed", "550 No such user") == "Failed: 550 No such user"
