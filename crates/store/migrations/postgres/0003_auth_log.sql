-- Sign-in audit log and the last sign-in of each account. Not registry data: written by
-- hand (see crates/store/src/users.rs), append-only, read by county admins.

-- Last successful sign-in (RFC 3339 UTC, whole seconds), shown on the users page.
ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- 登录日志: every sign-in and failure, lock, sign-out, and every account change.
CREATE TABLE auth_log (
    id BIGSERIAL PRIMARY KEY,
    -- RFC 3339 UTC, whole seconds.
    at TEXT NOT NULL,
    -- The account concerned, as typed for a failed sign-in with an unknown name.
    username TEXT NOT NULL,
    -- login_ok, login_failed, login_locked, locked, logout, user_created,
    -- user_disabled, user_enabled, password_reset, role_changed.
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    -- Who made an account change (a username, or 命令行); NULL for sign-ins.
    actor TEXT,
    -- The peer address of the request, when it came over the web.
    remote_addr TEXT
);
CREATE INDEX auth_log_at ON auth_log (at);
CREATE INDEX auth_log_username ON auth_log (username);
