-- Accounts and sign-in sessions of the web application. These are not registry data:
-- they carry no change records. Written by hand (see crates/store/src/users.rs).

-- 用户: one account, scoped to a division (county 6, township 9 or village 12 digits).
CREATE TABLE users (
    username TEXT NOT NULL PRIMARY KEY,
    -- Argon2id PHC string.
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('county_admin', 'township_officer', 'village_cadre',
                                       'helper_cadre', 'department_officer', 'inspector')),
    area_code TEXT NOT NULL,
    display_name TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    -- Wrong passwords since the last success or lock.
    failed_logins INTEGER NOT NULL DEFAULT 0,
    -- RFC 3339 UTC, whole seconds.
    locked_until TEXT,
    created_at TEXT NOT NULL
);

-- 会话: a signed-in browser. `id` is the SHA-256 (hex) of the cookie's random value, so
-- a copy of this table does not let anyone sign in.
CREATE TABLE sessions (
    id TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_username ON sessions (username);
CREATE INDEX sessions_expires ON sessions (expires_at);
