//! The findings worklist of an area, as the web pages read it: one page of findings
//! under filters (area, policy year, rule, severity, state), and the counts by rule or
//! by village and state that the worklist and the dashboard show.
//!
//! A finding lies in an area when its village does (person and household level) or,
//! for a village, township or county rule, when the division it judged does.

use sqlx::Row;

use crate::findings::{COLUMNS, Finding, read};
use crate::{Store, StoreError};

/// Where a finding lies, for the area filter: the village of a person or household,
/// the judged division for the levels above.
const PLACE: &str = "(CASE WHEN f.level IN ('village', 'township', 'county') THEN f.entity_key \
                     ELSE f.village_code END)";

/// A state as the worklist filters it. The four do not overlap, so a row of counts
/// by state adds up to the list's total: `Open` is waiting for work, `Proposed`
/// is open with an explanation waiting for a township officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Open,
    Proposed,
    Explained,
    Fixed,
}

impl StateFilter {
    pub const ALL: [StateFilter; 4] =
        [StateFilter::Open, StateFilter::Proposed, StateFilter::Explained, StateFilter::Fixed];

    pub fn parse(s: &str) -> Option<StateFilter> {
        StateFilter::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Open => "open",
            StateFilter::Proposed => "proposed",
            StateFilter::Explained => "explained",
            StateFilter::Fixed => "fixed",
        }
    }

    fn sql(self) -> &'static str {
        match self {
            StateFilter::Open => "f.status = 'open' AND f.proposed_by IS NULL",
            StateFilter::Proposed => "f.status = 'open' AND f.proposed_by IS NOT NULL",
            StateFilter::Explained => "f.status = 'explained'",
            StateFilter::Fixed => "f.status = 'fixed'",
        }
    }
}

/// Which findings a worklist shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkFilter {
    /// A division code: findings lying in it.
    pub area: String,
    pub year: Option<i32>,
    pub rule_id: Option<String>,
    /// `error`, `warning` or `info`.
    pub severity: Option<String>,
    pub state: Option<StateFilter>,
    pub hh_id: Option<String>,
    /// Only these rules (a department officer's: those over their own columns);
    /// `None`: every rule.
    pub rules: Option<Vec<String>>,
}

/// A bound value of a filter.
enum Bind {
    Text(String),
    Int(i64),
}

fn where_clause(filter: &WorkFilter, with_state: bool) -> (String, Vec<Bind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let digits: String = filter.area.chars().filter(char::is_ascii_digit).collect();
    binds.push(Bind::Text(format!("{digits}%")));
    sql.push_str(&format!(" WHERE {PLACE} LIKE $1"));
    if let Some(y) = filter.year {
        binds.push(Bind::Int(i64::from(y)));
        sql.push_str(&format!(" AND f.year = ${}", binds.len()));
    }
    if let Some(r) = &filter.rule_id {
        binds.push(Bind::Text(r.clone()));
        sql.push_str(&format!(" AND f.rule_id = ${}", binds.len()));
    }
    if let Some(s) = &filter.severity {
        binds.push(Bind::Text(s.clone()));
        sql.push_str(&format!(" AND f.severity = ${}", binds.len()));
    }
    if let Some(h) = &filter.hh_id {
        binds.push(Bind::Text(h.clone()));
        sql.push_str(&format!(" AND f.hh_id = ${}", binds.len()));
    }
    if let Some(rules) = &filter.rules {
        if rules.is_empty() {
            sql.push_str(" AND 1 = 0");
        } else {
            let mut marks = Vec::with_capacity(rules.len());
            for r in rules {
                binds.push(Bind::Text(r.clone()));
                marks.push(format!("${}", binds.len()));
            }
            sql.push_str(&format!(" AND f.rule_id IN ({})", marks.join(", ")));
        }
    }
    if with_state && let Some(s) = filter.state {
        sql.push_str(&format!(" AND {}", s.sql()));
    }
    (sql, binds)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q
}

/// A finding of the worklist with what a cadre recognises it by: the name of its
/// household's head (户主) and the name of its village (or of the division judged).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkLine {
    pub finding: Finding,
    pub head: Option<String>,
    pub place_name: Option<String>,
}

