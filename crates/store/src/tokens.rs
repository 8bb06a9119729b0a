//! Personal access tokens for the JSON API (table `api_tokens`, migration
//! `0004_tokens.sql`): a user creates and revokes their own; a script sends one as
//! `Authorization: Bearer …` and acts with its owner's role and area.
//!
//! Only the SHA-256 of a token is stored; the caller hashes. Like accounts and
//! sessions these are not registry data and are written with plain SQL here.
//! Times are [`users::timestamp`] text.
//!
//! A token expires ([`DEFAULT_DAYS`] after creation unless its creator chose up to
//! [`MAX_DAYS`]); it is revoked by its owner, by a county admin, and with every other
//! token of its owner when the owner's password is reset or the account disabled
//! ([`users::set_password`], [`users::set_disabled`]). Its unchanging columns are
//! chained ([`crate::chain::API_TOKENS`]): a token row added or altered in the
//! database without the chains' key is not honoured.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::chain::{self, Cell};
use crate::users::{self, timestamp};
use crate::{Store, StoreError};

/// Longest token name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// `last_used_at` is written at most this often per token, so that a busy script
/// does not turn every read into a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How long a token lasts when its creator does not say.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest a token may last.
pub const MAX_DAYS: i64 = 365;

/// One token as its owner's list shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    /// RFC 3339 UTC; `None` only for a row from before expiry existed (treated as expired).
    pub expires_at: Option<String>,
}

impl TokenLine {
    /// Whether the token has expired at `now`.
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.as_deref().and_then(users::parse_timestamp).is_none_or(|t| t <= now)
    }
}

/// Stores a new token of `username` under its hash, valid for `days` days (1 to
/// [`MAX_DAYS`]); refuses an empty, overlong or already used name. Returns when it
/// expires.
pub async fn create(
    store: &Store,
    username: &str,
    name: &str,
    token_hash: &str,
    days: i64,
) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Refused(format!("令牌名称应为 1–{MAX_NAME_CHARS} 个字符")));
    }
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(StoreError::Refused(format!("有效期应为 1–{MAX_DAYS} 天")));
    }
    let (taken,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE username = $1 AND name = $2")
        .bind(username.to_owned())
        .bind(name.to_owned())
        .fetch_one(store.pool())
        .await?;
    if taken > 0 {
        return Err(StoreError::Refused(format!("已有名为“{name}”的令牌，请换一个名称")));
    }
    let now = OffsetDateTime::now_utc();
    let expires = timestamp(now + Duration::days(days));
    let row = vec![
        Cell::text(username),
        Cell::text(name),
        Cell::text(token_hash),
        Cell::text(&timestamp(now)),
        Cell::text(&expires),
    ];
    chain::append(store, &chain::API_TOKENS, vec![row], None).await?;
    Ok(expires)
}

/// The tokens of `username`, newest first, revoked ones included.
pub async fn list(store: &Store, username: &str) -> Result<Vec<TokenLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, revoked_at, expires_at FROM api_tokens \
         WHERE username = $1 ORDER BY id DESC",
    )
    .bind(username.to_owned())
    .fetch_all(store.pool())
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok(TokenLine {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                created_at: r.try_get(2)?,
                last_used_at: r.try_get(3)?,
                revoked_at: r.try_get(4)?,
                expires_at: r.try_get(5)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(lines)
}

/// Revokes the token `name` of `username`. Returns whether a live token of that name
/// was revoked now (false for none, or one revoked or expired already).
pub async fn revoke(store: &Store, username: &str, name: &str) -> Result<bool, StoreError> {
    let now = timestamp(OffsetDateTime::now_utc());
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $3 WHERE username = $1 AND name = $2 AND revoked_at IS NULL")
            .bind(username.to_owned())
            .bind(name.to_owned())
            .bind(now)
            .execute(store.pool())
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether `username` has a token named `name` (revoked or not).
pub async fn exists(store: &Store, username: &str, name: &str) -> Result<bool, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE username = $1 AND name = $2")
        .bind(username.to_owned())
        .bind(name.to_owned())
        .fetch_one(store.pool())
        .await?;
    Ok(n > 0)
}

/// Revokes every live token of `username` inside a transaction (a password reset,
/// disabling the account); returns their names.
pub(crate) async fn revoke_all_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    username: &str,
) -> Result<Vec<String>, StoreError> {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM api_tokens WHERE username = $1 AND revoked_at IS NULL ORDER BY id")
            .bind(username.to_owned())
            .fetch_all(&mut **tx)
            .await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE username = $1 AND revoked_at IS NULL")
        .bind(username.to_owned())
        .bind(timestamp(OffsetDateTime::now_utc()))
        .execute(&mut **tx)
        .await?;
    Ok(names.into_iter().map(|n| n.0).collect())
}

