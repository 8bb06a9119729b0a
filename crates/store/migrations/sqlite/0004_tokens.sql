-- Personal access tokens for scripts using the JSON API (/api/v1). Not registry data:
-- written by hand (see crates/store/src/tokens.rs). Only the SHA-256 (hex) of a token
-- is kept, so a copy of this table does not let anyone in.

-- 访问令牌: one token of one account; revoked tokens stay listed.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    -- What the owner calls it (统计脚本); unique among the owner's tokens.
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- RFC 3339 UTC, whole seconds.
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    UNIQUE (username, name)
);
