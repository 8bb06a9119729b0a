//! Accounts, sign-in sessions and the sign-in audit log of the web application
//! (tables `users` and `sessions`, migration `0002_web.sql`; `auth_log` and
//! `users.last_login_at`, migration `0003_auth_log.sql`).
//!
//! These are not registry data, so they are written with plain SQL here rather than
//! through the [`crate::Writer`]: a failed login is not a change to a household.
//! Times are RFC 3339 UTC text with whole seconds ([`timestamp`]), so that text order
//! is time order on both engines.

use fupin_domain::{DivisionCode, DivisionLevel};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::{Store, StoreError};

/// What a user does, and so what pages and data they see (DESIGN.md, Users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// 县乡村振兴局/扶贫办管理员: the whole county.
    CountyAdmin,
    /// 乡镇干部: one township.
    TownshipOfficer,
    /// 村干部/第一书记: one village.
    VillageCadre,
    /// 帮扶责任人: a helper cadre (scoped by area for now).
    HelperCadre,
    /// 部门数据员: a sector department's data officer.
    DepartmentOfficer,
    /// 督查: an inspector.
    Inspector,
}

impl Role {
    /// Every role, in the order pages list them.
    pub const ALL: [Role; 6] = [
        Role::CountyAdmin,
        Role::TownshipOfficer,
        Role::VillageCadre,
        Role::HelperCadre,
        Role::DepartmentOfficer,
        Role::Inspector,
    ];

    /// The text stored in `users.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CountyAdmin => "county_admin",
            Role::TownshipOfficer => "township_officer",
            Role::VillageCadre => "village_cadre",
            Role::HelperCadre => "helper_cadre",
            Role::DepartmentOfficer => "department_officer",
            Role::Inspector => "inspector",
        }
    }

    /// The role stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Chinese name for pages and printed account lists.
    pub fn label(self) -> &'static str {
        match self {
            Role::CountyAdmin => "县级管理员",
            Role::TownshipOfficer => "乡镇干部",
            Role::VillageCadre => "村干部",
            Role::HelperCadre => "帮扶责任人",
            Role::DepartmentOfficer => "部门数据员",
            Role::Inspector => "督查人员",
        }
    }

    /// The level of the division an account of this role is bound to: a county
    /// office, department or inspector sees the county; a township officer a
    /// township; a village cadre or helper cadre a village.
    pub fn area_level(self) -> DivisionLevel {
        match self {
            Role::CountyAdmin | Role::DepartmentOfficer | Role::Inspector => DivisionLevel::County,
            Role::TownshipOfficer => DivisionLevel::Township,
            Role::VillageCadre | Role::HelperCadre => DivisionLevel::Village,
        }
    }
}

/// One account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub username: String,
    /// Argon2id PHC string; never shown.
    pub password_hash: String,
    pub role: Role,
    /// The division the account may see: everything within it and nothing else.
    pub area: DivisionCode,
    pub display_name: String,
    pub disabled: bool,
    /// Wrong passwords since the last successful sign-in or lock.
    pub failed_logins: i64,
    /// Sign-in refused until this time (RFC 3339), if locked.
    pub locked_until: Option<String>,
    pub created_at: String,
    /// The last successful sign-in (RFC 3339), if any.
    pub last_login_at: Option<String>,
    /// A department officer's department (`data/codes/department.csv`); `None` for
    /// other roles (migration `0009_departments.sql`).
    pub department: Option<String>,
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub area: &'a DivisionCode,
    pub display_name: &'a str,
    /// The department code, for a department officer.
    pub department: Option<&'a str>,
}

/// A time as stored: RFC 3339 UTC with whole seconds (`2026-11-05T08:30:00Z`).
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads a [`timestamp`] back; `None` for text in another form.
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

const USER_COLUMNS: &str = "username, password_hash, role, area_code, display_name, disabled, failed_logins, \
                            locked_until, created_at, last_login_at, department";
/// How many columns [`USER_COLUMNS`] lists.
const USER_COLUMN_COUNT: usize = 11;

fn read_user(row: &AnyRow, from: usize) -> Result<User, StoreError> {
    let username: String = row.try_get(from)?;
    let role: String = row.try_get(from + 2)?;
    let area: String = row.try_get(from + 3)?;
    let role =
        Role::parse(&role).ok_or_else(|| StoreError::Refused(format!("用户 {username} 的角色“{role}”无法识别")))?;
    let area = DivisionCode::parse(&area)
        .map_err(|_| StoreError::Refused(format!("用户 {username} 的区划代码“{area}”无效")))?;
    Ok(User {
        password_hash: row.try_get(from + 1)?,
        role,
        area,
        display_name: row.try_get(from + 4)?,
        disabled: row.try_get::<i64, _>(from + 5)? != 0,
        failed_logins: row.try_get(from + 6)?,
        locked_until: row.try_get(from + 7)?,
        created_at: row.try_get(from + 8)?,
        last_login_at: row.try_get(from + 9)?,
        department: row.try_get(from + 10)?,
        username,
    })
}