/// The security log's detail of a token revoked: `令牌“NAME”：WHY`.
pub fn revocation_detail(name: &str, why: &str) -> String {
    format!("令牌“{name}”：{why}")
}

/// The token name a [`revocation_detail`] names.
pub fn revoked_name(detail: &str) -> Option<&str> {
    detail.strip_prefix("令牌“")?.split_once("”：").map(|(name, _)| name)
}

/// Tokens the security log says were revoked but whose row says they are not (a
/// revocation undone in the database): `(id, username, name)`.
pub async fn unrevoked(store: &Store) -> Result<Vec<(i64, String, String)>, StoreError> {
    let events: Vec<(String, String)> =
        sqlx::query_as("SELECT username, detail FROM auth_log WHERE event = 'token_revoked' ORDER BY id")
            .fetch_all(store.pool())
            .await?;
    let mut out = Vec::new();
    for (username, detail) in events {
        let Some(name) = revoked_name(&detail) else { continue };
        let row: Option<(i64, Option<String>)> =
            sqlx::query_as("SELECT id, revoked_at FROM api_tokens WHERE username = $1 AND name = $2")
                .bind(username.clone())
                .bind(name.to_owned())
                .fetch_optional(store.pool())
                .await?;
        if let Some((id, None)) = row {
            out.push((id, username, name.to_owned()));
        }
    }
    Ok(out)
}

/// What a token presented to the API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenUse {
    /// A live token: its owner's account (the caller checks that it is enabled).
    Live(users::User),
    /// A token past its expiry: refused, and worth a line in the security log.
    Expired { username: String, name: String },
    /// No such token, a revoked one, or one whose row does not hold its chained hash.
    Unknown,
}

/// What a token is, by its hash, noting the use of a live one.
pub async fn token_use(store: &Store, token_hash: &str) -> Result<TokenUse, StoreError> {
    /// id, owner, name, last use, expiry.
    type Found = (i64, String, String, Option<String>, Option<String>);
    let row: Option<Found> = sqlx::query_as(
        "SELECT id, username, name, last_used_at, expires_at FROM api_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash.to_owned())
    .fetch_optional(store.pool())
    .await?;
    let Some((id, username, name, last_used, expires)) = row else {
        return Ok(TokenUse::Unknown);
    };
    if !chain::token_row_intact(store, id).await? {
        tracing::warn!(username = %username, token = %name, "访问令牌的链哈希不符，拒绝使用");
        return Ok(TokenUse::Unknown);
    }
    let now = OffsetDateTime::now_utc();
    if expires.as_deref().and_then(users::parse_timestamp).is_none_or(|t| t <= now) {
        return Ok(TokenUse::Expired { username, name });
    }
    let stale = last_used.as_deref().and_then(users::parse_timestamp).is_none_or(|t| t + TOUCH_EVERY <= now);
    if stale {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(timestamp(now))
            .execute(store.pool())
            .await?;
    }
    Ok(match users::find(store, &username).await? {
        Some(user) => TokenUse::Live(user),
        None => TokenUse::Unknown,
    })
}
