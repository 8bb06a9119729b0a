//! 统计看板: an area's dashboard (county → township → village) for one year, with a
//! chart and a data table per figure. Every number of a table links to the list of
//! households behind it (`/households?…`, module `households`), which uses the same
//! store predicates, so the list has exactly that many lines.
//!
//! The figures, the sections a user sees and the exit threshold are
//! `fupin_app::dashboard`'s (counted once for this page and the API, kept in memory
//! under the head of the change history); this module draws them.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use fupin_app::dashboard::{self, Sections};
use fupin_domain::{DivisionCode, DivisionLevel};
use fupin_store::dashboard_views::{STATUSES, StatusFigures};
use serde::Deserialize;

use super::dashboard_charts::{Bars, bar_svg};
use super::{Crumb, Nav, crumbs, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The first year the year selector offers (建档立卡 began in 2014).
pub(crate) use fupin_app::dashboard::FIRST_YEAR;

/// `?year=` as typed: a year from [`FIRST_YEAR`] to this year, else this year.
#[derive(Deserialize)]
pub(crate) struct YearQuery {
    year: Option<String>,
}

/// The year asked for, or the year of `config.today` when none or out of range.
pub(crate) fn year_of(state: &AppState, asked: Option<&str>) -> i32 {
    dashboard::year_of(state.config.today, asked)
}

/// A number and the list of households behind it.
pub(crate) struct Linked {
    pub n: i64,
    pub href: String,
}

/// One line of the status table: a child area (or the total).
struct StatusLine {
    name: String,
    /// The child's own dashboard, when it has one below this one.
    href: Option<String>,
    households: Vec<Linked>,
    persons: Vec<Linked>,
    monitored: Linked,
    monitored_persons: i64,
    all_households: Linked,
    all_persons: i64,
}

/// One line of the incidence table.
struct IncidenceLine {
    name: String,
    poor_persons: Linked,
    persons: Linked,
    /// 贫困发生率 in percent, two decimals; empty when the area has nobody.
    rate: String,
    /// Below the exit threshold.
    below: bool,
}

/// One line of the visit-compliance table.
struct VisitLine {
    name: String,
    due: Linked,
    visited: Linked,
    missed: Linked,
    /// Visited ÷ due, in percent.
    rate: String,
}

struct ExitLine {
    year: i32,
    households: Linked,
    persons: i64,
}

struct MonitorLine {
    label: String,
    open: Linked,
    cleared: Linked,
    total: Linked,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    title: String,
    year: i32,
    years: Vec<i32>,
    child_label: &'static str,
    status_labels: Vec<String>,
    status_chart: Option<String>,
    status_lines: Vec<StatusLine>,
    status_total: StatusLine,
    threshold: Option<f64>,
    threshold_note: String,
    incidence_chart: Option<String>,
    incidence_lines: Vec<IncidenceLine>,
    exit_chart: Option<String>,
    exit_lines: Vec<ExitLine>,
    monitor_chart: Option<String>,
    quarter_start: String,
    quarter_end: String,
    visit_chart: Option<String>,
    visit_lines: Vec<VisitLine>,
    monitor_lines: Vec<MonitorLine>,
    /// 问题清单: open, explained and fixed findings by rule and by village.
    findings: super::findings::Summary,
    /// The sections the user sees: a department officer those over their own columns
    /// (户类型 and 贫困发生率, 脱贫年度, 监测对象), and no 走访 (field work).
    shown: Sections,
    visits_shown: bool,
}

/// `/dashboard`: the user's own area.
pub(crate) async fn home(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let area = user.area().clone();
    let year = year_of(&state, q.year.as_deref());
    show_dashboard(&state, t, &user, &area, year).await
}

/// `/dashboard/{code}`: an area inside the user's; anything else is 404.
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let code = DivisionCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let year = year_of(&state, q.year.as_deref());
    show_dashboard(&state, t, &user, &code, year).await
}

/// The link to the households behind a number.
fn list_href(area: &str, year: i32, filter: &str) -> String {
    if filter.is_empty() {
        format!("/households?area={area}&year={year}")
    } else {
        format!("/households?area={area}&year={year}&{filter}")
    }
}

