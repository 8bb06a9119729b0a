//! Everyday registry work (年度动态调整): add a household, record a birth, a death, a
//! marriage in or out, a move out of the county, move a member, split or merge
//! households (分户/合户), correct a field.
//!
//! A person who dies, marries out or moves out is not deleted: the row keeps its
//! 人员状态 (2 死亡, 3 婚出, 4 迁出) and 减员日期, so past years' rosters still count
//! them and the household's history shows them; "members" below means members now.
//! When the 户主 leaves, the new head is named in the same form and the others'
//! relations are re-based on them where the relations tell how (else a warning asks
//! the cadre to check them).
//!
//! Each operation is one [`Writer`] transaction by a signed-in user with a reason
//! (原因, required) that every change record carries, prefixed with what was done
//! (`死亡（2024-03-01）：病故`). An operation that would leave a structural problem (a
//! household with members but without exactly one 户主, a member who is not there, a
//! code that does not exist) is refused with the reason and changes nothing; a
//! data-quality problem (an ID number whose check character fails) is saved and
//! returned as a warning.
//!
//! Optimistic concurrency: an [`Edit`] may carry the version of the household the
//! user's page was based on ([`household_version`]); when the household changed since,
//! the operation returns [`OpError::Conflict`] instead of overwriting. The check runs
//! after the writer holds the chain lock, so no change can slip in between.
//!
//! This module holds what the operations share (the transaction, the stale-version
//! check, reading rows, building rows from typed text, warnings); the operations are
//! in `household` (新增户, 分户, 合户), `members` (出生, 婚入, 死亡, 婚出, 迁出, 迁移成员)
//! and `correct` (更正).

use std::collections::HashSet;

use fupin_domain::household_rules;
use fupin_domain::schema::{self, Column, DIVISIONS, HOUSEHOLDS, INCOMES, PAIRINGS, PERSONS, Table};
use fupin_domain::{CodeLists, Value, cell};
use sqlx::{AnyConnection, Row};

use crate::rows::{self, safe};
use crate::writer::ChangeRecord;
use crate::{Actor, Store, StoreError, Writer};

mod correct;
mod household;
mod members;

pub use correct::correct_field;
pub use household::{add_household, merge_households, split_household};
pub use members::{
    STATUS_DIED, STATUS_MARRIED_OUT, STATUS_MOVED_OUT, move_member, record_birth, record_death, record_marriage_in,
    record_marriage_out, record_move_out,
};

/// Who makes a change, why, and which version of the household their page showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The signed-in user's name; records say `user:NAME`.
    pub user: String,
    /// 原因: required, recorded on every change record.
    pub reason: String,
    /// The [`household_version`] the user's page was based on; `None` skips the check.
    /// Checked against the household the operation is about: the person's household
    /// (birth, death, marriage, move: the one moved from), the household split from,
    /// both households of a merge, and for a correction the row's household (or the
    /// row itself for helpers and village years). A new household has nothing to check.
    pub expected_version: Option<i64>,
}

impl Edit {
    pub fn new(user: impl Into<String>, reason: impl Into<String>) -> Edit {
        Edit { user: user.into(), reason: reason.into(), expected_version: None }
    }

    /// The same edit, checked against the household version the page was based on.
    pub fn based_on(mut self, version: i64) -> Edit {
        self.expected_version = Some(version);
        self
    }
}

/// Why an operation did not happen. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// A structural problem or a bad value; the reason is for the user.
    #[error("{0}")]
    Refused(String),
    /// The household changed after the user's page was loaded.
    #[error(
        "{subject}在您打开页面之后已被修改（页面基于第 {expected} 条变更记录，现已到第 {current} 条）：请刷新页面，核对后再提交"
    )]
    Conflict {
        /// What changed: `户 610981105201000001`.
        subject: String,
        expected: i64,
        current: i64,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(m) => OpError::Refused(m),
            other => OpError::Store(other),
        }
    }
}

