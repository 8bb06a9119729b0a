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

use std::collections::HashSet;

use fupin_domain::household_rules::{self, HEAD, MARRIAGE_IN_RELATIONS};
use fupin_domain::schema::{self, Column, DIVISIONS, HOUSEHOLDS, INCOMES, Kind, PAIRINGS, PERSONS, Table};
use fupin_domain::{CodeLists, Value, date};
use sqlx::{AnyConnection, Row};

use crate::rows::{self, safe};
use crate::writer::{ChangeRecord, RowIn};
use crate::{Actor, Store, StoreError, Writer};

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
    static CODES: std::sync::OnceLock<CodeLists> = std::sync::OnceLock::new();
    CODES.get_or_init(CodeLists::builtin)
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
fn read_field(
    codes: &CodeLists,
    table: &Table,
    name: &str,
    text: &str,
    id_type: &str,
) -> Result<(usize, Value, Option<String>), OpError> {
    let Some(i) = table.index_of(name) else {
        return refuse(format!("「{}」没有字段 {name}", table.title));
    };
    let column: &Column = &table.columns[i];
    let v = household_rules::parse_field(codes, column, text, id_type)
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
fn person_from_draft(
    codes: &CodeLists,
    person_id: &str,
    hh_id: &str,
    d: &PersonDraft,
) -> Result<(Vec<Value>, Vec<String>), OpError> {
    let mut row = vec![Value::Null; PERSONS.columns.len()];
    row[0] = Value::Text(person_id.to_owned());
    row[1] = Value::Text(hh_id.to_owned());
    let id_type = read_field(codes, &PERSONS, "id_type", &d.id_type, "")?.1;
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
        let (i, v, _) = read_field(codes, &PERSONS, name, text, &id_type_code)?;
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
    codes: &CodeLists,
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
        let (i, v, warn) = read_field(codes, &HOUSEHOLDS, name, text, "")?;
        row[i] = v;
        warnings.extend(warn);
    }
    require(&HOUSEHOLDS, &row)?;
    let village = cell(&HOUSEHOLDS, &row, "village_code").unwrap_or_default().to_owned();
    check_village(w, &village).await?;
    Ok((row, warnings))
}

// ---------------------------------------------------------------------------------
// Operations

/// 新增户: a new household with its head (and members). `hh_id` empty → generated.
pub async fn add_household(store: &Store, edit: &Edit, draft: HouseholdDraft) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = add_household_in(&mut w, edit, draft).await;
    finish(store, w, r).await
}

async fn add_household_in(w: &mut Writer, edit: &Edit, d: HouseholdDraft) -> Result<Done, OpError> {
    let codes = codes();
    let village = read_field(codes, &HOUSEHOLDS, "village_code", &d.village_code, "")?.1;
    let Some(village) = village.as_text().map(str::to_owned) else { return refuse("「行政村代码」必填") };
    check_village(w, &village).await?;
    let hh_id = if d.hh_id.trim().is_empty() {
        next_household_id(w, &village).await?
    } else {
        let id = read_field(codes, &HOUSEHOLDS, "hh_id", &d.hh_id, "")?.1;
        let id = id.as_text().unwrap_or_default().to_owned();
        check_new_household_id(w, &id).await?;
        id
    };
    let mut cells: Vec<(&str, &str)> =
        vec![("village_code", &village), ("group_no", &d.group_no), ("status", &d.status)];
    cells.extend(d.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (row, mut warnings) = household_from_fields(w, codes, &hh_id, &cells).await?;

    let mut head = d.head;
    if head.relation.trim().is_empty() {
        head.relation = HEAD.to_owned();
    }
    let mut people = Vec::new();
    let mut rels = Vec::new();
    for (n, p) in std::iter::once(&head).chain(&d.members).enumerate() {
        let id = format!("{hh_id}{:02}", n + 1);
        let (prow, warn) = person_from_draft(codes, &id, &hh_id, p)?;
        if n == 0 && relation_of(&prow) != HEAD {
            return refuse("户主的「与户主关系」应为 01 户主");
        }
        rels.push(relation_of(&prow).to_owned());
        warnings.extend(warn);
        people.push(RowIn { values: prow, source: None });
    }
    if people.len() > 99 {
        return refuse("一户最多 99 名成员");
    }
    check_heads(&hh_id, &[], &rels)?;
    let reason = why("新增户", edit);
    w.insert(&HOUSEHOLDS, row, &reason).await?;
    w.upsert(&PERSONS, people, &reason).await?;
    Ok(Done { created: Some(hh_id), warnings })
}

/// 出生: a newborn joins `hh_id` as 人编号 `hh_id` + next two-digit number.
pub async fn record_birth(store: &Store, edit: &Edit, hh_id: &str, person: PersonDraft) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = join_in(&mut w, edit, hh_id, person, Joining::Birth).await;
    finish(store, w, r).await
}

