//! The API answers for the dashboard, a household's visits (read and record), the
//! offline corrections awaiting review and the findings worklist: the same store
//! queries as the pages (`pages::dashboard`, `pages::visit`, `pages::review`,
//! `pages::findings`), the same scope checks (outside the caller's area is 404) and
//! the same masking (ID numbers in free text scrubbed, personal columns masked). One
//! finding, and its explanation proposed, confirmed or rejected, go through the
//! worklist page's own checks (`pages::findings::explain`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_domain::exit_policy::ExitPolicy;
use fupin_domain::schema::{self, HOUSEHOLDS, PERSONS};
use fupin_domain::{DivisionCode, DivisionLevel, HouseholdId, Value};
use fupin_store::StoreError;
use fupin_store::dashboard_views::{self, Quarter, STATUSES, StatusFigures};
use fupin_store::findings::{self, Finding, Status};
use fupin_store::findings_worklist::{self as worklist, StateFilter, WorkFilter};
use fupin_store::visits::{self, MAX_NOTES_CHARS, Mode, NewVisit, Visit};
use fupin_store::{offline_edits, views};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, AreaRef, area_ref, code_in_scope};
use crate::AppState;
use crate::display::{cell, raw, scrub_ids};
use crate::pages::dashboard::year_of;
use crate::pages::findings::Action;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;

/// The newest visits a visits answer holds.
pub(crate) const VISITS_LIMIT: i64 = 200;
/// The most corrections a review answer holds (as on the review page).
pub(crate) const REVIEW_LIMIT: i64 = 200;
/// Findings on one page of the worklist (as on the worklist page).
pub(crate) const FINDINGS_PER_PAGE: i64 = 50;
/// A visit body larger than this is refused.
const MAX_BODY_BYTES: usize = 4 * MAX_NOTES_CHARS + 1024;

// ---------------------------------------------------------------- dashboard