impl From<sqlx::Error> for OpError {
    fn from(e: sqlx::Error) -> Self {
        OpError::Store(StoreError::Sql(e))
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, OpError> {
    Err(OpError::Refused(message.into()))
}

/// What an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The change records written, in order.
    pub changes: Vec<ChangeRecord>,
    /// Data-quality notes on what was saved (shown to the user, not refused).
    pub warnings: Vec<String>,
    /// The 户编号 or 人编号 the operation created, if it created one.
    pub created: Option<String>,
    /// The chain head after the operation: the version to base the next edit on.
    pub version: i64,
}

/// A new person as typed into a form. Empty text means "not given"; codes may be
/// given as code or label (`02` or `配偶`), dates in any common form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDraft {
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub relation: String,
    /// 证件类型; empty means 01 居民身份证.
    pub id_type: String,
    /// 证件号码, optional.
    pub id_number: String,
    /// Further columns of [`PERSONS`] by English name (`ethnicity`, `education`, …).
    pub fields: Vec<(String, String)>,
}

/// A new household with its head (and optionally further members).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HouseholdDraft {
    /// Empty: generated as the village code and the village's next 5-digit number.
    pub hh_id: String,
    pub village_code: String,
    pub group_no: String,
    /// 户类型 code or label.
    pub status: String,
    /// Further columns of [`HOUSEHOLDS`] by English name.
    pub fields: Vec<(String, String)>,
    /// The 户主; an empty relation means 01.
    pub head: PersonDraft,
    pub members: Vec<PersonDraft>,
}

/// The household a 分户 creates; empty fields are taken from the household split from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewHousehold {
    pub hh_id: String,
    pub village_code: String,
    pub group_no: String,
    pub status: String,
    pub fields: Vec<(String, String)>,
}

/// A 分户: some members of `from_hh` form a new household headed by `new_head`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub from_hh: String,
    /// 人编号 of the members who leave, `new_head` among them.
    pub members: Vec<String>,
    pub new_head: String,
    /// New relations (to the new head) of leaving members; others keep theirs.
    pub relations: Vec<(String, String)>,
    /// The new head of `from_hh` when its head leaves.
    pub remaining_head: Option<String>,
    pub household: NewHousehold,
}

// ---------------------------------------------------------------------------------
// Versions

/// The version of a household: the highest change-record number touching its row,
/// its current members, members whose 人编号 is the 户编号 and a two-digit number
/// (so members who died or left still count), its incomes and its pairings. 0 when
/// nothing touched it.
pub async fn household_version(store: &Store, hh_id: &str) -> Result<i64, StoreError> {
    let mut conn = store.pool().acquire().await?;
    version_on(&mut conn, hh_id).await
}

fn member_candidates(hh_id: &str) -> Vec<String> {
    (1..=99).map(|n| format!("{hh_id}{n:02}")).collect()
}

async fn version_on(conn: &mut AnyConnection, hh_id: &str) -> Result<i64, StoreError> {
    // One indexed query per kind of record (`change_log_entity` serves each).
    let candidates = member_candidates(hh_id);
    let list: Vec<String> = (2..candidates.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT MAX(m) FROM ( \
         SELECT MAX(seq) AS m FROM change_log WHERE entity = 'households' AND entity_key = $1 \
         UNION ALL SELECT MAX(seq) AS m FROM change_log WHERE entity = 'persons' \
           AND entity_key IN (SELECT person_id FROM persons WHERE hh_id = $1) \
         UNION ALL SELECT MAX(seq) AS m FROM change_log WHERE entity = 'persons' AND entity_key IN ({}) \
         UNION ALL SELECT MAX(seq) AS m FROM change_log WHERE entity = 'incomes' \
           AND entity_key IN (SELECT {} FROM incomes WHERE hh_id = $1) \
         UNION ALL SELECT MAX(seq) AS m FROM change_log WHERE entity = 'pairings' \
           AND entity_key IN (SELECT {} FROM pairings WHERE hh_id = $1) \
         ) versions",
        list.join(", "),
        rows::key_sql(&INCOMES),
        rows::key_sql(&PAIRINGS),
    );
    let mut q = sqlx::query(safe(sql)).bind(hh_id.to_owned());
    for c in candidates {
        q = q.bind(c);
    }
    let row = q.fetch_one(&mut *conn).await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
}

/// The version of one row of a table no household owns (helpers, village years).
async fn entity_version(conn: &mut AnyConnection, table: &Table, key: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT MAX(seq) FROM change_log WHERE entity = $1 AND entity_key = $2")
        .bind(table.name)
        .bind(key.to_owned())
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
}

