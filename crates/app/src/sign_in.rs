//! Signing in with a name and a password: the account's attempt is claimed before its
//! password is checked (so parallel attempts get no more tries than a sequence of
//! them), an unknown name is checked against a decoy hash and locks like a known one,
//! and every failure, lock and success goes to the security log. What is counted per
//! address and per name without an account lives with the caller (the web server's
//! memory), which says through [`Attempt::unknown_name`] how such a name stands.

use fupin_domain::date::beijing;
use fupin_store::Store;
use fupin_store::users::{self, AuthEvent, AuthRecord, User};
use time::{Duration, OffsetDateTime};

use crate::{AppResult, password};

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;
/// Usernames longer than this are cut in the security log (a typed name is kept as typed).
pub const LOGGED_NAME_CHARS: usize = 64;

/// How a name without an account stands in the caller's count of attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnknownName {
    /// This attempt may go on; `locks` says it is the last before a lock.
    Allowed { locks: bool },
    /// Locked until then.
    Locked(OffsetDateTime),
}

/// One sign-in attempt.
pub struct Attempt<'a> {
    /// The name as typed (trimmed).
    pub username: &'a str,
    /// The password as typed.
    pub password: &'a str,
    /// The peer's address, for the security log.
    pub remote_addr: Option<&'a str>,
    /// When the attempt is made.
    pub now: OffsetDateTime,
    /// Claims an attempt for a name that has no account (called at most once).
    pub unknown_name: &'a (dyn Fn() -> UnknownName + Send + Sync),
}

/// What an attempt came to.
#[derive(Debug)]
pub enum Outcome {
    /// Signed in: start a session for this account.
    SignedIn(User),
    /// A wrong name, a wrong password or a disabled account: one answer for all three,
    /// so that it does not tell which names exist.
    Wrong,
    /// The name is locked until this stored instant; `just_now` when this attempt
    /// locked it.
    Locked { until: String, just_now: bool },
}

/// Appends a sign-in event to the security log.
pub async fn log(
    store: &Store,
    remote_addr: Option<&str>,
    username: &str,
    event: AuthEvent,
    detail: &str,
) -> AppResult<()> {
    let username: String = username.chars().take(LOGGED_NAME_CHARS).collect();
    let record = AuthRecord { username: &username, event, detail, actor: None, remote_addr };
    Ok(users::log_auth(store, &record).await?)
}

/// Tries one sign-in (see the module's comment).
pub async fn sign_in(store: &Store, a: &Attempt<'_>) -> AppResult<Outcome> {
    let lock_until = a.now + Duration::minutes(LOCK_MINUTES);
    let locked = |until: String| async move {
        let detail = format!("锁定至 {}", beijing(&until));
        log(store, a.remote_addr, a.username, AuthEvent::LoginLocked, &detail).await?;
        AppResult::Ok(Outcome::Locked { until, just_now: false })
    };
    let (locks, until) = match users::claim_attempt(store, a.username, MAX_FAILURES, a.now, lock_until).await? {
        users::Attempt::Allowed { locks, until } => (locks, until),
        users::Attempt::Locked(until) => return locked(until).await,
        users::Attempt::NoSuchUser => match (a.unknown_name)() {
            UnknownName::Allowed { locks } => (locks, users::timestamp(lock_until)),
            UnknownName::Locked(until) => return locked(users::timestamp(until)).await,
        },
    };
    let user = users::find(store, a.username).await?;
    let ok = password::verify(a.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let known = user.is_some();
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        let detail = match known {
            false => "用户名不存在",
            true if ok => "账号已停用",
            true => "密码错误",
        };
        log(store, a.remote_addr, a.username, AuthEvent::LoginFailed, detail).await?;
        // A disabled account's right password counts as a failure too: the answer must
        // not tell that it was right.
        if locks {
            tracing::warn!(username = a.username, "连续密码错误，账号已锁定");
            let detail = format!("连续 {MAX_FAILURES} 次密码错误，锁定至 {}", beijing(&until));
            log(store, a.remote_addr, a.username, AuthEvent::Locked, &detail).await?;
            return Ok(Outcome::Locked { until, just_now: true });
        }
        return Ok(Outcome::Wrong);
    };
    users::record_success(store, &user.username).await?;
    Ok(Outcome::SignedIn(user))
}
