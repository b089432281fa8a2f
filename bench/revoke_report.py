"""What bench.time_to_revoke keeps of each member (requests, page, moments) and how it reports them.

Times are wall-clock seconds (time.time()), the clock the app's own now() reads on the same machine, so a member's
moment (a grant's end, or when a removal was sent) and the requests' times compare directly.
"""

import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.lists_common import PageClient, percentile
from bench.revoke_world import Member

GOAL_SECONDS = 60.0


@dataclass
class Poll:
    sent: float
    answered: float
    status: int


@dataclass
class Watched:
    member: Member
    token: str
    polls: list[Poll] = field(default_factory=list)
    page: PageClient | None = None
    end: float | None = None  # when access should stop (wall clock)
    acted: float | None = None  # when A had done it (removal, suspension)
    last_status: int = 0  # one more request at the end of the watch: 401 once the member's sessions have ended

    def finished(self, tail: float) -> bool:
        """Refused, and watched for `tail` seconds more (a request allowed again later would be a defect)."""
        refused = [p.sent for p in self.polls if p.status != 200 and self.end is not None and p.sent >= self.end]
        return bool(refused) and time.time() - min(refused) >= tail


@dataclass(frozen=True)
class Options:
    poll: float = 0.25
    stagger: float = 0.2
    lead: float = 5.0  # the first end this far after the ends are set (they must all be set before it)
    warm: float = 2.0  # requests allowed before anything is taken away
    tail: float = 1.0
    watch: float = 75.0  # after the last moment, how long a page may take to lose the list before it is reported
    pages: bool = True


def page_left(w: Watched) -> float | None:
    """When (wall clock) the open page was sent elsewhere: to log in, or reloaded with what remains."""
    if w.page is None:
        return None
    offset = time.time() - time.monotonic()
    return next((h.at + offset for h in w.page.heard if h.event == "open"), None)


def figures(w: Watched, options: Options) -> dict[str, Any]:
    """One member's times, in seconds after the moment access should stop."""
    end = w.end or 0.0
    allowed = [p for p in w.polls if p.status == 200]
    refused_after = [p for p in w.polls if p.status != 200 and p.sent >= end]
    first_refused = min((p.sent for p in refused_after), default=None)
    last_allowed = max((p.answered for p in allowed), default=None)
    sent = [p.sent for p in w.polls]
    left = page_left(w)
    return {
        "member": w.member.email, "keeps_other": w.member.keeps_other,
        "used_before": any(p.sent < end for p in allowed),  # the member was using the access when it stopped
        "time_to_revoke": None if last_allowed is None else max(0.0, last_allowed - end),
        "last_allowed": None if last_allowed is None else last_allowed - end,
        "first_refused": None if first_refused is None else first_refused - end,
        "allowed_after_refusal": sum(1 for p in allowed if first_refused is not None and p.sent > first_refused),
        "refused_before": sum(1 for p in w.polls if p.status != 200 and p.answered < end),  # refused too early
        "signed_out": w.last_status == 401,
        "gap": statistics.median(b - a for a, b in itertools.pairwise(sent)) if len(sent) > 1 else options.poll,
        "request_ms": statistics.median((p.answered - p.sent) * 1000 for p in w.polls) if w.polls else 0.0,
        "page_left": None if left is None else left - end,
        "acted": None if w.acted is None else w.acted - end,
    }  # fmt: skip


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Per path: p50/p95/max of time-to-revoke, of the first refusal and of the page leaving; ratios to the gap."""
    members = result["members"]
    ttr = [m["time_to_revoke"] for m in members if m["time_to_revoke"] is not None]
    refused = [m["first_refused"] for m in members if m["first_refused"] is not None]
    left = [m["page_left"] for m in members if m["page_left"] is not None]
    gap = statistics.median(m["gap"] for m in members)
    spread = {name: _spread(values) for name, values in (("ttr", ttr), ("refused", refused), ("page", left))}
    return {
        "path": result["path"], "members": len(members), "gap": gap,
        "request_ms": statistics.median(m["request_ms"] for m in members), **{
            f"{name}_{key}": value for name, values in spread.items() for key, value in values.items()
        },
        "never_refused": sum(1 for m in members if m["first_refused"] is None),
        "unused": sum(1 for m in members if not m["used_before"]),
        "allowed_after_refusal": sum(m["allowed_after_refusal"] for m in members),
        "refused_before": sum(m["refused_before"] for m in members),
        "pages_kept": sum(1 for m in members if m["page_left"] is None),
        "signed_out_alone": sum(1 for m in members if m["signed_out"] and not m["keeps_other"]),
        "signed_out_keeping": sum(1 for m in members if m["signed_out"] and m["keeps_other"]),
        "alone": sum(1 for m in members if not m["keeps_other"]),
        "goal_met": bool(ttr) and len(ttr) == len(members) and _spread(ttr)["p95"] < GOAL_SECONDS,
        "cpu_A_s": result["cpu_A_s"], "cpu_B_s": result["cpu_B_s"], "cpu_bench_s": result["cpu_bench_s"],
        "load": result["load"],
    }  # fmt: skip


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {"p50": statistics.median(values), "p95": percentile(values, 0.95), "max": max(values)}


def summary(rows: list[dict[str, Any]]) -> str:
    """The table printed at the end (and pasted into docs/PERFORMANCE.md)."""
    lines = [
        "| path | members | time-to-revoke p50 / p95 / max s | p95 / gap | first refused p50 / p95 / max s "
        "| gap s (baseline) | request ms p50 | page lost the list p50 / p95 / max s | pages still showing "
        "| signed out: alone / keeping another grant | allowed after a refusal | goal p95 < 60 s "
        "| CPU s A / B / bench | load |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: | --- | ---: | --- | ---: | --- | --- | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['path']} | {r['members']} | {_three(r, 'ttr')} | {r['ttr_p95'] / r['gap']:.2f}x "
            f"| {_three(r, 'refused')} | {r['gap']:.3f} | {r['request_ms']:.0f} | {_three(r, 'page')} "
            f"| {r['pages_kept']} "
            f"| {r['signed_out_alone']} of {r['alone']} / {r['signed_out_keeping']} of {r['members'] - r['alone']} "
            f"| {r['allowed_after_refusal']} | {'met' if r['goal_met'] else '**not met**'} "
            f"| {r['cpu_A_s']:.1f} / {r['cpu_B_s']:.1f} / {r['cpu_bench_s']:.1f} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def _three(row: dict[str, Any], name: str) -> str:
    return " / ".join(f"{row[f'{name}_{key}']:.2f}" for key in ("p50", "p95", "max"))