/// Refuses with a conflict when a household changed after the version the edit
/// was based on.
async fn check_version(w: &mut Writer, edit: &Edit, hh_id: &str) -> Result<(), OpError> {
    let Some(expected) = edit.expected_version else { return Ok(()) };
    let current = version_on(w.tx(), hh_id).await?;
    if current > expected {
        return Err(OpError::Conflict { subject: format!("户 {hh_id} "), expected, current });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Running an operation

/// Checks who and why, and opens the writer.
async fn start(store: &Store, edit: &Edit) -> Result<Writer, OpError> {
    if edit.user.trim().is_empty() {
        return refuse("没有登录用户，不能修改登记数据");
    }
    let reason = edit.reason.trim();
    if reason.is_empty() {
        return refuse("请填写变更原因");
    }
    if reason.chars().count() > 500 {
        return refuse("变更原因超过 500 个字");
    }
    Ok(store.writer(Actor::User(edit.user.trim().to_owned())).await?)
}

/// What an operation's body hands back before commit.
struct Done {
    created: Option<String>,
    warnings: Vec<String>,
}

/// Commits on success (and reads back the records written) or rolls back.
async fn finish(store: &Store, w: Writer, result: Result<Done, OpError>) -> Result<Outcome, OpError> {
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            w.rollback().await?;
            return Err(e);
        }
    };
    let (stats, seq, _) = w.commit().await?;
    let first = seq - stats.records as i64 + 1;
    let rows = sqlx::query(
        "SELECT seq, at, actor, source, entity, entity_key, op, field, old_value, new_value, reason, \
         prev_hash, hash FROM change_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
    )
    .bind(first)
    .bind(seq)
    .fetch_all(store.pool())
    .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for r in &rows {
        changes.push(ChangeRecord::from_row(r)?);
    }
    Ok(Outcome { changes, warnings: done.warnings, created: done.created, version: seq })
}

/// The shipped code lists, read once.
fn codes() -> &'static CodeLists {
    &cells().codes
}

/// What typed fields are read against: the shipped code lists; whether a village is
/// the registry's is asked of the registry ([`check_village`]).
fn cells() -> &'static cell::Context {
    static CELLS: std::sync::OnceLock<cell::Context> = std::sync::OnceLock::new();
    CELLS.get_or_init(|| cell::Context::codes_only(CodeLists::builtin()))
}

/// The reason every record of an operation carries.
fn why(label: &str, edit: &Edit) -> String {
    format!("{label}：{}", edit.reason.trim())
}

// ---------------------------------------------------------------------------------
// Reading rows inside the transaction

fn cell<'a>(table: &Table, row: &'a [Value], name: &str) -> Option<&'a str> {
    table.index_of(name).and_then(|i| row[i].as_text())
}

fn relation_of(row: &[Value]) -> &str {
    cell(&PERSONS, row, "relation").unwrap_or_default()
}

fn name_of(row: &[Value]) -> &str {
    cell(&PERSONS, row, "name").unwrap_or_default()
}

async fn household_row(w: &mut Writer, hh_id: &str) -> Result<Option<Vec<Value>>, OpError> {
    Ok(w.fetch(&HOUSEHOLDS, &[hh_id.to_owned()]).await?.remove(hh_id))
}

async fn existing_household(w: &mut Writer, hh_id: &str) -> Result<Vec<Value>, OpError> {
    match household_row(w, hh_id).await? {
        Some(row) => Ok(row),
        None => refuse(format!("户编号 {hh_id} 不存在")),
    }
}

async fn person_row(w: &mut Writer, person_id: &str) -> Result<Vec<Value>, OpError> {
    match w.fetch(&PERSONS, &[person_id.to_owned()]).await?.remove(person_id) {
        Some(row) => Ok(row),
        None => refuse(format!("人编号 {person_id} 不存在")),
    }
}

/// The household's members now, by 人编号 (not those who died or left).
async fn members(w: &mut Writer, hh_id: &str) -> Result<Vec<Vec<Value>>, OpError> {
    Ok(all_persons(w, hh_id).await?.into_iter().filter(|r| is_present(r)).collect())
}

