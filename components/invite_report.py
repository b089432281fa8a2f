"""What the pop-out reports in its status area: an import, a send's progress, and a send's outcome."""

from nicegui import ui

from components.formatting import count
from services.invitations.review import ImportReview
from services.invitations.service import SendResult

PROBLEMS_SHOWN = 50
ADDRESSES_SHOWN = 20
NOT_INVITED_SHOWN = 100  # every address not invited is named, up to this many (the rest stay in the field)


def show_import(report: ui.column, found: ImportReview) -> None:
    """The line report of one file: how many rows, where their addresses went, and each line with a problem."""
    result = found.result
    known = len(found.members) + len(found.invited)
    report.clear()
    with report:
        summary = f"Read {count(result.total_rows, 'row')}: {count(len(found.new), 'address')} added for review"
        if known:
            summary += f", {known:,} already known (shown apart, not sent unless you choose)"
        ui.label(f"{summary}, {count(len(result.problems), 'line')} with problems.").classes("text-body2")
        for problem in result.problems[:PROBLEMS_SHOWN]:
            ui.label(f"Line {problem.line}: {problem.value} — {problem.reason}").classes("text-caption text-negative")
        if len(result.problems) > PROBLEMS_SHOWN:
            more = len(result.problems) - PROBLEMS_SHOWN
            ui.label(f"… and {count(more, 'more line')} with problems.").classes("text-caption")


class Progress:
    """'Sending 1,000 of 5,000…' with a bar, in the status area (announced politely)."""

    def __init__(self, report: ui.column, total: int) -> None:
        report.clear()
        with report:
            self.text = ui.label(f"Sending 0 of {total:,}…").classes("text-body2")
            self.bar = ui.linear_progress(value=0, show_value=False).props('aria-label="Sending invitations"')

    def update(self, done: int, total: int) -> None:
        self.text.set_text(f"Sending {done:,} of {total:,}…")
        self.bar.set_value(done / total if total else 1)


def show_sent(report: ui.column, result: SendResult, *, kept_apart: list[str]) -> None:
    """What happened to every address: who was invited, and who was not and why."""
    not_invited = [f"{address} ({reason})" for address, reason in result.invalid]
    sections = (
        ("Invited", result.invited),
        ("Awaiting a second person's approval: no email until then", result.awaiting),
        ("Replaced a pending invitation", result.replaced),
        ("Already in this organisation: role added, notice sent", result.role_added),
        ("Already had this role", result.already_had_role),
        ("Not invited, still in the field to correct", not_invited),
        ("Not sent: the send stopped before these", result.not_sent),
        ("Kept apart, not sent (you did not tick them)", kept_apart),
    )
    report.clear()
    with report:
        for heading, addresses in sections:
            if addresses:
                shown = NOT_INVITED_SHOWN if heading.startswith("Not") else ADDRESSES_SHOWN
                ui.label(f"{heading} ({len(addresses):,})").classes("text-subtitle2")
                more = f" and {len(addresses) - shown:,} more" if len(addresses) > shown else ""
                ui.label(", ".join(addresses[:shown]) + more).classes("text-body2 break-all")
