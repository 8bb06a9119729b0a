//! 查看记录: the log of personal numbers shown unmasked (table `reveal_log`, migration
//! `0006_reveal_log.sql`).
//!
//! Pages and downloads mask every personal column (`Column.personal` in
//! `fupin_domain::schema`); a role that needs one such value asks for it with a reason,
//! and the web application appends a row here before it sends the value; so does
//! `fupin check --reveal` (with its required `--reason`), a row per number it prints in
//! full, before it prints them. Not registry data, so written with plain SQL rather
//! than through the [`crate::Writer`]; append-only: nothing here updates or deletes a
//! row, and each row is chained ([`crate::chain::REVEAL_LOG`]).

use sqlx::Row;
use time::OffsetDateTime;

use crate::chain::{self, Cell};
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

fn cells(at: &str, r: &RevealRecord<'_>) -> Vec<Cell> {
    vec![
        Cell::text(at),
        Cell::text(r.username),
        Cell::text(r.hh_id),
        Cell::text(r.table),
        Cell::text(r.key),
        Cell::text(r.field),
        Cell::text(r.reason),
        Cell::opt(r.remote_addr),
    ]
}

/// Appends a row, stamped now, on the log's chain. The caller shows the value only if
/// this succeeds.
pub async fn log_reveal(store: &Store, r: &RevealRecord<'_>) -> Result<(), StoreError> {
    log_reveals(store, std::slice::from_ref(r)).await
}

/// Appends one row per value, all stamped now, in one transaction: every row or none.
/// For a command that shows many values at once (`fupin check --reveal`); the caller
/// shows them only if this succeeds.
pub async fn log_reveals(store: &Store, records: &[RevealRecord<'_>]) -> Result<(), StoreError> {
    let at = timestamp(OffsetDateTime::now_utc());
    let rows = records.iter().map(|r| cells(&at, r)).collect();
    chain::append(store, &chain::REVEAL_LOG, rows, None).await?;
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
