//! The API answer for the dashboard: an area's figures for a year as
//! `fupin_app::dashboard` counts them for the page too, with the sections the caller
//! does not see left empty (as on the page).

use axum::Json;
use axum::extract::{Path, Query, State};
use fupin_app::dashboard::{self, Dashboard};
use fupin_domain::DivisionCode;
use fupin_store::dashboard_views::{STATUSES, StatusFigures};
use serde::{Deserialize, Serialize};

use super::{ApiResult, AreaRef};
use crate::AppState;
use crate::session::CurrentUser;

#[derive(Deserialize)]
pub(crate) struct YearParams {
    year: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct StatusCount {
    status: &'static str,
    label: String,
    households: i64,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct StatusJson {
    by_status: Vec<StatusCount>,
    households: i64,
    persons: i64,
    monitored_households: i64,
    monitored_persons: i64,
    poor_persons: i64,
    /// 贫困发生率 in percent; `None` for an area without persons.
    incidence_percent: Option<f64>,
    below_threshold: bool,
}

#[derive(Serialize)]
pub(crate) struct ChildFigures {
    code: String,
    name: String,
    #[serde(flatten)]
    figures: StatusJson,
}

#[derive(Serialize)]
pub(crate) struct ExitJson {
    year: i32,
    households: i64,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct MonitorJson {
    monitor_type: String,
    label: String,
    open: i64,
    cleared: i64,
}

#[derive(Serialize)]
pub(crate) struct VisitCompliance {
    code: String,
    name: String,
    due: i64,
    visited: i64,
    missed: i64,
    rate_percent: f64,
}

#[derive(Serialize)]
pub(crate) struct VisitsJson {
    quarter_start: String,
    quarter_end: String,
    children: Vec<VisitCompliance>,
}

#[derive(Serialize)]
pub(crate) struct DashboardAnswer {
    area: AreaRef,
    year: i32,
    /// The exit threshold of 贫困发生率 (percent) for the year, when the policy has one.
    threshold_percent: Option<f64>,
    threshold_note: Option<String>,
    children: Vec<ChildFigures>,
    /// `None` (and `children`, `exits`, `monitoring` and the visits empty) for the
    /// parts a department officer does not see, as on the page.
    total: Option<StatusJson>,
    exits: Vec<ExitJson>,
    monitoring: Vec<MonitorJson>,
    visits: VisitsJson,
}

fn status_json(state: &AppState, f: &StatusFigures, threshold: Option<f64>) -> StatusJson {
    let incidence = dashboard::rate(f);
    StatusJson {
        by_status: STATUSES
            .iter()
            .enumerate()
            .map(|(i, s)| StatusCount {
                status: s,
                label: state.codes.label("household_status", s).to_owned(),
                households: f.households[i],
                persons: f.persons[i],
            })
            .collect(),
        households: f.total_households(),
        persons: f.total_persons(),
        monitored_households: f.monitored_households,
        monitored_persons: f.monitored_persons,
        poor_persons: f.poor_persons(),
        incidence_percent: incidence,
        below_threshold: dashboard::below(incidence, threshold),
    }
}

/// `GET /api/v1/dashboard/{code}?year=`: the dashboard's figures of an area for a year.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<YearParams>,
) -> ApiResult<DashboardAnswer> {
    let code = DivisionCode::parse(&code).map_err(|_| super::ApiError::not_found())?;
    let year = dashboard::year_of(state.config.today, q.year.as_deref());
    let d = dashboard::dashboard(&state.store, &user, &code, year, state.config.today).await?;
    Ok(Json(answer(&state, d)))
}

fn answer(state: &AppState, d: Dashboard) -> DashboardAnswer {
    let threshold = d.threshold;
    let shown = d.sections;
    DashboardAnswer {
        year: d.year,
        threshold_percent: threshold,
        threshold_note: d.threshold_note.clone(),
        children: d
            .children
            .iter()
            .filter(|_| shown.status)
            .map(|c| ChildFigures {
                code: c.code.clone(),
                name: c.name.clone(),
                figures: status_json(state, &d.of(&c.code), threshold),
            })
            .collect(),
        total: shown.status.then(|| status_json(state, &d.total, threshold)),
        exits: d.exits.iter().map(|&(year, households, persons)| ExitJson { year, households, persons }).collect(),
        monitoring: d
            .monitoring
            .iter()
            .map(|m| MonitorJson {
                label: state.codes.label("monitor_type", &m.monitor_type).to_owned(),
                monitor_type: m.monitor_type.clone(),
                open: m.open,
                cleared: m.cleared,
            })
            .collect(),
        visits: VisitsJson {
            children: d
                .visits
                .iter()
                .map(|v| VisitCompliance {
                    code: v.code.clone(),
                    name: v.name.clone(),
                    due: v.due,
                    visited: v.visited,
                    missed: v.missed(),
                    rate_percent: v.rate(),
                })
                .collect(),
            quarter_start: d.quarter.start,
            quarter_end: d.quarter.end,
        },
        area: d.area.into(),
    }
}
