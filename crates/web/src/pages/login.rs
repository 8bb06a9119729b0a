//! 登录 and 退出. Five wrong passwords in a row lock an account for 15 minutes (a
//! name without an account locks alike); each attempt is counted before its password
//! is checked, so parallel attempts get no more tries; one address gets at most
//! [`MAX_PER_ADDRESS`] attempts in 15 minutes. A wrong username takes as long to refuse
//! as a wrong password and says the same.
//! Every success, failure, lock and sign-out goes to the sign-in audit log.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_store::users::{self, AuthEvent};
use serde::Deserialize;
use std::net::IpAddr;
use time::{Duration, OffsetDateTime};

use super::{Nav, html};
use crate::display::beijing;
use crate::i18n::Tr;
use crate::session::RemoteAddr;
use crate::throttle::Claim;
use crate::{AppState, WebError, session};
use fupin_app::sign_in::{self, Attempt, LOGGED_NAME_CHARS, Outcome, UnknownName};

pub use fupin_app::sign_in::{LOCK_MINUTES, MAX_FAILURES};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    nav: Option<Nav>,
    username: String,
    message: String,
    max_failures: i64,
    lock_minutes: i64,
}

/// The sign-in form as posted; a missing field reads as empty.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

fn page(t: Tr, status: StatusCode, username: &str, message: &str) -> Result<Response, WebError> {
    let page = LoginPage {
        t,
        nav: None,
        username: username.to_owned(),
        message: message.to_owned(),
        max_failures: MAX_FAILURES,
        lock_minutes: LOCK_MINUTES,
    };
    Ok((status, html(&page)?).into_response())
}

fn locked_message(t: Tr, until: &str) -> String {
    t.f2("login.locked", "failures", MAX_FAILURES, "until", beijing(until))
}

/// `GET /login`.
pub(crate) async fn form(t: Tr) -> Result<Response, WebError> {
    page(t, StatusCode::OK, "", "")
}

/// Appends a sign-in event to the audit log.
async fn log(
    state: &AppState,
    remote: &RemoteAddr,
    username: &str,
    event: AuthEvent,
    detail: &str,
) -> Result<(), WebError> {
    Ok(sign_in::log(&state.store, remote.0.as_deref(), username, event, detail).await?)
}

/// Sign-in attempts from one address within [`LOCK_MINUTES`] before it must wait:
/// enough for an office behind one address, too few to try a password on many names.
pub const MAX_PER_ADDRESS: i64 = 30;

/// `POST /login`. Every attempt is counted before its password is checked (the
/// account's row, or for a name without an account a counter in memory, and the
/// address's counter), so a burst of parallel attempts gets no more tries than a
/// sequence of them; an unknown name is checked against a decoy hash and locks like a
/// known one, so neither the status nor the time tells which names exist.
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    remote: RemoteAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, WebError> {
    let username = f.username.trim();
    if username.is_empty() || f.password.is_empty() {
        return page(t, StatusCode::BAD_REQUEST, username, t.t("login.missing"));
    }
    let now = OffsetDateTime::now_utc();
    let window = Duration::minutes(LOCK_MINUTES);
    // The address first: a machine trying many names is stopped whatever the names.
    let address = client_address(&remote, &headers).map(|a| format!("addr:{a}"));
    if let Some(key) = &address
        && let Claim::Locked(until) = state.attempts.claim(key, MAX_PER_ADDRESS, window, now)
    {
        let until = users::timestamp(until);
        log(
            &state,
            &remote,
            username,
            AuthEvent::LoginLocked,
            &format!("来源地址尝试过多，暂停至 {}", beijing(&until)),
        )
        .await?;
        return page(t, StatusCode::TOO_MANY_REQUESTS, username, &t.f1("login.throttled", "until", beijing(&until)));
    }
    let name_key = format!("name:{}", username.chars().take(LOGGED_NAME_CHARS).collect::<String>());
    let unknown_name = || match state.attempts.claim(&name_key, MAX_FAILURES, window, now) {
        Claim::Allowed { locks } => UnknownName::Allowed { locks },
        Claim::Locked(until) => UnknownName::Locked(until),
    };
    let attempt =
        Attempt { username, password: &f.password, remote_addr: remote.0.as_deref(), now, unknown_name: &unknown_name };
    let user = match sign_in::sign_in(&state.store, &attempt).await? {
        Outcome::SignedIn(user) => user,
        // The same words for a wrong name, a wrong password and a disabled account, so
        // the answer does not tell which names exist.
        Outcome::Wrong => return page(t, StatusCode::UNAUTHORIZED, username, t.t("login.wrong")),
        Outcome::Locked { until, .. } => {
            return page(t, StatusCode::TOO_MANY_REQUESTS, username, &locked_message(t, &until));
        }
    };
    if let Some(key) = &address {
        state.attempts.refund(key);
    }
    let cookie = session::start(&state, &user.username).await?;
    log(&state, &remote, &user.username, AuthEvent::LoginOk, "").await?;
    tracing::info!(username = %user.username, "登录");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// The address attempts are counted by: the peer's, except that a reverse proxy on
/// the same machine (README: nginx in front, fupin on 127.0.0.1) passes the browser's
/// address as the last `X-Forwarded-For` entry, which is then taken — otherwise every
/// sign-in would count against the proxy's one address. A remote peer's header is
/// ignored: it could say anything. An IPv4 address seen through a dual-stack socket
/// (`::ffff:127.0.0.1`) is the IPv4 address; an IPv6 address counts as its /64
/// network, from which its host picks addresses at will.
fn client_address(remote: &RemoteAddr, headers: &HeaderMap) -> Option<String> {
    let peer = remote.0.as_deref()?;
    let peer_ip = peer.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
    let loopback = peer_ip.is_some_and(|ip| ip.is_loopback());
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .next_back();
    match (forwarded, peer_ip) {
        (Some(a), _) if loopback => Some(counted(a)),
        (_, Some(p)) => Some(counted(p)),
        _ => Some(peer.to_owned()),
    }
}

/// The key of an address: an IPv4 address itself, an IPv6 address its /64 network.
fn counted(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        v4 => v4.to_string(),
    }
}

