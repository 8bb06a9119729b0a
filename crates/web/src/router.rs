//! Every route of the application, in one table, each with the policy that says who
//! may use it. The axum router is built from that table and enforces each policy
//! before the handler runs; the tests iterate the same table ([`routes`]), so a route
//! cannot be added without a policy (it does not compile) nor without a test case (the
//! route matrix fails).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use fupin_store::users::Role;
use tower_http::trace::TraceLayer;

use crate::pages::{
    admin, area, auth_log, call, dashboard, edit, findings, household, households, login, my, my_change, reveal,
    review, search, visit,
};
use crate::{AppState, WebError, api, security};

/// Who may use a route. The router checks it before the handler runs; handlers that
/// read records check the user's area on top (a record outside it is 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// Anyone, signed in or not: the sign-in page, signing out, the stylesheet.
    Public,
    /// Any signed-in user, shown only what lies inside their own area; signed out,
    /// the browser is sent to `/login`.
    SignedInArea,
    /// Area overviews, dashboards and household lists: any signed-in user whose scope
    /// is an area, shown only what lies inside it. A helper cadre's scope is their
    /// paired households, not an area, so they get 403 pointing to 我的农户 (`/my`).
    Overview,
    /// County administrators (县级管理员) only; any other role gets 403.
    CountyAdmin,
    /// The JSON API: a signed-in user by session cookie or by personal access token
    /// (`Authorization: Bearer`), shown only what lies inside their own area;
    /// otherwise 401 with a JSON error, never a redirect.
    Api,
    /// The JSON API's area answers: as [`Policy::Api`], and a helper cadre gets 403
    /// as on [`Policy::Overview`].
    ApiOverview,
    /// The JSON API's review answers and explanations of findings: as [`Policy::Api`],
    /// for the roles of [`Policy::RegistryEditor`]; any other role gets 403 (JSON).
    ApiEditor,
    /// The JSON API's visit recording: as [`Policy::Api`], for the roles of
    /// [`Policy::Visitor`]; any other role gets 403 (JSON).
    ApiVisitor,
    /// Roles that keep the registry (county admin, township officer, village cadre),
    /// on records inside their own area; any other role gets 403.
    RegistryEditor,
    /// Roles that may see a personal number unmasked, one value at a time with a
    /// reason, each reveal logged (county admin, township officer, village cadre; a
    /// department officer their own department's columns only), on records inside
    /// their own area; any other role gets 403.
    Reveal,
    /// Roles that record visits to households (all but department officers and
    /// inspectors, who only read), on households in their scope (a helper cadre: the
    /// paired ones); any other role gets 403.
    Visitor,
}

/// One route as the table lists it, without its handler: what tests iterate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// The one method this entry serves (a path with GET and POST has two entries).
    pub method: Method,
    /// The axum path, with `{name}` for a parameter.
    pub path: &'static str,
    /// Who may use it, enforced by the router before the handler runs.
    pub policy: Policy,
}

/// A route with its handler.
struct Route {
    spec: RouteSpec,
    handler: MethodRouter<AppState>,
}

/// `route!(GET "/path", Policy, handler)`: the method, path and policy go into the
/// spec and the handler is mounted for that same method, so the two cannot disagree.
macro_rules! route {
    ($method:ident $path:literal, $policy:ident, $handler:expr) => {
        Route {
            spec: RouteSpec { method: Method::$method, path: $path, policy: Policy::$policy },
            handler: on(MethodFilter::$method, $handler),
        }
    };
}

