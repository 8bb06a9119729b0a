//! 概况: an area's figures. A county lists its townships, a township its villages,
//! each with households, persons, 在册贫困户, 已脱贫户 and 监测对象; a village lists
//! its households, 50 to a page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_domain::{DivisionCode, DivisionLevel};
use fupin_store::views::{self, Counts};
use serde::Deserialize;

use super::{Crumb, Nav, crumbs, edit, edit_xlsx, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// Households on one page of a village's list.
const PER_PAGE: i64 = 50;

/// A township or village line of the overview.
pub(crate) struct AreaLine {
    pub href: String,
    pub name: String,
    pub counts: Counts,
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    title: String,
    child_label: &'static str,
    lines: Vec<AreaLine>,
    total: Counts,
    /// Flagged offline corrections awaiting review here, for roles that review.
    to_review: Option<i64>,
    /// The counts by 户类型 (在册贫困户, 已脱贫户, 监测对象), for users who see it.
    status_counts: bool,
}

/// One household line of a village's list.
struct HouseholdRow {
    hh_id: String,
    head: String,
    group: String,
    status: String,
    persons: i64,
}

#[derive(Template)]
#[template(path = "village.html")]
struct VillagePage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    title: String,
    total: Counts,
    households: Vec<HouseholdRow>,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    /// The user may add households here (`/area/{code}/new-household`).
    can_edit: bool,
    code: String,
    /// Flagged offline corrections awaiting review here, for roles that review.
    to_review: Option<i64>,
    /// The columns shown beside 户编号, 户主 and 人数, for users who see them (a
    /// department officer sees only their department's).
    status_counts: bool,
    show_group: bool,
    show_status: bool,
}

/// `?page=` as typed: anything but a positive number means the first page.
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
    /// `xlsx`: a village's whole household list as a download.
    format: Option<String>,
}

impl PageQuery {
    /// The page asked for, 1 when none or nonsense.
    pub fn number(&self) -> i64 {
        self.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1)
    }
}

/// `/`: the user's own area; a village cadre is sent straight to the village, a helper
/// cadre (whose scope is their paired households, not an area) to 我的农户.
pub(crate) async fn home(State(state): State<AppState>, t: Tr, user: CurrentUser) -> Result<Response, WebError> {
    if user.paired_only() {
        return Ok(Redirect::to("/my").into_response());
    }
    if user.area().level() == DivisionLevel::Village {
        return Ok(Redirect::to(&format!("/area/{}", user.area())).into_response());
    }
    let area = user.area().clone();
    show_area(&state, t, &user, &area, 1).await
}

/// `/area/{code}`: a township or village inside the user's area; anything else is 404.
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, WebError> {
    let code = DivisionCode::parse(&code).map_err(|_| WebError::NotFound)?;
    if !user.may_see(&code) {
        return Err(WebError::NotFound);
    }
    if edit_xlsx::wants_xlsx(q.format.as_deref()) && code.level() == DivisionLevel::Village {
        return village_xlsx(&state, &user, &code).await;
    }
    let page = q.number();
    show_area(&state, t, &user, &code, page).await
}

async fn show_area(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    page: i64,
) -> Result<Response, WebError> {
    let division = views::division(&state.store, code).await?.ok_or(WebError::NotFound)?;
    let nav = Some(Nav::of(state, user).await?);
    let crumbs = crumbs(state, user, code).await?;
    let total = views::counts_in(&state.store, code).await?;
    let to_review = super::review::pending_here(state, user, code).await?;
    let child_label = match code.level() {
        DivisionLevel::County => t.t("level.township"),
        DivisionLevel::Township => t.t("level.village"),
        DivisionLevel::Village => {
            let can_edit = edit::may_edit(user.user.role);
            return village(state, t, user, code, division.name, nav, crumbs, total, page, can_edit, to_review).await;
        }
        // Province and city accounts do not exist; such a code has no page.
        _ => return Err(WebError::NotFound),
    };
    let lines = views::counts_by_child(&state.store, code)
        .await?
        .into_iter()
        .map(|a| AreaLine { href: format!("/area/{}", a.division.code), name: a.division.name, counts: a.counts })
        .collect();
    let status_counts = status_counts(user);
    let page = AreaPage { t, nav, crumbs, title: division.name, child_label, lines, total, to_review, status_counts };
    Ok(html(&page)?.into_response())
}

/// Whether the user sees the counts by 户类型 and 监测对象 (a department officer only
/// when their department owns those columns).
pub(crate) fn status_counts(user: &CurrentUser) -> bool {
    user.may_see_field("households", "status") && user.may_see_field("households", "monitor_type")
}

#[allow(clippy::too_many_arguments)]
async fn village(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    title: String,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    total: Counts,
    page: i64,
    can_edit: bool,
    to_review: Option<i64>,
) -> Result<Response, WebError> {
    let pages = ((total.households + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = page.min(pages);
    let (lines, _) = views::households_in_village(&state.store, code, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let households = lines
        .into_iter()
        .map(|l| HouseholdRow {
            status: state.codes.label("household_status", &l.status).to_owned(),
            head: l.head_name.unwrap_or_default(),
            group: l.group_no.map(|g| g.to_string()).unwrap_or_default(),
            persons: l.persons,
            hh_id: l.hh_id,
        })
        .collect();
    let link = |p: i64| format!("/area/{code}?page={p}");
    let page = VillagePage {
        t,
        nav,
        crumbs,
        title,
        total,
        households,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        can_edit,
        code: code.to_string(),
        to_review,
        status_counts: status_counts(user),
        show_group: user.may_see_field("households", "group_no"),
        show_status: user.may_see_field("households", "status"),
    };
    Ok(html(&page)?.into_response())
}

/// `/area/{village}?format=xlsx`: every household of the village, keys as text; the
/// columns the user may not see (a department officer's) are left out.
async fn village_xlsx(state: &AppState, user: &CurrentUser, code: &DivisionCode) -> Result<Response, WebError> {
    views::division(&state.store, code).await?.ok_or(WebError::NotFound)?;
    let total = views::counts_in(&state.store, code).await?.households;
    let (lines, _) = views::households_in_village(&state.store, code, total.max(1), 0).await?;
    use edit_xlsx::XCell::{Number, Text};
    let (show_group, show_status) =
        (user.may_see_field("households", "group_no"), user.may_see_field("households", "status"));
    let rows: Vec<Vec<edit_xlsx::XCell>> = lines
        .into_iter()
        .map(|l| {
            let mut row = vec![Text(l.hh_id), Text(l.head_name.unwrap_or_default())];
            if show_group {
                row.push(Text(l.group_no.map(|g| g.to_string()).unwrap_or_default()));
            }
            if show_status {
                row.push(Text(state.codes.label("household_status", &l.status).to_owned()));
            }
            row.push(Number(l.persons as f64));
            row
        })
        .collect();
    let headers: Vec<&str> =
        [("户编号", true), ("户主", true), ("组", show_group), ("户类型", show_status), ("人数", true)]
            .into_iter()
            .filter_map(|(h, shown)| shown.then_some(h))
            .collect();
    let bytes = edit_xlsx::workbook("农户名单", &headers, &rows)?;
    Ok(edit_xlsx::download(&format!("households-{code}.xlsx"), bytes))
}