/// Every person row of the household, former members too, by 人编号.
async fn all_persons(w: &mut Writer, hh_id: &str) -> Result<Vec<Vec<Value>>, OpError> {
    let keys: Vec<String> = w.keys_in_groups(&PERSONS, &[hh_id.to_owned()]).await?.into_iter().map(|k| k.0).collect();
    let mut rows: Vec<(String, Vec<Value>)> = w.fetch(&PERSONS, &keys).await?.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows.into_iter().map(|r| r.1).collect())
}

/// A member now: 人员状态 empty or 1 在户.
fn is_present(row: &[Value]) -> bool {
    cell(&PERSONS, row, "person_status").is_none_or(|s| s.is_empty() || s == schema::PRESENT)
}

/// A person who is a member now; refuses one who died or left.
async fn present_person(w: &mut Writer, person_id: &str) -> Result<Vec<Value>, OpError> {
    let row = person_row(w, person_id).await?;
    if !is_present(&row) {
        let status = cell(&PERSONS, &row, "person_status").unwrap_or_default();
        return refuse(format!(
            "{}（{person_id}）已{}，不再是户内成员",
            name_of(&row),
            codes().label("person_status", status)
        ));
    }
    Ok(row)
}

fn relations(rows: &[Vec<Value>]) -> Vec<String> {
    rows.iter().map(|r| relation_of(r).to_owned()).collect()
}

fn check_heads(hh_id: &str, before: &[String], after: &[String]) -> Result<(), OpError> {
    let b: Vec<&str> = before.iter().map(String::as_str).collect();
    let a: Vec<&str> = after.iter().map(String::as_str).collect();
    household_rules::check_heads(hh_id, &b, &a).map_err(OpError::Refused)
}

/// The keys of a table's rows that belong to a household (incomes, pairings).
async fn keys_of_household(w: &mut Writer, table: &Table, hh_id: &str) -> Result<Vec<String>, OpError> {
    let sql = format!("SELECT {} FROM {} WHERE hh_id = $1", rows::key_sql(table), table.name);
    let keys: Vec<(String,)> = sqlx::query_as(safe(sql)).bind(hh_id.to_owned()).fetch_all(&mut **w.tx()).await?;
    Ok(keys.into_iter().map(|k| k.0).collect())
}

/// Every 人编号 ever used as `hh_id` + two digits, in the registry or its history.
async fn next_member_id(w: &mut Writer, hh_id: &str) -> Result<String, OpError> {
    let candidates = member_candidates(hh_id);
    let list: Vec<String> = (1..=candidates.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT entity_key FROM change_log WHERE entity = 'persons' AND entity_key IN ({0}) \
         UNION SELECT person_id FROM persons WHERE person_id IN ({0})",
        list.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String,)>(safe(sql));
    for c in &candidates {
        q = q.bind(c.clone());
    }
    let used: HashSet<String> = q.fetch_all(&mut **w.tx()).await?.into_iter().map(|r| r.0).collect();
    let last = candidates.iter().rposition(|c| used.contains(c)).map_or(0, |i| i + 1);
    match candidates.get(last) {
        Some(id) => Ok(id.clone()),
        None => refuse(format!("户 {hh_id} 的成员序号 01–99 已用完，无法再编人编号")),
    }
}

/// The village's next 户编号: its 12-digit code and the next 5-digit number never
/// used in the registry or its history.
async fn next_household_id(w: &mut Writer, village: &str) -> Result<String, OpError> {
    let used: Vec<(String,)> = sqlx::query_as(
        "SELECT entity_key FROM change_log WHERE entity = 'households' \
         AND substr(entity_key, 1, 12) = $1 AND length(entity_key) = 17",
    )
    .bind(village.to_owned())
    .fetch_all(&mut **w.tx())
    .await?;
    let max = used.iter().filter_map(|k| k.0[12..].parse::<u32>().ok()).max().unwrap_or(0);
    if max >= 99_999 {
        return refuse(format!("行政村 {village} 的户序号已用完"));
    }
    Ok(format!("{village}{:05}", max + 1))
}

/// Refuses a 户编号 in use now or in the past (a removed household's history stays
/// its own).
async fn check_new_household_id(w: &mut Writer, hh_id: &str) -> Result<(), OpError> {
    let used: Option<(i64,)> =
        sqlx::query_as("SELECT seq FROM change_log WHERE entity = 'households' AND entity_key = $1 LIMIT 1")
            .bind(hh_id.to_owned())
            .fetch_optional(&mut **w.tx())
            .await?;
    if used.is_some() || household_row(w, hh_id).await?.is_some() {
        return refuse(format!("户编号 {hh_id} 已被使用过，请换一个或留空自动编号"));
    }
    Ok(())
}

