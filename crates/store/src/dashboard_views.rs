//! The read queries behind the dashboards (统计看板) and the filtered household list
//! each dashboard number opens: every figure is a `GROUP BY` of the registry, and the
//! list behind a figure uses the very same predicates, so a number and its list agree.
//!
//! Year view (年度动态调整): a household's status *in a year* follows from its 户类型
//! and its 识别年度 / 脱贫年度 / 返贫年度 ([`status_in_year`]): a registered poor or
//! exited household is poor from its identification year until the year before its
//! exit year (a registered poor household without one stays poor), is 已脱贫户 from
//! then on, and is poor again from a 返贫年度 later than its exit year on (the test
//! the rules make for incidence, `v.poor_persons`); everyone else is 一般农户 in that
//! year. Persons count in a year when born by its last day and not gone before its
//! first ([`counted_in_year`]). A monitoring household (监测对象) counts
//! from its 纳入监测日期 and is cleared from its 风险消除日期. For the current year this
//! is the status column itself, except for a household whose recorded years disagree
//! with it.
//!
//! Every function takes the area it may look in as a [`DivisionCode`] (digits only),
//! and the pages pass an area inside the signed-in user's, so no query reaches
//! outside it. Values are bound; the SQL text is assembled from fixed fragments.

use fupin_domain::DivisionCode;
use sqlx::Row;

use crate::rows::safe;
use crate::views::{STATUS_EXITED, STATUS_POOR, counted_in_year, present};
use crate::{Store, StoreError};

/// The persons of the households of a group who count in the year whose first and last
/// days are bound at `year_start` and `year_end` (born by its end; members now and
/// those who died or left in or after it): a
/// count per household by the `persons_household` index (cheaper than joining and
/// counting distinct households), summed; `CAST` because PostgreSQL sums a `BIGINT`
/// into a `NUMERIC`.
fn persons_sum(year_start: &str, year_end: &str) -> String {
    format!(
        "CAST(COALESCE(SUM((SELECT COUNT(*) FROM persons p WHERE p.hh_id = h.hh_id AND {})), 0) AS BIGINT)",
        counted_in_year("p", year_start, year_end)
    )
}

fn year_start(year: i32) -> String {
    format!("{year:04}-01-01")
}

/// `households.status` of a general rural household (户类型 1 一般农户).
pub const STATUS_GENERAL: &str = "1";

/// The household's status in the year bound at placeholder `year` (`1`, `2` or `3`):
/// poor while not exited, or again from a 返贫年度 after the exit (the rules' test).
fn status_in_year(year: &str) -> String {
    format!(
        "(CASE WHEN COALESCE(h.status, '') NOT IN ('{STATUS_POOR}', '{STATUS_EXITED}') \
               OR COALESCE(h.identified_year, 0) > {year} THEN '{STATUS_GENERAL}' \
          WHEN (h.status = '{STATUS_POOR}' AND h.exit_year IS NULL) OR h.exit_year > {year} \
               OR (h.relapse_year > h.exit_year AND h.relapse_year <= {year}) THEN '{STATUS_POOR}' \
          ELSE '{STATUS_EXITED}' END)"
    )
}

/// A monitoring household (监测对象) by the end of the year whose last day (ISO text)
/// is bound at `year_end`, cleared or not.
fn monitored_by(year_end: &str) -> String {
    format!(
        "(h.monitor_type IS NOT NULL AND h.monitor_type <> '' \
          AND (h.monitor_since IS NULL OR h.monitor_since = '' OR h.monitor_since <= {year_end}))"
    )
}

/// Its risk cleared (风险消除) by the end of that year.
fn cleared_by(year_end: &str) -> String {
    format!("(h.risk_cleared_on IS NOT NULL AND h.risk_cleared_on <> '' AND h.risk_cleared_on <= {year_end})")
}

fn year_end(year: i32) -> String {
    format!("{year:04}-12-31")
}

/// `LIKE` pattern for every code inside `area` (digits only: nothing to escape).
fn within(area: &DivisionCode) -> String {
    format!("{}%", area.as_str())
}

/// How many digits of the village code name the lines of an area's dashboard: a
/// county's townships, a township's villages, a village itself.
pub fn child_len(area: &DivisionCode) -> usize {
    match area.as_str().len() {
        6 => 9,
        _ => 12,
    }
}

/// Households and persons of one area (or one of its children) in a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusFigures {
    /// By status in the year: 一般农户, 在册贫困户, 已脱贫户.
    pub households: [i64; 3],
    pub persons: [i64; 3],
    /// 监测对象 whose risk is not cleared by the end of the year.
    pub monitored_households: i64,
    pub monitored_persons: i64,
}

