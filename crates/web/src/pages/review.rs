//! 待审核的离线更正: corrections sent from phones that met a household changed after
//! the page they were based on (see [`super::my_change`]). A cadre of the area sees
//! each with the value it would replace, the proposed value and the changes made in
//! between (the household's history), and applies it — re-based on the household as
//! the reviewer sees it, through the store's operations, so it lands in the change
//! history — or discards it, each with a reason that is recorded.
//!
//! Policy `RegistryEditor`; a proposal whose household lies outside the user's area
//! answers 404 like one that does not exist.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_domain::schema::{self, HOUSEHOLDS, PERSONS};
use fupin_domain::{DivisionCode, HouseholdId, Value};
use fupin_store::offline_edits::{self, Decision, OfflineEdit, Status};
use fupin_store::operations::{self, OpError};
use fupin_store::views;

use super::edit::{Editor, Flash, flash_cookie, take_flash};
use super::my_change::field_label;
use super::{Nav, html};
use crate::display::{actor, beijing, cell, raw, scrub_ids};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// Longest review list shown.
const LIST_LIMIT: i64 = 200;
/// Change records shown as "changed meanwhile".
const HISTORY_LIMIT: i64 = 50;

/// How many flagged corrections await review in `area` (inside the user's own), for
/// the roles that review them; `None` for the others.
pub(crate) async fn pending_here(
    state: &AppState,
    user: &CurrentUser,
    area: &DivisionCode,
) -> Result<Option<i64>, WebError> {
    if !super::edit::may_edit(user.user.role) || !user.may_see(area) {
        return Ok(None);
    }
    Ok(Some(offline_edits::pending_count(&state.store, area).await?))
}

/// The words of a proposal's state: 待审核, 已采纳, 已放弃.
pub(crate) fn status_label(t: Tr, status: Status) -> &'static str {
    match status {
        Status::Pending => t.t("review.status.pending"),
        Status::Applied => t.t("review.status.applied"),
        Status::Discarded => t.t("review.status.discarded"),
    }
}

/// A proposal as the pages show it: values labelled and masked.
struct Line {
    key: String,
    hh_id: String,
    head: String,
    whose: String,
    field: String,
    current: String,
    proposed: String,
    reason: String,
    submitted_by: String,
    submitted_at: String,
    base_version: i64,
    found_version: i64,
    status: &'static str,
    decided: Option<String>,
}

/// A value of `table.column` as shown (code labels, personal numbers masked).
fn shown(t: Tr, state: &AppState, table: &str, column: &str, text: &str) -> String {
    match schema::table(table).and_then(|t| t.column(column)) {
        Some(col) => {
            let value = if text.is_empty() { Value::Null } else { Value::Text(text.to_owned()) };
            let s = cell(col, &value, &state.codes);
            if s.is_empty() { t.t("review.empty_value").to_owned() } else { s }
        }
        None => scrub_ids(text),
    }
}

/// The household key a stored correction names (a key's shape, as it was checked when
/// the correction arrived); one that is not answers like a missing household.
fn stored_key(e: &OfflineEdit) -> Result<HouseholdId, WebError> {
    HouseholdId::parse(&e.hh_id).map_err(|_| WebError::NotFound)
}

async fn line(t: Tr, state: &AppState, e: &OfflineEdit) -> Result<Line, WebError> {
    let persons = views::persons_of(&state.store, &stored_key(e)?).await?;
    let head = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
    let (current, whose) = if e.entity == "households" {
        let row = views::household(&state.store, &stored_key(e)?).await?;
        let text = row.map(|r| raw(&HOUSEHOLDS, &r, &e.field)).unwrap_or_default();
        (text, t.t("edit.correct.this_household").to_owned())
    } else {
        let p = persons.iter().find(|p| raw(&PERSONS, p, "person_id") == e.entity_key);
        match p {
            Some(p) => (raw(&PERSONS, p, &e.field), raw(&PERSONS, p, "name")),
            None => (String::new(), t.f1("review.gone", "key", &e.entity_key)),
        }
    };
    let decided = e.decided_by.as_ref().map(|by| {
        let at = e.decided_at.as_deref().map(beijing).unwrap_or_default();
        let who = t.f2("review.decided_by", "by", by, "at", at);
        let why = e.decision_reason.as_deref().map(scrub_ids).unwrap_or_default();
        t.f3("review.decided", "who", who, "status", status_label(t, e.status), "reason", why)
    });
    Ok(Line {
        key: e.idempotency_key.clone(),
        hh_id: e.hh_id.clone(),
        head: head.unwrap_or_default(),
        whose,
        field: field_label(t, &e.entity, &e.field),
        current: shown(t, state, &e.entity, &e.field, &current),
        proposed: shown(t, state, &e.entity, &e.field, &e.proposed_value),
        reason: scrub_ids(&e.reason),
        submitted_by: e.submitted_by.clone(),
        submitted_at: beijing(&e.submitted_at),
        base_version: e.base_version,
        found_version: e.found_version,
        status: status_label(t, e.status),
        decided,
    })
}

