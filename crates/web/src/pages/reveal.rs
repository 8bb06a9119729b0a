//! 显示号码: one personal number (a column with `Column.personal` in
//! `fupin_domain::schema`: 证件号码, 残疾证号, 联系电话, 银行账号) shown unmasked, once,
//! to a role that needs it, with a reason; and 查看记录, the log of every such reveal
//! for county administrators.
//!
//! Every page, download and API answer masks these numbers. A county admin, township
//! officer or village cadre may ask for one value of a household inside their area:
//! a same-origin POST to `/household/{hh_id}/reveal` naming the table, the row's key
//! and the column, with a required 原因. The value is never in a URL nor in any GET
//! answer; the log row (who, when, which value, why, from where) is written before the
//! value is rendered, and if it cannot be written the value is not shown. Helper
//! cadres and inspectors only ever see masks (403); a department officer reveals only
//! their own department's personal columns (`fupin_app::reveal`). The JSON API has no reveal.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_app::reveal::{self, Found, RevealError};
use fupin_domain::Value;
use fupin_domain::schema::{PERSONS, Table};
use fupin_store::reveals;
use serde::Deserialize;

use super::area::PageQuery;
use super::{Crumb, Nav, crumbs, html};
use crate::display::{beijing, raw, scrub_ids};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::{Admin, CurrentUser, RemoteAddr};
use crate::{AppState, WebError};

/// Log rows on one page of 查看记录.
const PER_PAGE: i64 = 50;

/// The 403 a role that only sees masks gets.
pub(crate) fn forbidden() -> Response {
    let t = crate::i18n::current();
    crate::error::error_page(StatusCode::FORBIDDEN, t.t("reveal.forbidden.title"), t.t("reveal.forbidden.body"))
}

/// One value a "显示" button on the household page asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RevealTarget {
    pub table: &'static str,
    pub key: String,
    pub field: &'static str,
}

impl RevealTarget {
    /// The target for column `name` of a household or person row, if that column is
    /// personal and filled.
    pub fn of(table: &'static Table, row: &[Value], name: &str) -> Option<RevealTarget> {
        let col = table.column(name).filter(|c| c.personal.is_some())?;
        if raw(table, row, name).is_empty() {
            return None;
        }
        let key = raw(table, row, table.key.first()?);
        Some(RevealTarget { table: table.name, key, field: col.name })
    }
}

/// What the form posts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RevealForm {
    #[serde(default)]
    table: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "reveal.html")]
struct RevealPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    hh_id: String,
    /// 成员 张三 的证件号码.
    label: String,
    /// The value, when shown; otherwise the form again with `message`.
    value: Option<String>,
    masked: String,
    message: String,
    /// When and why (as logged), under the shown value.
    at: String,
    reason: String,
    target: RevealTarget,
}

/// `POST /household/{hh_id}/reveal`: 404 unless the household (and the person) is in
/// the user's area; 400 for a table or column that is not a personal number; 422
/// without a reason; otherwise the log row, then the one value.
pub(crate) async fn submit(
    State(state): State<AppState>,
    tr: Tr,
    user: CurrentUser,
    RemoteAddr(remote_addr): RemoteAddr,
    scope: Result<HouseholdInScope, Response>,
    Form(form): Form<RevealForm>,
) -> Result<Response, WebError> {
    // A department officer reveals only their own department's columns (公安: 证件号码):
    // refused as such (403) before the household's scope (404) is answered.
    if !reveal::may_reveal_field(&user, &form.table, &form.field) {
        return Ok(forbidden());
    }
    let HouseholdInScope { id, village } = match scope {
        Ok(scope) => scope,
        Err(refused) => return Ok(refused),
    };
    let label = |found: &Found| match &found.person_name {
        Some(name) => tr.f2("reveal.label.person", "name", name, "field", found.column.header),
        None => tr.f2("reveal.label.household", "hh_id", &found.hh_id, "field", found.column.header),
    };
    let found = match reveal::find(&state.store, &id, &form.table, &form.key, &form.field).await {
        Ok(found) => found,
        Err(RevealError::BadTable) => return Err(WebError::BadRequest(tr.t("reveal.bad_table").into())),
        Err(RevealError::BadField) => return Err(WebError::BadRequest(tr.t("reveal.bad_field").into())),
        Err(RevealError::Empty(found)) => return Err(WebError::Refused(tr.f1("reveal.empty", "label", label(&found)))),
        Err(e) => return Err(other(e)),
    };
    let mut page = RevealPage {
        t: tr,
        nav: Some(Nav::of(&state, &user).await?),
        crumbs: crumbs(&state, &user, &village).await?,
        hh_id: found.hh_id.clone(),
        label: label(&found),
        value: None,
        masked: found.masked(),
        message: String::new(),
        at: String::new(),
        reason: String::new(),
        target: RevealTarget { table: found.table.name, key: found.key.clone(), field: found.column.name },
    };
    match reveal::reveal(&state.store, &user, &found, &form.reason, reveal::MAX_REASON, remote_addr.as_deref()).await {
        Ok(value) => {
            page.at = beijing(&fupin_store::users::timestamp(time::OffsetDateTime::now_utc()));
            page.reason = scrub_ids(form.reason.trim());
            page.value = Some(value);
            Ok(html(&page)?.into_response())
        }
        Err(RevealError::NoReason) => {
            page.message = tr.t("reveal.no_reason").to_owned();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)?).into_response())
        }
        Err(RevealError::ReasonTooLong(max)) => {
            page.message = tr.f1("reveal.reason_too_long", "max", max);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)?).into_response())
        }
        Err(e) => Err(other(e)),
    }
}

/// A refusal the page has no message of its own for (not found, the store).
pub(crate) fn other(e: RevealError) -> WebError {
    match e {
        RevealError::App(e) => e.into(),
        RevealError::BadTable | RevealError::BadField => WebError::BadRequest(String::new()),
        RevealError::Empty(_) | RevealError::NoReason | RevealError::ReasonTooLong(_) => {
            WebError::Refused(String::new())
        }
    }
}

/// One log row as shown.
struct LogLine {
    at: String,
    username: String,
    hh_id: String,
    what: String,
    reason: String,
    remote_addr: String,
}

#[derive(Template)]
#[template(path = "reveal_log.html")]
struct RevealLogPage {
    t: Tr,
    nav: Option<Nav>,
    lines: Vec<LogLine>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/reveals?page=N`: 查看记录, newest first, 50 to a page.
pub(crate) async fn log(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let total = reveals::reveal_count(&state.store).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = q.number().min(pages);
    let rows = reveals::reveal_page(&state.store, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let lines = rows
        .into_iter()
        .map(|r| {
            let header = reveal::personal_table(&r.table)
                .and_then(|tbl| tbl.column(&r.field))
                .map(|c| c.header)
                .unwrap_or(&r.field);
            let whose = if r.table == PERSONS.name {
                t.f1("household.subject.person", "name", &r.key)
            } else {
                t.t("household.subject.household").to_owned()
            };
            LogLine {
                at: beijing(&r.at),
                what: format!("{whose} · {header}"),
                reason: scrub_ids(&r.reason),
                remote_addr: r.remote_addr.unwrap_or_default(),
                username: r.username,
                hh_id: r.hh_id,
            }
        })
        .collect();
    let link = |p: i64| format!("/admin/reveals?page={p}");
    let page = RevealLogPage {
        t,
        nav: Some(Nav::of(&state, &admin.0).await?),
        lines,
        total,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    Ok(html(&page)?.into_response())
}
