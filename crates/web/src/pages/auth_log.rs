//! 登录日志, for county administrators: every sign-in and failure, lock, sign-out and
//! account change, newest first, 50 to a page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use fupin_store::users::{self, AuthEvent};

use super::area::PageQuery;
use super::{Nav, html};
use crate::display::beijing;
use crate::i18n::Tr;
use crate::session::Admin;
use crate::{AppState, WebError};

/// Rows on one page.
const PER_PAGE: i64 = 50;

/// One row as shown.
struct LogLine {
    at: String,
    username: String,
    event: String,
    detail: String,
    actor: String,
    remote_addr: String,
}

#[derive(Template)]
#[template(path = "auth_log.html")]
struct AuthLogPage {
    t: Tr,
    nav: Option<Nav>,
    lines: Vec<LogLine>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /admin/auth-log?page=N`.
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let asked = q.number();
    let total = users::auth_log_count(&state.store).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = asked.min(pages);
    let rows = users::auth_log_page(&state.store, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let lines = rows
        .into_iter()
        .map(|r| LogLine {
            at: beijing(&r.at),
            event: AuthEvent::parse(&r.event).map(|e| event_label(t, e).to_owned()).unwrap_or(r.event),
            username: r.username,
            detail: r.detail,
            actor: r.actor.unwrap_or_default(),
            remote_addr: r.remote_addr.unwrap_or_default(),
        })
        .collect();
    let link = |p: i64| format!("/admin/auth-log?page={p}");
    let page = AuthLogPage {
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

/// An event as the log page names it, in the page's language.
fn event_label(t: Tr, e: AuthEvent) -> &'static str {
    match e {
        AuthEvent::LoginOk => t.t("auth_log.event.login_ok"),
        AuthEvent::LoginFailed => t.t("auth_log.event.login_failed"),
        AuthEvent::LoginLocked => t.t("auth_log.event.login_locked"),
        AuthEvent::Locked => t.t("auth_log.event.locked"),
        AuthEvent::Logout => t.t("auth_log.event.logout"),
        AuthEvent::UserCreated => t.t("auth_log.event.user_created"),
        AuthEvent::UserDisabled => t.t("auth_log.event.user_disabled"),
        AuthEvent::UserEnabled => t.t("auth_log.event.user_enabled"),
        AuthEvent::PasswordReset => t.t("auth_log.event.password_reset"),
        AuthEvent::RoleChanged => t.t("auth_log.event.role_changed"),
        AuthEvent::RequestRefused => t.t("auth_log.event.request_refused"),
        AuthEvent::TokenCreated => t.t("auth_log.event.token_created"),
        AuthEvent::TokenRevoked => t.t("auth_log.event.token_revoked"),
        AuthEvent::TokenExpired => t.t("auth_log.event.token_expired"),
    }
}
