-- 离线更正: a registry correction recorded on a phone (online or offline) and sent with
-- the household version its page showed. Applied at once when the household has not
-- changed since (the change itself goes to the change history); otherwise kept here as
-- a flagged conflict for a cadre of the area to apply or discard. Not registry data:
-- written by crates/store/src/offline_edits.rs only, rows are never deleted.
CREATE TABLE offline_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Chosen by the page that sent it: a replay is no new row and no second change.
    idempotency_key TEXT NOT NULL UNIQUE,
    hh_id TEXT NOT NULL,
    -- The household's village when it was sent: the review list's scope.
    village_code TEXT NOT NULL,
    -- The proposed change: registry table (households or persons), row key, column,
    -- the value as typed, and the sender's reason.
    entity TEXT NOT NULL CHECK (entity IN ('households', 'persons')),
    entity_key TEXT NOT NULL,
    field TEXT NOT NULL,
    proposed_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The household version the page was based on, and the one the server found.
    base_version INTEGER NOT NULL,
    found_version INTEGER NOT NULL,
    -- The account that sent it and when the server received it (RFC 3339 UTC).
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    -- applied: written to the registry (at once, or by a reviewer); pending: a flagged
    -- conflict awaiting review; discarded: refused by a reviewer.
    status TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'discarded')),
    -- Whether it was flagged as a conflict (a reviewer decided, not the sync).
    conflict INTEGER NOT NULL CHECK (conflict IN (0, 1)),
    decided_by TEXT,
    decided_at TEXT,
    decision_reason TEXT,
    -- The change-log head after the change was written, when it was.
    applied_version INTEGER
);
CREATE INDEX offline_edits_review ON offline_edits (status, village_code);
CREATE INDEX offline_edits_household ON offline_edits (hh_id);
