//! 走访记录 (table `visits`, migration `0005_visits.sql`): a cadre's visit to a
//! household, in person or by phone (一季一上门), and which helper a helper-cadre
//! account is (`users.helper_id`).
//!
//! Visits are field records, not registry rows: they do not go through the
//! [`Writer`](crate::Writer) and the change history, but the table is append-only,
//! each row is chained ([`crate::chain::VISITS`]) and names its visitor and when the
//! server received it. Each visit carries the
//! idempotency key its page chose, so a replayed request (a double tap, an offline
//! queue sent twice) returns the first visit and writes nothing, and the household's
//! version the page was based on. A form loaded again (the back button) draws a new
//! key; the same household, visitor, day, mode and notes is still the same visit.

use fupin_domain::{DivisionCode, HouseholdId};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::{Date, OffsetDateTime};

use crate::chain::{self, Cell};
use crate::users::timestamp;
use crate::{Store, StoreError};

/// Longest notes accepted, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;

/// Idempotency keys: what a page generates (hex of random bytes), with room to spare.
const KEY_CHARS: std::ops::RangeInclusive<usize> = 16..=100;

/// How a visit was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 入户走访.
    InPerson,
    /// 电话联系.
    Phone,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::InPerson => "in_person",
            Mode::Phone => "phone",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::InPerson, Mode::Phone].into_iter().find(|m| m.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::InPerson => "入户走访",
            Mode::Phone => "电话联系",
        }
    }
}

/// One recorded visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub id: i64,
    pub hh_id: String,
    /// The account that recorded it.
    pub visitor: String,
    /// YYYY-MM-DD.
    pub visited_on: String,
    pub mode: Mode,
    pub notes: String,
    /// RFC 3339 UTC: when the server received it.
    pub created_at: String,
    pub based_on_version: i64,
}

/// A visit to record.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    pub hh_id: &'a str,
    pub visitor: &'a str,
    pub visited_on: Date,
    pub mode: Mode,
    pub notes: &'a str,
    pub idempotency_key: &'a str,
}

/// What [`record_visit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub visit: Visit,
    /// False when the key had been used: the first visit, nothing written.
    pub new: bool,
}

const COLUMNS: &str = "id, hh_id, visitor, visited_on, mode, notes, created_at, based_on_version";

fn read_visit(row: &AnyRow) -> Result<Visit, StoreError> {
    let mode: String = row.try_get(4)?;
    Ok(Visit {
        id: row.try_get(0)?,
        hh_id: row.try_get(1)?,
        visitor: row.try_get(2)?,
        visited_on: row.try_get(3)?,
        mode: Mode::parse(&mode).ok_or_else(|| StoreError::Refused(format!("走访方式“{mode}”无法识别")))?,
        notes: row.try_get(5)?,
        created_at: row.try_get(6)?,
        based_on_version: row.try_get(7)?,
    })
}

/// Records a visit, once per idempotency key: replaying a key returns the first
/// visit and writes nothing. Refuses notes over [`MAX_NOTES_CHARS`] and a malformed
/// key. The caller checks that the visitor may see the household.
pub async fn record_visit(store: &Store, v: &NewVisit<'_>) -> Result<Recorded, StoreError> {
    if v.notes.chars().count() > MAX_NOTES_CHARS {
        return Err(StoreError::Refused(format!("走访记录最多 {MAX_NOTES_CHARS} 个字")));
    }
    let key_ok = KEY_CHARS.contains(&v.idempotency_key.len())
        && v.idempotency_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !key_ok {
        return Err(StoreError::Refused("表单已失效，请重新打开走访表单".into()));
    }
    if let Some(first) = by_key(store, v.idempotency_key).await? {
        return Ok(Recorded { visit: first, new: false });
    }
    // The same visit from a form loaded again (the back button reloads it with a new
    // key): same household, visitor, day, mode and notes is the visit already recorded.
    if let Some(first) = same_visit(store, v).await? {
        return Ok(Recorded { visit: first, new: false });
    }
    let version = crate::operations::household_version(store, v.hh_id).await?;
    // Two copies of one request racing: the unique key lets one row in.
    let turn = store.write_turn().await;
    let row = vec![
        Cell::text(v.hh_id),
        Cell::text(v.visitor),
        Cell::text(&fupin_domain::date::iso(v.visited_on)),
        Cell::text(v.mode.as_str()),
        Cell::text(v.notes),
        Cell::text(&timestamp(OffsetDateTime::now_utc())),
        Cell::text(v.idempotency_key),
        Cell::Int(version),
    ];
    let written =
        chain::append(store, &chain::VISITS, vec![row], Some("ON CONFLICT (idempotency_key) DO NOTHING")).await?;
    drop(turn);
    let visit =
        by_key(store, v.idempotency_key).await?.ok_or_else(|| StoreError::Refused("走访记录写入后未找到".into()))?;
    Ok(Recorded { visit, new: written > 0 })
}