fn status_line(name: String, href: Option<String>, code: &str, year: i32, f: &StatusFigures) -> StatusLine {
    let link = |n: i64, filter: &str| Linked { n, href: list_href(code, year, filter) };
    StatusLine {
        name,
        href,
        households: STATUSES.iter().zip(f.households).map(|(s, n)| link(n, &format!("status={s}"))).collect(),
        persons: STATUSES.iter().zip(f.persons).map(|(s, n)| link(n, &format!("status={s}"))).collect(),
        monitored: link(f.monitored_households, "monitor=open"),
        monitored_persons: f.monitored_persons,
        all_households: link(f.total_households(), ""),
        all_persons: f.total_persons(),
    }
}

async fn show_dashboard(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    year: i32,
) -> Result<Response, WebError> {
    let counted = dashboard::dashboard(&state.store, user, code, year, state.config.today).await?;
    let child_label = match code.level() {
        DivisionLevel::County => t.t("level.township"),
        _ => t.t("level.village"),
    };
    let children = &counted.children;
    let nav = Some(Nav::of(state, user).await?);
    let crumbs = crumbs(state, user, code)
        .await?
        .into_iter()
        .map(|c| {
            let href = match c.href.strip_prefix("/area/") {
                Some(c) => format!("/dashboard/{c}?year={year}"),
                None => format!("/dashboard?year={year}"),
            };
            Crumb { href, name: c.name }
        })
        .collect();

    let figures = |c: &str| counted.of(c);
    let below_village = code.level() != DivisionLevel::Village;
    let status_lines: Vec<StatusLine> = children
        .iter()
        .map(|d| {
            let href = below_village.then(|| format!("/dashboard/{}?year={year}", d.code));
            status_line(d.name.clone(), href, &d.code, year, &figures(&d.code))
        })
        .collect();
    let status_total = status_line(t.t("common.total").to_owned(), None, code.as_str(), year, &counted.total);
    let status_labels: Vec<String> =
        STATUSES.iter().map(|s| state.codes.label("household_status", s).to_owned()).collect();
    let names: Vec<String> = children.iter().map(|d| d.name.clone()).collect();
    let status_chart = bar_svg(Bars {
        title: t.t("dashboard.status.chart"),
        categories: names.clone(),
        series: (0..3)
            .map(|i| {
                let label = status_labels[i].as_str();
                (label, children.iter().map(|d| figures(&d.code).households[i] as f64).collect())
            })
            .collect(),
        stacked: true,
        mark: None,
        counts: true,
        links: STATUSES
            .iter()
            .map(|s| children.iter().map(|d| list_href(&d.code, year, &format!("status={s}"))).collect())
            .collect(),
    });

    // 贫困发生率 against the exit threshold of the county's province.
    let threshold = counted.threshold;
    let incidence_lines: Vec<IncidenceLine> = children
        .iter()
        .map(|d| {
            let f = figures(&d.code);
            let r = dashboard::rate(&f);
            IncidenceLine {
                name: d.name.clone(),
                poor_persons: Linked { n: f.poor_persons(), href: list_href(&d.code, year, "status=2") },
                persons: Linked { n: f.total_persons(), href: list_href(&d.code, year, "") },
                rate: r.map(|r| format!("{r:.2}%")).unwrap_or_default(),
                below: dashboard::below(r, threshold),
            }
        })
        .collect();
    let incidence_chart = bar_svg(Bars {
        title: t.t("dashboard.incidence.chart"),
        categories: names,
        series: vec![(
            t.t("dashboard.incidence"),
            children.iter().map(|d| dashboard::rate(&figures(&d.code)).unwrap_or(0.0)).collect(),
        )],
        stacked: false,
        mark: threshold,
        counts: false,
        links: vec![children.iter().map(|d| list_href(&d.code, year, "status=2")).collect()],
    });

    let exits = &counted.exits;
    let exit_chart = bar_svg(Bars {
        title: t.t("dashboard.exits.title"),
        categories: exits.iter().map(|(y, _, _)| y.to_string()).collect(),
        series: vec![(t.t("dashboard.exits.chart"), exits.iter().map(|(_, n, _)| *n as f64).collect())],
        stacked: false,
        mark: None,
        counts: true,
        // An exit year's list shows the households as they were that year, so its persons
        // are the exit year's members (a child born later is not among them), as counted.
        links: vec![exits.iter().map(|(y, _, _)| list_href(code.as_str(), *y, &format!("exit_year={y}"))).collect()],
    });
    let exit_lines = exits
        .iter()
        .map(|(y, n, p)| ExitLine {
            year: *y,
            households: Linked { n: *n, href: list_href(code.as_str(), *y, &format!("exit_year={y}")) },
            persons: *p,
        })
        .collect();

    let monitoring = &counted.monitoring;
    let type_label = |t: &str| state.codes.label("monitor_type", t).to_owned();
    let monitor_chart = bar_svg(Bars {
        title: t.t("dashboard.monitor.title"),
        categories: monitoring.iter().map(|m| type_label(&m.monitor_type)).collect(),
        series: vec![
            (t.t("dashboard.monitor.open"), monitoring.iter().map(|m| m.open as f64).collect()),
            (t.t("dashboard.monitor.cleared"), monitoring.iter().map(|m| m.cleared as f64).collect()),
        ],
        stacked: true,
        mark: None,
        counts: true,
        links: ["open", "cleared"]
            .iter()
            .map(|st| {
                let link = |mt: &str| list_href(code.as_str(), year, &format!("monitor_type={mt}&monitor={st}"));
                monitoring.iter().map(|m| link(&m.monitor_type)).collect()
            })
            .collect(),
    });
    let monitor_lines = monitoring
        .iter()
        .map(|m| {
            let mt = &m.monitor_type;
            let link = |n: i64, state: &str| Linked {
                n,
                href: list_href(code.as_str(), year, &format!("monitor_type={mt}{state}")),
            };
            MonitorLine {
                label: type_label(mt),
                open: link(m.open, "&monitor=open"),
                cleared: link(m.cleared, "&monitor=cleared"),
                total: link(m.open + m.cleared, ""),
            }
        })
        .collect();

    // 走访合规: counted on every request (visits are not in the change history).
    let quarter = &counted.quarter;
    let visit_lines: Vec<VisitLine> = counted
        .visits
        .iter()
        .map(|v| {
            let link = |n: i64, s: &str| Linked { n, href: list_href(&v.code, year, &format!("visits={s}")) };
            VisitLine {
                name: v.name.clone(),
                due: link(v.due, "due"),
                visited: link(v.visited, "visited"),
                missed: link(v.missed(), "missed"),
                rate: format!("{:.1}%", v.rate()),
            }
        })
        .collect();
    let visit_chart = bar_svg(Bars {
        title: t.t("dashboard.visits.chart"),
        categories: visit_lines.iter().map(|l| l.name.clone()).collect(),
        series: vec![
            (t.t("dashboard.visits.visited"), visit_lines.iter().map(|l| l.visited.n as f64).collect()),
            (t.t("dashboard.visits.missed"), visit_lines.iter().map(|l| l.missed.n as f64).collect()),
        ],
        stacked: true,
        mark: None,
        counts: true,
        links: vec![
            visit_lines.iter().map(|l| l.visited.href.clone()).collect(),
            visit_lines.iter().map(|l| l.missed.href.clone()).collect(),
        ],
    });

    let findings = super::findings::summary(state, t, user, code, year).await?;
    let page = DashboardPage {
        shown: counted.sections,
        visits_shown: counted.sections.visits,
        t,
        findings,
        quarter_start: quarter.start.clone(),
        quarter_end: quarter.end.clone(),
        visit_chart,
        visit_lines,
        nav,
        crumbs,
        title: counted.area.name.clone(),
        year,
        years: dashboard::years(state.config.today),
        child_label,
        status_labels,
        status_chart,
        status_lines,
        status_total,
        threshold,
        threshold_note: counted.threshold_note.clone().unwrap_or_default(),
        incidence_chart,
        incidence_lines,
        exit_chart,
        exit_lines,
        monitor_chart,
        monitor_lines,
    };
    Ok(html(&page)?.into_response())
}
