-- 查看记录: every personal number (证件号码, 联系电话, 银行账号 …) shown unmasked to
-- someone, one row per value, written before the value is sent. Not registry data:
-- written by hand (see crates/store/src/reveals.rs), append-only, read by county admins.
CREATE TABLE reveal_log (
    id BIGSERIAL PRIMARY KEY,
    -- RFC 3339 UTC, whole seconds.
    at TEXT NOT NULL,
    -- Who saw the value.
    username TEXT NOT NULL,
    -- The household the value belongs to (its page is where it was asked for).
    hh_id TEXT NOT NULL,
    -- Which value: a registry table (households, persons), the row's key and a
    -- personal column of that table (fupin_domain::schema, Column.personal).
    table_name TEXT NOT NULL,
    row_key TEXT NOT NULL,
    field TEXT NOT NULL,
    -- Why, as the user typed it (required).
    reason TEXT NOT NULL,
    -- The peer address of the request.
    remote_addr TEXT
);
CREATE INDEX reveal_log_at ON reveal_log (at);
CREATE INDEX reveal_log_username ON reveal_log (username);
