//! Sign-in sessions: a random token in an HttpOnly cookie, its SHA-256 in the
//! `sessions` table, and the [`CurrentUser`] extractor every page starts with.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use cookie::{Cookie, SameSite};
use fupin_domain::schema::Table;
use fupin_domain::{DivisionCode, Value};
use fupin_store::users::{self, Role, User};
use fupin_store::views;
use fupin_store::writer::ChangeRecord;
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::departments::Departments;
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

/// Which households inside the area a user may see.
#[derive(Debug, Clone)]
pub(crate) enum Households {
    /// Every household of the area (every role but helper cadres).
    All,
    /// Only these (a helper cadre's households paired with their helper on the
    /// configured today, 结对帮扶); any other is answered like one that does not exist.
    Paired(Arc<BTreeSet<String>>),
}

/// The signed-in user with the households they may see. A page that takes it can
/// only be reached with a live session of an enabled account; anyone else is sent to
/// sign in. Every check of a household goes through [`CurrentUser::may_see_household`].
#[derive(Debug, Clone)]
pub(crate) struct CurrentUser(pub User, pub Households);

impl CurrentUser {
    /// The user with their scope: a helper cadre's pairings are read once per request
    /// (one indexed query), so an ended pairing is out of scope at once.
    pub async fn load(state: &AppState, user: User) -> Result<CurrentUser, WebError> {
        let households = match user.role {
            Role::HelperCadre => {
                let ids = users::paired_households(&state.store, &user.username, state.config.today).await?;
                Households::Paired(Arc::new(ids.into_iter().collect()))
            }
            _ => Households::All,
        };
        Ok(CurrentUser(user, households))
    }

    /// Whether the user's scope is a set of paired households rather than an area
    /// (helper cadres): area overviews, dashboards and lists are not for them.
    pub fn paired_only(&self) -> bool {
        matches!(self.1, Households::Paired(_))
    }

    /// Whether the user sees the values of `table.column`: every role but a department
    /// officer sees all; a department officer (部门数据员) only the identifying columns
    /// and their own department's (`data/policy/department_fields.csv`).
    pub fn may_see_field(&self, table: &str, column: &str) -> bool {
        self.0.role != Role::DepartmentOfficer
            || Departments::builtin().sees(self.0.department.as_deref(), table, column)
    }

    /// `row` of `table` with every value the user may not see emptied, so that pages,
    /// downloads and API answers built from it leave those columns out entirely.
    pub fn visible(&self, table: &Table, row: &[Value]) -> Vec<Value> {
        table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| if self.may_see_field(table.name, c.name) { v.clone() } else { Value::Null })
            .collect()
    }

    /// A change record as the user may see it: every one, except that a department
    /// officer sees the changes of the columns they see only, and of a whole row added
    /// or removed only those columns (none of a table they see nothing of).
    pub fn visible_record(&self, r: &ChangeRecord) -> Option<ChangeRecord> {
        if let Some(field) = &r.field {
            return self.may_see_field(&r.entity, field).then(|| r.clone());
        }
        if self.0.role != Role::DepartmentOfficer {
            return Some(r.clone());
        }
        let keep = |v: &Option<String>| -> Option<Option<String>> {
            let Some(v) = v else { return Some(None) };
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(v).ok()?;
            let kept: serde_json::Map<String, serde_json::Value> =
                map.into_iter().filter(|(k, _)| self.may_see_field(&r.entity, k)).collect();
            (!kept.is_empty()).then(|| Some(serde_json::Value::Object(kept).to_string()))
        };
        Some(ChangeRecord { old_value: keep(&r.old_value)?, new_value: keep(&r.new_value)?, ..r.clone() })
    }

    /// A search hit with the values the user may not see emptied (as [`Self::visible`]).
    pub fn visible_hit(&self, mut hit: views::SearchHit) -> views::SearchHit {
        if !self.may_see_field("persons", "relation") {
            hit.relation = None;
        }
        if !self.may_see_field("persons", "id_number") {
            hit.id_number = None;
        }
        if !self.may_see_field("households", "status") {
            hit.status = String::new();
        }
        if !self.may_see_field("persons", "person_status") {
            hit.person_status = None;
        }
        hit
    }

    /// Whether a household (by id and village) lies inside the user's scope: inside the
    /// area and, for a helper cadre, paired with their helper today.
    pub fn may_see_household(&self, hh_id: &str, village: &DivisionCode) -> bool {
        self.may_see(village)
            && match &self.1 {
                Households::All => true,
                Households::Paired(ids) => ids.contains(hh_id),
            }
    }

    /// [`may_see_household`](Self::may_see_household) for a request that names one
    /// household: a household that exists but lies outside the user's scope answers
    /// like a missing one, and the attempt goes to the security log (`auth_log`).
    pub async fn household_in_scope(
        &self,
        state: &AppState,
        hh_id: &str,
        village: &DivisionCode,
    ) -> Result<bool, fupin_store::StoreError> {
        if self.may_see_household(hh_id, village) {
            return Ok(true);
        }
        // The id comes from the request: logged with any personal number in it masked.
        let hh_id = crate::display::scrub_ids(hh_id);
        tracing::warn!(username = %self.0.username, hh_id, "拒绝访问范围之外的农户");
        let detail = format!("out of scope: household {hh_id}");
        let record = users::AuthRecord {
            username: &self.0.username,
            event: users::AuthEvent::RequestRefused,
            detail: &detail,
            actor: None,
            remote_addr: None,
        };
        users::log_auth(&state.store, &record).await?;
        Ok(false)
    }

    /// The division the user may see.
    pub fn area(&self) -> &DivisionCode {
        &self.0.area
    }

    /// Whether a division (or a household's village) lies inside the user's area.
    pub fn may_see(&self, code: &DivisionCode) -> bool {
        code.within(&self.0.area)
    }

    /// The user of the live session the headers carry, else [`WebError::SignIn`].
    pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<CurrentUser, WebError> {
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
        CurrentUser::load(state, user).await
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;

    /// The user the router's policy check found, else the session's.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        CurrentUser::from_headers(state, &parts.headers).await
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
        if user.0.role != Role::CountyAdmin {
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