async fn same_visit(store: &Store, v: &NewVisit<'_>) -> Result<Option<Visit>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM visits WHERE hh_id = $1 AND visitor = $2 AND visited_on = $3 AND mode = $4 \
         AND notes = $5 ORDER BY id LIMIT 1"
    );
    let row = sqlx::query(crate::rows::safe(sql))
        .bind(v.hh_id.to_owned())
        .bind(v.visitor.to_owned())
        .bind(fupin_domain::date::iso(v.visited_on))
        .bind(v.mode.as_str())
        .bind(v.notes.to_owned())
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(read_visit).transpose()
}

async fn by_key(store: &Store, key: &str) -> Result<Option<Visit>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM visits WHERE idempotency_key = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(key.to_owned()).fetch_optional(store.pool()).await?;
    row.as_ref().map(read_visit).transpose()
}

/// A household's newest visits, newest first.
pub async fn visits_of(store: &Store, hh_id: &HouseholdId, limit: i64) -> Result<Vec<Visit>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM visits WHERE hh_id = $1 ORDER BY visited_on DESC, id DESC LIMIT $2");
    let rows =
        sqlx::query(crate::rows::safe(sql)).bind(hh_id.as_str().to_owned()).bind(limit).fetch_all(store.pool()).await?;
    rows.iter().map(read_visit).collect()
}

/// How many visits a household has.
pub async fn count_of(store: &Store, hh_id: &HouseholdId) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM visits WHERE hh_id = $1")
        .bind(hh_id.as_str().to_owned())
        .fetch_one(store.pool())
        .await?;
    Ok(n)
}

/// One line of 我的农户.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyHousehold {
    pub hh_id: String,
    pub village_code: String,
    pub head_name: Option<String>,
    pub persons: i64,
    /// YYYY-MM-DD of the newest visit, if any.
    pub last_visit: Option<String>,
}

/// The households, never-visited first, then by the date of the last visit, oldest
/// first. `filter` is a condition on `h` with `$1` (and `$2`) bound by the caller.
async fn by_last_visit(
    store: &Store,
    filter: &'static str,
    binds: &[String],
    limit: i64,
) -> Result<Vec<MyHousehold>, StoreError> {
    let sql = format!(
        "SELECT hh_id, village_code, head, persons, last_visit FROM ( \
           SELECT h.hh_id, h.village_code, \
             (SELECT p.name FROM persons p WHERE p.hh_id = h.hh_id AND p.relation = '01' AND {present} \
              ORDER BY p.person_id LIMIT 1) AS head, \
             (SELECT COUNT(*) FROM persons p WHERE p.hh_id = h.hh_id AND {present}) AS persons, \
             (SELECT MAX(v.visited_on) FROM visits v WHERE v.hh_id = h.hh_id) AS last_visit \
           FROM households h WHERE {filter} \
         ) t ORDER BY (last_visit IS NOT NULL), last_visit, hh_id LIMIT ${}",
        binds.len() + 1,
        present = crate::views::present("p"),
    );
    let mut q = sqlx::query(crate::rows::safe(sql));
    for b in binds {
        q = q.bind(b.clone());
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(MyHousehold {
            hh_id: r.try_get(0)?,
            village_code: r.try_get(1)?,
            head_name: r.try_get(2)?,
            persons: r.try_get(3)?,
            last_visit: r.try_get(4)?,
        });
    }
    Ok(out)
}