impl StatusFigures {
    pub fn total_households(&self) -> i64 {
        self.households.iter().sum()
    }

    pub fn total_persons(&self) -> i64 {
        self.persons.iter().sum()
    }

    /// Persons of households registered poor in the year (the numerator of 贫困发生率).
    pub fn poor_persons(&self) -> i64 {
        self.persons[1]
    }
}

/// The status codes in the order of [`StatusFigures`]' arrays.
pub const STATUSES: [&str; 3] = [STATUS_GENERAL, STATUS_POOR, STATUS_EXITED];

/// Figures for the children of `area` (townships of a county, villages of a township,
/// the village itself), keyed by their code, in code order; children without
/// households are absent.
pub async fn status_by_child(
    store: &Store,
    area: &DivisionCode,
    year: i32,
) -> Result<Vec<(String, StatusFigures)>, StoreError> {
    let len = child_len(area);
    let sql = format!(
        "SELECT substr(h.village_code, 1, {len}), {status}, \
           CAST(CASE WHEN {monitored} AND NOT {cleared} THEN 1 ELSE 0 END AS BIGINT), \
           COUNT(*), {persons} \
         FROM households h WHERE h.village_code LIKE $1 GROUP BY 1, 2, 3 ORDER BY 1",
        status = status_in_year("$2"),
        monitored = monitored_by("$3"),
        cleared = cleared_by("$3"),
        persons = persons_sum("$4", "$3"),
    );
    let rows = sqlx::query(safe(sql))
        .bind(within(area))
        .bind(i64::from(year))
        .bind(year_end(year))
        .bind(year_start(year))
        .fetch_all(store.pool())
        .await?;
    let mut out: Vec<(String, StatusFigures)> = Vec::new();
    for r in &rows {
        let code: String = r.try_get(0)?;
        let status: String = r.try_get(1)?;
        let open: i64 = r.try_get(2)?;
        let households: i64 = r.try_get(3)?;
        let persons: i64 = r.try_get(4)?;
        let i = STATUSES.iter().position(|s| *s == status).unwrap_or(0);
        if out.last().is_none_or(|(c, _)| *c != code) {
            out.push((code, StatusFigures::default()));
        }
        let Some((_, f)) = out.last_mut() else { continue };
        f.households[i] += households;
        f.persons[i] += persons;
        if open == 1 {
            f.monitored_households += households;
            f.monitored_persons += persons;
        }
    }
    Ok(out)
}

/// Households (and their persons) by 脱贫年度, up to and including `year`, oldest first.
pub async fn exits_by_year(store: &Store, area: &DivisionCode, year: i32) -> Result<Vec<(i32, i64, i64)>, StoreError> {
    let sql = format!(
        "SELECT h.exit_year, COUNT(*), {persons} FROM households h \
         WHERE h.village_code LIKE $1 AND h.exit_year IS NOT NULL AND h.exit_year <= $2 \
         GROUP BY h.exit_year ORDER BY h.exit_year",
        persons = persons_sum("(CAST(h.exit_year AS TEXT) || '-01-01')", "(CAST(h.exit_year AS TEXT) || '-12-31')"),
    );
    let rows = sqlx::query(safe(sql)).bind(within(area)).bind(i64::from(year)).fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let y: i64 = r.try_get(0)?;
        out.push((y as i32, r.try_get(1)?, r.try_get(2)?));
    }
    Ok(out)
}

/// Monitoring households of one type (监测对象类型) by the end of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorFigures {
    pub monitor_type: String,
    /// Risk not cleared, cleared.
    pub open: i64,
    pub cleared: i64,
}

/// 监测对象 by type, cleared or not by the end of `year`, in type order.
pub async fn monitoring_by_type(
    store: &Store,
    area: &DivisionCode,
    year: i32,
) -> Result<Vec<MonitorFigures>, StoreError> {
    let sql = format!(
        "SELECT h.monitor_type, CAST(CASE WHEN {cleared} THEN 1 ELSE 0 END AS BIGINT), COUNT(*) FROM households h \
         WHERE h.village_code LIKE $1 AND {monitored} GROUP BY 1, 2 ORDER BY 1",
        cleared = cleared_by("$2"),
        monitored = monitored_by("$2"),
    );
    let rows = sqlx::query(safe(sql)).bind(within(area)).bind(year_end(year)).fetch_all(store.pool()).await?;
    let mut out: Vec<MonitorFigures> = Vec::new();
    for r in &rows {
        let t: String = r.try_get(0)?;
        let cleared: i64 = r.try_get(1)?;
        let n: i64 = r.try_get(2)?;
        if out.last().is_none_or(|m| m.monitor_type != t) {
            out.push(MonitorFigures { monitor_type: t, open: 0, cleared: 0 });
        }
        let Some(m) = out.last_mut() else { continue };
        if cleared == 1 {
            m.cleared += n;
        } else {
            m.open += n;
        }
    }
    Ok(out)
}

