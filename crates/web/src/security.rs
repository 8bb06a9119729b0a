//! Cross-site request forgery protection and the security headers on every answer.
//!
//! Forms carry no tokens: a browser tells us where a request comes from
//! (`Sec-Fetch-Site`, `Origin`), and tower-http's [`CsrfLayer`] refuses cross-origin
//! POSTs by those headers. That layer lets a POST with neither header through (it
//! assumes a non-browser client); we have no such clients and every browser we serve
//! sends `Origin` on a POST, so [`require_origin_headers`] refuses those as well.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::csrf::{CsrfLayer, ProtectionError};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::error_page;

fn forbidden() -> Response {
    let t = crate::i18n::current();
    error_page(StatusCode::FORBIDDEN, t.t("error.cross_site.title"), t.t("error.cross_site.body"))
}

/// Refuses a state-changing request that says nothing about where it comes from.
pub(crate) async fn require_origin_headers(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let h = request.headers();
    if !safe && !h.contains_key(header::ORIGIN) && !h.contains_key("sec-fetch-site") {
        tracing::warn!(path = %request.uri().path(), "拒绝没有来源标头的请求");
        return forbidden();
    }
    next.run(request).await
}

/// Refuses cross-origin POSTs (by `Sec-Fetch-Site`, else `Origin` against `Host`).
pub(crate) fn csrf_layer() -> CsrfLayer<impl FnMut(ProtectionError) -> Response + Clone> {
    CsrfLayer::new().with_rejection_response(|e: ProtectionError| {
        tracing::warn!(error = %e, "拒绝跨站请求");
        forbidden()
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
