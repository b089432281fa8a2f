"""What the database keeps in step with `invitation` by triggers: pending counts, and on PostgreSQL a search index.

The pending list of an organisation with 100,000 invitations must not count all of them on every read (issue 17,
goal 2; docs/PERFORMANCE.md). Triggers rather than application code, so that no write path (sends, CSV imports,
acceptance, housekeeping, cascades) can forget them. Installed by migration 0008, and by
services/platform/database.py on databases built from the models; `BACKFILL_*` fills them from existing rows.

- `pending_count` (the PendingCount model): pending invitations per organisation and deployment (0 for the
  whole organisation). SQLite updates it per row (about 1 us a row); PostgreSQL per statement, from the
  statement's transition table, so a CSV import of 5,000 rows a statement makes one upsert per deployment.
- Substring search of pending addresses on PostgreSQL: a pg_trgm GIN index (partial: pending rows only).
- On SQLite (migration 0009): `invitation_search`, a contentless FTS5 trigram table of the pending addresses,
  `SEARCH_SQLITE`. Its rowid is `organisation_id << 32 | invitation id`, so a search reads only its organisation's
  range of each trigram's list (a rowid range FTS5 seeks). The address is stored as SQLite's lower() (ASCII only)
  writes it and matched case-sensitively against the lowered term: exactly the rows `LIKE '%term%'` finds.
"""

# ruff: noqa: S608  schema statements built from constants only

SQLITE = """
CREATE TRIGGER IF NOT EXISTS invitation_derived_insert AFTER INSERT ON invitation WHEN NEW.state = 'pending'
BEGIN
    INSERT INTO pending_count (organisation_id, deployment_id, pending)
        SELECT NEW.organisation_id, COALESCE(NEW.deployment_id, 0), 1 WHERE NEW.organisation_id IS NOT NULL
        ON CONFLICT (organisation_id, deployment_id) DO UPDATE SET pending = pending + 1;
END;

CREATE TRIGGER IF NOT EXISTS invitation_derived_delete AFTER DELETE ON invitation WHEN OLD.state = 'pending'
BEGIN
    UPDATE pending_count SET pending = pending - 1
        WHERE organisation_id = OLD.organisation_id AND deployment_id = COALESCE(OLD.deployment_id, 0);
END;

CREATE TRIGGER IF NOT EXISTS invitation_derived_update
    AFTER UPDATE OF state, organisation_id, deployment_id ON invitation
    WHEN (OLD.state = 'pending' OR NEW.state = 'pending') AND (OLD.state IS NOT NEW.state
        OR OLD.organisation_id IS NOT NEW.organisation_id OR OLD.deployment_id IS NOT NEW.deployment_id)
BEGIN
    UPDATE pending_count SET pending = pending - 1
        WHERE OLD.state = 'pending'
        AND organisation_id = OLD.organisation_id AND deployment_id = COALESCE(OLD.deployment_id, 0);
    INSERT INTO pending_count (organisation_id, deployment_id, pending)
        SELECT NEW.organisation_id, COALESCE(NEW.deployment_id, 0), 1
        WHERE NEW.state = 'pending' AND NEW.organisation_id IS NOT NULL
        ON CONFLICT (organisation_id, deployment_id) DO UPDATE SET pending = pending + 1;
END;
"""

# The upserts take their rows in key order: two transactions touching the same counters lock them alike.
_ADD = """
    INSERT INTO pending_count AS c (organisation_id, deployment_id, pending)
        SELECT organisation_id, COALESCE(deployment_id, 0), {sign} count(*) FROM {rows}
        WHERE state = 'pending' AND organisation_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (organisation_id, deployment_id) DO UPDATE SET pending = c.pending + EXCLUDED.pending;
"""

POSTGRES = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS invitation_pending_email_trigram ON invitation USING gin (email gin_trgm_ops)
    WHERE state = 'pending';

CREATE OR REPLACE FUNCTION pending_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_ADD.format(sign="", rows="new_rows")} RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION pending_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_ADD.format(sign="-", rows="old_rows")} RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION pending_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.state = 'pending' AND OLD.organisation_id IS NOT NULL THEN
        UPDATE pending_count SET pending = pending - 1
            WHERE organisation_id = OLD.organisation_id AND deployment_id = COALESCE(OLD.deployment_id, 0);
    END IF;
    IF NEW.state = 'pending' AND NEW.organisation_id IS NOT NULL THEN
        INSERT INTO pending_count AS c (organisation_id, deployment_id, pending)
            VALUES (NEW.organisation_id, COALESCE(NEW.deployment_id, 0), 1)
            ON CONFLICT (organisation_id, deployment_id) DO UPDATE SET pending = c.pending + 1;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS invitation_pending_inserted ON invitation;