/// Whether a monitoring household's risk is cleared by the end of the year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorState {
    Open,
    Cleared,
}

/// The quarter whose visits a dashboard counts (一季一上门): first and last day, ISO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarter {
    pub start: String,
    pub end: String,
}

impl Quarter {
    /// The quarter of `today` when `year` is this year, else the last quarter of `year`.
    pub fn for_year(year: i32, today: time::Date) -> Quarter {
        let start = if today.year() == year {
            crate::visits::quarter_start(today)
        } else {
            time::Date::from_calendar_date(year, time::Month::October, 1).unwrap_or(today)
        };
        let next = match start.month() {
            time::Month::October => time::Date::from_calendar_date(start.year() + 1, time::Month::January, 1),
            m => time::Date::from_calendar_date(start.year(), m.nth_next(3), 1),
        };
        let end = next.ok().and_then(|d| d.previous_day()).unwrap_or(start);
        Quarter { start: fupin_domain::date::iso(start), end: fupin_domain::date::iso(end) }
    }
}

/// Which of the households due a visit a number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitState {
    /// Due a visit in the quarter: poor or exited in the year, or monitored and not
    /// cleared by its end.
    Due,
    /// Due and visited at least once in the quarter.
    Visited,
    /// Due and not visited.
    Missed,
}

/// A household due a visit in the year (placeholders: year, last day of the year).
fn due_in(year: &str, year_end: &str) -> String {
    format!(
        "({status} IN ('{STATUS_POOR}', '{STATUS_EXITED}') OR ({monitored} AND NOT {cleared}))",
        status = status_in_year(year),
        monitored = monitored_by(year_end),
        cleared = cleared_by(year_end),
    )
}

/// Visited at least once between the two days (placeholders, ISO text).
fn visited_between(start: &str, end: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM visits v WHERE v.hh_id = h.hh_id AND v.visited_on >= {start} AND v.visited_on <= {end})"
    )
}

/// Households due a visit and those visited in `quarter`, for the children of `area`
/// (keyed by code, in code order). Visits are not in the change history, so these
/// figures are counted on every request, never cached under its head.
pub async fn visits_by_child(
    store: &Store,
    area: &DivisionCode,
    year: i32,
    quarter: &Quarter,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let len = child_len(area);
    let sql = format!(
        "SELECT substr(h.village_code, 1, {len}), COUNT(*),            CAST(COALESCE(SUM(CASE WHEN {visited} THEN 1 ELSE 0 END), 0) AS BIGINT)          FROM households h WHERE h.village_code LIKE $1 AND {due} GROUP BY 1 ORDER BY 1",
        visited = visited_between("$4", "$5"),
        due = due_in("$2", "$3"),
    );
    let rows = sqlx::query(safe(sql))
        .bind(within(area))
        .bind(i64::from(year))
        .bind(year_end(year))
        .bind(quarter.start.clone())
        .bind(quarter.end.clone())
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
}

/// Which households a dashboard number stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdFilter {
    pub area: DivisionCode,
    pub year: i32,
    /// Status in the year (`1`, `2`, `3`).
    pub status: Option<String>,
    pub exit_year: Option<i32>,
    /// Monitoring households of this type (by the end of the year).
    pub monitor_type: Option<String>,
    /// Monitoring households (of any type unless one is given), cleared or not.
    pub monitor: Option<MonitorState>,
    /// Households due a visit in the year, by whether they were visited in the quarter.
    pub visits: Option<(VisitState, Quarter)>,
}

/// One line of the filtered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilteredLine {
    pub hh_id: String,
    pub village_code: String,
    pub village_name: Option<String>,
    pub head_name: Option<String>,
    pub group_no: Option<i64>,
    /// Status in the filter's year.
    pub status: String,
    pub exit_year: Option<i64>,
    pub monitor_type: Option<String>,
    pub persons: i64,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// The `WHERE` clause of a filter and its values, from placeholder `$1` on.