#[derive(Template)]
#[template(path = "review_list.html")]
struct ListPage {
    t: Tr,
    nav: Option<Nav>,
    lines: Vec<Line>,
    total: i64,
    /// More await review than the list shows.
    limited: bool,
    flash: Option<Flash>,
}

/// `GET /review`: the flagged corrections awaiting review in the user's area.
pub(crate) async fn list(
    State(state): State<AppState>,
    Editor(user): Editor,
    t: Tr,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Response, WebError> {
    let pending = offline_edits::pending_in(&state.store, user.area(), LIST_LIMIT).await?;
    let total = offline_edits::pending_count(&state.store, user.area()).await?;
    let mut lines = Vec::with_capacity(pending.len());
    for e in &pending {
        lines.push(line(t, &state, e).await?);
    }
    if super::edit_xlsx::wants_xlsx(q.format.as_deref()) {
        return list_xlsx(user.area(), lines);
    }
    let (flash, clear) = take_flash(&headers).unzip();
    let limited = (lines.len() as i64) < total;
    let page = ListPage { t, nav: Some(Nav::of(&state, &user).await?), lines, total, limited, flash };
    let body = html(&page)?;
    Ok(match clear {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], body).into_response(),
        None => body.into_response(),
    })
}

/// One change record made between the proposal's base version and now.
struct Meanwhile {
    seq: i64,
    at: String,
    actor: String,
    what: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "review_show.html")]
struct ShowPage {
    t: Tr,
    nav: Option<Nav>,
    line: Line,
    pending: bool,
    version: i64,
    meanwhile: Vec<Meanwhile>,
    error: Option<String>,
    flash: Option<Flash>,
}

/// The proposal under a key, if its household lies inside the user's area.
async fn in_area(state: &AppState, user: &CurrentUser, key: &str) -> Result<OfflineEdit, WebError> {
    let e = offline_edits::by_key(&state.store, key).await?.ok_or(WebError::NotFound)?;
    let village = DivisionCode::parse(&e.village_code).map_err(|_| WebError::NotFound)?;
    if !user.may_see(&village) {
        return Err(WebError::NotFound);
    }
    // The household may have moved village since: its village now must be inside too.
    if let Some(row) = views::household(&state.store, &stored_key(&e)?).await? {
        let now = DivisionCode::parse(&raw(&HOUSEHOLDS, &row, "village_code")).map_err(|_| WebError::NotFound)?;
        if !user.may_see(&now) {
            return Err(WebError::NotFound);
        }
    }
    Ok(e)
}

