//! 问题清单: the findings of `fupin check` (table `findings`, migration
//! `0008_findings.sql`), kept as a worklist across runs.
//!
//! A run hands over what failed for a set of rules, a policy year and a scope;
//! [`record_run`] upserts it in one transaction: a new failure is `open` with its
//! `first_seen`; one still failing gets its `last_seen`, values and explanation
//! refreshed (an `explained` one stays explained, a `fixed` one opens again without
//! its old explanation); an `open`
//! or `explained` finding of those rules, that year and that scope which no longer
//! fails becomes `fixed`. Not registry data, so written with plain SQL rather than
//! through the [`crate::Writer`].
//!
//! The explanation workflow: a cadre proposes an explanation with a reason
//! ([`propose_explanation`]); it takes effect at once for a warning or an info, and for
//! an error only when a township officer confirms it ([`confirm_explanation`]) or
//! rejects it ([`reject_explanation`]). The findings are not registry data, but each
//! of these steps is: it goes through the [`crate::Writer`] as an event of the entity
//! `findings` in the hash-chained change history (key [`event_key`]), in the same
//! transaction as the finding's update.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

use crate::users::timestamp;
use crate::{Store, StoreError};

/// The state of a finding in the worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Explained,
    Fixed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Explained => "explained",
            Status::Fixed => "fixed",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "open" => Status::Open,
            "explained" => Status::Explained,
            "fixed" => Status::Fixed,
            _ => return None,
        })
    }
    /// 待处理 / 已说明 / 已整改.
    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "待处理",
            Status::Explained => "已说明",
            Status::Fixed => "已整改",
        }
    }
}

/// One failure of a run, to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    pub rule_id: String,
    pub rule_set: String,
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// The rule's level (`person`, `household`, …).
    pub level: String,
    /// 人编号, 户编号 or the division code.
    pub entity_key: String,
    pub hh_id: Option<String>,
    pub person_id: Option<String>,
    pub village_code: Option<String>,
    /// The rule's values: (name, shown text), stored as a JSON object.
    pub values: Vec<(String, String)>,
    pub explanation: String,
    /// The same with personal values masked.
    pub masked_values: Vec<(String, String)>,
    pub masked_explanation: String,
}

/// What a run covered: findings of other rules, years or places are left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunScope {
    pub year: i32,
    /// Every rule the run evaluated (failing or not).
    pub rule_ids: Vec<String>,
    /// A division code: only findings whose village code starts with it; `None` is the
    /// whole registry.
    pub division: Option<String>,
}

impl RunScope {
    fn covers(&self, rule_id: &str, village_code: Option<&str>) -> bool {
        self.rule_ids.iter().any(|r| r == rule_id)
            && match &self.division {
                None => true,
                Some(d) => village_code.is_some_and(|v| v.starts_with(d.as_str())),
            }
    }
}

/// How a run changed the worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunSummary {
    /// Failing for the first time.
    pub new: usize,
    /// Already open or explained, still failing.
    pub still: usize,
    /// Fixed before, failing again (open again).
    pub reopened: usize,
    /// Open or explained before, no longer failing.
    pub fixed: usize,
}

/// A finding as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: i64,
    pub rule_id: String,
    pub rule_set: String,
    pub severity: String,
    pub level: String,
    pub entity_key: String,
    pub hh_id: Option<String>,
    pub person_id: Option<String>,
    pub village_code: Option<String>,
    /// The person's 证件号码 as stored now (unmasked: the caller masks), if a person.
    pub id_number: Option<String>,
    pub year: i32,
    /// JSON object {name: shown text}.
    pub value_json: String,
    pub explanation: String,
    /// The same with personal values masked.
    pub masked_value_json: String,
    pub masked_explanation: String,
    pub first_seen: String,
    pub last_seen: String,
    pub status: Status,
    pub fixed_at: Option<String>,
    pub proposed_by: Option<String>,
    pub proposed_reason: Option<String>,
    pub proposed_at: Option<String>,
    pub confirmed_by: Option<String>,
    pub confirmed_at: Option<String>,
}

fn values_json(values: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_json::Value::Object(map).to_string()
}