fn filter_sql(f: &HouseholdFilter) -> (String, Vec<Bind>) {
    let mut binds = vec![Bind::Text(within(&f.area))];
    let mut clauses = vec!["h.village_code LIKE $1".to_owned()];
    let next = |binds: &mut Vec<Bind>, b: Bind| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(status) = &f.status {
        let y = next(&mut binds, Bind::Int(i64::from(f.year)));
        let s = next(&mut binds, Bind::Text(status.clone()));
        clauses.push(format!("{} = {s}", status_in_year(&y)));
    }
    if let Some(exit) = f.exit_year {
        let e = next(&mut binds, Bind::Int(i64::from(exit)));
        clauses.push(format!("h.exit_year = {e}"));
    }
    if f.monitor_type.is_some() || f.monitor.is_some() {
        let end = next(&mut binds, Bind::Text(year_end(f.year)));
        clauses.push(monitored_by(&end));
        match f.monitor {
            Some(MonitorState::Open) => clauses.push(format!("NOT {}", cleared_by(&end))),
            Some(MonitorState::Cleared) => clauses.push(cleared_by(&end)),
            None => {}
        }
        if let Some(t) = &f.monitor_type {
            let t = next(&mut binds, Bind::Text(t.clone()));
            clauses.push(format!("h.monitor_type = {t}"));
        }
    }
    if let Some((state, quarter)) = &f.visits {
        let y = next(&mut binds, Bind::Int(i64::from(f.year)));
        let end = next(&mut binds, Bind::Text(year_end(f.year)));
        clauses.push(due_in(&y, &end));
        if *state != VisitState::Due {
            let s = next(&mut binds, Bind::Text(quarter.start.clone()));
            let e = next(&mut binds, Bind::Text(quarter.end.clone()));
            let visited = visited_between(&s, &e);
            clauses.push(if *state == VisitState::Visited { visited } else { format!("NOT {visited}") });
        }
    }
    (clauses.join(" AND "), binds)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Int(v) => q.bind(*v),
            Bind::Text(v) => q.bind(v.clone()),
        };
    }
    q
}

/// How many households and persons a filter selects.
pub async fn count_filtered(store: &Store, f: &HouseholdFilter) -> Result<(i64, i64), StoreError> {
    let (clause, mut binds) = filter_sql(f);
    binds.push(Bind::Text(year_start(f.year)));
    let start = format!("${}", binds.len());
    binds.push(Bind::Text(year_end(f.year)));
    let end = format!("${}", binds.len());
    let sql = format!("SELECT COUNT(*), {} FROM households h WHERE {clause}", persons_sum(&start, &end));
    let row = bind_all(sqlx::query(safe(sql)), &binds).fetch_one(store.pool()).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// One page of the households a filter selects, in 户编号 order.
pub async fn list_filtered(
    store: &Store,
    f: &HouseholdFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<FilteredLine>, StoreError> {
    let (clause, mut binds) = filter_sql(f);
    binds.push(Bind::Int(i64::from(f.year)));
    let year = format!("${}", binds.len());
    binds.push(Bind::Text(year_start(f.year)));
    let start = format!("${}", binds.len());
    binds.push(Bind::Text(year_end(f.year)));
    let end = format!("${}", binds.len());
    binds.push(Bind::Int(limit));
    let lim = format!("${}", binds.len());
    binds.push(Bind::Int(offset));
    let off = format!("${}", binds.len());
    let sql = format!(
        "SELECT h.hh_id, h.village_code, d.name, \
           (SELECT p.name FROM persons p WHERE p.hh_id = h.hh_id AND p.relation = '01' AND {present} \
            ORDER BY p.person_id LIMIT 1), \
           h.group_no, {status}, h.exit_year, h.monitor_type, \
           (SELECT COUNT(*) FROM persons p WHERE p.hh_id = h.hh_id AND {counted}) \
         FROM households h LEFT JOIN divisions d ON d.code = h.village_code \
         WHERE {clause} ORDER BY h.hh_id LIMIT {lim} OFFSET {off}",
        status = status_in_year(&year),
        present = present("p"),
        counted = counted_in_year("p", &start, &end),
    );
    let rows = bind_all(sqlx::query(safe(sql)), &binds).fetch_all(store.pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(FilteredLine {
            hh_id: r.try_get(0)?,
            village_code: r.try_get(1)?,
            village_name: r.try_get(2)?,
            head_name: r.try_get(3)?,
            group_no: r.try_get(4)?,
            status: r.try_get(5)?,
            exit_year: r.try_get(6)?,
            monitor_type: r.try_get(7)?,
            persons: r.try_get(8)?,
        });
    }
    Ok(out)
}
