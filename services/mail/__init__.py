"""Mail: the transactional outbox, the worker that claims and sends it (claims, records, SMTP pool), the
templates, and the embedded SMTP sink of a local start."""