/// The table. Add a route here, with its policy, and a case to the route matrix test.
fn table() -> Vec<Route> {
    vec![
        // 概况: the user's own area (a village cadre goes straight to the village).
        route!(GET "/", SignedInArea, area::home),
        // 乡镇 → 村列表, 村 → 户列表.
        route!(GET "/area/{code}", Overview, area::show),
        // 户详情: fields, members, incomes, pairings, history.
        route!(GET "/household/{hh_id}", SignedInArea, household::show),
        // 查询: name, 户编号 or full ID number (the forms post: no ID number in a URL).
        route!(GET "/search", SignedInArea, search::show),
        route!(POST "/search", SignedInArea, search::submit),
        // 统计看板 (county → township → village, by year) and the households behind a number.
        route!(GET "/dashboard", Overview, dashboard::home),
        route!(GET "/dashboard/{code}", Overview, dashboard::show),
        route!(GET "/households", Overview, households::list),
        // 问题清单 of the area, and an explanation proposed, confirmed or rejected.
        route!(GET "/findings", Overview, findings::list),
        route!(POST "/findings/{id}", RegistryEditor, findings::act),
        // 运行检查: the default rule sets on the county, as `fupin check` (county admins).
        route!(POST "/findings/run", CountyAdmin, findings::run),
        // 年度动态调整: 出生, 死亡, 婚入, 婚出, 迁移成员, 更正, 分户, 合户 (pages/edit.rs).
        route!(GET "/household/{hh_id}/change/{change}", RegistryEditor, edit::form),
        route!(POST "/household/{hh_id}/change/{change}", RegistryEditor, edit::submit),
        // 新增农户 in a village.
        route!(GET "/area/{code}/new-household", RegistryEditor, edit::new_household_form),
        route!(POST "/area/{code}/new-household", RegistryEditor, edit::new_household),
        // 显示号码: one personal number unmasked, with a reason, logged first; 查看记录.
        route!(POST "/household/{hh_id}/reveal", Reveal, reveal::submit),
        route!(GET "/admin/reveals", CountyAdmin, reveal::log),
        // 我的农户 (phone first): the list, a household's card, 记录走访.
        route!(GET "/my", SignedInArea, my::list),
        route!(GET "/my/household/{hh_id}", SignedInArea, my::card),
        route!(GET "/my/household/{hh_id}/visit", Visitor, visit::form),
        route!(POST "/my/household/{hh_id}/visit", Visitor, visit::submit),
        // 拨打电话: the number shown (with a tel: link) after a logged reveal.
        route!(POST "/my/household/{hh_id}/call", Visitor, call::submit),
        // 离线更正 (phone first): a field of the household or a member, online or queued
        // offline, applied or flagged for review; 离线待发, drawn from the phone's queue;
        // 待审核的离线更正 with apply / discard (pages/my_change.rs, pages/review.rs).
        route!(GET "/my/household/{hh_id}/change", Visitor, my_change::form),
        route!(POST "/my/household/{hh_id}/change", Visitor, my_change::submit),
        route!(GET "/my/outbox", SignedInArea, my_change::outbox),
        route!(GET "/review", RegistryEditor, review::list),
        // The same list as JSON, before the routes that decide a proposal (the route
        // matrix runs the table in order and expects the proposal still pending).
        route!(GET "/api/v1/review", ApiEditor, api::review::review),
        route!(GET "/review/{key}", RegistryEditor, review::show),
        route!(POST "/review/{key}/apply", RegistryEditor, review::apply),
        route!(POST "/review/{key}/discard", RegistryEditor, review::discard),
        route!(GET "/login", Public, login::form),
        route!(POST "/login", Public, login::submit),
        route!(POST "/logout", Public, login::logout),
        route!(GET "/static/app.css", Public, stylesheet),
        // The icon of the tab and the home screen (an SVG; `/favicon.ico` for
        // browsers that ask for it without reading the page's link).
        route!(GET "/static/favicon.svg", Public, favicon),
        route!(GET "/favicon.ico", Public, favicon),
        // 中文 | English: the switcher in every page's footer keeps the choice in a cookie.
        route!(GET "/lang/{lang}", Public, crate::i18n::switch),
        // 离线: the service worker (at the root, so it controls /my) and the script
        // the phone pages load to register it and send the visits queued offline.
        route!(GET "/sw.js", Public, service_worker),
        route!(GET "/static/offline.js", Public, offline_script),
        // 用户管理.
        route!(GET "/admin/users", CountyAdmin, admin::list),
        route!(POST "/admin/users", CountyAdmin, admin::create),
        route!(GET "/admin/users/{username}", CountyAdmin, admin::show),
        route!(POST "/admin/users/{username}/disable", CountyAdmin, admin::disable),
        route!(POST "/admin/users/{username}/enable", CountyAdmin, admin::enable),
        route!(POST "/admin/users/{username}/reset", CountyAdmin, admin::reset),
        route!(POST "/admin/users/{username}/role", CountyAdmin, admin::role),
        // Any account's API tokens are listed on its page; a county admin revokes one.
        route!(POST "/admin/users/{username}/tokens/revoke", CountyAdmin, admin::revoke_token),
        // 登录日志.
        route!(GET "/admin/auth-log", CountyAdmin, auth_log::show),
        // 访问令牌 (the user's own) and the JSON API.
        route!(GET "/account/tokens", SignedInArea, api::tokens::list),
        route!(POST "/account/tokens", SignedInArea, api::tokens::create),
        route!(POST "/account/tokens/revoke", SignedInArea, api::tokens::revoke),
        route!(GET "/api/v1/me", Api, api::me),
        route!(GET "/api/v1/areas/{code}", ApiOverview, api::households::area),
        route!(GET "/api/v1/areas/{code}/households", ApiOverview, api::households::households),
        route!(GET "/api/v1/households/{hh_id}", Api, api::households::household),
        route!(GET "/api/v1/households/{hh_id}/history", Api, api::households::history),
        route!(GET "/api/v1/search", Api, api::search),
        route!(POST "/api/v1/search", Api, api::search_post),
        route!(GET "/api/v1/dashboard/{code}", ApiOverview, api::dashboard::dashboard),
        route!(GET "/api/v1/households/{hh_id}/visits", Api, api::visits::visits),
        route!(POST "/api/v1/households/{hh_id}/visits", ApiVisitor, api::visits::record_visit),
        route!(GET "/api/v1/findings", ApiOverview, api::findings::findings),
        // One finding with its explanation's history; an explanation proposed,
        // confirmed or rejected by script (the worklist form's checks).
        route!(GET "/api/v1/findings/{id}", Api, api::findings::finding),
        route!(POST "/api/v1/findings/{id}", ApiEditor, api::findings::explain_finding),
        route!(GET "/api/v1/openapi.json", Public, api::openapi::document),
    ]
}

