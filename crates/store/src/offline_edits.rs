//! 离线更正 (table `offline_edits`, migration `0007_offline_edits.sql`): a correction
//! of one field of a household or a member, recorded on a phone — online or without
//! signal, queued and sent later — with the household version the page showed and an
//! idempotency key.
//!
//! [`sync`] applies it through [`operations::correct_field`] when the household has
//! not changed since that version (the change goes to the change history with who and
//! why). When it has, nothing is written to the registry: the proposal is kept as a
//! **flagged conflict** (`pending`) that a cadre of the area applies — re-based on the
//! version the reviewer saw, again through `correct_field` — or discards, each with a
//! reason ([`decide`]). Every sync is kept under its key, so a replay (an offline queue
//! sent twice) neither applies nor flags twice.
//!
//! Two copies of one request racing (two tabs sending one queue): syncs and decisions
//! run one at a time in the server ([`SYNC`]), so the second finds the first's row
//! under the key and does nothing. Across processes sharing a database the unique key
//! still lets one row in, and the version check lets at most one copy write: the
//! first to commit moves the household's version on, so another meets a conflict.

use fupin_domain::{DivisionCode, HouseholdId};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::operations::{self, Edit, OpError};
use crate::users::timestamp;
use crate::{Store, StoreError};

/// One sync or decision at a time: the check of a key and what follows from it do not
/// interleave with another copy of the same request. Registry writers queue on the
/// chain lock anyway, so this costs no parallelism that writes had.
static SYNC: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Idempotency keys: what a page generates (hex of random bytes), with room to spare.
const KEY_CHARS: std::ops::RangeInclusive<usize> = 16..=100;

/// Longest value and reason accepted, in characters (the store's own limits apply on top).
pub const MAX_VALUE_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 500;

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A flagged conflict awaiting review.
    Pending,
    /// Written to the registry (at once, or by a reviewer).
    Applied,
    /// Refused by a reviewer.
    Discarded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Applied => "applied",
            Status::Discarded => "discarded",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Pending, Status::Applied, Status::Discarded].into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "待审核",
            Status::Applied => "已采纳",
            Status::Discarded => "已放弃",
        }
    }
}

/// One stored proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineEdit {
    pub id: i64,
    pub idempotency_key: String,
    pub hh_id: String,
    pub village_code: String,
    /// `households` or `persons`.
    pub entity: String,
    pub entity_key: String,
    pub field: String,
    pub proposed_value: String,
    pub reason: String,
    pub base_version: i64,
    pub found_version: i64,
    pub submitted_by: String,
    pub submitted_at: String,
    pub status: Status,
    pub conflict: bool,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
    pub applied_version: Option<i64>,
}

const COLUMNS: &str = "id, idempotency_key, hh_id, village_code, entity, entity_key, field, proposed_value, reason, \
                       base_version, found_version, submitted_by, submitted_at, status, conflict, decided_by, \
                       decided_at, decision_reason, applied_version";

fn read(row: &AnyRow) -> Result<OfflineEdit, StoreError> {
    let status: String = row.try_get(13)?;
    let conflict: i64 = row.try_get(14)?;
    Ok(OfflineEdit {
        id: row.try_get(0)?,
        idempotency_key: row.try_get(1)?,
        hh_id: row.try_get(2)?,
        village_code: row.try_get(3)?,
        entity: row.try_get(4)?,
        entity_key: row.try_get(5)?,
        field: row.try_get(6)?,
        proposed_value: row.try_get(7)?,
        reason: row.try_get(8)?,
        base_version: row.try_get(9)?,
        found_version: row.try_get(10)?,
        submitted_by: row.try_get(11)?,
        submitted_at: row.try_get(12)?,
        status: Status::parse(&status).ok_or_else(|| StoreError::Refused(format!("离线更正状态“{status}”无法识别")))?,
        conflict: conflict != 0,
        decided_by: row.try_get(15)?,
        decided_at: row.try_get(16)?,
        decision_reason: row.try_get(17)?,
        applied_version: row.try_get(18)?,
    })
}

/// A correction as the phone sent it.
#[derive(Debug, Clone)]
pub struct Proposal<'a> {
    pub idempotency_key: &'a str,
    pub hh_id: &'a str,
    /// `households` (the key is the 户编号) or `persons` (a member's 人编号).
    pub entity: &'a str,
    pub entity_key: &'a str,
    pub field: &'a str,
    pub value: &'a str,
    pub reason: &'a str,
    /// The household version the page was based on.
    pub base_version: i64,
    /// The signed-in user who sent it.
    pub submitted_by: &'a str,
}

