//! Cross-site request forgery protection and the security headers on every answer.
//!
//! Forms carry no tokens: a browser tells us where a request comes from
//! (`Sec-Fetch-Site`, `Origin`), and tower-http's [`CsrfLayer`] refuses cross-origin
//! POSTs by those headers. That layer lets a POST with neither header through (it
//! assumes a non-browser client); we have no such clients and every browser we serve
//! sends `Origin` on a POST, so [`require_origin_headers`] refuses those as well.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::set_header::SetResponseHeaderLayer;

use fupin_store::users::{self, AuthEvent, AuthRecord};

use crate::AppState;
use crate::error::error_page;

/// Marks an answer as a refused forged request, for [`log_refusals`].
#[derive(Debug, Clone, Copy)]
struct Refused(&'static str);

fn forbidden(why: &'static str) -> Response {
    let t = crate::i18n::current();
    let mut response = error_page(StatusCode::FORBIDDEN, t.t("error.cross_site.title"), t.t("error.cross_site.body"));
    response.extensions_mut().insert(Refused(why));
    response
}

/// Writes each refused forged request to the security log (`/admin/auth-log`): who
/// (when the request carried a live session), method, path, the origin it claimed,
/// and the peer address. Nothing else happens: the request was refused before any
/// handler ran.
pub(crate) async fn log_refusals(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let remote = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let response = next.run(request).await;
    if let Some(Refused(why)) = response.extensions().get::<Refused>().copied() {
        let username = match crate::session::current_user(&state, &headers).await {
            Ok(user) => user.user.username,
            Err(_) => "-".to_owned(),
        };
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("-");
        let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).unwrap_or("-");
        // The path only (a query string may hold personal numbers), and masked.
        let path = crate::display::scrub_ids(&path);
        let detail: String =
            format!("{why}: {method} {path} (Origin {origin}, Sec-Fetch-Site {site})").chars().take(300).collect();
        let record = AuthRecord {
            username: &username,
            event: AuthEvent::RequestRefused,
            detail: &detail,
            actor: None,
            remote_addr: remote.as_deref(),
        };
        if let Err(e) = users::log_auth(&state.store, &record).await {
            tracing::error!(error = %e, "无法记录被拒绝的请求");
        }
    }
    response
}

/// Refuses a state-changing request that says nothing about where it comes from,
/// except a script's call of the JSON API with a bearer token: the API then
/// authenticates by the token alone (never the cookie), and a cross-site page cannot
/// send an `Authorization` header (that needs a CORS preflight, which we never allow).
pub(crate) async fn require_origin_headers(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let h = request.headers();
    let token_call = request.uri().path().starts_with("/api/") && h.contains_key(header::AUTHORIZATION);
    if !safe && !token_call && !h.contains_key(header::ORIGIN) && !h.contains_key("sec-fetch-site") {
        tracing::warn!(path = %crate::display::scrub_ids(request.uri().path()), "拒绝没有来源标头的请求");
        return forbidden("no origin headers");
    }
    next.run(request).await
}

/// Refuses cross-origin POSTs (by `Sec-Fetch-Site`, else `Origin` against `Host`).
pub(crate) fn csrf_layer() -> CsrfLayer<impl FnMut(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|e: ProtectionError| {
        tracing::warn!(error = %e, "拒绝跨站请求");
        forbidden("cross-site")
    })
}

/// Content-Security-Policy: only our own stylesheet and scripts (files served from
/// here, nothing inline), our own service worker, requests only back here, no
/// framing, and forms may only post back here.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; worker-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// The headers every answer carries. `Cache-Control: no-store` is set only where the
/// handler set none: pages hold personal data and must not stay in a shared cache.
pub(crate) fn header_layers() -> [SetResponseHeaderLayer<HeaderValue>; 6] {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    [
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        set(header::CONTENT_SECURITY_POLICY, CSP),
        set(header::X_FRAME_OPTIONS, "DENY"),
        set(header::REFERRER_POLICY, "same-origin"),
        set(HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()"),
        SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// `Strict-Transport-Security` for a site served over HTTPS: a year, this host only
/// (the county's other hosts are not ours to pin).
pub(crate) const HSTS: &str = "max-age=31536000";

/// The layer that sets [`HSTS`] on every answer.
pub(crate) fn hsts_layer() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS))
}