/// 婚入: a person marries into `hh_id`, as 配偶 (02), 之儿媳 (05) or 之女婿 (06).
pub async fn record_marriage_in(
    store: &Store,
    edit: &Edit,
    hh_id: &str,
    person: PersonDraft,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = join_in(&mut w, edit, hh_id, person, Joining::Marriage).await;
    finish(store, w, r).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Joining {
    Birth,
    Marriage,
}

async fn join_in(w: &mut Writer, edit: &Edit, hh_id: &str, p: PersonDraft, how: Joining) -> Result<Done, OpError> {
    let codes = codes();
    existing_household(w, hh_id).await?;
    check_version(w, edit, hh_id).await?;
    let id = next_member_id(w, hh_id).await?;
    let (row, warnings) = person_from_draft(codes, &id, hh_id, &p)?;
    let relation = relation_of(&row).to_owned();
    let label = match how {
        Joining::Birth => {
            if cell(&PERSONS, &row, "birth_date").is_none() {
                return refuse("登记出生须填写「出生日期」");
            }
            if !household_rules::birth_relation_allowed(&relation) {
                return refuse(format!(
                    "新生儿的「与户主关系」不能是 {relation} {}",
                    codes.label("relation", &relation)
                ));
            }
            "出生"
        }
        Joining::Marriage => {
            if !MARRIAGE_IN_RELATIONS.contains(&relation.as_str()) {
                return refuse("婚入成员的「与户主关系」应为 02 配偶、05 之儿媳或 06 之女婿");
            }
            "婚入"
        }
    };
    let before = relations(&members(w, hh_id).await?);
    let mut after = before.clone();
    after.push(relation);
    check_heads(hh_id, &before, &after)?;
    w.insert(&PERSONS, row, &why(label, edit)).await?;
    Ok(Done { created: Some(id), warnings })
}

/// 死亡: the person leaves the household (the row stays with 人员状态 2 死亡 and the
/// date as 减员日期). When the person is the 户主 and others remain, `new_head` names the
/// member who becomes 户主.
pub async fn record_death(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = death_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn death_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    leave_dated(w, edit, person_id, date_text, STATUS_DIED, "死亡", new_head).await
}

/// A dated departure (death, move out): the date must be one and not before the
/// person's birth; the row stays with `status` and the date as 减员日期.
async fn leave_dated(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    status: &'static str,
    what: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let Some(day) = date::parse(date_text) else {
        return refuse(format!("{what}日期「{date_text}」不是日期（应写作 2024-03-05）"));
    };
    let day = date::iso(day);
    let person = present_person(w, person_id).await?;
    if let Some(birth) = cell(&PERSONS, &person, "birth_date")
        && *birth > *day.as_str()
    {
        return refuse(format!("{what}日期 {day} 早于出生日期 {birth}"));
    }
    let label = format!("{what}（{day}）");
    leave(w, edit, person, Left { status, on: day, label }, new_head).await
}

/// 人员状态 of a person who died.
pub const STATUS_DIED: &str = "2";
/// 人员状态 of a person who married out.
pub const STATUS_MARRIED_OUT: &str = "3";
/// 人员状态 of a person who moved out of the county (户籍迁出).
pub const STATUS_MOVED_OUT: &str = "4";

/// How a person left: the 人员状态, the 减员日期 and the label of the records.
struct Left {
    status: &'static str,
    on: String,
    label: String,
}

/// 迁出: the person moves out of the county (户籍迁出) and leaves the household; the
/// row stays as history. Same 户主 rule as a death.
pub async fn record_move_out(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = move_out_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn move_out_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    leave_dated(w, edit, person_id, date_text, STATUS_MOVED_OUT, "迁出", new_head).await
}

/// 婚出: the person marries out and leaves the household; same 户主 rule as a death.
pub async fn record_marriage_out(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: Option<&str>,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = marriage_out_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn marriage_out_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: Option<&str>,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let (label, on) = match date_text.map(str::trim).filter(|t| !t.is_empty()) {
        None => ("婚出".to_owned(), date::iso(time::OffsetDateTime::now_utc().date())),
        Some(t) => match date::parse(t) {
            Some(d) => (format!("婚出（{}）", date::iso(d)), date::iso(d)),
            None => return refuse(format!("婚出日期「{t}」不是日期（应写作 2024-03-05）")),
        },
    };
    let person = present_person(w, person_id).await?;
    leave(w, edit, person, Left { status: STATUS_MARRIED_OUT, on, label }, new_head).await
}

/// Who becomes 户主 when `leaving` (a list of 人编号) leave `hh_id`: refuses when the
/// head leaves others behind without a new head, or names one who cannot be.
fn successor<'a>(
    hh_id: &str,
    before: &'a [Vec<Value>],
    leaving: &[&str],
    new_head: Option<&'a str>,
) -> Result<Option<&'a str>, OpError> {
    let is_leaving = |r: &Vec<Value>| leaving.contains(&cell(&PERSONS, r, "person_id").unwrap_or_default());
    let head_leaves = before.iter().any(|r| is_leaving(r) && relation_of(r) == HEAD);
    let staying: Vec<&Vec<Value>> = before.iter().filter(|r| !is_leaving(r)).collect();
    let Some(new_head) = new_head.map(str::trim).filter(|h| !h.is_empty()) else {
        if head_leaves && !staying.is_empty() && !staying.iter().any(|r| relation_of(r) == HEAD) {
            let head = before.iter().find(|r| is_leaving(r) && relation_of(r) == HEAD).map_or("", |r| name_of(r));
            return refuse(format!("{head} 是户 {hh_id} 的户主，户内还有 {} 名成员：请指定新户主", staying.len()));
        }
        return Ok(None);
    };
    if !head_leaves {
        return refuse(format!("户 {hh_id} 的户主没有离开，不需要指定新户主"));
    }
    if !staying.iter().any(|r| cell(&PERSONS, r, "person_id") == Some(new_head)) {
        return refuse(format!("新户主 {new_head} 不是户 {hh_id} 留下的成员"));
    }
    Ok(Some(new_head))
}