/// One page of the worklist in (rule, entity, year) order, and how many match in all.
pub async fn page(
    store: &Store,
    filter: &WorkFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<WorkLine>, i64), StoreError> {
    let (clause, binds) = where_clause(filter, true);
    let count_sql = format!("SELECT COUNT(*) FROM findings f{clause}");
    let total: i64 =
        bind_all(sqlx::query(crate::rows::safe(count_sql)), binds).fetch_one(store.pool()).await?.try_get(0)?;
    let (clause, mut binds) = where_clause(filter, true);
    let n = binds.len();
    binds.push(Bind::Int(limit.max(0)));
    binds.push(Bind::Int(offset.max(0)));
    // The head by relation 01 (户主); the smallest name when the data has two heads,
    // so a finding is never listed twice.
    let sql = format!(
        "SELECT {COLUMNS}, \
         (SELECT MIN(hp.name) FROM persons hp WHERE hp.hh_id = f.hh_id AND hp.relation = '01'), \
         (SELECT d.name FROM divisions d WHERE d.code = {PLACE}) \
         FROM findings f LEFT JOIN persons p ON p.person_id = f.person_id{clause} \
         ORDER BY f.rule_id, f.entity_key, f.year LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = bind_all(sqlx::query(crate::rows::safe(sql)), binds).fetch_all(store.pool()).await?;
    let at = COLUMNS.split(',').count();
    let mut found = Vec::with_capacity(rows.len());
    for r in &rows {
        found.push(WorkLine { finding: read(r)?, head: r.try_get(at)?, place_name: r.try_get(at + 1)? });
    }
    Ok((found, total))
}

/// What the counts are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Rule,
    Village,
}

/// The findings of one rule or one village by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// The rule id or the village code (empty for findings above the village level).
    pub key: String,
    /// Open ones without an explanation waiting for a confirmation.
    pub open: i64,
    /// Open ones whose explanation waits for a township officer.
    pub proposed: i64,
    pub explained: i64,
    pub fixed: i64,
}

impl StateCounts {
    /// Every finding counted, each once.
    pub fn total(&self) -> i64 {
        self.open + self.proposed + self.explained + self.fixed
    }

    pub fn of(&self, s: StateFilter) -> i64 {
        match s {
            StateFilter::Open => self.open,
            StateFilter::Proposed => self.proposed,
            StateFilter::Explained => self.explained,
            StateFilter::Fixed => self.fixed,
        }
    }
}

/// The findings under `filter` (its state ignored) counted by state, per rule or per
/// village, in key order.
pub async fn counts(store: &Store, filter: &WorkFilter, group: Group) -> Result<Vec<StateCounts>, StoreError> {
    let key = match group {
        Group::Rule => "f.rule_id",
        Group::Village => "COALESCE(f.village_code, '')",
    };
    let (clause, binds) = where_clause(filter, false);
    let sql = format!(
        "SELECT {key}, \
         SUM(CASE WHEN f.status = 'open' AND f.proposed_by IS NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN f.status = 'open' AND f.proposed_by IS NOT NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN f.status = 'explained' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN f.status = 'fixed' THEN 1 ELSE 0 END) \
         FROM findings f{clause} GROUP BY {key} ORDER BY {key}"
    );
    let rows = bind_all(sqlx::query(crate::rows::safe(sql)), binds).fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(StateCounts {
            key: r.try_get(0)?,
            open: r.try_get(1)?,
            proposed: r.try_get(2)?,
            explained: r.try_get(3)?,
            fixed: r.try_get(4)?,
        });
    }
    Ok(out)
}

/// The rule ids and the policy years that have findings in an area, for the filters.
pub async fn choices(
    store: &Store,
    area: &str,
    rules: Option<Vec<String>>,
) -> Result<(Vec<String>, Vec<i32>), StoreError> {
    let filter = WorkFilter { area: area.to_owned(), rules, ..WorkFilter::default() };
    let (clause, binds) = where_clause(&filter, false);
    let sql = format!("SELECT DISTINCT f.rule_id FROM findings f{clause} ORDER BY f.rule_id");
    let rules = bind_all(sqlx::query(crate::rows::safe(sql)), binds).fetch_all(store.pool()).await?;
    let (clause, binds) = where_clause(&filter, false);
    let sql = format!("SELECT DISTINCT f.year FROM findings f{clause} ORDER BY f.year DESC");
    let years = bind_all(sqlx::query(crate::rows::safe(sql)), binds).fetch_all(store.pool()).await?;
    let rules = rules.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?;
    let mut out_years = Vec::with_capacity(years.len());
    for r in &years {
        let y: i64 = r.try_get(0)?;
        out_years.push(i32::try_from(y).map_err(|_| StoreError::Refused(format!("问题年度 {y} 无效")))?);
    }
    Ok((rules, out_years))
}