/// What [`sync`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    /// Written to the registry now; data-quality notes on what was saved.
    Applied { edit: OfflineEdit, warnings: Vec<String> },
    /// The household changed since the page's version: kept for review, not written.
    Flagged(OfflineEdit),
    /// The key was sent before: the first sync's row, nothing done now.
    Replayed(OfflineEdit),
}

fn key_ok(key: &str) -> bool {
    KEY_CHARS.contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The proposal sent under a key, if any.
pub async fn by_key(store: &Store, key: &str) -> Result<Option<OfflineEdit>, StoreError> {
    if !key_ok(key) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM offline_edits WHERE idempotency_key = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(key.to_owned()).fetch_optional(store.pool()).await?;
    row.as_ref().map(read).transpose()
}

/// Checks the parts of a proposal that need no database, with the reason for the user.
fn check(p: &Proposal<'_>) -> Result<(), OpError> {
    let refuse = |m: &str| Err(OpError::Refused(m.to_owned()));
    if !key_ok(p.idempotency_key) {
        return refuse("表单已失效，请重新打开更正表单");
    }
    if !matches!(p.entity, "households" | "persons") {
        return refuse("只能更正户或成员的信息");
    }
    if p.entity == "households" && p.entity_key != p.hh_id {
        return refuse("户的信息只能在本户的卡片上更正");
    }
    if p.value.chars().count() > MAX_VALUE_CHARS {
        return Err(OpError::Refused(format!("新的值最多 {MAX_VALUE_CHARS} 个字")));
    }
    if p.reason.trim().is_empty() {
        return refuse("请填写变更原因");
    }
    if p.reason.chars().count() > MAX_REASON_CHARS {
        return Err(OpError::Refused(format!("变更原因最多 {MAX_REASON_CHARS} 个字")));
    }
    if p.base_version < 0 {
        return refuse("页面版本无效，请重新打开更正表单");
    }
    Ok(())
}

/// The village of a household, if it exists.
async fn village_of(store: &Store, hh_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT village_code FROM households WHERE hh_id = $1")
        .bind(hh_id.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.0))
}

/// The household a person belongs to, if the person exists.
async fn household_of_person(store: &Store, person_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT hh_id FROM persons WHERE person_id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.0))
}

/// The shipped code lists, read once.
fn cells() -> &'static fupin_domain::cell::Context {
    static CELLS: std::sync::OnceLock<fupin_domain::cell::Context> = std::sync::OnceLock::new();
    CELLS.get_or_init(|| fupin_domain::cell::Context::codes_only(fupin_domain::CodeLists::builtin()))
}

/// Refuses a value its column cannot hold, as [`operations::correct_field`] would: a
/// proposal flagged for review must be one a reviewer can apply.
async fn check_value(store: &Store, p: &Proposal<'_>) -> Result<(), OpError> {
    let Some(table) = fupin_domain::schema::table(p.entity) else {
        return Err(OpError::Refused(format!("没有名为 {} 的登记表", p.entity)));
    };
    let Some(column) = table.column(p.field) else {
        return Err(OpError::Refused(format!("「{}」没有字段 {}", table.title, p.field)));
    };
    if table.key.contains(&column.name) || column.name == "hh_id" {
        return Err(OpError::Refused(format!("「{}」不能在这里更正", column.header)));
    }
    let id_type = if p.entity == "persons" {
        let row: Option<(Option<String>,)> = sqlx::query_as("SELECT id_type FROM persons WHERE person_id = $1")
            .bind(p.entity_key.to_owned())
            .fetch_optional(store.pool())
            .await?;
        row.and_then(|r| r.0).unwrap_or_default()
    } else {
        String::new()
    };
    let parsed = fupin_domain::cell::parse(cells(), column, p.value, &id_type)
        .map_err(|e| OpError::Refused(format!("「{}」{e}", column.header)))?;
    if column.required && parsed.value.is_null() {
        return Err(OpError::Refused(format!("「{}」必填，不能清空", column.header)));
    }
    Ok(())
}