CREATE TRIGGER invitation_pending_inserted AFTER INSERT ON invitation
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pending_count_inserted();
DROP TRIGGER IF EXISTS invitation_pending_deleted ON invitation;
CREATE TRIGGER invitation_pending_deleted AFTER DELETE ON invitation
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pending_count_deleted();
-- Per row, and only for rows whose state, organisation or deployment changed: the mail worker's many updates
-- of delivery columns never call it.
DROP TRIGGER IF EXISTS invitation_pending_updated ON invitation;
CREATE TRIGGER invitation_pending_updated AFTER UPDATE OF state, organisation_id, deployment_id ON invitation
    FOR EACH ROW WHEN ((OLD.state = 'pending' OR NEW.state = 'pending') AND (OLD.state IS DISTINCT FROM NEW.state
        OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
        OR OLD.deployment_id IS DISTINCT FROM NEW.deployment_id))
    EXECUTE FUNCTION pending_count_updated();
"""

_BACKFILL_COUNTS = """
DELETE FROM pending_count;
INSERT INTO pending_count (organisation_id, deployment_id, pending)
    SELECT organisation_id, COALESCE(deployment_id, 0), count(*) FROM invitation
    WHERE state = 'pending' AND organisation_id IS NOT NULL GROUP BY 1, 2;
"""

BACKFILL_SQLITE = BACKFILL_POSTGRES = _BACKFILL_COUNTS

DROP_SQLITE = """
DROP TRIGGER IF EXISTS invitation_derived_insert;
DROP TRIGGER IF EXISTS invitation_derived_delete;
DROP TRIGGER IF EXISTS invitation_derived_update;
"""
DROP_POSTGRES = """
DROP TRIGGER IF EXISTS invitation_pending_inserted ON invitation;
DROP TRIGGER IF EXISTS invitation_pending_deleted ON invitation;
DROP TRIGGER IF EXISTS invitation_pending_updated ON invitation;
DROP FUNCTION IF EXISTS pending_count_inserted, pending_count_deleted, pending_count_updated;
DROP INDEX IF EXISTS invitation_pending_email_trigram;
"""

# SQLite's FTS5 trigram index of pending addresses (models/derived.py's docstring). Contentless: a row is removed by
# repeating the values it was added with, which the triggers have in OLD (its email and organisation are watched).
SEARCH_SQLITE = """
CREATE VIRTUAL TABLE IF NOT EXISTS invitation_search USING fts5(
    email, content='', tokenize='trigram case_sensitive 1'
);

-- A row here (only ever inside a bulk insert's transaction, services/invitations/pending_search.py) makes the insert
-- trigger leave the new rows to one INSERT ... SELECT: FTS5 flushes its pending terms at every trigger statement's
-- savepoint, so a trigger costs about 35 us a row against 4 us for the rows of a statement in one go.
CREATE TABLE IF NOT EXISTS invitation_search_deferred (deferred INTEGER NOT NULL);

CREATE TRIGGER IF NOT EXISTS invitation_search_insert AFTER INSERT ON invitation
    WHEN NEW.state = 'pending' AND NEW.organisation_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM invitation_search_deferred)
BEGIN
    INSERT INTO invitation_search (rowid, email) VALUES ((NEW.organisation_id << 32) + NEW.id, lower(NEW.email));
END;

CREATE TRIGGER IF NOT EXISTS invitation_search_delete AFTER DELETE ON invitation
    WHEN OLD.state = 'pending' AND OLD.organisation_id IS NOT NULL
BEGIN
    INSERT INTO invitation_search (invitation_search, rowid, email)
        VALUES ('delete', (OLD.organisation_id << 32) + OLD.id, lower(OLD.email));
END;

CREATE TRIGGER IF NOT EXISTS invitation_search_update AFTER UPDATE OF state, organisation_id, email ON invitation
    WHEN (OLD.state = 'pending' OR NEW.state = 'pending') AND (OLD.state IS NOT NEW.state
        OR OLD.organisation_id IS NOT NEW.organisation_id OR OLD.email IS NOT NEW.email)
BEGIN
    INSERT INTO invitation_search (invitation_search, rowid, email)
        SELECT 'delete', (OLD.organisation_id << 32) + OLD.id, lower(OLD.email)
        WHERE OLD.state = 'pending' AND OLD.organisation_id IS NOT NULL;
    INSERT INTO invitation_search (rowid, email)
        SELECT (NEW.organisation_id << 32) + NEW.id, lower(NEW.email)
        WHERE NEW.state = 'pending' AND NEW.organisation_id IS NOT NULL;
END;
"""

INDEX_NEWER_SQLITE = """
INSERT INTO invitation_search (rowid, email)
    SELECT (organisation_id << 32) + id, lower(email) FROM invitation
    WHERE id > ? AND state = 'pending' AND organisation_id IS NOT NULL
"""
BACKFILL_SEARCH_SQLITE = f"""
DELETE FROM invitation_search_deferred;
INSERT INTO invitation_search (invitation_search) VALUES ('delete-all');
{INDEX_NEWER_SQLITE.replace("?", "0")};
"""

DROP_SEARCH_SQLITE = """
DROP TRIGGER IF EXISTS invitation_search_insert;
DROP TRIGGER IF EXISTS invitation_search_delete;
DROP TRIGGER IF EXISTS invitation_search_update;
DROP TABLE IF EXISTS invitation_search;
DROP TABLE IF EXISTS invitation_search_deferred;
"""