async fn check_village(w: &mut Writer, code: &str) -> Result<(), OpError> {
    let found = w.fetch(&DIVISIONS, &[code.to_owned()]).await?.remove(code);
    if found.is_none_or(|r| r.get(2).and_then(Value::as_text) != Some("village")) {
        return refuse(format!("行政村代码 {code} 不在本县的区划中，请核对"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// Building rows from typed text

/// Reads one typed field of a table; refuses unknown fields and bad values.
fn read_field(table: &Table, name: &str, text: &str, id_type: &str) -> Result<(usize, Value, Option<String>), OpError> {
    let Some(i) = table.index_of(name) else {
        return refuse(format!("「{}」没有字段 {name}", table.title));
    };
    let column: &Column = &table.columns[i];
    let v = cell::parse(cells(), column, text, id_type)
        .map_err(|e| OpError::Refused(format!("「{}」{e}", column.header)))?;
    Ok((i, v.value, v.warning))
}

fn require(table: &Table, row: &[Value]) -> Result<(), OpError> {
    for (c, v) in table.columns.iter().zip(row) {
        if c.required && v.is_null() {
            return refuse(format!("「{}」必填", c.header));
        }
    }
    Ok(())
}

/// A person row for `hh_id` from a draft, with its data-quality warnings.
fn person_from_draft(person_id: &str, hh_id: &str, d: &PersonDraft) -> Result<(Vec<Value>, Vec<String>), OpError> {
    let mut row = vec![Value::Null; PERSONS.columns.len()];
    row[0] = Value::Text(person_id.to_owned());
    row[1] = Value::Text(hh_id.to_owned());
    let id_type = read_field(&PERSONS, "id_type", &d.id_type, "")?.1;
    let id_type_code = id_type.as_text().unwrap_or_default().to_owned();
    let mut cells: Vec<(&str, &str)> = vec![
        ("name", &d.name),
        ("sex", &d.sex),
        ("birth_date", &d.birth_date),
        ("relation", &d.relation),
        ("id_type", &d.id_type),
        ("id_number", &d.id_number),
    ];
    cells.extend(d.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for (name, text) in cells {
        if name == "person_id" || name == "hh_id" {
            return refuse(format!("「{}」由系统填写", PERSONS.column(name).map_or(name, |c| c.header)));
        }
        let (i, v, _) = read_field(&PERSONS, name, text, &id_type_code)?;
        row[i] = v;
    }
    require(&PERSONS, &row)?;
    let warnings = person_warnings(&row);
    Ok((row, warnings))
}

fn person_warnings(row: &[Value]) -> Vec<String> {
    let who = format!("{}（{}）", name_of(row), cell(&PERSONS, row, "person_id").unwrap_or_default());
    household_rules::person_warnings(
        cell(&PERSONS, row, "id_type").unwrap_or_default(),
        cell(&PERSONS, row, "id_number"),
        cell(&PERSONS, row, "birth_date"),
        cell(&PERSONS, row, "sex"),
    )
    .into_iter()
    .map(|w| format!("{who}：{w}"))
    .collect()
}

/// A household row from typed fields.
async fn household_from_fields(
    w: &mut Writer,
    hh_id: &str,
    cells: &[(&str, &str)],
) -> Result<(Vec<Value>, Vec<String>), OpError> {
    let mut row = vec![Value::Null; HOUSEHOLDS.columns.len()];
    row[0] = Value::Text(hh_id.to_owned());
    let mut warnings = Vec::new();
    for (name, text) in cells {
        if *name == "hh_id" {
            return refuse("「户编号」请在户编号一栏填写");
        }
        let (i, v, warn) = read_field(&HOUSEHOLDS, name, text, "")?;
        row[i] = v;
        warnings.extend(warn);
    }
    require(&HOUSEHOLDS, &row)?;
    let village = cell(&HOUSEHOLDS, &row, "village_code").unwrap_or_default().to_owned();
    check_village(w, &village).await?;
    Ok((row, warnings))
}
