"""Two-person approval (issue 19): which invitations an organisation wants a second person to approve before any
email leaves (rules.py), and the approvers' decisions (service.py). The no-escalation rule applies to approvers."""