/// The relations of the members who stay when `successor` takes over from the 户主
/// who leaves: each one that follows from the relations (and sexes) changes, each one
/// that does not is named in a warning for the cadre to set by a correction.
fn rebase(before: &[Vec<Value>], leaving: &[&str], successor: &str) -> (Vec<(String, String)>, Vec<String>) {
    fn id_of(r: &[Value]) -> &str {
        cell(&PERSONS, r, "person_id").unwrap_or_default()
    }
    let staying: Vec<&Vec<Value>> = before.iter().filter(|r| !leaving.contains(&id_of(r))).collect();
    let Some(head) = staying.iter().find(|r| id_of(r) == successor) else { return (Vec::new(), Vec::new()) };
    let head_rel = relation_of(head);
    let head_sex = cell(&PERSONS, head, "sex").unwrap_or_default();
    let count = |rel: &str| staying.iter().filter(|r| relation_of(r) == rel).count();
    let (mut changes, mut warnings) = (Vec::new(), Vec::new());
    for r in &staying {
        let (id, rel) = (id_of(r), relation_of(r));
        if id == successor {
            continue;
        }
        let sole = match rel {
            "05" | "06" => count(rel) == 1,
            "07" | "08" => count("03") == 1,
            "09" | "10" => count("04") == 1,
            _ => true,
        };
        let sex = cell(&PERSONS, r, "sex").unwrap_or_default();
        match household_rules::rebased_relation(head_rel, head_sex, rel, sex, sole) {
            Some(new) if new == rel => {}
            Some(new) => changes.push((id.to_owned(), new.to_owned())),
            None => warnings.push(format!(
                "{}（{id}）的「与户主关系」原为 {rel} {}，对新户主的关系无法推定：请用“更正”核对",
                name_of(r),
                codes().label("relation", rel)
            )),
        }
    }
    (changes, warnings)
}

