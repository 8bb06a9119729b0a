//! Personal access tokens for the JSON API (table `api_tokens`, migration
//! `0004_tokens.sql`): a user creates and revokes their own; a script sends one as
//! `Authorization: Bearer …` and acts with its owner's role and area.
//!
//! Only the SHA-256 of a token is stored; the caller hashes. Like accounts and
//! sessions these are not registry data and are written with plain SQL here.
//! Times are [`users::timestamp`] text.

use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::users::{self, timestamp};
use crate::{Store, StoreError};

/// Longest token name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// `last_used_at` is written at most this often per token, so that a busy script
/// does not turn every read into a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// One token as its owner's list shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// Stores a new token of `username` under its hash; refuses an empty, overlong or
/// already used name.
pub async fn create(store: &Store, username: &str, name: &str, token_hash: &str) -> Result<(), StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(StoreError::Refused(format!("令牌名称应为 1–{MAX_NAME_CHARS} 个字符")));
    }
    let (taken,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE username = $1 AND name = $2")
        .bind(username.to_owned())
        .bind(name.to_owned())
        .fetch_one(store.pool())
        .await?;
    if taken > 0 {
        return Err(StoreError::Refused(format!("已有名为“{name}”的令牌，请换一个名称")));
    }
    sqlx::query("INSERT INTO api_tokens (username, name, token_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(username.to_owned())
        .bind(name.to_owned())
        .bind(token_hash.to_owned())
        .bind(timestamp(OffsetDateTime::now_utc()))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// The tokens of `username`, newest first, revoked ones included.
pub async fn list(store: &Store, username: &str) -> Result<Vec<TokenLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens \
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
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(lines)
}

/// Revokes the token `name` of `username` (only the owner's own). Returns whether
/// such a token exists; revoking twice keeps the first time.
pub async fn revoke(store: &Store, username: &str, name: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE username = $1 AND name = $2")
            .bind(username.to_owned())
            .bind(name.to_owned())
            .bind(timestamp(OffsetDateTime::now_utc()))
            .execute(store.pool())
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The account of a live (not revoked) token, by the token's hash, noting the use.
/// The caller checks that the account is enabled.
pub async fn token_user(store: &Store, token_hash: &str) -> Result<Option<users::User>, StoreError> {
    let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, username, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash.to_owned())
    .fetch_optional(store.pool())
    .await?;
    let Some((id, username, last_used)) = row else {
        return Ok(None);
    };
    let now = OffsetDateTime::now_utc();
    let stale = last_used.as_deref().and_then(users::parse_timestamp).is_none_or(|t| t + TOUCH_EVERY <= now);
    if stale {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(timestamp(now))
            .execute(store.pool())
            .await?;
    }
    users::find(store, &username).await
}
