//! 登录 and 退出. Five wrong passwords in a row lock an account for 15 minutes; a
//! wrong username takes as long to refuse as a wrong password and says the same.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_store::users;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use super::{Nav, html};
use crate::display::beijing;
use crate::{AppState, WebError, password, session};

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a lock lasts.
pub const LOCK_MINUTES: i64 = 15;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    username: String,
    message: String,
}

/// The sign-in form as posted; a missing field reads as empty.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn page(status: StatusCode, username: &str, message: &str) -> Result<Response, WebError> {
    let page = LoginPage { nav: None, username: username.to_owned(), message: message.to_owned() };
    Ok((status, html(&page)?).into_response())
}

fn locked_message(until: &str) -> String {
    format!("该账号因连续 {MAX_FAILURES} 次密码错误已被锁定，请于 {} 后再试。", beijing(until))
}

/// `GET /login`.
pub(crate) async fn form() -> Result<Response, WebError> {
    page(StatusCode::OK, "", "")
}

/// `POST /login`.
pub(crate) async fn submit(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Result<Response, WebError> {
    let username = f.username.trim();
    if username.is_empty() || f.password.is_empty() {
        return page(StatusCode::BAD_REQUEST, username, "请输入用户名和密码。");
    }
    let user = users::find(&state.store, username).await?;
    let now = OffsetDateTime::now_utc();
    if let Some(until) = user.as_ref().and_then(|u| u.locked_until.clone())
        && users::parse_timestamp(&until).is_some_and(|t| t > now)
    {
        return page(StatusCode::TOO_MANY_REQUESTS, username, &locked_message(&until));
    }
    let ok = password::verify(&f.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        if !ok {
            let lock_until = now + Duration::minutes(LOCK_MINUTES);
            let (_, locked) = users::record_failure(&state.store, username, MAX_FAILURES, lock_until).await?;
            if locked {
                tracing::warn!(username, "连续密码错误，账号已锁定");
                return page(StatusCode::TOO_MANY_REQUESTS, username, &locked_message(&users::timestamp(lock_until)));
            }
        }
        // The same words for a wrong name, a wrong password and a disabled account, so
        // the answer does not tell which names exist.
        return page(StatusCode::UNAUTHORIZED, username, "用户名或密码不正确。");
    };
    users::record_success(&state.store, &user.username).await?;
    let cookie = session::start(&state, &user.username).await?;
    tracing::info!(username = %user.username, "登录");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// `POST /logout`: ends the session and forgets the cookie.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, WebError> {
    session::end(&state, &headers).await?;
    let cookie = session::cleared_cookie(state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}
