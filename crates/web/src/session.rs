//! Sign-in sessions: a random token in an HttpOnly cookie, its SHA-256 in the
//! `sessions` table, and the [`CurrentUser`] extractor every page starts with.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use cookie::{Cookie, SameSite};
use fupin_store::users::{self, Role};
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::{AppState, WebError};

/// How long a sign-in lasts: one working day.
pub const SESSION_HOURS: i64 = 12;

/// The cookie's name. Behind HTTPS the `__Host-` prefix makes the browser refuse the
/// cookie unless it is Secure, for this host only and for every path.
pub(crate) fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-fupin" } else { "fupin_session" }
}

/// A new session token (32 random bytes, hex) and the hash that is stored.
pub(crate) fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// What the `sessions` table keeps instead of the token itself.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The `Set-Cookie` value that starts a session.
pub(crate) fn session_cookie(token: &str, secure: bool) -> String {
    Cookie::build((cookie_name(secure), token.to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::hours(SESSION_HOURS))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that makes the browser forget the session.
pub(crate) fn cleared_cookie(secure: bool) -> String {
    Cookie::build((cookie_name(secure), ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The session token the browser sent, if any.
pub(crate) fn token_from(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|t| !t.is_empty())
}

/// Starts a session for `username`; returns the cookie to set.
pub(crate) async fn start(state: &AppState, username: &str) -> Result<String, WebError> {
    let now = OffsetDateTime::now_utc();
    // Housekeeping on sign-in keeps the table small without a timer.
    users::delete_expired_sessions(&state.store, now).await?;
    let (token, hash) = new_token();
    users::create_session(&state.store, &hash, username, now + Duration::hours(SESSION_HOURS)).await?;
    Ok(session_cookie(&token, state.config.secure_cookies))
}

/// Ends the session the browser sent, if any; returns whose it was.
pub(crate) async fn end(state: &AppState, headers: &HeaderMap) -> Result<Option<String>, WebError> {
    let Some(token) = token_from(headers, state.config.secure_cookies) else {
        return Ok(None);
    };
    let hash = token_hash(&token);
    let owner = users::session_user(&state.store, &hash).await?.map(|(u, _)| u.username);
    users::delete_session(&state.store, &hash).await?;
    state.cache.forget_sessions();
    Ok(owner)
}

/// The signed-in user with the households they may see (`fupin_app::Viewer`). A page
/// that takes it can only be reached with a live session of an enabled account; anyone
/// else is sent to sign in.
pub(crate) use fupin_app::Viewer as CurrentUser;

/// The user of the live session the headers carry, else [`WebError::SignIn`].
pub(crate) async fn current_user(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, WebError> {
    let token = token_from(headers, state.config.secure_cookies).ok_or(WebError::SignIn)?;
    let hash = token_hash(&token);
    let (user, expires) = match state.cache.session(&hash) {
        Some(entry) => entry,
        None => {
            let entry = users::session_user(&state.store, &hash).await?.ok_or(WebError::SignIn)?;
            state.cache.put_session(&hash, entry.clone());
            entry
        }
    };
    let live = users::parse_timestamp(&expires).is_some_and(|t| t > OffsetDateTime::now_utc());
    if !live || user.disabled {
        return Err(WebError::SignIn);
    }
    Ok(CurrentUser::load(&state.store, user, state.config.today).await?)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;

    /// The user the router's policy check found, else the session's.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        current_user(state, &parts.headers).await
    }
}

/// A signed-in county administrator. Admin handlers take this, so the role is
/// checked in the handler as well as by the route's policy.
#[derive(Debug, Clone)]
pub(crate) struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if user.user.role != Role::CountyAdmin {
            return Err(WebError::Forbidden);
        }
        Ok(Admin(user))
    }
}

/// The peer address of the request, for the sign-in audit log (`None` when the
/// server was not started with connection info).
#[derive(Debug, Clone)]
pub(crate) struct RemoteAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RemoteAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(RemoteAddr(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(ha, token_hash(&a));
        assert_ne!(ha, a);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_when_asked() {
        let c = session_cookie("abc", true);
        for part in ["__Host-fupin=abc", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!session_cookie("abc", false).contains("Secure"));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; fupin_session=tok; b=2".parse().unwrap());
        assert_eq!(token_from(&h, false).as_deref(), Some("tok"));
        assert_eq!(token_from(&h, true), None);
    }
}
