//! 访问令牌 (`/account/tokens`): a signed-in user creates personal access tokens for
//! scripts that read the JSON API, sees when each was last used, and revokes them.
//! A token is shown once, when created; only its SHA-256 is stored. The forms are
//! ordinary same-origin POSTs, under the same CSRF checks as every other form.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fupin_store::{StoreError, tokens};
use serde::Deserialize;

use crate::display::beijing;
use crate::i18n::Tr;
use crate::pages::{Nav, html};
use crate::session::{self, CurrentUser};
use crate::{AppState, WebError};

/// Prefix of every token, so a token pasted where it should not be is recognisable.
const TOKEN_PREFIX: &str = "fupin_";

/// One token as listed.
struct TokenRow {
    name: String,
    created: String,
    last_used: String,
    revoked: String,
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
}

async fn page(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    status: StatusCode,
    created: Option<(String, String)>,
    message: String,
) -> Result<Response, WebError> {
    let tokens = tokens::list(&state.store, &user.0.username)
        .await?
        .into_iter()
        .map(|tok| TokenRow {
            created: beijing(&tok.created_at),
            last_used: tok.last_used_at.as_deref().map(beijing).unwrap_or_else(|| t.t("tokens.never_used").to_owned()),
            revoked: tok.revoked_at.as_deref().map(beijing).unwrap_or_default(),
            name: tok.name,
        })
        .collect();
    let page = TokensPage { t, nav: Some(Nav::of(state, user).await?), tokens, created, message };
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

/// `POST /account/tokens`: a new token, shown once on the answer.
pub(crate) async fn create(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Form(form): Form<NameForm>,
) -> Result<Response, WebError> {
    let (secret, _) = session::new_token();
    let token = format!("{TOKEN_PREFIX}{secret}");
    let name = form.name.trim().to_owned();
    match tokens::create(&state.store, &user.0.username, &name, &session::token_hash(&token)).await {
        Ok(()) => {
            tracing::info!(username = %user.0.username, name = %name, "创建访问令牌");
            page(&state, t, &user, StatusCode::OK, Some((name, token)), String::new()).await
        }
        Err(StoreError::Refused(m)) => page(&state, t, &user, StatusCode::UNPROCESSABLE_ENTITY, None, m).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /account/tokens/revoke`: revokes one of the user's own tokens by name; a
/// name the user has no token of is 404.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NameForm>,
) -> Result<Response, WebError> {
    if !tokens::revoke(&state.store, &user.0.username, form.name.trim()).await? {
        return Err(WebError::NotFound);
    }
    tracing::info!(username = %user.0.username, name = %form.name.trim(), "撤销访问令牌");
    Ok(Redirect::to("/account/tokens").into_response())
}
