//! The JSON API under `/api/v1`: the same records the pages show, for scripts and
//! other systems, with the same scope checks (a record outside the caller's area is
//! 404) and the same masking (ID numbers, phones and bank accounts leave the server
//! masked). The API reads; it writes two things: a visit ([`visits::record_visit`]),
//! idempotent by its key like the page's form, and an explanation of a finding
//! ([`findings::explain_finding`]), through the worklist form's own checks.
//!
//! A caller is either a browser with the pages' session cookie or a script with a
//! personal access token (`Authorization: Bearer …`, created on `/account/tokens`),
//! which acts with its owner's role and area. Errors are JSON `{"error": "…"}` in
//! Chinese; an unauthenticated call is 401, never a redirect.
//!
//! [`openapi`] serves the OpenAPI document that describes every route here.
//!
//! [`error`] holds the error answer and how a caller is authenticated; [`households`]
//! the area, household list, household and history answers.

pub(crate) mod dashboard;
pub(crate) mod error;
pub(crate) mod findings;
pub(crate) mod households;
pub(crate) mod openapi;
pub(crate) mod review;
pub(crate) mod tokens;
pub(crate) mod visits;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use fupin_domain::DivisionCode;
use fupin_domain::schema::Personal;
use fupin_store::views::{self, Counts, DivisionRow, SearchQuery};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::display::masked;
use crate::session::CurrentUser;
use fupin_app::search::classify;

pub(crate) use error::{ApiError, ApiResult, authenticate};

/// At most this many search hits.
pub(crate) const SEARCH_LIMIT: i64 = fupin_app::search::LIMIT;

// ---------------------------------------------------------------- answers

/// A division: code, name, level (`county`, `township`, `village`).
#[derive(Serialize)]
pub(crate) struct AreaRef {
    code: String,
    name: String,
    level: String,
}

impl From<DivisionRow> for AreaRef {
    fn from(d: DivisionRow) -> AreaRef {
        AreaRef { code: d.code, name: d.name, level: d.level }
    }
}

/// An area's figures, as the overview pages show them.
#[derive(Serialize)]
pub(crate) struct CountsJson {
    households: i64,
    persons: i64,
    /// The counts by 户类型: null for a user who does not see it (a department officer
    /// of another department than 乡村振兴), as on the pages.
    poor: Option<i64>,
    exited: Option<i64>,
    monitored: Option<i64>,
}

impl CountsJson {
    pub(super) fn of(c: Counts, user: &CurrentUser) -> CountsJson {
        let shown = crate::pages::area::status_counts(user);
        CountsJson {
            households: c.households,
            persons: c.persons,
            poor: shown.then_some(c.poor),
            exited: shown.then_some(c.exited),
            monitored: shown.then_some(c.monitored),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct SearchHit {
    hh_id: String,
    village_code: String,
    village_name: Option<String>,
    name: Option<String>,
    relation: Option<String>,
    relation_label: Option<String>,
    id_number: Option<String>,
    status: String,
    status_label: String,
    /// 人员状态 of a former member found by search (`2` 死亡, `3` 婚出, `4` 迁出), as the
    /// page marks them; null for a member (or for a role that may not see the column).
    person_status: Option<String>,
    person_status_label: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct SearchAnswer {
    /// What was searched for; empty when it was a whole ID number.
    q: String,
    limited: bool,
    hits: Vec<SearchHit>,
}

#[derive(Serialize)]
pub(crate) struct MeAnswer {
    username: String,
    display_name: String,
    role: &'static str,
    role_label: &'static str,
    area: AreaRef,
}

// ---------------------------------------------------------------- helpers

/// A division code from a URL inside the caller's area, else 404.
pub(super) fn code_in_scope(user: &CurrentUser, code: &str) -> Result<DivisionCode, ApiError> {
    let code = DivisionCode::parse(code).map_err(|_| ApiError::not_found())?;
    if !user.may_see(&code) {
        return Err(ApiError::not_found());
    }
    Ok(code)
}

pub(super) async fn area_ref(state: &AppState, code: &DivisionCode) -> Result<AreaRef, ApiError> {
    Ok(views::division(&state.store, code).await?.ok_or_else(ApiError::not_found)?.into())
}

// ---------------------------------------------------------------- handlers

/// `GET /api/v1/me`.
pub(crate) async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<MeAnswer> {
    let area = match views::division(&state.store, user.area()).await? {
        Some(d) => d.into(),
        None => AreaRef {
            code: user.area().to_string(),
            name: user.area().to_string(),
            level: format!("{:?}", user.area().level()).to_lowercase(),
        },
    };
    let u = user.user;
    Ok(Json(MeAnswer {
        username: u.username,
        display_name: u.display_name,
        role: u.role.as_str(),
        role_label: u.role.label(),
        area,
    }))
}

#[derive(Deserialize)]
pub(crate) struct SearchParams {
    q: Option<String>,
}

/// `GET /api/v1/search?q=`: name or 户编号 inside the caller's area; a whole ID number
/// is refused (400) without a lookup: it would stand in a URL that proxies and logs
/// keep. `POST /api/v1/search` takes it in the body.
pub(crate) async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> ApiResult<SearchAnswer> {
    let q = params.q.unwrap_or_default();
    if let Some(SearchQuery::IdNumber(_)) = classify(&q) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "完整的证件号码不能放在网址中查询：请用 POST /api/v1/search，请求内容为 {\"q\": \"证件号码\"}",
        ));
    }
    search_for(&state, &user, &q).await
}

/// `POST /api/v1/search` with `{"q": "…"}`: the same answer, the query in the body.
pub(crate) async fn search_post(
    State(state): State<AppState>,
    user: CurrentUser,
    body: axum::body::Bytes,
) -> ApiResult<SearchAnswer> {
    let params: SearchParams = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "请求内容应为 JSON 对象 {\"q\": \"查询内容\"}"))?;
    search_for(&state, &user, &params.q.unwrap_or_default()).await
}

async fn search_for(state: &AppState, user: &CurrentUser, q: &str) -> ApiResult<SearchAnswer> {
    let query = classify(q)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "请给出查询内容 q：姓名、户编号或完整证件号码"))?;
    let found = fupin_app::search::search(&state.store, user, &query).await?;
    let limited = fupin_app::search::limited(&found);
    let codes = &state.codes;
    let hits: Vec<SearchHit> = found
        .into_iter()
        .map(|h| SearchHit {
            relation_label: h.relation.as_deref().map(|r| codes.label("relation", r).to_owned()),
            id_number: h.id_number.map(|n| masked(Personal::IdNumber, &n)),
            status_label: codes.label("household_status", &h.status).to_owned(),
            person_status_label: h.person_status.as_deref().map(|c| codes.label("person_status", c).to_owned()),
            person_status: h.person_status,
            hh_id: h.hh_id,
            village_code: h.village_code,
            village_name: h.village_name,
            name: h.person_name,
            relation: h.relation,
            status: h.status,
        })
        .collect();
    let q = if matches!(query, SearchQuery::IdNumber(_)) { String::new() } else { q.trim().to_owned() };
    Ok(Json(SearchAnswer { q, limited, hits }))
}
