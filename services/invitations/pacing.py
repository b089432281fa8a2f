"""How many addresses each step of a big send takes, and the breath between two steps.

Each step is one transaction, and on SQLite a transaction holds the process's one database connection: every other
page's query waits for it to commit (docs/PERFORMANCE.md, issue 17 goal 3). So steps are sized by measurement to
take about STEP_SECONDS each, on whatever machine and load, and between two steps the queries that waited get the
connection before the next step takes it again.
"""

import time
from dataclasses import dataclass, field

STEP_SECONDS = 0.08  # what a step may cost others' queries: 500-700 addresses on a quiet 2-core machine
FIRST_STEP = 500
SMALLEST_STEP, LARGEST_STEP = 250, 2_000  # each commit costs a disk flush (~30 ms): smaller steps only slow the send
PAUSE_SECONDS = 0.01  # a page's list asks two queries in a row: the second, too, comes before the next step


def clock() -> float:
    """The pacer's clock (a seam for tests)."""
    return time.monotonic()


@dataclass
class Pacer:
    """The size of the next step, adjusted after each step to the time it took; a fixed size if one is given."""

    fixed: int | None = None
    size: int = field(init=False)
    _started: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.size = self.fixed or FIRST_STEP

    def start(self) -> int:
        """The size of the step about to start (timed from now)."""
        self._started = clock()
        return self.size

    def finished(self) -> None:
        """The step is committed: aim the next one at STEP_SECONDS (half-way there, so that one slow step of a
        busy moment does not halve the pace)."""
        if self.fixed is not None:
            return
        took = max(clock() - self._started, 0.001)
        aimed = self.size * STEP_SECONDS / took
        self.size = max(SMALLEST_STEP, min(LARGEST_STEP, int((self.size + aimed) / 2)))
