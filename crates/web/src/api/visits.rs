//! The API answers for a household's visits: read them, and record one (idempotent
//! by its key like the page's form), with the pages' scope checks (a household outside
//! the caller's scope is 404) and masking (ID numbers in free text scrubbed).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_store::StoreError;
use fupin_store::visits::{self, MAX_NOTES_CHARS, Mode, NewVisit, Visit};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult};
use crate::AppState;
use crate::display::scrub_ids;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;

/// The newest visits a visits answer holds.
pub(crate) const VISITS_LIMIT: i64 = 200;
/// A visit body larger than this is refused.
const MAX_BODY_BYTES: usize = 4 * MAX_NOTES_CHARS + 1024;

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