/// Creates an account; refuses when the username is taken.
pub async fn insert(store: &Store, user: &NewUser<'_>) -> Result<(), StoreError> {
    if find(store, user.username).await?.is_some() {
        return Err(StoreError::Refused(format!("用户名 {} 已存在", user.username)));
    }
    sqlx::query(
        "INSERT INTO users (username, password_hash, role, area_code, display_name, disabled, failed_logins, \
         locked_until, created_at, department) VALUES ($1, $2, $3, $4, $5, 0, 0, NULL, $6, $7)",
    )
    .bind(user.username.to_owned())
    .bind(user.password_hash.to_owned())
    .bind(user.role.as_str())
    .bind(user.area.as_str().to_owned())
    .bind(user.display_name.to_owned())
    .bind(timestamp(OffsetDateTime::now_utc()))
    .bind(user.department.map(str::to_owned))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The account named `username`.
pub async fn find(store: &Store, username: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(username.to_owned()).fetch_optional(store.pool()).await?;
    row.map(|r| read_user(&r, 0)).transpose()
}

/// The households an account is paired with on `today` through its helper
/// (`users.helper_id` → `pairings`, 结对帮扶): a pairing counts from its `from_date`
/// through its `to_date`, if any. Empty for an account that is no helper.
pub async fn paired_households(store: &Store, username: &str, today: time::Date) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT p.hh_id FROM pairings p JOIN users u ON u.helper_id = p.helper_id \
         WHERE u.username = $1 AND p.from_date <= $2 AND (p.to_date IS NULL OR p.to_date >= $2)",
    )
    .bind(username.to_owned())
    .bind(fupin_domain::date::iso(today))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// How many accounts exist.
pub async fn count(store: &Store) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(store.pool()).await?;
    Ok(n)
}

/// What a sign-in attempt on an existing account may do ([`claim_attempt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// Check the password. `locks`: this attempt used the last try, so the account is
    /// locked until `until` unless its password turns out right ([`record_success`]).
    Allowed { locks: bool, until: String },
    /// The account is locked until this time: refuse without checking the password.
    Locked(String),
    /// No account has this name.
    NoSuchUser,
}

/// Counts a sign-in attempt *before* its password is checked, so that attempts made
/// in parallel cannot all pass the lock: each takes one of the `max_failures` tries in
/// one statement, and the attempt that takes the last one locks the account until
/// `lock_until` at once (the count starts again). A right password then clears the
/// count and the lock ([`record_success`]); a wrong one leaves them. While the account
/// is locked nothing is counted and the answer is [`Attempt::Locked`].
pub async fn claim_attempt(
    store: &Store,
    username: &str,
    max_failures: i64,
    now: OffsetDateTime,
    lock_until: OffsetDateTime,
) -> Result<Attempt, StoreError> {
    // Every right-hand side reads the row as it was before the update; a concurrent
    // update waits for the row and reads it (and re-checks the condition) after.
    let until = timestamp(lock_until);
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "UPDATE users SET \
           failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, \
           locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE NULL END \
         WHERE username = $1 AND (locked_until IS NULL OR locked_until <= $4) \
         RETURNING failed_logins, locked_until",
    )
    .bind(username.to_owned())
    .bind(max_failures)
    .bind(until.clone())
    .bind(timestamp(now))
    .fetch_optional(store.pool())
    .await?;
    if let Some((_, locked)) = row {
        return Ok(Attempt::Allowed { locks: locked.is_some(), until });
    }
    Ok(match find(store, username).await? {
        None => Attempt::NoSuchUser,
        Some(u) => match u.locked_until {
            Some(until) => Attempt::Locked(until),
            // Unlocked between the statement and this read (a password reset): locked
            // as far as this attempt is concerned; the next one is counted.
            None => Attempt::Locked(timestamp(now)),
        },
    })
}

/// A successful sign-in clears the failure count and any lock, and is the account's
/// last sign-in.
pub async fn record_success(store: &Store, username: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2 WHERE username = $1")
        .bind(username.to_owned())
        .bind(timestamp(OffsetDateTime::now_utc()))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Replaces an account's password hash, clears its lock, ends its sessions and
/// revokes its API tokens; returns the names of the tokens revoked.
pub async fn set_password(store: &Store, username: &str, password_hash: &str) -> Result<Vec<String>, StoreError> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE username = $1")
        .bind(username.to_owned())
        .bind(password_hash.to_owned())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username.to_owned()).execute(&mut *tx).await?;
    let revoked = crate::tokens::revoke_all_in(&mut tx, username).await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Stores a new session under the hash of its cookie value.
