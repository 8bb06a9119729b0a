//! 查看记录: the log of personal numbers shown unmasked (table `reveal_log`, migration
//! `0006_reveal_log.sql`).
//!
//! Pages and downloads mask every personal column (`Column.personal` in
//! `fupin_domain::schema`); a role that needs one such value asks for it with a reason,
//! and the web application appends a row here before it sends the value; so does
//! `fupin check --reveal` (with its required `--reason`), a row per number it prints in
//! full, before it prints them. Not registry data, so written with plain SQL rather
//! than through the [`crate::Writer`]; append-only: nothing here updates or deletes a
//! row.

use sqlx::Row;
use time::OffsetDateTime;

use crate::users::timestamp;
use crate::{Store, StoreError};

/// One value about to be shown, to append to the log.
#[derive(Debug, Clone)]
pub struct RevealRecord<'a> {
    /// Who asks to see it.
    pub username: &'a str,
    /// The household the value belongs to.
    pub hh_id: &'a str,
    /// The registry table (`households`, `persons`), the row's key and the column.
    pub table: &'a str,
    pub key: &'a str,
    pub field: &'a str,
    /// Why, as typed.
    pub reason: &'a str,
    pub remote_addr: Option<&'a str>,
}

/// One row of the log as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealLine {
    /// Increasing with each row: the log's order.
    pub id: i64,
    /// RFC 3339 UTC.
    pub at: String,
    pub username: String,
    pub hh_id: String,
    pub table: String,
    pub key: String,
    pub field: String,
    pub reason: String,
    pub remote_addr: Option<String>,
}

const INSERT: &str = "INSERT INTO reveal_log (at, username, hh_id, table_name, row_key, field, reason, remote_addr) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

fn insert<'q>(at: &str, r: &RevealRecord<'_>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(INSERT)
        .bind(at.to_owned())
        .bind(r.username.to_owned())
        .bind(r.hh_id.to_owned())
        .bind(r.table.to_owned())
        .bind(r.key.to_owned())
        .bind(r.field.to_owned())
        .bind(r.reason.to_owned())
        .bind(r.remote_addr.map(str::to_owned))
}

/// Appends a row, stamped now. The caller shows the value only if this succeeds.
pub async fn log_reveal(store: &Store, r: &RevealRecord<'_>) -> Result<(), StoreError> {
    insert(&timestamp(OffsetDateTime::now_utc()), r).execute(store.pool()).await?;
    Ok(())
}

/// Appends one row per value, all stamped now, in one transaction: every row or none.
/// For a command that shows many values at once (`fupin check --reveal`); the caller
/// shows them only if this succeeds.
pub async fn log_reveals(store: &Store, records: &[RevealRecord<'_>]) -> Result<(), StoreError> {
    let at = timestamp(OffsetDateTime::now_utc());
    let mut tx = store.pool().begin().await?;
    for r in records {
        insert(&at, r).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How many rows the log has.
pub async fn reveal_count(store: &Store) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM reveal_log").fetch_one(store.pool()).await?;
    Ok(n)
}

/// One page of the log, newest first.
pub async fn reveal_page(store: &Store, limit: i64, offset: i64) -> Result<Vec<RevealLine>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, username, hh_id, table_name, row_key, field, reason, remote_addr FROM reveal_log \
         ORDER BY id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(store.pool())
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok(RevealLine {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                username: r.try_get(2)?,
                hh_id: r.try_get(3)?,
                table: r.try_get(4)?,
                key: r.try_get(5)?,
                field: r.try_get(6)?,
                reason: r.try_get(7)?,
                remote_addr: r.try_get(8)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(lines)
}