/// A person leaves the household (death, marriage out, moving out of the county):
/// the row stays, with its 人员状态 and 减员日期, as history.
async fn leave(
    w: &mut Writer,
    edit: &Edit,
    person: Vec<Value>,
    left: Left,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let person_id = cell(&PERSONS, &person, "person_id").unwrap_or_default().to_owned();
    let hh_id = cell(&PERSONS, &person, "hh_id").unwrap_or_default().to_owned();
    check_version(w, edit, &hh_id).await?;
    let before = members(w, &hh_id).await?;
    let successor = successor(&hh_id, &before, &[person_id.as_str()], new_head)?.map(str::to_owned);
    let after: Vec<String> = before
        .iter()
        .filter(|r| cell(&PERSONS, r, "person_id") != Some(person_id.as_str()))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == successor.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&hh_id, &relations(&before), &after)?;
    let reason = why(&left.label, edit);
    w.set_fields(
        &PERSONS,
        &person_id,
        &[("person_status", Value::from(left.status)), ("left_on", Value::from(left.on.as_str()))],
        &reason,
    )
    .await?;
    let warnings = take_over(w, &before, &[person_id.as_str()], successor.as_deref(), &reason).await?;
    Ok(Done { created: None, warnings })
}

/// The new 户主 takes over and the others' relations are re-based on them.
async fn take_over(
    w: &mut Writer,
    before: &[Vec<Value>],
    leaving: &[&str],
    successor: Option<&str>,
    reason: &str,
) -> Result<Vec<String>, OpError> {
    let Some(h) = successor else { return Ok(Vec::new()) };
    let (changes, warnings) = rebase(before, leaving, h);
    w.set_fields(&PERSONS, h, &[("relation", Value::from(HEAD))], &format!("{reason}；改任户主")).await?;
    for (id, rel) in changes {
        w.set_fields(&PERSONS, &id, &[("relation", Value::from(rel))], &format!("{reason}；随户主变更")).await?;
    }
    Ok(warnings)
}

/// 迁移成员: a person moves to another existing household with a new relation to its
/// head. When the person is the 户主 of a household with others, `new_head` names who
/// takes over there.
pub async fn move_member(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    to_hh_id: &str,
    new_relation: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = move_in(&mut w, edit, person_id, to_hh_id, new_relation, new_head).await;
    finish(store, w, r).await
}

async fn move_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    to_hh: &str,
    new_relation: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let codes = codes();
    let person = present_person(w, person_id).await?;
    let from_hh = cell(&PERSONS, &person, "hh_id").unwrap_or_default().to_owned();
    check_version(w, edit, &from_hh).await?;
    let to_hh = to_hh.trim();
    if to_hh == from_hh {
        return refuse(format!("{} 已在户 {to_hh} 中", name_of(&person)));
    }
    if household_row(w, to_hh).await?.is_none() {
        return refuse(format!("迁入的户 {to_hh} 不存在：请先新增该户"));
    }
    let relation = read_field(codes, &PERSONS, "relation", new_relation, "")?.1;
    let Some(relation) = relation.as_text().map(str::to_owned) else {
        return refuse("请填写迁入后的「与户主关系」");
    };

    let from_before = members(w, &from_hh).await?;
    let successor = successor(&from_hh, &from_before, &[person_id], new_head)?.map(str::to_owned);
    let from_after: Vec<String> = from_before
        .iter()
        .filter(|r| cell(&PERSONS, r, "person_id") != Some(person_id))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == successor.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&from_hh, &relations(&from_before), &from_after)?;
    let to_before = relations(&members(w, to_hh).await?);
    let mut to_after = to_before.clone();
    to_after.push(relation.clone());
    check_heads(to_hh, &to_before, &to_after)?;

    let reason = why("迁移成员", edit);
    w.set_fields(&PERSONS, person_id, &[("hh_id", Value::from(to_hh)), ("relation", Value::from(relation))], &reason)
        .await?;
    let warnings = take_over(w, &from_before, &[person_id], successor.as_deref(), &reason).await?;
    Ok(Done { created: None, warnings })
}