#[derive(Deserialize)]
pub(crate) struct YearParams {
    year: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct StatusCount {
    status: &'static str,
    label: String,
    households: i64,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct StatusJson {
    by_status: Vec<StatusCount>,
    households: i64,
    persons: i64,
    monitored_households: i64,
    monitored_persons: i64,
    poor_persons: i64,
    /// 贫困发生率 in percent; `None` for an area without persons.
    incidence_percent: Option<f64>,
    below_threshold: bool,
}

#[derive(Serialize)]
pub(crate) struct ChildFigures {
    code: String,
    name: String,
    #[serde(flatten)]
    figures: StatusJson,
}

#[derive(Serialize)]
pub(crate) struct ExitJson {
    year: i32,
    households: i64,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct MonitorJson {
    monitor_type: String,
    label: String,
    open: i64,
    cleared: i64,
}

#[derive(Serialize)]
pub(crate) struct VisitCompliance {
    code: String,
    name: String,
    due: i64,
    visited: i64,
    missed: i64,
    rate_percent: f64,
}

#[derive(Serialize)]
pub(crate) struct VisitsJson {
    quarter_start: String,
    quarter_end: String,
    children: Vec<VisitCompliance>,
}

#[derive(Serialize)]
pub(crate) struct DashboardAnswer {
    area: AreaRef,
    year: i32,
    /// The exit threshold of 贫困发生率 (percent) for the year, when the policy has one.
    threshold_percent: Option<f64>,
    threshold_note: Option<String>,
    children: Vec<ChildFigures>,
    /// `None` (and `children`, `exits`, `monitoring` and the visits empty) for the
    /// parts a department officer does not see, as on the page.
    total: Option<StatusJson>,
    exits: Vec<ExitJson>,
    monitoring: Vec<MonitorJson>,
    visits: VisitsJson,
}

fn status_json(state: &AppState, f: &StatusFigures, threshold: Option<f64>) -> StatusJson {
    let all = f.total_persons();
    let incidence = (all > 0).then(|| f.poor_persons() as f64 * 100.0 / all as f64);
    StatusJson {
        by_status: STATUSES
            .iter()
            .enumerate()
            .map(|(i, s)| StatusCount {
                status: s,
                label: state.codes.label("household_status", s).to_owned(),
                households: f.households[i],
                persons: f.persons[i],
            })
            .collect(),
        households: f.total_households(),
        persons: all,
        monitored_households: f.monitored_households,
        monitored_persons: f.monitored_persons,
        poor_persons: f.poor_persons(),
        incidence_percent: incidence,
        below_threshold: matches!((incidence, threshold), (Some(r), Some(t)) if r < t),
    }
}

/// `GET /api/v1/dashboard/{code}?year=`: the dashboard's figures of an area for a year.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<YearParams>,
) -> ApiResult<DashboardAnswer> {
    let code = code_in_scope(&user, &code)?;
    let year = year_of(&state, q.year.as_deref());
    let area = views::division(&state.store, &code).await?.ok_or_else(ApiError::not_found)?;
    let children = match code.level() {
        DivisionLevel::County | DivisionLevel::Township => views::children(&state.store, &code).await?,
        DivisionLevel::Village => vec![area.clone()],
        _ => return Err(ApiError::not_found()),
    };
    let by_child = dashboard_views::status_by_child(&state.store, &code, year).await?;
    let figures = |c: &str| by_child.iter().find(|(k, _)| k == c).map(|(_, f)| *f).unwrap_or_default();
    let mut total = StatusFigures::default();
    for (_, f) in &by_child {
        for i in 0..3 {
            total.households[i] += f.households[i];
            total.persons[i] += f.persons[i];
        }
        total.monitored_households += f.monitored_households;
        total.monitored_persons += f.monitored_persons;
    }
    let policy = ExitPolicy::builtin();
    let criteria = policy.for_year(year, &code.as_str()[..2]);
    let threshold = criteria.map(|c| c.village_incidence_max_percent);
    let exits = dashboard_views::exits_by_year(&state.store, &code, year).await?;
    let monitoring = dashboard_views::monitoring_by_type(&state.store, &code, year).await?;
    let quarter = Quarter::for_year(year, state.config.today);
    let visits = dashboard_views::visits_by_child(&state.store, &code, year, &quarter).await?;
    let visit_of = |c: &str| visits.iter().find(|(k, _, _)| k == c).map(|(_, d, v)| (*d, *v)).unwrap_or((0, 0));
    let shown = crate::pages::households::Shown::of(&user);
    let visits_shown = user.user.role != fupin_store::users::Role::DepartmentOfficer;
    Ok(Json(DashboardAnswer {
        year,
        threshold_percent: threshold,
        threshold_note: criteria.map(|c| c.note.clone()),
        children: children
            .iter()
            .filter(|_| shown.status)
            .map(|d| ChildFigures {
                code: d.code.clone(),
                name: d.name.clone(),
                figures: status_json(&state, &figures(&d.code), threshold),
            })
            .collect(),
        total: shown.status.then(|| status_json(&state, &total, threshold)),
        exits: exits
            .into_iter()
            .filter(|_| shown.exit_year)
            .map(|(year, households, persons)| ExitJson { year, households, persons })
            .collect(),
        monitoring: monitoring
            .into_iter()
            .filter(|_| shown.monitor_type)
            .map(|m| MonitorJson {
                label: state.codes.label("monitor_type", &m.monitor_type).to_owned(),
                monitor_type: m.monitor_type,
                open: m.open,
                cleared: m.cleared,
            })
            .collect(),
        visits: VisitsJson {
            children: children
                .iter()
                .filter(|d| visits_shown && visit_of(&d.code).0 > 0)
                .map(|d| {
                    let (due, visited) = visit_of(&d.code);
                    VisitCompliance {
                        code: d.code.clone(),
                        name: d.name.clone(),
                        due,
                        visited,
                        missed: due - visited,
                        rate_percent: visited as f64 * 100.0 / due as f64,
                    }
                })
                .collect(),
            quarter_start: quarter.start,
            quarter_end: quarter.end,
        },
        area: area.into(),
    }))
}

// ---------------------------------------------------------------- visits

#[derive(Serialize)]
pub(crate) struct VisitJson {
    id: i64,
    visitor: String,
    visited_on: String,
    mode: &'static str,
    mode_label: &'static str,
    notes: String,
    created_at: String,
}

impl From<Visit> for VisitJson {
    fn from(v: Visit) -> VisitJson {
        VisitJson {
            id: v.id,
            visitor: v.visitor,
            visited_on: v.visited_on,
            mode: v.mode.as_str(),
            mode_label: v.mode.label(),
            notes: scrub_ids(&v.notes),
            created_at: v.created_at,
        }
    }
}

#[derive(Serialize)]
pub(crate) struct VisitsAnswer {
    hh_id: String,
    total: i64,
    limited: bool,
    visits: Vec<VisitJson>,
}

/// `GET /api/v1/households/{hh_id}/visits`: the household's visits, newest first.
pub(crate) async fn visits(State(state): State<AppState>, scope: HouseholdInScope) -> ApiResult<VisitsAnswer> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    let found = visits::visits_of(&state.store, &id, VISITS_LIMIT).await?;
    let total = visits::count_of(&state.store, &id).await?;
    Ok(Json(VisitsAnswer {
        limited: (found.len() as i64) < total,
        total,
        visits: found.into_iter().map(VisitJson::from).collect(),
        hh_id,
    }))
}

/// What `POST /api/v1/households/{hh_id}/visits` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitBody {
    visited_on: String,
    mode: String,
    #[serde(default)]
    notes: String,
    key: String,
}