/// The households in an area (county, township or village), least recently visited
/// first, at most `limit`.
pub async fn households_by_last_visit(
    store: &Store,
    area: &DivisionCode,
    limit: i64,
) -> Result<Vec<MyHousehold>, StoreError> {
    by_last_visit(store, "h.village_code LIKE $1", &[format!("{}%", area.as_str())], limit).await
}

/// The households a helper is paired with on `today` (结对帮扶), least recently
/// visited first, at most `limit`.
pub async fn paired_households(
    store: &Store,
    helper_id: &str,
    today: Date,
    limit: i64,
) -> Result<Vec<MyHousehold>, StoreError> {
    let filter = "h.hh_id IN (SELECT hh_id FROM pairings WHERE helper_id = $1 AND from_date <= $2 \
                  AND (to_date IS NULL OR to_date >= $2))";
    by_last_visit(store, filter, &[helper_id.to_owned(), fupin_domain::date::iso(today)], limit).await
}

/// Whether a helper is paired with a household on `today`.
pub async fn is_paired(store: &Store, helper_id: &str, hh_id: &str, today: Date) -> Result<bool, StoreError> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pairings WHERE helper_id = $1 AND hh_id = $2 AND from_date <= $3 \
         AND (to_date IS NULL OR to_date >= $3)",
    )
    .bind(helper_id.to_owned())
    .bind(hh_id.to_owned())
    .bind(fupin_domain::date::iso(today))
    .fetch_one(store.pool())
    .await?;
    Ok(n > 0)
}

/// The helper (`helpers.helper_id`) a helper-cadre account is, if set.
pub async fn helper_of(store: &Store, username: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT helper_id FROM users WHERE username = $1")
        .bind(username.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// The name of a helper (`helpers`), if the helper exists.
pub async fn helper_name(store: &Store, helper_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT name FROM helpers WHERE helper_id = $1")
        .bind(helper_id.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.0))
}

/// Makes an account the given helper (or no helper). Returns whether the account exists.
pub async fn set_helper(store: &Store, username: &str, helper_id: Option<&str>) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE users SET helper_id = $2 WHERE username = $1")
        .bind(username.to_owned())
        .bind(helper_id.map(str::to_owned))
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The helper with the most open pairings (no end date) in a village, if any.
pub async fn busiest_helper_in(store: &Store, village: &DivisionCode) -> Result<Option<String>, StoreError> {
    let row: Option<(String, i64)> = sqlx::query_as(
        "SELECT p.helper_id, COUNT(*) AS n FROM pairings p JOIN households h ON h.hh_id = p.hh_id \
         WHERE h.village_code = $1 AND p.to_date IS NULL \
         GROUP BY p.helper_id ORDER BY n DESC, p.helper_id LIMIT 1",
    )
    .bind(village.as_str().to_owned())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.0))
}

/// The first day of the quarter `day` falls in (一季一上门).
pub fn quarter_start(day: Date) -> Date {
    let first_month = (u8::from(day.month()) - 1) / 3 * 3 + 1;
    let month = time::Month::try_from(first_month).unwrap_or(time::Month::January);
    Date::from_calendar_date(day.year(), month, 1).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn quarters_start_in_january_april_july_and_october() {
        assert_eq!(quarter_start(date!(2026 - 06 - 01)), date!(2026 - 04 - 01));
        assert_eq!(quarter_start(date!(2026 - 01 - 01)), date!(2026 - 01 - 01));
        assert_eq!(quarter_start(date!(2026 - 12 - 31)), date!(2026 - 10 - 01));
    }

    #[test]
    fn modes_round_trip() {
        for m in [Mode::InPerson, Mode::Phone] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("letter"), None);
    }
}