/// 分户: members of a household form a new one.
pub async fn split_household(store: &Store, edit: &Edit, split: Split) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = split_in(&mut w, edit, split).await;
    finish(store, w, r).await
}

async fn split_in(w: &mut Writer, edit: &Edit, s: Split) -> Result<Done, OpError> {
    let codes = codes();
    let from = existing_household(w, &s.from_hh).await?;
    check_version(w, edit, &s.from_hh).await?;
    let mut leaving: Vec<&str> = Vec::new();
    for m in s.members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
        if !leaving.contains(&m) {
            leaving.push(m);
        }
    }
    if leaving.is_empty() {
        return refuse("分户须列出分出的成员");
    }
    let before = members(w, &s.from_hh).await?;
    let in_from = |id: &str| before.iter().find(|r| cell(&PERSONS, r, "person_id") == Some(id));
    for m in &leaving {
        if in_from(m).is_none() {
            return refuse(format!("{m} 不是户 {} 的成员", s.from_hh));
        }
    }
    if leaving.len() == before.len() {
        return refuse(format!("户 {} 的成员不能全部分出：原户将没有成员", s.from_hh));
    }
    let new_head = s.new_head.trim();
    if !leaving.contains(&new_head) {
        return refuse(format!("新户主 {new_head} 须是分出的成员之一"));
    }
    let remaining_head = successor(&s.from_hh, &before, &leaving, s.remaining_head.as_deref())?.map(str::to_owned);

    // New relations of the leaving members: the new head is 01, others as given or kept.
    let mut moved: Vec<(String, String)> = Vec::new();
    for m in &leaving {
        let row = in_from(m).expect("checked above");
        moved.push(((*m).to_owned(), relation_of(row).to_owned()));
    }
    for (id, rel) in &s.relations {
        let Some(slot) = moved.iter_mut().find(|(m, _)| m == id.trim()) else {
            return refuse(format!("{id} 不是分出的成员，不能在此改与户主关系"));
        };
        let v = read_field(codes, &PERSONS, "relation", rel, "")?.1;
        let Some(v) = v.as_text() else { return refuse(format!("{id} 的「与户主关系」必填")) };
        slot.1 = v.to_owned();
    }
    for (id, rel) in moved.iter_mut() {
        if id.as_str() == new_head {
            if *rel != HEAD && s.relations.iter().any(|(m, r)| m.trim() == id.as_str() && !r.trim().is_empty()) {
                return refuse(format!("新户主 {id} 的「与户主关系」应为 01 户主"));
            }
            *rel = HEAD.to_owned();
        }
    }
    let new_rels: Vec<String> = moved.iter().map(|m| m.1.clone()).collect();
    let remaining: Vec<String> = before
        .iter()
        .filter(|r| !leaving.contains(&cell(&PERSONS, r, "person_id").unwrap_or_default()))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == remaining_head.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&s.from_hh, &relations(&before), &remaining)?;

    // The new household: fields as given, or as the household split from.
    let h = &s.household;
    let from_text = |name: &str| HOUSEHOLDS.index_of(name).and_then(|i| from[i].canonical()).unwrap_or_default();
    let pick = |given: &str, name: &str| if given.trim().is_empty() { from_text(name) } else { given.to_owned() };
    let village = pick(&h.village_code, "village_code");
    let (group_no, status) = (pick(&h.group_no, "group_no"), pick(&h.status, "status"));
    let village = read_field(codes, &HOUSEHOLDS, "village_code", &village, "")?.1;
    let village = village.as_text().unwrap_or_default().to_owned();
    check_village(w, &village).await?;
    let hh_id = if h.hh_id.trim().is_empty() {
        next_household_id(w, &village).await?
    } else {
        let id = read_field(codes, &HOUSEHOLDS, "hh_id", &h.hh_id, "")?.1;
        let id = id.as_text().unwrap_or_default().to_owned();
        check_new_household_id(w, &id).await?;
        id
    };
    check_heads(&hh_id, &[], &new_rels)?;
    let mut cells: Vec<(&str, &str)> = vec![("village_code", &village), ("group_no", &group_no), ("status", &status)];
    cells.extend(h.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (row, warnings) = household_from_fields(w, codes, &hh_id, &cells).await?;

    let reason = why(&format!("分户（从户 {} 分出户 {hh_id}）", s.from_hh), edit);
    w.insert(&HOUSEHOLDS, row, &reason).await?;
    for (id, rel) in moved {
        w.set_fields(&PERSONS, &id, &[("hh_id", Value::from(hh_id.as_str())), ("relation", Value::from(rel))], &reason)
            .await?;
    }
    let mut warnings = warnings;
    warnings.extend(take_over(w, &before, &leaving, remaining_head.as_deref(), &reason).await?);
    Ok(Done { created: Some(hh_id), warnings })
}

