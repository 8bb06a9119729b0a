-- Keyed chains beside the change history (crates/store/src/chain.rs): the security log,
-- the reveal log, visits and API tokens each form a chain of HMAC-SHA256 hashes under
-- a key kept outside the database. prev_hash is the hash of the row before (by id),
-- hash this row's. Rows written before this migration have neither until the registry
-- is bound to its key (fupin init, or fupin audit init-key for an older registry),
-- which chains them as they are then.
ALTER TABLE auth_log ADD COLUMN prev_hash TEXT;
ALTER TABLE auth_log ADD COLUMN hash TEXT;
ALTER TABLE reveal_log ADD COLUMN prev_hash TEXT;
ALTER TABLE reveal_log ADD COLUMN hash TEXT;
ALTER TABLE visits ADD COLUMN prev_hash TEXT;
ALTER TABLE visits ADD COLUMN hash TEXT;
ALTER TABLE api_tokens ADD COLUMN prev_hash TEXT;
ALTER TABLE api_tokens ADD COLUMN hash TEXT;

-- 访问令牌有效期 (RFC 3339 UTC, whole seconds): a token answers 401 from then on.
-- Tokens made before this migration get the default, 90 days from their creation.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = to_char((created_at::timestamptz + interval '90 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');

-- One lock row per chain: an appender updates it first, so appends queue.
INSERT INTO meta (key, value) VALUES ('chain:auth_log', 'lock');
INSERT INTO meta (key, value) VALUES ('chain:reveal_log', 'lock');
INSERT INTO meta (key, value) VALUES ('chain:visits', 'lock');
INSERT INTO meta (key, value) VALUES ('chain:api_tokens', 'lock');
