"""Invitations: sending (with the plan of each send and its rows), resending, reminders, acceptance, the pending
list, CSV import and decoding, and the checks of an address. Permission checks ask services.access.service."""