/// 合户: every member of `from_hh` moves into `into_hh`, each with the relation given
/// in `relations` (members of either household may be re-labelled; others keep
/// theirs); the emptied household is removed with its incomes and pairings (their
/// history stays in the change records).
pub async fn merge_households(
    store: &Store,
    edit: &Edit,
    from_hh: &str,
    into_hh: &str,
    relations: Vec<(String, String)>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = merge_in(&mut w, edit, from_hh, into_hh, relations).await;
    finish(store, w, r).await
}

async fn merge_in(
    w: &mut Writer,
    edit: &Edit,
    from_hh: &str,
    into_hh: &str,
    new_relations: Vec<(String, String)>,
) -> Result<Done, OpError> {
    let codes = codes();
    if from_hh.trim() == into_hh.trim() {
        return refuse("不能把一户并入它自己");
    }
    existing_household(w, from_hh).await?;
    existing_household(w, into_hh).await?;
    check_version(w, edit, from_hh).await?;
    check_version(w, edit, into_hh).await?;
    let from = members(w, from_hh).await?;
    let into = members(w, into_hh).await?;
    if from.is_empty() {
        return refuse(format!("户 {from_hh} 没有成员可以并入"));
    }
    // (人编号, relation now, relation after, moves)
    let mut plan: Vec<(String, String, String, bool)> = Vec::new();
    for (rows, moves) in [(&from, true), (&into, false)] {
        for r in rows {
            let id = cell(&PERSONS, r, "person_id").unwrap_or_default().to_owned();
            plan.push((id, relation_of(r).to_owned(), relation_of(r).to_owned(), moves));
        }
    }
    for (id, rel) in &new_relations {
        let Some(slot) = plan.iter_mut().find(|p| p.0 == id.trim()) else {
            return refuse(format!("{id} 不是户 {from_hh} 或户 {into_hh} 的成员"));
        };
        let v = read_field(codes, &PERSONS, "relation", rel, "")?.1;
        let Some(v) = v.as_text() else { return refuse(format!("{id} 的「与户主关系」必填")) };
        slot.2 = v.to_owned();
    }
    let into_before: Vec<String> = relations(&into);
    let into_after: Vec<String> = plan.iter().map(|p| p.2.clone()).collect();
    check_heads(into_hh, &into_before, &into_after)?;

    let reason = why(&format!("合户（户 {from_hh} 并入户 {into_hh}）"), edit);
    for (id, old, new, moves) in &plan {
        let mut fields: Vec<(&str, Value)> = Vec::new();
        if *moves {
            fields.push(("hh_id", Value::from(into_hh)));
        }
        if old != new {
            fields.push(("relation", Value::from(new.as_str())));
        }
        if !fields.is_empty() {
            w.set_fields(&PERSONS, id, &fields, &reason).await?;
        }
    }
    // Former members' rows follow, so their history stays with a household.
    for r in all_persons(w, from_hh).await?.iter().filter(|r| !is_present(r)) {
        let id = cell(&PERSONS, r, "person_id").unwrap_or_default().to_owned();
        w.set_fields(&PERSONS, &id, &[("hh_id", Value::from(into_hh))], &reason).await?;
    }
    let incomes = keys_of_household(w, &INCOMES, from_hh).await?;
    let pairings = keys_of_household(w, &PAIRINGS, from_hh).await?;
    let mut warnings = Vec::new();
    let removed = format!("{reason}；原户注销");
    if !incomes.is_empty() {
        w.delete(&INCOMES, &incomes, None, &removed).await?;
        warnings.push(format!("户 {from_hh} 的 {} 条年度收入记录随户注销（变更记录中保留）", incomes.len()));
    }
    if !pairings.is_empty() {
        w.delete(&PAIRINGS, &pairings, None, &removed).await?;
        warnings.push(format!(
            "户 {from_hh} 的 {} 条结对帮扶记录随户注销，请为户 {into_hh} 核对帮扶责任人",
            pairings.len()
        ));
    }
    w.delete(&HOUSEHOLDS, &[from_hh.to_owned()], None, &removed).await?;
    Ok(Done { created: None, warnings })
}

