//! Every route of the application, in one place.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::pages::{area, household, login, search};
use crate::{AppState, WebError, security};

/// The stylesheet, compiled into the binary (no CDN, nothing to deploy beside it).
const CSS: &str = include_str!("../static/app.css");

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS)
}

async fn not_found() -> WebError {
    WebError::NotFound
}

/// The application's routes with their layers.
pub(crate) fn router(state: AppState) -> Router {
    let mut app = Router::new()
        // 概况: the user's own area (a village cadre goes straight to the village).
        .route("/", get(area::home))
        // 乡镇 → 村列表, 村 → 户列表.
        .route("/area/{code}", get(area::show))
        // 户详情: fields, members, incomes, pairings, history.
        .route("/household/{hh_id}", get(household::show))
        // 查询: name, 户编号 or full ID number.
        .route("/search", get(search::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/static/app.css", get(stylesheet))
        .fallback(not_found)
        .with_state(state)
        .layer(security::csrf_layer())
        .layer(axum::middleware::from_fn(security::require_origin_headers));
    for layer in security::header_layers() {
        app = app.layer(layer);
    }
    // The span names the path only: a query string may hold a whole ID number
    // (`/search?q=…`), and logs must not keep it.
    app.layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
        tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
    }))
}