/// Records a run's failures as one transaction (see the module documentation).
/// `failing` holds at most one finding per (rule, entity).
pub async fn record_run(
    store: &Store,
    scope: &RunScope,
    failing: &[NewFinding],
    now: OffsetDateTime,
) -> Result<RunSummary, StoreError> {
    let now = timestamp(now);
    let year = i64::from(scope.year);
    let turn = store.write_turn().await;
    let mut tx = store.pool().begin().await?;
    let rows = sqlx::query("SELECT id, rule_id, entity_key, status, village_code FROM findings WHERE year = $1")
        .bind(year)
        .fetch_all(&mut *tx)
        .await?;
    let mut existing: HashMap<(String, String), (i64, Status, Option<String>)> = HashMap::new();
    for r in &rows {
        let status: String = r.try_get(3)?;
        let status = Status::parse(&status).ok_or_else(|| StoreError::Refused(format!("问题状态“{status}”无效")))?;
        existing.insert((r.try_get(1)?, r.try_get(2)?), (r.try_get(0)?, status, r.try_get(4)?));
    }
    let mut summary = RunSummary::default();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for f in failing {
        let key = (f.rule_id.clone(), f.entity_key.clone());
        if !seen.insert(key.clone()) {
            return Err(StoreError::Refused(format!("规则 {} 对 {} 的问题重复", f.rule_id, f.entity_key)));
        }
        match existing.get(&key) {
            Some((id, status, _)) => {
                let next = match status {
                    Status::Fixed => {
                        summary.reopened += 1;
                        Status::Open
                    }
                    s => {
                        summary.still += 1;
                        *s
                    }
                };
                sqlx::query(
                    "UPDATE findings SET rule_set = $1, severity = $2, level = $3, hh_id = $4, person_id = $5, \
                     village_code = $6, value_json = $7, explanation = $8, last_seen = $9, status = $10, \
                     fixed_at = NULL, masked_value_json = $11, masked_explanation = $12 WHERE id = $13",
                )
                .bind(f.rule_set.clone())
                .bind(f.severity.clone())
                .bind(f.level.clone())
                .bind(f.hh_id.clone())
                .bind(f.person_id.clone())
                .bind(f.village_code.clone())
                .bind(values_json(&f.values))
                .bind(f.explanation.clone())
                .bind(now.clone())
                .bind(next.as_str())
                .bind(values_json(&f.masked_values))
                .bind(f.masked_explanation.clone())
                .bind(*id)
                .execute(&mut *tx)
                .await?;
                if *status == Status::Fixed {
                    // A new occurrence: an explanation of the old one does not carry over.
                    sqlx::query(
                        "UPDATE findings SET proposed_by = NULL, proposed_reason = NULL, proposed_at = NULL, \
                         confirmed_by = NULL, confirmed_at = NULL WHERE id = $1",
                    )
                    .bind(*id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            None => {
                summary.new += 1;
                sqlx::query(
                    "INSERT INTO findings (rule_id, rule_set, severity, level, entity_key, hh_id, person_id, \
                     village_code, year, value_json, explanation, first_seen, last_seen, status, masked_value_json, \
                     masked_explanation) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 'open', $13, $14)",
                )
                .bind(f.rule_id.clone())
                .bind(f.rule_set.clone())
                .bind(f.severity.clone())
                .bind(f.level.clone())
                .bind(f.entity_key.clone())
                .bind(f.hh_id.clone())
                .bind(f.person_id.clone())
                .bind(f.village_code.clone())
                .bind(year)
                .bind(values_json(&f.values))
                .bind(f.explanation.clone())
                .bind(now.clone())
                .bind(values_json(&f.masked_values))
                .bind(f.masked_explanation.clone())
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    for (key, (id, status, village)) in &existing {
        if *status != Status::Fixed && !seen.contains(key) && scope.covers(&key.0, village.as_deref()) {
            summary.fixed += 1;
            sqlx::query("UPDATE findings SET status = 'fixed', fixed_at = $1 WHERE id = $2")
                .bind(now.clone())
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    drop(turn);
    Ok(summary)
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub year: Option<i32>,
    /// Only these rules (empty: all).
    pub rule_ids: Vec<String>,
    /// Village codes starting with this division code.
    pub division: Option<String>,
    pub hh_id: Option<String>,
    /// Only these states (empty: all).
    pub statuses: Vec<Status>,
}

pub(crate) const COLUMNS: &str = "f.id, f.rule_id, f.rule_set, f.severity, f.level, f.entity_key, f.hh_id, f.person_id, \
    f.village_code, p.id_number, f.year, f.value_json, f.explanation, f.first_seen, f.last_seen, f.status, \
    f.fixed_at, f.proposed_by, f.proposed_reason, f.proposed_at, f.confirmed_by, f.confirmed_at, \
    f.masked_value_json, f.masked_explanation";

/// Findings in (rule, entity) order, with the person's current 证件号码.
pub async fn list(store: &Store, filter: &Filter) -> Result<Vec<Finding>, StoreError> {
    let mut sql =
        format!("SELECT {COLUMNS} FROM findings f LEFT JOIN persons p ON p.person_id = f.person_id WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if filter.year.is_some() {
        sql.push_str(&format!(" AND f.year = ${}", next()));
    }
    if filter.division.is_some() {
        sql.push_str(&format!(" AND f.village_code LIKE ${}", next()));
    }
    if filter.hh_id.is_some() {
        sql.push_str(&format!(" AND f.hh_id = ${}", next()));
    }
    sql.push_str(" ORDER BY f.rule_id, f.entity_key, f.year");
    let mut q = sqlx::query(crate::rows::safe(sql));
    if let Some(y) = filter.year {
        q = q.bind(i64::from(y));
    }
    if let Some(d) = &filter.division {
        let digits: String = d.chars().filter(char::is_ascii_digit).collect();
        q = q.bind(format!("{digits}%"));
    }
    if let Some(h) = &filter.hh_id {
        q = q.bind(h.clone());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let f = read(r)?;
        let rule_ok = filter.rule_ids.is_empty() || filter.rule_ids.contains(&f.rule_id);
        let status_ok = filter.statuses.is_empty() || filter.statuses.contains(&f.status);
        if rule_ok && status_ok {
            out.push(f);
        }
    }
    Ok(out)
}

pub(crate) fn read(r: &AnyRow) -> Result<Finding, StoreError> {
    let status: String = r.try_get(15)?;
    let year: i64 = r.try_get(10)?;
    Ok(Finding {
        id: r.try_get(0)?,
        rule_id: r.try_get(1)?,
        rule_set: r.try_get(2)?,
        severity: r.try_get(3)?,
        level: r.try_get(4)?,
        entity_key: r.try_get(5)?,
        hh_id: r.try_get(6)?,
        person_id: r.try_get(7)?,
        village_code: r.try_get(8)?,
        id_number: r.try_get(9)?,
        year: i32::try_from(year).map_err(|_| StoreError::Refused(format!("问题年度 {year} 无效")))?,
        value_json: r.try_get(11)?,
        explanation: r.try_get(12)?,
        first_seen: r.try_get(13)?,
        last_seen: r.try_get(14)?,
        status: Status::parse(&status).ok_or_else(|| StoreError::Refused(format!("问题状态“{status}”无效")))?,
        fixed_at: r.try_get(16)?,
        proposed_by: r.try_get(17)?,
        proposed_reason: r.try_get(18)?,
        proposed_at: r.try_get(19)?,
        confirmed_by: r.try_get(20)?,
        confirmed_at: r.try_get(21)?,
        // Masked as the mask is now, also if stored by a run with an older mask.
        masked_value_json: fupin_domain::mask::remask_ids(&r.try_get::<String, _>(22)?),
        masked_explanation: fupin_domain::mask::remask_ids(&r.try_get::<String, _>(23)?),
    })
}

/// One finding by id.
pub async fn get(store: &Store, id: i64) -> Result<Option<Finding>, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM findings f LEFT JOIN persons p ON p.person_id = f.person_id WHERE f.id = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(id).fetch_optional(store.pool()).await?;
    row.as_ref().map(read).transpose()
}

/// The entity name of the explanation events in the change history.
pub const EVENT_ENTITY: &str = "findings";

/// The change-history key of a finding's events: `户编号|id|rule` (the village code for
/// a finding without a household), so a household's history finds them by its
/// `户编号|` prefix, as it finds its incomes.
pub fn event_key(f: &Finding) -> String {
    let place = f.hh_id.as_deref().or(f.village_code.as_deref()).unwrap_or(f.entity_key.as_str());
    format!("{place}|{}|{}", f.id, f.rule_id)
}

/// Whether an explanation waits for a township officer's confirmation.
pub fn is_pending(f: &Finding) -> bool {
    f.status == Status::Open && f.proposed_by.is_some()
}

/// What a workflow step shows in the change history as the new state.
fn shown_state(f: &Finding) -> &'static str {
    if is_pending(f) { "待确认" } else { f.status.label() }
}

async fn get_in(w: &mut crate::Writer, id: i64) -> Result<Finding, StoreError> {
    let sql =
        format!("SELECT {COLUMNS} FROM findings f LEFT JOIN persons p ON p.person_id = f.person_id WHERE f.id = $1");
    let row = sqlx::query(crate::rows::safe(sql)).bind(id).fetch_optional(&mut **w.tx()).await?;
    row.as_ref().map(read).transpose()?.ok_or_else(|| StoreError::Refused(format!("问题 {id} 不存在")))
}

/// One step of the explanation workflow, in one transaction of the [`crate::Writer`]:
/// the finding is read under the chain lock, `step` checks it and says the update, and
/// the update and its event (old state → new state, the reason) are written together.
async fn step(
    store: &Store,
    id: i64,
    by: &str,
    reason: &str,
    check: impl FnOnce(&Finding) -> Result<(&'static str, Vec<Option<String>>), StoreError>,
) -> Result<Finding, StoreError> {
    let mut w = store.writer(crate::Actor::User(by.to_owned())).await?;
    let before = get_in(&mut w, id).await?;
    let (sql, binds) = match check(&before) {
        Ok(x) => x,
        Err(e) => {
            w.rollback().await?;
            return Err(e);
        }
    };
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b);
    }
    q.bind(id).execute(&mut **w.tx()).await?;
    let after = get_in(&mut w, id).await?;
    w.event(
        EVENT_ENTITY,
        &event_key(&after),
        "status",
        Some(shown_state(&before).to_owned()),
        Some(shown_state(&after).to_owned()),
        reason,
    )?;
    w.commit().await?;
    Ok(after)
}

/// A cadre proposes an explanation: it takes effect (status `explained`) at once
/// unless the finding is an error, which waits for [`confirm_explanation`]. Recorded
/// in the change history with its reason.
pub async fn propose_explanation(
    store: &Store,
    id: i64,
    by: &str,
    reason: &str,
    now: OffsetDateTime,
) -> Result<Finding, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::Refused("请填写说明理由".into()));
    }
    let at = timestamp(now);
    let why = format!("提出说明：{reason}");
    step(store, id, by, &why, |f| {
        if f.status != Status::Open {
            return Err(StoreError::Refused(format!("问题 {id} 状态为{}，只能说明待处理的问题", f.status.label())));
        }
        if is_pending(f) {
            return Err(StoreError::Refused(format!("问题 {id} 已有待确认的说明")));
        }
        let status = if f.severity == "error" { Status::Open } else { Status::Explained };
        Ok((
            "UPDATE findings SET proposed_by = $1, proposed_reason = $2, proposed_at = $3, confirmed_by = NULL, \
             confirmed_at = NULL, status = $4 WHERE id = $5",
            vec![Some(by.to_owned()), Some(reason.to_owned()), Some(at), Some(status.as_str().to_owned())],
        ))
    })
    .await
}

/// A township officer confirms a proposed explanation: the finding is `explained`.
/// Not by its proposer. Recorded in the change history.
pub async fn confirm_explanation(store: &Store, id: i64, by: &str, now: OffsetDateTime) -> Result<Finding, StoreError> {
    let at = timestamp(now);
    step(store, id, by, "确认说明", |f| {
        if !is_pending(f) {
            return Err(StoreError::Refused(format!("问题 {id} 没有待确认的说明")));
        }
        if f.proposed_by.as_deref() == Some(by) {
            return Err(StoreError::Refused("说明须由提出人以外的乡镇干部确认".into()));
        }
        Ok((
            "UPDATE findings SET confirmed_by = $1, confirmed_at = $2, status = 'explained' WHERE id = $3",
            vec![Some(by.to_owned()), Some(at)],
        ))
    })
    .await
}

/// A township officer rejects a proposed explanation, with a reason: the finding stays
/// open without it. Not by its proposer. Recorded in the change history.
pub async fn reject_explanation(store: &Store, id: i64, by: &str, reason: &str) -> Result<Finding, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StoreError::Refused("请填写退回理由".into()));
    }
    let why = format!("{REJECTED}{reason}");
    step(store, id, by, &why, |f| {
        if !is_pending(f) {
            return Err(StoreError::Refused(format!("问题 {id} 没有待确认的说明")));
        }
        if f.proposed_by.as_deref() == Some(by) {
            return Err(StoreError::Refused("说明须由提出人以外的乡镇干部退回".into()));
        }
        Ok((
            "UPDATE findings SET proposed_by = NULL, proposed_reason = NULL, proposed_at = NULL, \
             status = 'open' WHERE id = $1",
            vec![],
        ))
    })
    .await
}

