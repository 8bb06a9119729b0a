//! 统计看板: an area's dashboard (county → township → village) for one year, with a
//! chart and a data table per figure. Every number of a table links to the list of
//! households behind it (`/households?…`, module `households`), which uses the same
//! store predicates, so the list has exactly that many lines.
//!
//! The figures are `GROUP BY` queries of the registry (`fupin_store::dashboard_views`);
//! the exit threshold comes from `data/policy/exit.csv`; 走访合规 counts the visits
//! of the quarter (the current one, or the year's last for a past year).
//!
//! Pre-aggregation: an area's figures for a year are kept in memory under the head of
//! the change history. Every registry write moves the head, so a cached answer is
//! never stale: after a write the next request counts again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use fupin_domain::exit_policy::ExitPolicy;
use fupin_domain::{DivisionCode, DivisionLevel};
use fupin_store::audit;
use fupin_store::dashboard_views::{self, MonitorFigures, Quarter, STATUSES, StatusFigures};
use fupin_store::views;
use serde::Deserialize;

use super::dashboard_charts::{Bars, bar_svg};
use super::{Crumb, Nav, crumbs, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The first year the year selector offers (建档立卡 began in 2014).
pub(crate) const FIRST_YEAR: i32 = 2014;

/// `?year=` as typed: a year from [`FIRST_YEAR`] to this year, else this year.
#[derive(Deserialize)]
pub(crate) struct YearQuery {
    year: Option<String>,
}

/// The year asked for, or the year of `config.today` when none or out of range.
pub(crate) fn year_of(state: &AppState, asked: Option<&str>) -> i32 {
    let this_year = state.config.today.year();
    asked
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (FIRST_YEAR..=this_year).contains(y))
        .unwrap_or(this_year)
}

/// An area's figures for a year, as the store counted them.
struct Figures {
    by_child: Vec<(String, StatusFigures)>,
    exits: Vec<(i32, i64, i64)>,
    monitoring: Vec<MonitorFigures>,
}

/// Figures by (head of the change history, area, year).
type Cache = Mutex<HashMap<(String, String, i32), Arc<Figures>>>;
static CACHE: LazyLock<Cache> = LazyLock::new(|| Mutex::new(HashMap::new()));
/// Entries kept before the cache starts again (areas × years × a few heads).
const CACHE_ENTRIES: usize = 1024;

/// The figures of `code` in `year`, counted again only when the registry has changed.
async fn figures(state: &AppState, code: &DivisionCode, year: i32) -> Result<Arc<Figures>, WebError> {
    let head = audit::head(&state.store).await?;
    let key = (head.hash, code.to_string(), year);
    if let Some(f) = CACHE.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(f);
    }
    let figures = Arc::new(Figures {
        by_child: dashboard_views::status_by_child(&state.store, code, year).await?,
        exits: dashboard_views::exits_by_year(&state.store, code, year).await?,
        monitoring: dashboard_views::monitoring_by_type(&state.store, code, year).await?,
    });
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, figures.clone());
    }
    Ok(figures)
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
    shown: super::households::Shown,
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
    if !user.may_see(&code) {
        return Err(WebError::NotFound);
    }
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

/// 贫困发生率 in percent, or `None` for an area without persons.
fn rate(f: &StatusFigures) -> Option<f64> {
    let all = f.total_persons();
    (all > 0).then(|| f.poor_persons() as f64 * 100.0 / all as f64)
}

async fn show_dashboard(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    year: i32,
) -> Result<Response, WebError> {
    let division = views::division(&state.store, code).await?.ok_or(WebError::NotFound)?;
    let (child_label, children) = match code.level() {
        DivisionLevel::County => (t.t("level.township"), views::children(&state.store, code).await?),
        DivisionLevel::Township => (t.t("level.village"), views::children(&state.store, code).await?),
        DivisionLevel::Village => (t.t("level.village"), vec![division.clone()]),
        _ => return Err(WebError::NotFound),
    };
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

    let counted = figures(state, code, year).await?;
    let by_child = &counted.by_child;
    let figures = |c: &str| by_child.iter().find(|(k, _)| k == c).map(|(_, f)| *f).unwrap_or_default();
    let mut total = StatusFigures::default();
    for (_, f) in by_child {
        for i in 0..3 {
            total.households[i] += f.households[i];
            total.persons[i] += f.persons[i];
        }
        total.monitored_households += f.monitored_households;
        total.monitored_persons += f.monitored_persons;
    }
    let below_village = code.level() != DivisionLevel::Village;
    let status_lines: Vec<StatusLine> = children
        .iter()
        .map(|d| {
            let href = below_village.then(|| format!("/dashboard/{}?year={year}", d.code));
            status_line(d.name.clone(), href, &d.code, year, &figures(&d.code))
        })
        .collect();
    let status_total = status_line(t.t("common.total").to_owned(), None, code.as_str(), year, &total);
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
    let province = &code.as_str()[..2];
    let exit_policy = ExitPolicy::builtin();
    let criteria = exit_policy.for_year(year, province);
    let threshold = criteria.map(|c| c.village_incidence_max_percent);
    let incidence_lines: Vec<IncidenceLine> = children
        .iter()
        .map(|d| {
            let f = figures(&d.code);
            let r = rate(&f);
            IncidenceLine {
                name: d.name.clone(),
                poor_persons: Linked { n: f.poor_persons(), href: list_href(&d.code, year, "status=2") },
                persons: Linked { n: f.total_persons(), href: list_href(&d.code, year, "") },
                rate: r.map(|r| format!("{r:.2}%")).unwrap_or_default(),
                below: match (r, threshold) {
                    (Some(r), Some(t)) => r < t,
                    _ => false,
                },
            }
        })
        .collect();
    let incidence_chart = bar_svg(Bars {
        title: t.t("dashboard.incidence.chart"),
        categories: names,
        series: vec![(
            t.t("dashboard.incidence"),
            children.iter().map(|d| rate(&figures(&d.code)).unwrap_or(0.0)).collect(),
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
    let quarter = Quarter::for_year(year, state.config.today);
    let visits = dashboard_views::visits_by_child(&state.store, code, year, &quarter).await?;
    let visit_of = |c: &str| visits.iter().find(|(k, _, _)| k == c).map(|(_, d, v)| (*d, *v)).unwrap_or((0, 0));
    let visit_lines: Vec<VisitLine> = children
        .iter()
        .filter(|d| visit_of(&d.code).0 > 0)
        .map(|d| {
            let (due, visited) = visit_of(&d.code);
            let link = |n: i64, s: &str| Linked { n, href: list_href(&d.code, year, &format!("visits={s}")) };
            VisitLine {
                name: d.name.clone(),
                due: link(due, "due"),
                visited: link(visited, "visited"),
                missed: link(due - visited, "missed"),
                rate: format!("{:.1}%", visited as f64 * 100.0 / due as f64),
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
        shown: super::households::Shown::of(user),
        visits_shown: user.user.role != fupin_store::users::Role::DepartmentOfficer,
        t,
        findings,
        quarter_start: quarter.start.clone(),
        quarter_end: quarter.end.clone(),
        visit_chart,
        visit_lines,
        nav,
        crumbs,
        title: division.name,
        year,
        years: (FIRST_YEAR..=state.config.today.year()).rev().collect(),
        child_label,
        status_labels,
        status_chart,
        status_lines,
        status_total,
        threshold,
        threshold_note: criteria.map(|c| c.note.clone()).unwrap_or_default(),
        incidence_chart,
        incidence_lines,
        exit_chart,
        exit_lines,
        monitor_chart,
        monitor_lines,
    };
    Ok(html(&page)?.into_response())
}
