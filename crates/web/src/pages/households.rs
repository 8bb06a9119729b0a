//! 户列表: the households behind a dashboard number, filtered by area, year, status
//! in the year, 脱贫年度 and 监测对象 type or state; 50 to a page, scoped to the
//! user's area, and showing no personal numbers (like a village's list).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use fupin_domain::DivisionCode;
use fupin_store::dashboard_views::{self, HouseholdFilter, MonitorState, Quarter, STATUSES, VisitState};
use fupin_store::views;
use serde::Deserialize;

use super::dashboard::year_of;
use super::{Crumb, Nav, crumbs, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// Households on one page.
const PER_PAGE: i64 = 50;

/// The query string as typed; anything not understood is refused as not found
/// rather than silently widened to more households.
#[derive(Deserialize)]
pub(crate) struct ListQuery {
    area: Option<String>,
    year: Option<String>,
    status: Option<String>,
    exit_year: Option<String>,
    monitor_type: Option<String>,
    monitor: Option<String>,
    visits: Option<String>,
    page: Option<String>,
    /// `xlsx`: every household of the filter as a download.
    format: Option<String>,
}

/// The optional columns of the list, each shown to users who see it (a department
/// officer only their department's, `departments.rs`).
pub(crate) struct Shown {
    pub group: bool,
    pub status: bool,
    pub exit_year: bool,
    pub monitor_type: bool,
}

impl Shown {
    pub(crate) fn of(user: &CurrentUser) -> Shown {
        Shown {
            group: user.may_see_field("households", "group_no"),
            status: user.may_see_field("households", "status"),
            exit_year: user.may_see_field("households", "exit_year"),
            monitor_type: user.may_see_field("households", "monitor_type"),
        }
    }
}

struct Line {
    hh_id: String,
    village: String,
    group: String,
    head: String,
    status: String,
    exit_year: String,
    monitor_type: String,
    persons: i64,
}

#[derive(Template)]
#[template(path = "households.html")]
struct ListPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    title: String,
    description: String,
    dashboard: String,
    households: i64,
    persons: i64,
    lines: Vec<Line>,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    /// The year selector (年度动态调整): the filter's other parameters, kept.
    year: i32,
    years: Vec<i32>,
    hidden: Vec<(&'static str, String)>,
    shown: Shown,
    /// The same list as a download.
    xlsx: String,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `/households?area=…&year=…&status=…&exit_year=…&monitor_type=…&monitor=open|cleared`.
pub(crate) async fn list(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let area = match given(&q.area) {
        Some(a) => DivisionCode::parse(a).map_err(|_| WebError::NotFound)?,
        None => user.area().clone(),
    };
    if !user.may_see(&area) {
        return Err(WebError::NotFound);
    }
    let division = views::division(&state.store, &area).await?.ok_or(WebError::NotFound)?;
    let year = year_of(&state, given(&q.year));
    let status = given(&q.status).map(str::to_owned);
    if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(WebError::NotFound);
    }
    let exit_year = match given(&q.exit_year) {
        Some(y) => Some(y.parse::<i32>().map_err(|_| WebError::NotFound)?),
        None => None,
    };
    let monitor_type = given(&q.monitor_type).map(str::to_owned);
    if monitor_type.as_deref().is_some_and(|t| state.codes.get("monitor_type").is_none_or(|l| l.get(t).is_none())) {
        return Err(WebError::NotFound);
    }
    let monitor = match given(&q.monitor) {
        Some("open") => Some(MonitorState::Open),
        Some("cleared") => Some(MonitorState::Cleared),
        Some(_) => return Err(WebError::NotFound),
        None => None,
    };
    let visit_state = match given(&q.visits) {
        Some("due") => Some(VisitState::Due),
        Some("visited") => Some(VisitState::Visited),
        Some("missed") => Some(VisitState::Missed),
        Some(_) => return Err(WebError::NotFound),
        None => None,
    };
    let visits = visit_state.map(|s| (s, Quarter::for_year(year, state.config.today)));
    let filter = HouseholdFilter { area: area.clone(), year, status, exit_year, monitor_type, monitor, visits };
    // A list by a column the user does not see would tell that column's value of every
    // household on it: a department officer filters by their own columns only, and
    // visits are field work, not a department's.
    let shown = Shown::of(&user);
    let by_unseen = (filter.status.is_some() && !shown.status)
        || (filter.exit_year.is_some() && !shown.exit_year)
        || ((filter.monitor_type.is_some() || filter.monitor.is_some()) && !shown.monitor_type)
        || (filter.visits.is_some() && user.user.role == fupin_store::users::Role::DepartmentOfficer);
    if by_unseen {
        return Err(WebError::Forbidden);
    }

    let mut parts = vec![t.f1("common.year", "year", year)];
    if let Some(s) = &filter.status {
        parts.push(state.codes.label("household_status", s).to_owned());
    }
    if let Some(y) = filter.exit_year {
        parts.push(t.f1("households.exited_in", "year", y));
    }
    if filter.monitor_type.is_some() || filter.monitor.is_some() {
        let mt = filter.monitor_type.as_deref().map(|mt| state.codes.label("monitor_type", mt)).unwrap_or("");
        parts.push(match mt {
            "" => t.t("counts.monitored").to_owned(),
            _ => t.f1("households.monitored_as", "type", mt),
        });
        match filter.monitor {
            Some(MonitorState::Open) => parts.push(t.t("dashboard.monitor.open").to_owned()),
            Some(MonitorState::Cleared) => parts.push(t.t("dashboard.monitor.cleared").to_owned()),
            None => {}
        }
    }
    if let Some((s, q)) = &filter.visits {
        parts.push(match s {
            VisitState::Due => t.f2("households.visits_due", "start", &q.start, "end", &q.end),
            VisitState::Visited => t.f2("households.visits_visited", "start", &q.start, "end", &q.end),
            VisitState::Missed => t.f2("households.visits_missed", "start", &q.start, "end", &q.end),
        });
    }

    if super::edit_xlsx::wants_xlsx(q.format.as_deref()) {
        return xlsx(&state, &filter, &shown).await;
    }
    let (households, persons) = dashboard_views::count_filtered(&state.store, &filter).await?;
    let pages = ((households + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = given(&q.page).and_then(|p| p.parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1).min(pages);
    let rows = dashboard_views::list_filtered(&state.store, &filter, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let lines = rows
        .into_iter()
        .map(|l| Line {
            status: state.codes.label("household_status", &l.status).to_owned(),
            monitor_type: l
                .monitor_type
                .as_deref()
                .map(|mt| state.codes.label("monitor_type", mt).to_owned())
                .unwrap_or_default(),
            village: l.village_name.unwrap_or(l.village_code),
            group: l.group_no.map(|g| g.to_string()).unwrap_or_default(),
            head: l.head_name.unwrap_or_default(),
            exit_year: l.exit_year.map(|y| y.to_string()).unwrap_or_default(),
            persons: l.persons,
            hh_id: l.hh_id,
        })
        .collect();

    // The same query string with another page number.
    let mut query: Vec<(&'static str, String)> = vec![("area", area.to_string()), ("year", year.to_string())];
    if let Some(s) = &filter.status {
        query.push(("status", s.clone()));
    }
    if let Some(y) = filter.exit_year {
        query.push(("exit_year", y.to_string()));
    }
    if let Some(mt) = &filter.monitor_type {
        query.push(("monitor_type", mt.clone()));
    }
    match filter.monitor {
        Some(MonitorState::Open) => query.push(("monitor", "open".to_owned())),
        Some(MonitorState::Cleared) => query.push(("monitor", "cleared".to_owned())),
        None => {}
    }
    if let Some((s, _)) = &filter.visits {
        let v = match s {
            VisitState::Due => "due",
            VisitState::Visited => "visited",
            VisitState::Missed => "missed",
        };
        query.push(("visits", v.to_owned()));
    }
    let hidden: Vec<(&'static str, String)> = query.iter().filter(|(k, _)| *k != "year").cloned().collect();
    let link = |p: i64| {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("/households?{}&page={p}", q.join("&"))
    };
    let nav = Some(Nav::of(&state, &user).await?);
    let crumbs = crumbs(&state, &user, &area).await?;
    let dashboard =
        if area == *user.area() { format!("/dashboard?year={year}") } else { format!("/dashboard/{area}?year={year}") };
    let page = ListPage {
        t,
        nav,
        crumbs,
        title: division.name,
        description: parts.join(" · "),
        dashboard,
        households,
        persons,
        lines,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        year,
        years: (super::dashboard::FIRST_YEAR..=state.config.today.year()).rev().collect(),
        hidden,
        shown,
        xlsx: {
            let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("/households?{}&format=xlsx", q.join("&"))
        },
    };
    Ok(html(&page)?.into_response())
}

/// The most households one download holds (a county has some tens of thousands).
const XLSX_MAX: i64 = 200_000;

/// `/households?…&format=xlsx`: every household of the filter, keys as text, the
/// columns the user may not see left out.
async fn xlsx(state: &AppState, filter: &HouseholdFilter, shown: &Shown) -> Result<Response, WebError> {
    use super::edit_xlsx::XCell::{Number, Text};
    let rows = dashboard_views::list_filtered(&state.store, filter, XLSX_MAX, 0).await?;
    let headers: Vec<&str> = [
        ("户编号", true),
        ("村", true),
        ("组", shown.group),
        ("户主", true),
        ("户类型", shown.status),
        ("脱贫年度", shown.exit_year),
        ("监测对象类型", shown.monitor_type),
        ("人数", true),
    ]
    .into_iter()
    .filter_map(|(h, on)| on.then_some(h))
    .collect();
    let cells: Vec<Vec<super::edit_xlsx::XCell>> = rows
        .into_iter()
        .map(|l| {
            let mut row = vec![Text(l.hh_id), Text(l.village_name.unwrap_or(l.village_code))];
            if shown.group {
                row.push(Text(l.group_no.map(|g| g.to_string()).unwrap_or_default()));
            }
            row.push(Text(l.head_name.unwrap_or_default()));
            if shown.status {
                row.push(Text(state.codes.label("household_status", &l.status).to_owned()));
            }
            if shown.exit_year {
                row.push(Text(l.exit_year.map(|y| y.to_string()).unwrap_or_default()));
            }
            if shown.monitor_type {
                let mt = l.monitor_type.as_deref().map(|mt| state.codes.label("monitor_type", mt)).unwrap_or("");
                row.push(Text(mt.to_owned()));
            }
            row.push(Number(l.persons as f64));
            row
        })
        .collect();
    let bytes = super::edit_xlsx::workbook("农户名单", &headers, &cells)?;
    Ok(super::edit_xlsx::download(&format!("households-{}-{}.xlsx", filter.area, filter.year), bytes))
}
