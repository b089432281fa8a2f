"""Audit: the trail of every invitation, resend, deletion, acceptance, role change, refusal and failed
delivery, and reading it."""