#[derive(Serialize)]
pub(crate) struct RecordedAnswer {
    /// False when the key was sent before: the first visit, nothing written.
    new: bool,
    visit: VisitJson,
}

fn refused(message: impl Into<String>) -> ApiError {
    ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: message.into() }
}

/// `POST /api/v1/households/{hh_id}/visits`: records a visit once per key; 201 when
/// written, 200 with the first visit when the key was sent before, 422 with the reason
/// on a bad field.
pub(crate) async fn record_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: HouseholdInScope,
    body: Bytes,
) -> Result<Response, ApiError> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    if body.len() > MAX_BODY_BYTES {
        return Err(refused(format!("请求内容过长：走访情况最多 {MAX_NOTES_CHARS} 个字")));
    }
    let v: VisitBody = serde_json::from_slice(&body).map_err(|e| {
        refused(format!(
            "请求内容应为 JSON 对象 {{visited_on, mode, notes, key}}（{}）",
            scrub_ids(&e.to_string().chars().take(120).collect::<String>())
        ))
    })?;
    let t = crate::i18n::current();
    let mode =
        Mode::parse(v.mode.trim()).ok_or_else(|| refused(format!("{}（in_person 或 phone）", t.t("visit.no_mode"))))?;
    let today = state.config.today;
    let date = match fupin_domain::date::parse(v.visited_on.trim()) {
        None => return Err(refused(t.t("visit.bad_date"))),
        Some(d) if d > today => return Err(refused(t.t("visit.future"))),
        Some(d) if d < today - time::Duration::days(366) => return Err(refused(t.t("visit.too_old"))),
        Some(d) => d,
    };
    let notes = v.notes.trim();
    if notes.chars().count() > MAX_NOTES_CHARS {
        return Err(refused(t.f2("visit.notes_too_long", "max", MAX_NOTES_CHARS, "count", notes.chars().count())));
    }
    let key = v.key.trim();
    let key_ok =
        (16..=100).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !key_ok {
        return Err(refused("key 应为 16 到 100 个字母、数字、- 或 _：同一次走访重发时用同一个 key，只记录一次"));
    }
    let visit =
        NewVisit { hh_id: &hh_id, visitor: &user.user.username, visited_on: date, mode, notes, idempotency_key: key };
    let recorded = match visits::record_visit(&state.store, &visit).await {
        Ok(r) => r,
        Err(StoreError::Refused(m)) => return Err(refused(m)),
        Err(e) => return Err(e.into()),
    };
    if recorded.visit.hh_id != hh_id {
        return Err(refused("这个 key 已用于另一户的走访，请换一个新的 key"));
    }
    let status = if recorded.new { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(RecordedAnswer { new: recorded.new, visit: recorded.visit.into() })).into_response())
}

// ---------------------------------------------------------------- review

#[derive(Serialize)]
pub(crate) struct ReviewLine {
    key: String,
    hh_id: String,
    village_code: String,
    head_name: Option<String>,
    entity: String,
    entity_key: String,
    field: String,
    /// The value now, as shown (code labels, personal numbers masked).
    current: String,
    proposed: String,
    reason: String,
    submitted_by: String,
    submitted_at: String,
    base_version: i64,
    found_version: i64,
}

#[derive(Serialize)]
pub(crate) struct ReviewAnswer {
    area: String,
    total: i64,
    limited: bool,
    corrections: Vec<ReviewLine>,
}

/// A value of `table.column` as the review page shows it.
fn shown(state: &AppState, table: &str, column: &str, text: &str) -> String {
    match schema::table(table).and_then(|t| t.column(column)) {
        Some(col) => {
            let value = if text.is_empty() { Value::Null } else { Value::Text(text.to_owned()) };
            cell(col, &value, &state.codes)
        }
        None => scrub_ids(text),
    }
}

