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

pub(crate) mod dashboard;
pub(crate) mod findings;
pub(crate) mod openapi;
pub(crate) mod review;
pub(crate) mod tokens;
pub(crate) mod visits;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PAIRINGS, PERSONS, Personal, Table};
use fupin_domain::{CodeLists, DivisionCode, DivisionLevel, Value};
use fupin_store::views::{self, Counts, DivisionRow, SearchQuery};
use fupin_store::writer::ChangeRecord;
use serde::{Deserialize, Serialize};

use crate::display::{cell, masked, raw, scrub_ids};
use crate::scope::HouseholdInScope;
use crate::session::{self, CurrentUser};
use crate::{AppState, WebError};
use fupin_app::search::classify;

/// Households on one page of a village's list (as on the village page).
pub(crate) const PER_PAGE: i64 = 50;
/// The newest change records a history answer holds.
pub(crate) const HISTORY_LIMIT: i64 = 200;
/// At most this many search hits.
pub(crate) const SEARCH_LIMIT: i64 = fupin_app::search::LIMIT;

/// An API error: a status and a Chinese sentence, answered as `{"error": "…"}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: &str) -> ApiError {
        ApiError { status, message: message.to_owned() }
    }

    /// No session and no valid token.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "未登录或访问令牌无效：请先登录，或在 Authorization 标头中提供有效的访问令牌（Bearer）",
        )
    }

    /// A helper cadre asking for an area's answers: their scope is their paired
    /// households (`/api/v1/search`, `/api/v1/households/{hh_id}`), not an area.
    pub fn paired_only() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "帮扶责任人只能查看结对帮扶的农户，不能查看片区数据")
    }

    /// A role the route is not for.
    pub fn forbidden(why: &str) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, why)
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "记录不存在，或不在您的管辖范围内")
    }
}

/// The body of every error answer.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(ErrorBody { error: &self.message })).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        match e {
            WebError::NotFound => ApiError::not_found(),
            WebError::SignIn => ApiError::unauthorized(),
            WebError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "无权访问"),
            WebError::BadRequest(m) => ApiError { status: StatusCode::BAD_REQUEST, message: m },
            WebError::Refused(m) => ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, message: m },
            other => {
                tracing::error!(error = %other, "接口请求处理失败");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "服务器出错了，已记录在日志中，请稍后再试")
            }
        }
    }
}

impl From<fupin_store::StoreError> for ApiError {
    fn from(e: fupin_store::StoreError) -> ApiError {
        WebError::from(e).into()
    }
}