/// Stores a proposal under its key (first one wins) and returns the row the key holds,
/// and whether it is this call's.
async fn keep(
    store: &Store,
    p: &Proposal<'_>,
    village: &str,
    status: Status,
    found_version: i64,
    applied_version: Option<i64>,
) -> Result<(OfflineEdit, bool), StoreError> {
    let done = sqlx::query(
        "INSERT INTO offline_edits (idempotency_key, hh_id, village_code, entity, entity_key, field, \
         proposed_value, reason, base_version, found_version, submitted_by, submitted_at, status, conflict, \
         applied_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(p.idempotency_key.to_owned())
    .bind(p.hh_id.to_owned())
    .bind(village.to_owned())
    .bind(p.entity.to_owned())
    .bind(p.entity_key.to_owned())
    .bind(p.field.to_owned())
    .bind(p.value.to_owned())
    .bind(p.reason.trim().to_owned())
    .bind(p.base_version)
    .bind(found_version)
    .bind(p.submitted_by.to_owned())
    .bind(timestamp(OffsetDateTime::now_utc()))
    .bind(status.as_str())
    .bind(i64::from(status == Status::Pending))
    .bind(applied_version)
    .execute(store.pool())
    .await?;
    let row =
        by_key(store, p.idempotency_key).await?.ok_or_else(|| StoreError::Refused("离线更正写入后未找到".into()))?;
    Ok((row, done.rows_affected() > 0))
}

/// Applies a correction sent from a phone, or flags it when the household changed
/// since the version it was based on; a key sent before returns the first row and does
/// nothing. A structural problem (unknown field, bad value, a member of another
/// household) is refused with the reason and nothing is kept. The caller checks that
/// the sender may edit the household.
pub async fn sync(store: &Store, p: &Proposal<'_>) -> Result<Synced, OpError> {
    check(p)?;
    let _one_at_a_time = SYNC.lock().await;
    if let Some(first) = by_key(store, p.idempotency_key).await? {
        if first.submitted_by != p.submitted_by || first.hh_id != p.hh_id {
            return Err(OpError::Refused("表单已失效，请重新打开更正表单".into()));
        }
        return Ok(Synced::Replayed(first));
    }
    let Some(village) = village_of(store, p.hh_id).await? else {
        return Err(OpError::Refused(format!("户 {} 不存在", p.hh_id)));
    };
    if p.entity == "persons" && household_of_person(store, p.entity_key).await?.as_deref() != Some(p.hh_id) {
        return Err(OpError::Refused(format!("{} 不是户 {} 的成员", p.entity_key, p.hh_id)));
    }
    check_value(store, p).await?;
    let edit = Edit::new(p.submitted_by, p.reason).based_on(p.base_version);
    match operations::correct_field(store, &edit, p.entity, p.entity_key, p.field, p.value).await {
        Ok(out) => {
            let (row, mine) = keep(store, p, &village, Status::Applied, p.base_version, Some(out.version)).await?;
            Ok(if mine { Synced::Applied { edit: row, warnings: out.warnings } } else { Synced::Replayed(row) })
        }
        Err(OpError::Conflict { current, .. }) => {
            let (row, mine) = keep(store, p, &village, Status::Pending, current, None).await?;
            Ok(if mine { Synced::Flagged(row) } else { Synced::Replayed(row) })
        }
        Err(e) => Err(e),
    }
}

/// The flagged conflicts awaiting review in an area, oldest first, at most `limit`.
pub async fn pending_in(store: &Store, area: &DivisionCode, limit: i64) -> Result<Vec<OfflineEdit>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM offline_edits WHERE status = 'pending' AND village_code LIKE $1 ORDER BY id LIMIT $2"
    );
    let rows = sqlx::query(crate::rows::safe(sql))
        .bind(format!("{}%", area.as_str()))
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(read).collect()
}

/// How many flagged conflicts await review in an area.
pub async fn pending_count(store: &Store, area: &DivisionCode) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending' AND village_code LIKE $1")
            .bind(format!("{}%", area.as_str()))
            .fetch_one(store.pool())
            .await?;
    Ok(n)
}

/// How many flagged conflicts await review on one household.
pub async fn pending_count_of(store: &Store, hh_id: &HouseholdId) -> Result<i64, StoreError> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending' AND hh_id = $1")
        .bind(hh_id.as_str().to_owned())
        .fetch_one(store.pool())
        .await?;
    Ok(n)
}

/// A reviewer's decision on a flagged conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write the proposed value, based on the household version the reviewer saw.
    Apply { seen_version: i64 },
    /// Keep the registry as it is.
    Discard,
}