pub async fn create_session(
    store: &Store,
    id_hash: &str,
    username: &str,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (id, username, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(id_hash.to_owned())
        .bind(username.to_owned())
        .bind(timestamp(OffsetDateTime::now_utc()))
        .bind(timestamp(expires_at))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The account of a session and when the session expires (the caller checks expiry).
pub async fn session_user(store: &Store, id_hash: &str) -> Result<Option<(User, String)>, StoreError> {
    let cols = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let sql =
        format!("SELECT {cols}, s.expires_at FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(id_hash.to_owned()).fetch_optional(store.pool()).await?;
    match row {
        Some(r) => {
            let user = read_user(&r, 0)?;
            let expires: String = r.try_get(USER_COLUMN_COUNT)?;
            Ok(Some((user, expires)))
        }
        None => Ok(None),
    }
}

/// Ends one session.
pub async fn delete_session(store: &Store, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id_hash.to_owned()).execute(store.pool()).await?;
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn delete_expired_sessions(store: &Store, now: OffsetDateTime) -> Result<u64, StoreError> {
    let done =
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(timestamp(now)).execute(store.pool()).await?;
    Ok(done.rows_affected())
}

/// Every account, by username.
pub async fn list(store: &Store) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    let rows = sqlx::query(crate::rows::safe(sql)).fetch_all(store.pool()).await?;
    rows.iter().map(|r| read_user(r, 0)).collect()
}

/// Disables or enables an account. Disabling ends its sessions at once and revokes
/// its API tokens. Returns whether the account exists and the names of the tokens
/// revoked.
pub async fn set_disabled(store: &Store, username: &str, disabled: bool) -> Result<(bool, Vec<String>), StoreError> {
    let mut tx = store.pool().begin().await?;
    let done = sqlx::query("UPDATE users SET disabled = $2 WHERE username = $1")
        .bind(username.to_owned())
        .bind(i64::from(disabled))
        .execute(&mut *tx)
        .await?;
    let mut revoked = Vec::new();
    if disabled {
        sqlx::query("DELETE FROM sessions WHERE username = $1").bind(username.to_owned()).execute(&mut *tx).await?;
        revoked = crate::tokens::revoke_all_in(&mut tx, username).await?;
    }
    tx.commit().await?;
    Ok((done.rows_affected() > 0, revoked))
}

/// Gives an account another role, area and department (`None` for a role without
/// one). Every page reads the account afresh, so the change applies from the next
/// request. Returns whether the account exists.
pub async fn set_role(
    store: &Store,
    username: &str,
    role: Role,
    area: &DivisionCode,
    department: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE users SET role = $2, area_code = $3, department = $4 WHERE username = $1")
        .bind(username.to_owned())
        .bind(role.as_str())
        .bind(area.as_str().to_owned())
        .bind(department.map(str::to_owned))
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// What an [`auth_log`](AuthLogLine) row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthEvent {
    /// 登录成功.
    LoginOk,
    /// 登录失败: a wrong password, an unknown name or a disabled account.
    LoginFailed,
    /// A sign-in refused because the account is locked.
    LoginLocked,
    /// The failure that locked the account.
    Locked,
    /// 退出.
    Logout,
    /// An account created (web, `fupin user add` or `fupin init`).
    UserCreated,
    /// An account disabled; its sessions end.
    UserDisabled,
    /// A disabled account enabled again.
    UserEnabled,
    /// A password reset by an admin.
    PasswordReset,
    /// A role or area changed; the detail says from what to what.
    RoleChanged,
    /// A state-changing request refused as forged: from another site, or saying
    /// nothing about where it came from. The detail names method, path and origin.
    RequestRefused,
    /// An API token created; the detail names it and its expiry.
    TokenCreated,
    /// An API token revoked: by its owner, a county admin, a password reset or
    /// disabling the account; the detail names it and why.
    TokenRevoked,
    /// An API call with an expired token, refused.
    TokenExpired,
}

impl AuthEvent {
    /// Every event, in the order the log page explains them.
    pub const ALL: [AuthEvent; 14] = [
        AuthEvent::LoginOk,
        AuthEvent::LoginFailed,
        AuthEvent::LoginLocked,
        AuthEvent::Locked,
        AuthEvent::Logout,
        AuthEvent::UserCreated,
        AuthEvent::UserDisabled,
        AuthEvent::UserEnabled,
        AuthEvent::PasswordReset,
        AuthEvent::RoleChanged,
        AuthEvent::RequestRefused,
        AuthEvent::TokenCreated,
        AuthEvent::TokenRevoked,
        AuthEvent::TokenExpired,
    ];

    /// The text stored in `auth_log.event`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthEvent::LoginOk => "login_ok",
            AuthEvent::LoginFailed => "login_failed",
            AuthEvent::LoginLocked => "login_locked",
            AuthEvent::Locked => "locked",
            AuthEvent::Logout => "logout",
            AuthEvent::UserCreated => "user_created",
            AuthEvent::UserDisabled => "user_disabled",
            AuthEvent::UserEnabled => "user_enabled",
            AuthEvent::PasswordReset => "password_reset",
            AuthEvent::RoleChanged => "role_changed",
            AuthEvent::RequestRefused => "request_refused",
            AuthEvent::TokenCreated => "token_created",
            AuthEvent::TokenRevoked => "token_revoked",
            AuthEvent::TokenExpired => "token_expired",
        }
    }

    /// The event stored as `s`, if it is one.
    pub fn parse(s: &str) -> Option<AuthEvent> {
        AuthEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Chinese name for the log page.
    pub fn label(self) -> &'static str {
        match self {
            AuthEvent::LoginOk => "登录成功",
            AuthEvent::LoginFailed => "登录失败",
            AuthEvent::LoginLocked => "锁定期间尝试登录",
            AuthEvent::Locked => "账号被锁定",
            AuthEvent::Logout => "退出",
            AuthEvent::UserCreated => "创建账号",
            AuthEvent::UserDisabled => "停用账号",
            AuthEvent::UserEnabled => "启用账号",
            AuthEvent::PasswordReset => "重置密码",
            AuthEvent::RoleChanged => "更改角色或区域",
            AuthEvent::RequestRefused => "拒绝伪造或跨站请求",
            AuthEvent::TokenCreated => "创建访问令牌",
            AuthEvent::TokenRevoked => "撤销访问令牌",
            AuthEvent::TokenExpired => "拒绝过期的访问令牌",
        }
    }
}

