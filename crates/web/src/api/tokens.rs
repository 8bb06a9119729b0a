//! 访问令牌 (`/account/tokens`): a signed-in user creates personal access tokens for
//! scripts that read the JSON API (re-entering their password; valid for a number of
//! days, 90 unless chosen, at most 365), sees when each was last used and when it
//! expires, and revokes them. A token is shown once, when created; only its SHA-256 is
//! stored. Creation and revocation go to the security log (`accounts.rs`). The forms
//! are ordinary same-origin POSTs, under the same CSRF checks as every other form.
//! County admins see and revoke any account's tokens on `/admin/users/{username}`.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fupin_store::tokens;
use serde::Deserialize;

use crate::display::beijing;
use crate::i18n::Tr;
use crate::pages::{Nav, html};
use crate::session::{self, CurrentUser, RemoteAddr};
use crate::{AppState, WebError};
use fupin_app::AppError;
use fupin_app::accounts::{self, ChangedBy};

/// Prefix of every token, so a token pasted where it should not be is recognisable.
const TOKEN_PREFIX: &str = "fupin_";

/// One token as listed.
pub(crate) struct TokenRow {
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    /// When it was revoked, or empty.
    pub revoked: String,
    pub expired: bool,
}

/// The tokens of `username`, newest first, as the pages list them.
pub(crate) async fn rows(state: &AppState, t: Tr, username: &str) -> Result<Vec<TokenRow>, WebError> {
    let now = time::OffsetDateTime::now_utc();
    Ok(tokens::list(&state.store, username)
        .await?
        .into_iter()
        .map(|tok| TokenRow {
            created: beijing(&tok.created_at),
            last_used: tok.last_used_at.as_deref().map(beijing).unwrap_or_else(|| t.t("tokens.never_used").to_owned()),
            expires: tok.expires_at.as_deref().map(beijing).unwrap_or_default(),
            revoked: tok.revoked_at.as_deref().map(beijing).unwrap_or_default(),
            expired: tok.expired(now),
            name: tok.name,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    t: Tr,
    nav: Option<Nav>,
    tokens: Vec<TokenRow>,
    /// A token just created: its name and the token itself, shown this once.
    created: Option<(String, String)>,
    message: String,
    days_label: String,
    max_days: i64,
}

async fn page(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    status: StatusCode,
    created: Option<(String, String)>,
    message: String,
) -> Result<Response, WebError> {
    let tokens = rows(state, t, &user.user.username).await?;
    let days_label = t.f2("tokens.days", "max", tokens::MAX_DAYS, "default", tokens::DEFAULT_DAYS);
    let page = TokensPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        tokens,
        created,
        message,
        days_label,
        max_days: tokens::MAX_DAYS,
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /account/tokens`.
pub(crate) async fn list(State(state): State<AppState>, t: Tr, user: CurrentUser) -> Result<Response, WebError> {
    page(&state, t, &user, StatusCode::OK, None, String::new()).await
}

#[derive(Deserialize)]
pub(crate) struct NameForm {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
    /// The user's own password, typed again.
    #[serde(default)]
    password: String,
    /// Days the token lasts; empty for the default.
    #[serde(default)]
    days: String,
}

/// `POST /account/tokens`: a new token, shown once on the answer, after the user's
/// password is typed again.
pub(crate) async fn create(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    remote: RemoteAddr,
    Form(form): Form<CreateForm>,
) -> Result<Response, WebError> {
    let days = match form.days.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let m = format!("有效期应为 1–{} 天", tokens::MAX_DAYS);
                return page(&state, t, &user, StatusCode::UNPROCESSABLE_ENTITY, None, m).await;
            }
        },
    };
    let (secret, _) = session::new_token();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let name = form.name.trim().to_owned();
    let by = ChangedBy { name: &user.user.username, remote_addr: remote.0.as_deref() };
    let made =
        accounts::create_token(&state.store, by, &user.user, &form.password, &name, days, &session::token_hash(&token))
            .await;
    match made {
        Ok(_) => {
            tracing::info!(username = %user.user.username, name = %name, "创建访问令牌");
            page(&state, t, &user, StatusCode::OK, Some((name, token)), String::new()).await
        }
        Err(AppError::Refused(m)) => page(&state, t, &user, StatusCode::UNPROCESSABLE_ENTITY, None, m).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/tokens/revoke`: revokes one of the user's own tokens by name; a
/// name the user has no token of is 404.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    remote: RemoteAddr,
    Form(form): Form<NameForm>,
) -> Result<Response, WebError> {
    let by = ChangedBy { name: &user.user.username, remote_addr: remote.0.as_deref() };
    accounts::revoke_token(&state.store, by, &user.user.username, &form.name).await?;
    tracing::info!(username = %user.user.username, name = %form.name.trim(), "撤销访问令牌");
    Ok(Redirect::to("/account/tokens").into_response())
}