/// Applies or discards a flagged conflict, with the reviewer's reason. Applying goes
/// through [`operations::correct_field`] (the change history names the reviewer, the
/// sender and both reasons); a household changed again after the reviewer's page is a
/// [`OpError::Conflict`]. A proposal already decided is refused with who decided it.
/// The caller checks that the reviewer may edit the household; applying checks again,
/// at the moment of writing, that what it writes lies in the reviewer's `area` now: a
/// member who has left the household since the proposal (moved, perhaps to another
/// township) is refused, and so is a household that has moved out of the area.
pub async fn decide(
    store: &Store,
    key: &str,
    decision: Decision,
    reviewer: &str,
    area: &DivisionCode,
    reason: &str,
) -> Result<OfflineEdit, OpError> {
    let _one_at_a_time = SYNC.lock().await;
    let Some(e) = by_key(store, key).await? else {
        return Err(OpError::Refused("没有这条离线更正".into()));
    };
    if e.status != Status::Pending {
        return Err(OpError::Refused(format!(
            "这条离线更正已由 {} 处理（{}）",
            e.decided_by.as_deref().unwrap_or("同步"),
            e.status.label()
        )));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(OpError::Refused("请填写处理原因".into()));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(OpError::Refused(format!("处理原因最多 {MAX_REASON_CHARS} 个字")));
    }
    let (status, applied_version) = match decision {
        Decision::Apply { seen_version } => {
            apply_in_scope(store, &e, area).await?;
            let why = format!("采纳 {} 的离线更正（{}）：{reason}", e.submitted_by, e.reason);
            let edit = Edit::new(reviewer, why).based_on(seen_version);
            let out =
                operations::correct_field(store, &edit, &e.entity, &e.entity_key, &e.field, &e.proposed_value).await?;
            (Status::Applied, Some(out.version))
        }
        Decision::Discard => (Status::Discarded, None),
    };
    let done = sqlx::query(
        "UPDATE offline_edits SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5, \
         applied_version = $6 WHERE id = $1 AND status = 'pending'",
    )
    .bind(e.id)
    .bind(status.as_str())
    .bind(reviewer.to_owned())
    .bind(timestamp(OffsetDateTime::now_utc()))
    .bind(reason.to_owned())
    .bind(applied_version)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(OpError::Refused("这条离线更正已由他人处理".into()));
    }
    Ok(by_key(store, key).await?.ok_or_else(|| StoreError::Refused("离线更正处理后未找到".into()))?)
}

/// Refuses to apply `e` unless its target is still where the proposal found it and
/// inside `area`: the member still belongs to the proposal's household, and that
/// household's village (now) lies inside the area.
async fn apply_in_scope(store: &Store, e: &OfflineEdit, area: &DivisionCode) -> Result<(), OpError> {
    if e.entity == "persons" && household_of_person(store, &e.entity_key).await?.as_deref() != Some(e.hh_id.as_str()) {
        return Err(OpError::Refused(format!(
            "{} 已不是户 {} 的成员（已迁出或已删除），不能在这里采纳这条更正：请放弃它，需要时到其现在所在的户更正",
            e.entity_key, e.hh_id
        )));
    }
    let inside =
        village_of(store, &e.hh_id).await?.and_then(|v| DivisionCode::parse(&v).ok()).is_some_and(|v| v.within(area));
    if !inside {
        return Err(OpError::Refused(format!("户 {} 已不在您的管辖范围内，不能采纳这条更正", e.hh_id)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposal<'a>(key: &'a str, entity: &'a str, entity_key: &'a str) -> Proposal<'a> {
        Proposal {
            idempotency_key: key,
            hh_id: "H1",
            entity,
            entity_key,
            field: "phone",
            value: "13800000000",
            reason: "核实",
            base_version: 1,
            submitted_by: "u",
        }
    }

    #[test]
    fn malformed_proposals_are_refused_before_any_query() {
        let good = "0123456789abcdef0123";
        assert!(check(&proposal(good, "households", "H1")).is_ok());
        assert!(check(&proposal("short", "households", "H1")).is_err());
        assert!(check(&proposal("bad key with spaces!!", "households", "H1")).is_err());
        assert!(check(&proposal(good, "incomes", "H1")).is_err());
        assert!(check(&proposal(good, "households", "H2")).is_err());
        let mut p = proposal(good, "persons", "P1");
        p.reason = "  ";
        assert!(check(&p).is_err());
        let long = "长".repeat(MAX_VALUE_CHARS + 1);
        let mut p = proposal(good, "persons", "P1");
        p.value = &long;
        assert!(check(&p).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for s in [Status::Pending, Status::Applied, Status::Discarded] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("maybe"), None);
    }
}