/// A use case's answer as the API gives it, with the pages' statuses (see
/// `From<AppError> for WebError`): 404, 403, 400, 422 with their messages, else 500.
impl From<fupin_app::AppError> for ApiError {
    fn from(e: fupin_app::AppError) -> ApiError {
        WebError::from(e).into()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The caller of an API route: a bearer token if the request carries an
/// `Authorization` header (and then only the token counts), else the session cookie.
pub(crate) async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return crate::session::current_user(state, headers).await.map_err(ApiError::from);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(ApiError::unauthorized)?;
    let user = match fupin_store::tokens::token_use(&state.store, &session::token_hash(token)).await? {
        fupin_store::tokens::TokenUse::Live(user) if !user.disabled => user,
        fupin_store::tokens::TokenUse::Expired { username, name } => {
            tracing::warn!(username = %username, token = %name, "拒绝过期的访问令牌");
            let detail = format!("令牌“{name}”已过期");
            let record = fupin_store::users::AuthRecord {
                username: &username,
                event: fupin_store::users::AuthEvent::TokenExpired,
                detail: &detail,
                actor: None,
                remote_addr: None,
            };
            fupin_store::users::log_auth(&state.store, &record).await?;
            return Err(ApiError::unauthorized());
        }
        _ => return Err(ApiError::unauthorized()),
    };
    Ok(CurrentUser::load(&state.store, user, state.config.today).await?)
}

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
    fn of(c: Counts, user: &CurrentUser) -> CountsJson {
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
pub(crate) struct AreaLine {
    #[serde(flatten)]
    area: AreaRef,
    counts: CountsJson,
}

#[derive(Serialize)]
pub(crate) struct AreaAnswer {
    #[serde(flatten)]
    area: AreaRef,
    counts: CountsJson,
    children: Vec<AreaLine>,
}

#[derive(Serialize)]
pub(crate) struct HouseholdLine {
    hh_id: String,
    head_name: Option<String>,
    group_no: Option<i64>,
    status: String,
    status_label: String,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct HouseholdList {
    village: AreaRef,
    page: i64,
    pages: i64,
    per_page: i64,
    total: i64,
    households: Vec<HouseholdLine>,
}

/// One stored value: the stored text (masked if personal), its label where a code
/// list, 是/否 or 元 reads differently, and whether it was masked.
#[derive(Serialize)]
pub(crate) struct Field {
    name: &'static str,
    header: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
}

#[derive(Serialize)]
pub(crate) struct Pairing {
    helper_id: String,
    helper_name: Option<String>,
    unit: Option<String>,
    unit_level: Option<String>,
    unit_level_label: Option<String>,
    from_date: String,
    to_date: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Row {
    fields: Vec<Field>,
}

#[derive(Serialize)]
pub(crate) struct HouseholdAnswer {
    hh_id: String,
    village: AreaRef,
    head_name: Option<String>,
    status: String,
    status_label: String,
    fields: Vec<Field>,
    members: Vec<Row>,
    incomes: Vec<Row>,
    pairings: Vec<Pairing>,
}

#[derive(Serialize)]
pub(crate) struct ChangeJson {
    seq: i64,
    at: String,
    actor: String,
    source: Option<String>,
    entity: String,
    entity_key: String,
    op: String,
    field: Option<String>,
    old_value: Option<serde_json::Value>,
    new_value: Option<serde_json::Value>,
    reason: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct HistoryAnswer {
    hh_id: String,
    limited: bool,
    records: Vec<ChangeJson>,
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

/// The stored values of a row in `table`'s column order, empty ones left out.
fn fields(table: &Table, row: &[Value], codes: &CodeLists) -> Vec<Field> {
    table
        .columns
        .iter()
        .zip(row)
        .filter_map(|(col, v)| {
            let text = v.canonical().filter(|t| !t.is_empty())?;
            let shown = cell(col, v, codes);
            Some(match col.personal {
                Some(_) => Field { name: col.name, header: col.header, value: shown, label: None, masked: true },
                None => Field {
                    name: col.name,
                    header: col.header,
                    label: (shown != text).then_some(shown),
                    value: text,
                    masked: false,
                },
            })
        })
        .collect()
}

/// A recorded value of the change history with personal values masked: a whole row
/// (JSON object) field by field, one field's value by its column.
fn recorded(table: Option<&'static Table>, field: Option<&str>, value: &Option<String>) -> Option<serde_json::Value> {
    let value = value.as_ref()?;
    let Some(table) = table else {
        return Some(serde_json::Value::String(scrub_ids(value)));
    };
    if let Some(name) = field {
        let text = match table.column(name).and_then(|c| c.personal) {
            Some(p) => masked(p, value),
            None if table.column(name).is_some() => value.clone(),
            None => scrub_ids(value),
        };
        return Some(serde_json::Value::String(text));
    }
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(value) else {
        return Some(serde_json::Value::String(scrub_ids(value)));
    };
    let map = map
        .into_iter()
        .map(|(k, v)| {
            let personal = table.column(&k).and_then(|c| c.personal);
            let v = match (personal, v) {
                (Some(p), serde_json::Value::String(s)) => serde_json::Value::String(masked(p, &s)),
                (None, serde_json::Value::String(s)) if table.column(&k).is_none() => {
                    serde_json::Value::String(scrub_ids(&s))
                }
                (_, serde_json::Value::Null) => serde_json::Value::Null,
                (None, other) => other,
                (Some(p), other) => serde_json::Value::String(masked(p, &other.to_string())),
            };
            (k, v)
        })
        .collect();
    Some(serde_json::Value::Object(map))
}

fn change_json(r: ChangeRecord) -> ChangeJson {
    let table: Option<&'static Table> = match r.entity.as_str() {
        "households" => Some(&HOUSEHOLDS),
        "persons" => Some(&PERSONS),
        "incomes" => Some(&INCOMES),
        "pairings" => Some(&PAIRINGS),
        _ => None,
    };
    let field = r.field.as_deref();
    ChangeJson {
        old_value: recorded(table, field, &r.old_value),
        new_value: recorded(table, field, &r.new_value),
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        source: r.source.as_deref().map(scrub_ids),
        entity: r.entity,
        entity_key: r.entity_key,
        op: r.op,
        field: r.field,
        reason: r.reason.as_deref().map(scrub_ids),
    }
}

/// A division code from a URL inside the caller's area, else 404.
fn code_in_scope(user: &CurrentUser, code: &str) -> Result<DivisionCode, ApiError> {
    let code = DivisionCode::parse(code).map_err(|_| ApiError::not_found())?;
    if !user.may_see(&code) {
        return Err(ApiError::not_found());
    }
    Ok(code)
}

async fn area_ref(state: &AppState, code: &DivisionCode) -> Result<AreaRef, ApiError> {
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

/// `GET /api/v1/areas/{code}`: the area's figures and its children's.
pub(crate) async fn area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<AreaAnswer> {
    let code = code_in_scope(&user, &code)?;
    let area = area_ref(&state, &code).await?;
    let counts = CountsJson::of(views::counts_in(&state.store, &code).await?, &user);
    let children = views::counts_by_child(&state.store, &code)
        .await?
        .into_iter()
        .map(|a| AreaLine { area: a.division.into(), counts: CountsJson::of(a.counts, &user) })
        .collect();
    Ok(Json(AreaAnswer { area, counts, children }))
}

/// `?page=`: anything but a positive number means the first page.
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
}

/// `GET /api/v1/areas/{code}/households?page=`: a village's households, 50 a page.
pub(crate) async fn households(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<HouseholdList> {
    let code = code_in_scope(&user, &code)?;
    if code.level() != DivisionLevel::Village {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "只有村（社区）有户列表：请给出 12 位的村级区划代码"));
    }
    let village = area_ref(&state, &code).await?;
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let (lines, total) = views::households_in_village(&state.store, &code, PER_PAGE, offset).await?;
    let codes = &state.codes;
    let households = lines
        .into_iter()
        .map(|l| {
            let status = if user.may_see_field("households", "status") { l.status } else { String::new() };
            HouseholdLine {
                status_label: codes.label("household_status", &status).to_owned(),
                hh_id: l.hh_id,
                head_name: l.head_name,
                group_no: l.group_no.filter(|_| user.may_see_field("households", "group_no")),
                status,
                persons: l.persons,
            }
        })
        .collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    Ok(Json(HouseholdList { village, page, pages, per_page: PER_PAGE, total, households }))
}

/// `GET /api/v1/households/{hh_id}`: fields, members, incomes by year, pairings.
pub(crate) async fn household(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: HouseholdInScope,
) -> ApiResult<HouseholdAnswer> {
    let HouseholdInScope { id, village } = scope;
    let hh_id = id.to_string();
    let row = views::household(&state.store, &id).await?.ok_or_else(ApiError::not_found)?;
    let codes = &state.codes;
    let persons = views::persons_of(&state.store, &id).await?;
    let incomes = views::incomes_of(&state.store, &id).await?;
    let pairings = views::pairings_of(&state.store, &id).await?;
    let head_name = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
    // A department officer gets only the identifying columns and their department's;
    // the others are not in the answer at all (empty values are left out).
    let row = user.visible(&HOUSEHOLDS, &row);
    let persons: Vec<Vec<Value>> = persons.iter().map(|p| user.visible(&PERSONS, p)).collect();
    let incomes: Vec<Vec<Value>> = incomes.iter().map(|r| user.visible(&INCOMES, r)).collect();
    let pairings = if user.may_see_field("pairings", "helper_id") { pairings } else { Vec::new() };
    let status = raw(&HOUSEHOLDS, &row, "status");
    Ok(Json(HouseholdAnswer {
        village: area_ref(&state, &village).await?,
        status_label: codes.label("household_status", &status).to_owned(),
        status,
        head_name,
        fields: fields(&HOUSEHOLDS, &row, codes),
        members: persons.iter().map(|p| Row { fields: fields(&PERSONS, p, codes) }).collect(),
        incomes: incomes.iter().map(|r| Row { fields: fields(&INCOMES, r, codes) }).collect(),
        pairings: pairings
            .into_iter()
            .map(|p| Pairing {
                unit_level_label: p.unit_level.as_deref().map(|l| codes.label("unit_level", l).to_owned()),
                helper_id: p.helper_id,
                helper_name: p.helper_name,
                unit: p.unit,
                unit_level: p.unit_level,
                from_date: p.from_date,
                to_date: p.to_date,
            })
            .collect(),
        hh_id,
    }))
}

/// `GET /api/v1/households/{hh_id}/history`: the newest change records, masked.
pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: HouseholdInScope,
) -> ApiResult<HistoryAnswer> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    let records = views::history_of(&state.store, &id, HISTORY_LIMIT).await?;
    let limited = records.len() as i64 >= HISTORY_LIMIT;
    let records = records.iter().filter_map(|r| user.visible_record(r)).map(change_json).collect();
    Ok(Json(HistoryAnswer { hh_id, limited, records }))
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "61098119900101123X";

    #[test]
    fn recorded_values_are_masked_field_by_field() {
        let whole = Some(format!(r#"{{"person_id":"P1","name":"张三","id_number":"{ID}","phone":"13812341234"}}"#));
        let v = recorded(Some(&PERSONS), None, &whole).unwrap();
        assert_eq!(v["id_number"], "610981************");
        assert_eq!(v["phone"], "138****1234");
        assert_eq!(v["name"], "张三");
        let one = recorded(Some(&PERSONS), Some("id_number"), &Some(ID.to_owned())).unwrap();
        assert_eq!(one, "610981************");
        let unknown = recorded(None, Some("x"), &Some(format!("证件 {ID}"))).unwrap();
        assert!(!unknown.to_string().contains(ID));
        let broken = recorded(Some(&PERSONS), None, &Some(format!("not json {ID}"))).unwrap();
        assert!(!broken.to_string().contains(ID));
        assert_eq!(recorded(Some(&PERSONS), None, &None), None);
    }

    #[test]
    fn fields_mask_personal_numbers_and_label_codes() {
        let codes = CodeLists::builtin();
        let mut row = vec![Value::Null; PERSONS.columns.len()];
        row[PERSONS.index_of("id_number").unwrap()] = Value::Text(ID.to_owned());
        row[PERSONS.index_of("relation").unwrap()] = Value::Text("01".to_owned());
        let f = fields(&PERSONS, &row, &codes);
        assert_eq!(f.len(), 2, "empty values are left out");
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains(ID), "{json}");
        assert!(json.contains(r#""value":"610981************","masked":true"#), "{json}");
        assert!(json.contains(r#""value":"01","label":"户主""#), "{json}");
    }
}
