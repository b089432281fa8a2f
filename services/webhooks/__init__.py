"""Webhooks (issue 20): endpoints an organisation registers, events written in the transaction of their cause,
signed per Standard Webhooks and delivered by a worker with leases, retries and backoff."""