async fn show_page(
    t: Tr,
    state: &AppState,
    user: &CurrentUser,
    e: &OfflineEdit,
    status: StatusCode,
    error: Option<String>,
    flash: Option<Flash>,
) -> Result<Response, WebError> {
    let history = views::history_of(&state.store, &stored_key(e)?, HISTORY_LIMIT).await?;
    let meanwhile = history
        .into_iter()
        .filter(|c| c.seq > e.base_version)
        .map(|c| {
            let table = schema::table(&c.entity);
            let what = match (&c.field, table) {
                (Some(f), Some(tbl)) => {
                    let header = tbl.column(f).map(|col| col.header).unwrap_or(f.as_str());
                    let old = c.old_value.as_deref().map(|v| shown(t, state, &c.entity, f, v)).unwrap_or_default();
                    let new = c.new_value.as_deref().map(|v| shown(t, state, &c.entity, f, v)).unwrap_or_default();
                    let record = format!("{} {}", tbl.title, c.entity_key);
                    t.f3("review.meanwhile.field", "what", record, "header", header, "change", format!("{old} → {new}"))
                }
                (_, Some(tbl)) => {
                    let op = if c.op == "D" { t.t("review.meanwhile.deleted") } else { t.t("review.meanwhile.added") };
                    format!("{} {} {op}", tbl.title, c.entity_key)
                }
                _ => format!("{} {}", c.entity, c.entity_key),
            };
            Meanwhile {
                seq: c.seq,
                at: beijing(&c.at),
                actor: actor(t, &c.actor),
                what,
                reason: c.reason.as_deref().map(scrub_ids).unwrap_or_default(),
            }
        })
        .collect();
    let page = ShowPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        line: line(t, state, e).await?,
        pending: e.status == Status::Pending,
        version: operations::household_version(&state.store, &e.hh_id).await?,
        meanwhile,
        error,
        flash,
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /review/{key}`: one proposal, the current value, what changed meanwhile, and
/// the forms to apply or discard it.
pub(crate) async fn show(
    State(state): State<AppState>,
    Editor(user): Editor,
    t: Tr,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let e = in_area(&state, &user, &key).await?;
    let (flash, clear) = take_flash(&headers).unzip();
    let page = show_page(t, &state, &user, &e, StatusCode::OK, None, flash).await?;
    Ok(match clear {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], page).into_response(),
        None => page,
    })
}

/// The reviewer's form: 原因 and the household version the page showed.
fn reason_and_version(t: Tr, pairs: &[(String, String)]) -> Result<(String, Option<i64>), WebError> {
    if pairs.len() > 6 || pairs.iter().any(|(k, v)| k.len() > 40 || v.len() > 4 * offline_edits::MAX_REASON_CHARS) {
        return Err(WebError::BadRequest(t.t("review.too_long").into()));
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or("");
    Ok((get("reason").to_owned(), get("version").parse::<i64>().ok()))
}

async fn decide(
    t: Tr,
    state: AppState,
    user: CurrentUser,
    key: String,
    pairs: Vec<(String, String)>,
    apply: bool,
) -> Result<Response, WebError> {
    let e = in_area(&state, &user, &key).await?;
    let (reason, version) = reason_and_version(t, &pairs)?;
    let decision = match (apply, version) {
        (false, _) => Decision::Discard,
        (true, Some(seen_version)) => Decision::Apply { seen_version },
        (true, None) => return Err(WebError::BadRequest(t.t("review.no_version").into())),
    };
    let back = format!("/review/{key}");
    match offline_edits::decide(&state.store, &key, decision, &user.user.username, user.area(), &reason).await {
        Ok(done) => {
            tracing::info!(user = %user.user.username, key = %key, status = done.status.as_str(), "离线更正已处理");
            let (status, field) = (status_label(t, done.status), field_label(t, &done.entity, &done.field));
            let message = t.f3("review.decided_flash", "status", status, "hh_id", &done.hh_id, "field", field);
            let cookie = flash_cookie(&message, &[]);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/review")).into_response())
        }
        Err(OpError::Refused(m)) if e.status != Status::Pending => {
            // Decided already (a second tap, another reviewer): the proposal as it stands.
            let cookie = flash_cookie(&m, &[]);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&back)).into_response())
        }
        Err(OpError::Refused(m)) => {
            tracing::warn!(user = %user.user.username, key = %key, reason = %scrub_ids(&m), "离线更正处理被拒绝");
            show_page(t, &state, &user, &e, StatusCode::UNPROCESSABLE_ENTITY, Some(m), None).await
        }
        Err(c @ OpError::Conflict { .. }) => {
            show_page(t, &state, &user, &e, StatusCode::CONFLICT, Some(c.to_string()), None).await
        }
        Err(OpError::Store(s)) => Err(s.into()),
    }
}

/// `POST /review/{key}/apply`.
pub(crate) async fn apply(
    State(state): State<AppState>,
    Editor(user): Editor,
    t: Tr,
    Path(key): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    decide(t, state, user, key, pairs, true).await
}

/// `POST /review/{key}/discard`.
pub(crate) async fn discard(
    State(state): State<AppState>,
    Editor(user): Editor,
    t: Tr,
    Path(key): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    decide(t, state, user, key, pairs, false).await
}

/// `/review?format=xlsx`: the list as a download.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    format: Option<String>,
}

/// The corrections awaiting review as a workbook, values as shown on the list.
fn list_xlsx(area: &DivisionCode, lines: Vec<Line>) -> Result<Response, WebError> {
    use super::edit_xlsx::XCell::Text;
    let headers = ["户编号", "户主", "对象", "字段", "现值", "更正为", "原因", "提交人", "提交时间"];
    let rows: Vec<Vec<super::edit_xlsx::XCell>> = lines
        .into_iter()
        .map(|l| {
            [l.hh_id, l.head, l.whose, l.field, l.current, l.proposed, l.reason, l.submitted_by, l.submitted_at]
                .into_iter()
                .map(Text)
                .collect()
        })
        .collect();
    let bytes = super::edit_xlsx::workbook("待审核更正", &headers, &rows)?;
    Ok(super::edit_xlsx::download(&format!("review-{area}.xlsx"), bytes))
}