/// What sign-out asks the browser to clear (not `"cookies"`: the session cookie is
/// cleared by name, and the language cookie may stay).
pub(crate) const CLEAR_SITE_DATA: &str = "\"cache\", \"storage\"";

/// `POST /logout`: ends the session and forgets the cookie, and tells the browser to
/// clear this site's caches and storage: the service worker's cached pages (我的农户,
/// the cards) and the IndexedDB queue belong to the user who signed out, and a shared
/// phone must not show them to the next one (`Clear-Site-Data`; the phone pages'
/// script clears them too, for browsers without the header).
pub(crate) async fn logout(
    State(state): State<AppState>,
    remote: RemoteAddr,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(username) = session::end(&state, &headers).await? {
        log(&state, &remote, &username, AuthEvent::Logout, "").await?;
    }
    let cookie = session::cleared_cookie(state.config.secure_cookies);
    let clear = (header::HeaderName::from_static("clear-site-data"), CLEAR_SITE_DATA.to_owned());
    Ok(([(header::SET_COOKIE, cookie), clear], Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(peer: &str, forwarded: Option<&str>) -> Option<String> {
        let mut headers = HeaderMap::new();
        if let Some(f) = forwarded {
            headers.insert("x-forwarded-for", f.parse().unwrap());
        }
        client_address(&RemoteAddr(Some(peer.to_owned())), &headers)
    }

    #[test]
    fn a_remote_peer_is_counted_by_its_own_address_whatever_it_claims() {
        assert_eq!(address("203.0.113.7", Some("10.0.0.1")).as_deref(), Some("203.0.113.7"));
        assert_eq!(address("127.0.0.1", Some("1.2.3.4, 10.0.0.1")).as_deref(), Some("10.0.0.1"));
        assert_eq!(address("127.0.0.1", None).as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn a_proxy_on_this_machine_seen_over_a_dual_stack_socket_is_trusted_too() {
        // Listening on [::], a proxy's connection from 127.0.0.1 arrives as ::ffff:127.0.0.1.
        assert_eq!(address("::ffff:127.0.0.1", Some("10.0.0.1")).as_deref(), Some("10.0.0.1"));
        assert_eq!(address("::ffff:203.0.113.7", Some("10.0.0.1")).as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_64_bit_network() {
        // A host picks any address of its /64 at will: they are one counter.
        let a = address("2001:db8:1:2::1", None);
        assert_eq!(a, address("2001:db8:1:2:ffff:eeee:dddd:cccc", None));
        assert_eq!(a, address("127.0.0.1", Some("2001:db8:1:2::99")));
        assert_ne!(a, address("2001:db8:1:3::1", None));
    }
}