/// One row to append to the sign-in audit log.
#[derive(Debug, Clone)]
pub struct AuthRecord<'a> {
    /// The account concerned (as typed, for a sign-in with an unknown name).
    pub username: &'a str,
    pub event: AuthEvent,
    /// A few words for the log page: why a sign-in failed, what a change was.
    pub detail: &'a str,
    /// Who made an account change; `None` for the user's own sign-in and sign-out.
    pub actor: Option<&'a str>,
    pub remote_addr: Option<&'a str>,
}

/// One row of the sign-in audit log as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthLogLine {
    /// Increasing with each row: the log's order.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub username: String,
    /// The stored event text; [`AuthEvent::parse`] reads it.
    pub event: String,
    pub detail: String,
    pub actor: Option<String>,
    pub remote_addr: Option<String>,
}

/// Appends a row to the sign-in audit log, stamped now, on its chain
/// ([`crate::chain::AUTH_LOG`]).
pub async fn log_auth(store: &Store, r: &AuthRecord<'_>) -> Result<(), StoreError> {
    use crate::chain::{self, Cell};
    let row = vec![
        Cell::text(&timestamp(OffsetDateTime::now_utc())),
        Cell::text(r.username),
        Cell::text(r.event.as_str()),
        Cell::text(r.detail),
        Cell::opt(r.actor),
        Cell::opt(r.remote_addr),
    ];
    chain::append(store, &chain::AUTH_LOG, vec![row], None).await?;
    Ok(())
}

/// How many rows the sign-in audit log has.
pub async fn auth_log_count(store: &Store) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM auth_log").fetch_one(store.pool()).await?;
    Ok(n)
}

/// One page of the sign-in audit log, newest first.
pub async fn auth_log_page(store: &Store, limit: i64, offset: i64) -> Result<Vec<AuthLogLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, username, event, detail, actor, remote_addr FROM auth_log \
         ORDER BY id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok(AuthLogLine {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                username: r.try_get(2)?,
                event: r.try_get(3)?,
                detail: r.try_get(4)?,
                actor: r.try_get(5)?,
                remote_addr: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_sort_as_text_and_read_back() {
        let t = time::macros::datetime!(2026-11-05 08:30:00.75 UTC);
        assert_eq!(timestamp(t), "2026-11-05T08:30:00Z");
        assert_eq!(parse_timestamp(&timestamp(t)), Some(time::macros::datetime!(2026-11-05 08:30:00 UTC)));
        assert!(timestamp(t) < timestamp(t + time::Duration::seconds(1)));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        for e in AuthEvent::ALL {
            assert_eq!(AuthEvent::parse(e.as_str()), Some(e));
        }
    }
}
