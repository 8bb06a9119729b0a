//! The API answers for the findings worklist, one finding with its explanation's
//! history, and an explanation proposed, confirmed or rejected: `fupin_app::findings`
//! decides what the caller sees and may do (as for the worklist page), and this module
//! turns its answers into JSON (ID numbers in free text scrubbed).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fupin_app::AppError;
use fupin_app::findings::{self as app, Action, PER_PAGE as FINDINGS_PER_PAGE};
use fupin_store::findings::Finding;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, AreaRef, area_ref};
use crate::AppState;
use crate::display::scrub_ids;
use crate::session::CurrentUser;

/// A refusal (422) with the reason.
fn refused(message: impl Into<String>) -> ApiError {
    ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: message.into() }
}

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
    let status = app::state_of(&f);
    let values = serde_json::from_str(&f.masked_value_json)
        .unwrap_or_else(|_| serde_json::Value::String(scrub_ids(&f.masked_value_json)));
    FindingJson {
        id: f.id,
        entity: f.person_id.clone().unwrap_or_else(|| f.entity_key.clone()),
        title: app::title(&f.rule_id),
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
    let asked =
        app::WorkQuery { area: q.area, rule: q.rule, severity: q.severity, status: q.status, year: q.year, hh: None };
    let filter = app::strict_filter(&user, &asked)?;
    let found = app::page(&state.store, &filter, app::page_number(q.page.as_deref())).await?;
    let area = fupin_domain::DivisionCode::parse(&filter.area).map_err(|_| ApiError::not_found())?;
    Ok(Json(FindingsAnswer {
        area: area_ref(&state, &area).await?,
        page: found.page,
        pages: found.pages,
        per_page: FINDINGS_PER_PAGE,
        total: found.total,
        findings: found.lines.into_iter().map(|w| finding_json(w.finding)).collect(),
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
    history: Vec<super::households::ChangeJson>,
}

async fn finding_answer(state: &AppState, user: &CurrentUser, f: Finding) -> Result<FindingAnswer, ApiError> {
    let history = app::history(&state.store, user, &f).await?.into_iter().map(super::households::change_json).collect();
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
    let f = app::finding_in_scope(&state.store, &user, &id).await?;
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

/// An explanation body larger than this is refused (a reason holds at most
/// [`app::MAX_REASON`] characters).
const MAX_EXPLAIN_BYTES: usize = 4 * app::MAX_REASON + 1024;

/// `POST /api/v1/findings/{id}`: proposes, confirms or rejects an explanation with the
/// worklist form's checks (`fupin_app::findings::explain`); answers the finding as it is
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
    let f = app::explain(&state.store, &user, &id, &b.action, &b.reason).await.map_err(|e| match e {
        AppError::Forbidden if app::may_propose(user.user.role) => {
            ApiError::forbidden("只有乡镇干部和县级管理员可以确认或退回说明")
        }
        AppError::Forbidden => ApiError::forbidden("只有县级管理员、乡镇干部和村干部可以说明问题"),
        AppError::BadRequest(m) if Action::parse(&b.action).is_none() => {
            refused(format!("{m}：action 应为 propose、confirm 或 reject"))
        }
        AppError::BadRequest(m) => refused(m),
        other => other.into(),
    })?;
    Ok(Json(finding_answer(&state, &user, f).await?))
}
