"""The process's plumbing: settings, database and SQL helpers, live-update events (in process and over
PostgreSQL LISTEN/NOTIFY), health, housekeeping, first start, logs, clock and the runtime that starts it all."""
