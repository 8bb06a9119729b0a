//! The pages, one module per area of the application, and what they share: the
//! navigation bar, breadcrumbs, and rendering.

pub(crate) mod admin;
pub(crate) mod area;
pub(crate) mod auth_log;
pub(crate) mod call;
pub(crate) mod dashboard;
pub(crate) mod dashboard_charts;
pub(crate) mod edit;
pub(crate) mod edit_xlsx;
pub(crate) mod findings;
pub(crate) mod household;
pub(crate) mod households;
pub(crate) mod login;
pub(crate) mod my;
pub(crate) mod my_change;
pub(crate) mod reveal;
pub(crate) mod review;
pub(crate) mod search;
pub(crate) mod visit;

use askama::Template;
use axum::response::Html;
use fupin_domain::DivisionCode;
use fupin_store::views;

use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use fupin_store::users::Role;

/// Who is signed in, for the bar at the top of every page.
pub(crate) struct Nav {
    pub display_name: String,
    pub role_label: &'static str,
    pub area_name: String,
    /// A county administrator: the bar links to 用户管理 and 登录日志.
    pub admin: bool,
    /// The user may see area overviews and dashboards (not a helper cadre, who sees
    /// paired households only): the bar links to 统计看板.
    pub overview: bool,
    /// The role visits households (not department officers and inspectors): 我的农户.
    pub visits: bool,
    /// The role reviews flagged offline corrections: 待审核.
    pub review: bool,
}

impl Nav {
    pub async fn of(state: &AppState, user: &CurrentUser) -> Result<Nav, WebError> {
        let area_name = division_name(state, user.area()).await?.unwrap_or_else(|| user.area().to_string());
        Ok(Nav {
            display_name: user.user.display_name.clone(),
            role_label: role_label(crate::i18n::current(), user.user.role),
            area_name,
            admin: user.user.role == Role::CountyAdmin,
            overview: user.user.role != Role::HelperCadre,
            visits: my::may_visit(user.user.role),
            review: edit::may_edit(user.user.role),
        })
    }
}

/// A division's name, from the cache when it was read lately.
pub(crate) async fn division_name(state: &AppState, code: &DivisionCode) -> Result<Option<String>, WebError> {
    if let Some(name) = state.cache.division(code.as_str()) {
        return Ok(name);
    }
    let name = views::division(&state.store, code).await?.map(|d| d.name);
    state.cache.put_division(code.as_str(), name.clone());
    Ok(name)
}

/// A role as the pages name it, in the page's language.
pub(crate) fn role_label(t: Tr, role: Role) -> &'static str {
    match role {
        Role::CountyAdmin => t.t("role.county_admin"),
        Role::TownshipOfficer => t.t("role.township_officer"),
        Role::VillageCadre => t.t("role.village_cadre"),
        Role::HelperCadre => t.t("role.helper_cadre"),
        Role::DepartmentOfficer => t.t("role.department_officer"),
        Role::Inspector => t.t("role.inspector"),
    }
}

/// One step of the path from the user's own area down to the page.
pub(crate) struct Crumb {
    pub href: String,
    pub name: String,
}

/// The areas from the user's own area (linked as `/`) down to `code`, inclusive.
pub(crate) async fn crumbs(state: &AppState, user: &CurrentUser, code: &DivisionCode) -> Result<Vec<Crumb>, WebError> {
    let own = user.area().as_str().len();
    let mut out = Vec::new();
    for len in [6, 9, 12] {
        if len < own || len > code.as_str().len() {
            continue;
        }
        let Ok(c) = DivisionCode::parse(&code.as_str()[..len]) else {
            continue;
        };
        let name = division_name(state, &c).await?.unwrap_or_else(|| c.to_string());
        let href = if len == own { "/".to_owned() } else { format!("/area/{c}") };
        out.push(Crumb { href, name });
    }
    Ok(out)
}

/// Renders a page.
pub(crate) fn html<T: Template>(page: &T) -> Result<Html<String>, WebError> {
    Ok(Html(page.render()?))
}

/// A table of text cells, for the pages whose columns come from the schema.
pub(crate) struct Grid {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}
