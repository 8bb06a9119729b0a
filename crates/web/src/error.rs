//! Errors of the web crate, and how each one answers a browser.
//!
//! Policy (after crates.io's `util/errors.rs`): handlers return `Result<_, WebError>`.
//! What the user did wrong or may not see becomes a plain Chinese page with the right
//! status; what went wrong inside (database, template, a failed task) is logged with
//! its whole cause chain and the user sees only that something failed. A record
//! outside the user's area is [`WebError::NotFound`], never a 403, so that numbers
//! cannot be probed.

use std::net::SocketAddr;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fupin_store::StoreError;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No such page or record, or one outside the user's area: both answer alike.
    #[error("页面不存在")]
    NotFound,
    /// Signed in, but the role may not use this page (a county admin's page).
    #[error("无权访问")]
    Forbidden,
    /// No valid session: the browser is sent to the sign-in page.
    #[error("请先登录")]
    SignIn,
    /// A request we cannot act on; the message is for the user.
    #[error("{0}")]
    BadRequest(String),
    /// An account operation refused (name taken, area unknown); the message is for the user.
    #[error("{0}")]
    Refused(String),
    /// The database failed (or refused an account write); details go to the log.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A page could not be rendered (a bug); details go to the log.
    #[error("页面生成失败：{0}")]
    Template(#[from] askama::Error),
    /// Hashing or reading a password hash failed.
    #[error("密码处理失败：{0}")]
    Password(String),
    /// A download could not be written as XLSX (a bug); details go to the log.
    #[error("表格生成失败：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// A blocking task (password hashing) panicked or was cancelled.
    #[error("后台任务失败：{0}")]
    Task(#[from] tokio::task::JoinError),
    /// The listening address is taken or not allowed.
    #[error("无法监听 {addr}：{source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The HTTPS certificate or key cannot be read or used.
    #[error("无法使用 HTTPS 证书或私钥 {path}：{message}")]
    Tls { path: String, message: String },
    /// The server stopped with an I/O error.
    #[error("网页服务出错：{0}")]
    Serve(#[source] std::io::Error),
    /// A use case failed inside (`fupin_app::AppError::Internal`); details go to the log.
    #[error("{0}")]
    Internal(String),
}

/// A use case's answer as the pages give it, with the same status: not found 404,
/// forbidden 403, a bad request 400, refused 422 (their messages kept), the rest 500.
impl From<fupin_app::AppError> for WebError {
    fn from(e: fupin_app::AppError) -> WebError {
        use fupin_app::AppError;
        match e {
            AppError::NotFound => WebError::NotFound,
            AppError::Forbidden => WebError::Forbidden,
            AppError::BadRequest(m) => WebError::BadRequest(m),
            AppError::Refused(m) => WebError::Refused(m),
            AppError::Store(e) => WebError::Store(e),
            AppError::Internal(m) => WebError::Internal(m),
        }
    }
}

/// The page every error shows: a status, a title and one sentence.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub t: crate::i18n::Tr,
    pub nav: Option<crate::pages::Nav>,
    pub title: &'a str,
    pub message: &'a str,
}

/// An error page with the given status, in the request's language; plain text if the
/// template itself fails.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { t: crate::i18n::current(), nav: None, title, message };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "错误页面生成失败");
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{title}：{message}"))
                .into_response()
        }
    }
}

/// The error and each of its causes, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(" ← ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let t = crate::i18n::current();
        match &self {
            WebError::NotFound => {
                error_page(StatusCode::NOT_FOUND, t.t("error.not_found.title"), t.t("error.not_found.body"))
            }
            WebError::Forbidden => {
                error_page(StatusCode::FORBIDDEN, t.t("error.forbidden.title"), t.t("error.forbidden.body"))
            }
            WebError::SignIn => Redirect::to("/login").into_response(),
            WebError::BadRequest(m) => error_page(StatusCode::BAD_REQUEST, t.t("error.bad_request.title"), m),
            WebError::Refused(m) => error_page(StatusCode::UNPROCESSABLE_ENTITY, t.t("error.refused.title"), m),
            _ => {
                tracing::error!(error = %chain(&self), "请求处理失败");
                error_page(StatusCode::INTERNAL_SERVER_ERROR, t.t("error.internal.title"), t.t("error.internal.body"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_cause_chain() {
        let e = WebError::Serve(std::io::Error::other("disk full"));
        assert_eq!(chain(&e), "网页服务出错：disk full ← disk full");
    }
}