/// 更正: sets one field of one registry row from the text a user typed, read by the
/// column's kind. Refuses unknown tables and fields, key columns, a person's 户编号
/// (that is a move), required fields left empty, bad values and unknown codes; keeps
/// a failing ID number and returns the problem as a warning.
pub async fn correct_field(
    store: &Store,
    edit: &Edit,
    table: &str,
    key: &str,
    field: &str,
    new_text: &str,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = correct_in(&mut w, edit, table, key, field, new_text).await;
    finish(store, w, r).await
}

async fn correct_in(
    w: &mut Writer,
    edit: &Edit,
    table_name: &str,
    key: &str,
    field: &str,
    new_text: &str,
) -> Result<Done, OpError> {
    let codes = codes();
    let Some(table) = schema::table(table_name) else {
        return refuse(format!("没有名为 {table_name} 的登记表"));
    };
    let Some(column) = table.column(field) else {
        return refuse(format!("「{}」没有字段 {field}", table.title));
    };
    if table.key.contains(&column.name) {
        return refuse(format!("「{}」是{}的编号，不能更正", column.header, table.title));
    }
    if table.name == PERSONS.name && column.name == "hh_id" {
        return refuse("成员换户请用“迁移成员”，不能直接更正户编号");
    }
    if table.name == PERSONS.name && ["person_status", "left_on"].contains(&column.name) {
        return refuse("成员死亡、婚出或迁出请用“死亡”“婚出”“迁出”登记，不能直接更正人员状态");
    }
    let Some(row) = w.fetch(table, &[key.to_owned()]).await?.remove(key) else {
        return refuse(format!("「{}」中没有 {key}", table.title));
    };
    let hh_id = match table.index_of("hh_id") {
        Some(i) => row[i].as_text().map(str::to_owned),
        None => None,
    };
    if let Some(expected) = edit.expected_version {
        let (what, current) = match &hh_id {
            Some(h) => (format!("户 {h} "), version_on(w.tx(), h).await?),
            None => (format!("{} {key}", table.title), entity_version(w.tx(), table, key).await?),
        };
        if current > expected {
            return Err(OpError::Conflict { subject: what, expected, current });
        }
    }
    let id_type = cell(table, &row, "id_type").unwrap_or_default().to_owned();
    let (i, value, warning) = read_field(codes, table, field, new_text, &id_type)?;
    if column.required && value.is_null() {
        return refuse(format!("「{}」必填，不能清空", column.header));
    }
    if column.kind == Kind::Village
        && let Some(v) = value.as_text()
    {
        check_village(w, v).await?;
    }
    let mut new_row = row.clone();
    new_row[i] = value.clone();
    if table.name == PERSONS.name && column.name == "relation" {
        let hh = hh_id.clone().unwrap_or_default();
        let others = members(w, &hh).await?;
        let before = relations(&others);
        let after: Vec<String> = others
            .iter()
            .map(|r| {
                if cell(&PERSONS, r, "person_id") == Some(key) {
                    relation_of(&new_row).to_owned()
                } else {
                    relation_of(r).to_owned()
                }
            })
            .collect();
        check_heads(&hh, &before, &after)?;
    }
    let mut warnings = Vec::new();
    if table.name == PERSONS.name && ["id_type", "id_number", "birth_date", "sex"].contains(&column.name) {
        warnings.extend(person_warnings(&new_row));
    } else if let Some(note) = warning {
        warnings.push(format!("「{}」{note}", column.header));
    }
    w.set_fields(table, key, &[(column.name, value)], &why(&format!("更正{}", column.header), edit)).await?;
    Ok(Done { created: None, warnings })
}