/// The explanation steps of a finding (proposed, confirmed, rejected) as recorded in
/// the change history, oldest first: the events of its [`event_key`].
pub async fn events_of(store: &Store, f: &Finding) -> Result<Vec<crate::writer::ChangeRecord>, StoreError> {
    let sql = format!(
        "SELECT {} FROM change_log WHERE entity = $1 AND entity_key = $2 ORDER BY seq",
        crate::writer::ChangeRecord::COLUMNS
    );
    let rows =
        sqlx::query(crate::rows::safe(sql)).bind(EVENT_ENTITY).bind(event_key(f)).fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(crate::writer::ChangeRecord::from_row(r)?);
    }
    Ok(out)
}

/// The reason an explanation was sent back (退回), as the cadre sees it on the worklist:
/// for each of these findings that is open again after a rejection (its newest event
/// in the change history is a rejection), who rejected it and why, by finding id.
pub async fn rejections(store: &Store, found: &[&Finding]) -> Result<HashMap<i64, (String, String)>, StoreError> {
    let open: Vec<&&Finding> = found.iter().filter(|f| f.status == Status::Open && !is_pending(f)).collect();
    let mut out = HashMap::new();
    if open.is_empty() {
        return Ok(out);
    }
    let keys: HashMap<String, i64> = open.iter().map(|f| (event_key(f), f.id)).collect();
    let marks: Vec<String> = (0..keys.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT entity_key, actor, reason FROM change_log WHERE entity = $1 AND entity_key IN ({}) ORDER BY seq",
        marks.join(", ")
    );
    let mut q = sqlx::query(crate::rows::safe(sql)).bind(EVENT_ENTITY);
    for k in keys.keys() {
        q = q.bind(k.clone());
    }
    let mut newest: HashMap<i64, (String, Option<String>)> = HashMap::new();
    for r in &q.fetch_all(store.pool()).await? {
        let key: String = r.try_get(0)?;
        if let Some(id) = keys.get(&key) {
            newest.insert(*id, (r.try_get(1)?, r.try_get(2)?));
        }
    }
    for (id, (actor, reason)) in newest {
        if let Some(why) = reason.as_deref().and_then(|r| r.strip_prefix(REJECTED)) {
            let by = actor.strip_prefix("user:").unwrap_or(&actor).to_owned();
            out.insert(id, (by, why.to_owned()));
        }
    }
    Ok(out)
}

/// How a rejection's reason begins in the change history.
const REJECTED: &str = "退回说明：";

/// Where the registry's entities live: 户编号 → village code, 人编号 → 户编号.
#[derive(Debug, Clone, Default)]
pub struct EntityIndex {
    pub household_village: HashMap<String, String>,
    pub person_household: HashMap<String, String>,
}

/// Reads the [`EntityIndex`] of the registry.
pub async fn entity_index(store: &Store) -> Result<EntityIndex, StoreError> {
    let hh: Vec<(String, String)> =
        sqlx::query_as("SELECT hh_id, village_code FROM households").fetch_all(store.pool()).await?;
    let persons: Vec<(String, String)> =
        sqlx::query_as("SELECT person_id, hh_id FROM persons").fetch_all(store.pool()).await?;
    Ok(EntityIndex { household_village: hh.into_iter().collect(), person_household: persons.into_iter().collect() })
}