/// Every route of the application with its method and policy.
pub fn routes() -> Vec<RouteSpec> {
    table().into_iter().map(|r| r.spec).collect()
}

/// The stylesheet, compiled into the binary (no CDN, nothing to deploy beside it).
const CSS: &str = include_str!("../static/app.css");

async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS)
}

/// The icon, compiled in like the stylesheet.
const FAVICON: &str = include_str!("../static/favicon.svg");

async fn favicon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], FAVICON)
}

/// The service worker and the phone pages' script, compiled in like the stylesheet.
const SERVICE_WORKER: &str = include_str!("../static/sw.js");
const OFFLINE_JS: &str = include_str!("../static/offline.js");

/// The worker is checked for updates on every navigation (`no-cache`), so a new
/// release replaces it at the next visit.
async fn service_worker() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SERVICE_WORKER)
}

async fn offline_script() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], OFFLINE_JS)
}

/// 404 for a path no route serves: a JSON error under `/api/`, else the error page.
async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return api::ApiError::not_found().into_response();
    }
    WebError::NotFound.into_response()
}

/// Enforces a route's policy. The user found here rides along in the request's
/// extensions, so the handler's [`CurrentUser`] does not read the session again.
async fn enforce(State((state, policy)): State<(AppState, Policy)>, mut request: Request, next: Next) -> Response {
    if policy == Policy::Public {
        return next.run(request).await;
    }
    if matches!(policy, Policy::Api | Policy::ApiOverview | Policy::ApiEditor | Policy::ApiVisitor) {
        return match api::authenticate(&state, request.headers()).await {
            Ok(user) if policy == Policy::ApiOverview && user.paired_only() => {
                tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "帮扶责任人试图查看片区数据");
                api::ApiError::paired_only().into_response()
            }
            Ok(user) if policy == Policy::ApiEditor && !edit::may_edit(user.user.role) => {
                tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "只读角色试图审核更正或说明问题");
                api::ApiError::forbidden("只有县级管理员、乡镇干部和村干部可以审核离线更正、说明问题").into_response()
            }
            Ok(user) if policy == Policy::ApiVisitor && !my::may_visit(user.user.role) => {
                tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "只读角色试图记录走访");
                api::ApiError::forbidden("部门数据员和督查人员只能查看，不能记录走访").into_response()
            }
            Ok(user) => {
                request.extensions_mut().insert(user);
                next.run(request).await
            }
            Err(e) => e.into_response(),
        };
    }
    let user = match crate::session::current_user(&state, request.headers()).await {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    if policy == Policy::Overview && user.paired_only() {
        tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "帮扶责任人试图查看片区数据");
        let t = crate::i18n::current();
        return crate::error::error_page(
            axum::http::StatusCode::FORBIDDEN,
            t.t("scope.paired_only.title"),
            t.t("scope.paired_only.body"),
        );
    }
    if policy == Policy::CountyAdmin && user.user.role != Role::CountyAdmin {
        tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "无权访问管理页面");
        return WebError::Forbidden.into_response();
    }
    if policy == Policy::RegistryEditor && !edit::may_edit(user.user.role) {
        tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "只读角色试图修改登记数据");
        return edit::read_only();
    }
    if policy == Policy::Reveal && !fupin_app::reveal::may_reveal(user.user.role) {
        tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "无权查看完整号码");
        return reveal::forbidden();
    }
    if policy == Policy::Visitor && !my::may_visit(user.user.role) {
        tracing::warn!(username = %user.user.username, path = %crate::display::scrub_ids(request.uri().path()), "只读角色试图记录走访");
        let t = crate::i18n::current();
        return crate::error::error_page(
            axum::http::StatusCode::FORBIDDEN,
            t.t("visit.forbidden.title"),
            t.t("visit.forbidden.body"),
        );
    }
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// The application's routes with their layers.
pub(crate) fn router(state: AppState) -> Router {
    let secure = state.config.secure_cookies;
    let mut app = Router::new();
    for Route { spec, handler } in table() {
        let guarded = handler.route_layer(from_fn_with_state((state.clone(), spec.policy), enforce));
        app = app.route(spec.path, guarded);
    }
    let mut app = app
        .fallback(not_found)
        .with_state(state.clone())
        .layer(security::csrf_layer())
        .layer(axum::middleware::from_fn(security::require_origin_headers))
        .layer(axum::middleware::from_fn_with_state(state, security::log_refusals))
        // Outermost of the layers that answer: a refused request's page is in its language too.
        .layer(axum::middleware::from_fn(crate::i18n::scope));
    for layer in security::header_layers() {
        app = app.layer(layer);
    }
    // Served over HTTPS (itself, or behind a TLS proxy with --secure-cookies): the
    // browser keeps to HTTPS for this host from then on.
    if secure {
        app = app.layer(security::hsts_layer());
    }
    // The span names the path only, with any personal number in it masked: a query
    // string or a path may hold a whole ID number, and logs must not keep it.
    app.layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
        let path = crate::display::scrub_ids(request.uri().path());
        tracing::info_span!("request", method = %request.method(), path = %path)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_and_path_is_listed_once() {
        let specs = routes();
        for (i, a) in specs.iter().enumerate() {
            assert!(!specs[i + 1..].iter().any(|b| a.method == b.method && a.path == b.path), "{a:?} twice");
        }
    }
}
