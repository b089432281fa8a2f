"""Access review campaigns (issue 19 item 2): an organisation, or one of its deployments, reviews every grant there.

Owns: starting a campaign by hand or on the organisation's schedule (campaigns.py, schedule.py), who reviews which
item (reviewers.py: the grant's sponsor when they hold *review access* there, else any holder of it there; never the
member), the decisions and how they are applied through the staff services (decisions.py: keep, change role, set an
end, remove), the campaign's items and progress (items.py, campaigns.py), reminders before the deadline and the close
at the deadline (deadlines.py: where the organisation chose removal, unanswered items end and the campaign is locked;
otherwise overdue.py: they go to the owners to decide, and the campaign locks with the last decision), and the export
of a campaign's record (export.py). Housekeeping calls schedule.run_due.
"""