/// `GET /api/v1/review`: the offline corrections awaiting review in the caller's area.
pub(crate) async fn review(State(state): State<AppState>, user: CurrentUser) -> ApiResult<ReviewAnswer> {
    let pending = offline_edits::pending_in(&state.store, user.area(), REVIEW_LIMIT).await?;
    let total = offline_edits::pending_count(&state.store, user.area()).await?;
    let mut corrections = Vec::with_capacity(pending.len());
    for e in pending {
        // A stored key always has a key's shape: one that does not is no household.
        let hh = HouseholdId::parse(&e.hh_id).map_err(|_| ApiError::not_found())?;
        let persons = views::persons_of(&state.store, &hh).await?;
        let head_name = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
        let current = if e.entity == "households" {
            views::household(&state.store, &hh).await?.map(|r| raw(&HOUSEHOLDS, &r, &e.field)).unwrap_or_default()
        } else {
            persons
                .iter()
                .find(|p| raw(&PERSONS, p, "person_id") == e.entity_key)
                .map(|p| raw(&PERSONS, p, &e.field))
                .unwrap_or_default()
        };
        corrections.push(ReviewLine {
            current: shown(&state, &e.entity, &e.field, &current),
            proposed: shown(&state, &e.entity, &e.field, &e.proposed_value),
            reason: scrub_ids(&e.reason),
            key: e.idempotency_key,
            hh_id: e.hh_id,
            village_code: e.village_code,
            head_name,
            entity: e.entity,
            entity_key: e.entity_key,
            field: e.field,
            submitted_by: e.submitted_by,
            submitted_at: e.submitted_at,
            base_version: e.base_version,
            found_version: e.found_version,
        });
    }
    Ok(Json(ReviewAnswer {
        area: user.area().to_string(),
        limited: (corrections.len() as i64) < total,
        total,
        corrections,
    }))
}

// ---------------------------------------------------------------- findings

#[derive(Deserialize)]
pub(crate) struct FindingsParams {
    area: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    year: Option<String>,
    page: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct FindingJson {
    id: i64,
    rule_id: String,
    /// The rule's Chinese title.
    title: String,
    severity: String,
    level: String,
    year: i32,
    hh_id: Option<String>,
    village_code: Option<String>,
    entity: String,
    /// `open`, `proposed`, `explained` or `fixed`.
    status: &'static str,
    /// The finding's explanation with personal values masked.
    explanation: String,
    values: serde_json::Value,
    proposed_by: Option<String>,
    proposed_reason: Option<String>,
    first_seen: String,
    last_seen: String,
}

#[derive(Serialize)]
pub(crate) struct FindingsAnswer {
    area: AreaRef,
    page: i64,
    pages: i64,
    per_page: i64,
    total: i64,
    findings: Vec<FindingJson>,
}

fn finding_json(f: Finding) -> FindingJson {
    let pending = findings::is_pending(&f);
    let status = match f.status {
        Status::Open if pending => StateFilter::Proposed,
        Status::Open => StateFilter::Open,
        Status::Explained => StateFilter::Explained,
        Status::Fixed => StateFilter::Fixed,
    };
    let values = serde_json::from_str(&f.masked_value_json)
        .unwrap_or_else(|_| serde_json::Value::String(scrub_ids(&f.masked_value_json)));
    FindingJson {
        id: f.id,
        entity: f.person_id.clone().unwrap_or_else(|| f.entity_key.clone()),
        title: crate::checks::title(&f.rule_id),
        rule_id: f.rule_id,
        severity: f.severity,
        level: f.level,
        year: f.year,
        hh_id: f.hh_id,
        village_code: f.village_code,
        status: status.as_str(),
        explanation: f.masked_explanation,
        values,
        proposed_by: f.proposed_by,
        proposed_reason: f.proposed_reason.as_deref().map(scrub_ids),
        first_seen: f.first_seen,
        last_seen: f.last_seen,
    }
}

/// `GET /api/v1/findings?area=&rule=&severity=&status=&year=&page=`: the worklist.
pub(crate) async fn findings(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FindingsParams>,
) -> ApiResult<FindingsAnswer> {
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let area: DivisionCode = match text(&q.area) {
        Some(a) => code_in_scope(&user, &a)?,
        None => user.area().clone(),
    };
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, m);
    let severity = text(&q.severity);
    if severity.as_deref().is_some_and(|s| !["error", "warning", "info"].contains(&s)) {
        return Err(bad("severity 应为 error、warning 或 info"));
    }
    let status = match text(&q.status) {
        Some(s) => Some(StateFilter::parse(&s).ok_or_else(|| bad("status 应为 open、proposed、explained 或 fixed"))?),
        None => None,
    };
    let year = match text(&q.year) {
        Some(y) => Some(y.parse::<i32>().map_err(|_| bad("year 应为四位年份"))?),
        None => None,
    };
    let rules = crate::checks::visible_rules(&user);
    let filter = WorkFilter {
        area: area.to_string(),
        year,
        rule_id: text(&q.rule),
        severity,
        state: status,
        hh_id: None,
        rules,
    };
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = (page - 1).saturating_mul(FINDINGS_PER_PAGE);
    let (found, total) = worklist::page(&state.store, &filter, offset, FINDINGS_PER_PAGE).await?;
    let pages = ((total + FINDINGS_PER_PAGE - 1) / FINDINGS_PER_PAGE).max(1);
    Ok(Json(FindingsAnswer {
        area: area_ref(&state, &area).await?,
        page,
        pages,
        per_page: FINDINGS_PER_PAGE,
        total,
        findings: found.into_iter().map(|w| finding_json(w.finding)).collect(),
    }))
}

