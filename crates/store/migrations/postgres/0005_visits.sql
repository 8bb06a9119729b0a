-- 走访记录: a helper's or cadre's visit to a household (一季一上门). Field records, not
-- registry rows: append-only, attributed by visitor and created_at, written by hand
-- (see crates/store/src/visits.rs), not through the change history.
CREATE TABLE visits (
    id BIGSERIAL PRIMARY KEY,
    hh_id TEXT NOT NULL,
    -- The account that recorded it (users.username).
    visitor TEXT NOT NULL,
    -- YYYY-MM-DD, the day of the visit (may be before the day it was sent).
    visited_on TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('in_person', 'phone')),
    notes TEXT NOT NULL,
    -- RFC 3339 UTC, whole seconds: when the server received it.
    created_at TEXT NOT NULL,
    -- Chosen by the page that sent it: a replay (offline queue, double tap) is no new row.
    idempotency_key TEXT NOT NULL UNIQUE,
    -- The household's version (newest change-log seq) the page showed.
    based_on_version BIGINT NOT NULL
);
CREATE INDEX visits_household ON visits (hh_id, visited_on);

-- 帮扶责任人: a helper-cadre account is the helper (helpers.helper_id) it sees the
-- paired households of.
ALTER TABLE users ADD COLUMN helper_id TEXT;