// ---------------------------------------------------------------- one finding

/// A finding with its explanation's whole course: who proposed, who confirmed, and each
/// step as recorded in the change history.
#[derive(Serialize)]
pub(crate) struct FindingAnswer {
    #[serde(flatten)]
    finding: FindingJson,
    proposed_at: Option<String>,
    confirmed_by: Option<String>,
    confirmed_at: Option<String>,
    fixed_at: Option<String>,
    /// The explanation steps (proposed, confirmed, rejected), oldest first.
    history: Vec<super::ChangeJson>,
}

async fn finding_answer(state: &AppState, user: &CurrentUser, f: Finding) -> Result<FindingAnswer, ApiError> {
    let events = findings::events_of(&state.store, &f).await?;
    let history = events.iter().filter_map(|r| user.visible_record(r)).map(super::change_json).collect();
    Ok(FindingAnswer {
        proposed_at: f.proposed_at.clone(),
        confirmed_by: f.confirmed_by.clone(),
        confirmed_at: f.confirmed_at.clone(),
        fixed_at: f.fixed_at.clone(),
        finding: finding_json(f),
        history,
    })
}

/// `GET /api/v1/findings/{id}`: one finding inside the caller's scope (a helper cadre:
/// of a paired household), with its explanation's history; 404 otherwise.
pub(crate) async fn finding(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<FindingAnswer> {
    let f = crate::pages::findings::finding_in_scope(&state, &user, &id).await?;
    Ok(Json(finding_answer(&state, &user, f).await?))
}

/// What `POST /api/v1/findings/{id}` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainBody {
    action: String,
    #[serde(default)]
    reason: String,
}

/// An explanation body larger than this is refused (a reason holds at most 500 characters).
const MAX_EXPLAIN_BYTES: usize = 4 * 500 + 1024;

/// `POST /api/v1/findings/{id}`: proposes, confirms or rejects an explanation with the
/// worklist form's checks (`pages::findings::explain`); answers the finding as it is
/// now. 403 for a role that may not take the step, 404 outside the caller's scope, 422
/// with the reason when the body or the finding's state does not allow it.
pub(crate) async fn explain_finding(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<FindingAnswer> {
    if body.len() > MAX_EXPLAIN_BYTES {
        return Err(refused("请求内容过长：理由最多 500 个字"));
    }
    let b: ExplainBody = serde_json::from_slice(&body).map_err(|e| {
        refused(format!(
            "请求内容应为 JSON 对象 {{action, reason}}，action 为 propose、confirm 或 reject（{}）",
            scrub_ids(&e.to_string().chars().take(120).collect::<String>())
        ))
    })?;
    let t = crate::i18n::current();
    let f =
        crate::pages::findings::explain(&state, t, &user, &id, &b.action, &b.reason).await.map_err(|e| match e {
            crate::WebError::Forbidden if crate::pages::edit::may_edit(user.user.role) => {
                ApiError::forbidden("只有乡镇干部和县级管理员可以确认或退回说明")
            }
            crate::WebError::Forbidden => ApiError::forbidden("只有县级管理员、乡镇干部和村干部可以说明问题"),
            crate::WebError::BadRequest(m) if Action::parse(&b.action).is_none() => {
                refused(format!("{m}：action 应为 propose、confirm 或 reject"))
            }
            crate::WebError::BadRequest(m) => refused(m),
            other => other.into(),
        })?;
    Ok(Json(finding_answer(&state, &user, f).await?))
}
