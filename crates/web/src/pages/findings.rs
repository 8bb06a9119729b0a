//! 问题清单: the findings of `fupin check` for the user's area (village, township or
//! county), with filters (area, rule, severity, state, policy year), counts by rule and
//! by state, 50 per page; each finding's explanation as stored masked, and a link to
//! its household. The household page lists its open findings, and the dashboard counts
//! them by rule and by village ([`summary`]), so explaining away shows up.
//!
//! Explanations (`POST /findings/{id}`, same-origin like every form) are proposed,
//! confirmed or rejected by `fupin_app::findings::explain`, which decides who may take
//! which step; what a viewer sees is `fupin_app::findings` too. This module only turns
//! the answers into HTML (and the worklist into a download).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_app::AppError;
use fupin_app::findings::{self as app, MAX_REASON};
use fupin_domain::DivisionCode;
use fupin_store::findings::{Finding, Status};
use fupin_store::findings_worklist::{StateCounts, StateFilter, WorkFilter, WorkLine};
use fupin_store::users::Role;
use serde::Deserialize;

use super::dashboard::Linked;
use super::dashboard_charts::{Bars, bar_svg};
use super::{Crumb, Nav, crumbs, division_name, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The worklist's query as typed; anything unknown is ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct WorkQuery {
    area: Option<String>,
    rule: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    year: Option<String>,
    hh: Option<String>,
    page: Option<String>,
    /// `xlsx`: the filtered worklist as a download.
    format: Option<String>,
    /// What a run of the checks did (`new-still-reopened-fixed`), after `POST /findings/run`.
    ran: Option<String>,
}

/// `%XX` for every byte but ASCII letters, digits and `-_.`, for a value in a link.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The link to the worklist under a filter.
pub(crate) fn href(filter: &WorkFilter) -> String {
    let mut out = format!("/findings?area={}", enc(&filter.area));
    match filter.year {
        Some(y) => out.push_str(&format!("&year={y}")),
        None => out.push_str("&year=all"),
    }
    if let Some(r) = &filter.rule_id {
        out.push_str(&format!("&rule={}", enc(r)));
    }
    if let Some(s) = &filter.severity {
        out.push_str(&format!("&severity={}", enc(s)));
    }
    if let Some(s) = filter.state {
        out.push_str(&format!("&status={}", s.as_str()));
    }
    if let Some(h) = &filter.hh_id {
        out.push_str(&format!("&hh={}", enc(h)));
    }
    out
}

fn state_label(t: Tr, s: StateFilter) -> &'static str {
    match s {
        StateFilter::Open => t.t("findings.state.open"),
        StateFilter::Proposed => t.t("findings.state.proposed"),
        StateFilter::Explained => t.t("findings.state.explained"),
        StateFilter::Fixed => t.t("findings.state.fixed"),
    }
}

fn severity_label(t: Tr, s: &str) -> String {
    match s {
        "error" => t.t("findings.severity.error").to_owned(),
        "warning" => t.t("findings.severity.warning").to_owned(),
        "info" => t.t("findings.severity.info").to_owned(),
        other => other.to_owned(),
    }
}

/// One finding as a line of the worklist or the household page.
pub(crate) struct Line {
    pub id: i64,
    pub rule_id: String,
    /// The rule's Chinese title (its id for a rule not shipped).
    pub title: String,
    /// The household's head (户主) and the village (or division) the finding lies in.
    pub head: String,
    pub place: String,
    /// Why a township officer sent the last explanation back, and who.
    pub rejection: Option<String>,
    pub severity: String,
    pub year: i32,
    pub hh_id: Option<String>,
    pub entity: String,
    pub explanation: String,
    pub state: &'static str,
    /// 说明 (and who proposed it), when there is one.
    pub proposal: Option<String>,
    pub pending: bool,
    pub open: bool,
}

fn line(t: Tr, f: &Finding) -> Line {
    let state = app::state_of(f);
    let pending = state == StateFilter::Proposed;
    let proposal = match (&f.proposed_by, &f.proposed_reason) {
        (Some(by), Some(reason)) => {
            Some(t.f2("findings.proposal", "by", by, "reason", crate::display::scrub_ids(reason)))
        }
        _ => None,
    };
    Line {
        id: f.id,
        title: app::title(&f.rule_id),
        head: String::new(),
        place: String::new(),
        rejection: None,
        rule_id: f.rule_id.clone(),
        severity: severity_label(t, &f.severity),
        year: f.year,
        hh_id: f.hh_id.clone(),
        entity: f.person_id.clone().unwrap_or_else(|| f.entity_key.clone()),
        explanation: f.masked_explanation.clone(),
        state: state_label(t, state),
        proposal,
        pending,
        open: f.status == Status::Open && !pending,
    }
}

/// A row of counts: its label and one linked number per state.
pub(crate) struct CountLine {
    pub label: String,
    pub href: String,
    pub cells: Vec<Linked>,
}

fn count_line(label: String, base: &WorkFilter, c: &StateCounts) -> CountLine {
    CountLine {
        label,
        href: href(base),
        cells: StateFilter::ALL
            .into_iter()
            .map(|s| Linked { n: c.of(s), href: href(&WorkFilter { state: Some(s), ..base.clone() }) })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    area: String,
    area_name: String,
    /// The areas the filter offers: the user's own and the ones below it (乡镇, or 村
    /// for a township officer), as (code, name).
    areas: Vec<(String, String)>,
    /// The filters as chosen, for the form (year 0: every year).
    year: i32,
    rule: String,
    severity: String,
    status: String,
    hh: String,
    years: Vec<i32>,
    /// (id, title) of the rules with findings here.
    rules: Vec<(String, String)>,
    states: Vec<(&'static str, &'static str)>,
    by_rule: Vec<CountLine>,
    by_state: CountLine,
    state_labels: Vec<&'static str>,
    lines: Vec<Line>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    editor: bool,
    confirmer: bool,
    /// The same list as a download.
    xlsx: String,
    /// A county administrator may run the checks (`POST /findings/run`).
    runner: bool,
    /// What the last run did, when the page follows one.
    ran: Option<String>,
}

impl WorkQuery {
    /// The query as the use case takes it.
    fn asked(&self) -> app::WorkQuery {
        app::WorkQuery {
            area: self.area.clone(),
            rule: self.rule.clone(),
            severity: self.severity.clone(),
            status: self.status.clone(),
            year: self.year.clone(),
            hh: self.hh.clone(),
        }
    }
}

/// The worklist's lines with the head, the place and a rejection's reason.
async fn lines(state: &AppState, t: Tr, found: &[WorkLine]) -> Result<Vec<Line>, WebError> {
    let rejected = app::rejections(&state.store, found).await?;
    Ok(found
        .iter()
        .map(|w| {
            let mut l = line(t, &w.finding);
            l.head = w.head.clone().unwrap_or_default();
            l.place = w.place_name.clone().unwrap_or_default();
            l.rejection = rejected
                .get(&w.finding.id)
                .map(|(by, why)| t.f2("findings.rejection", "by", by, "reason", crate::display::scrub_ids(why)));
            l
        })
        .collect())
}

/// `/findings`: the worklist of an area inside the user's (their own by default);
/// 404 for an area outside it. `format=xlsx`: every finding of the filter as a download.
pub(crate) async fn list(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    Query(q): Query<WorkQuery>,
) -> Result<Response, WebError> {
    let filter = app::work_filter(&state.store, &user, &q.asked()).await?;
    let area = DivisionCode::parse(&filter.area).map_err(|_| WebError::NotFound)?;
    if super::edit_xlsx::wants_xlsx(q.format.as_deref()) {
        return xlsx(&state, t, &filter).await;
    }
    let found = app::page(&state.store, &filter, app::page_number(q.page.as_deref())).await?;
    let (page, pages) = (found.page, found.pages);
    let overview = app::overview(&state.store, &filter).await?;
    let by_rule = overview
        .by_rule
        .iter()
        .map(|c| {
            let label = app::title(&c.key);
            count_line(label, &WorkFilter { rule_id: Some(c.key.clone()), ..overview.unruled.clone() }, c)
        })
        .collect();
    let by_state = count_line(t.t("common.total").to_owned(), &overview.stateless, &overview.total);
    let mut areas = vec![(user.area().to_string(), division_name(&state, user.area()).await?.unwrap_or_default())];
    if user.area().level() != fupin_domain::DivisionLevel::Village {
        for d in fupin_store::views::children(&state.store, user.area()).await? {
            areas.push((d.code, d.name));
        }
    }
    let area_name = division_name(&state, &area).await?.unwrap_or_else(|| area.to_string());
    if !areas.iter().any(|(c, _)| *c == filter.area) {
        areas.push((filter.area.clone(), area_name.clone()));
    }
    let at_page = |p: i64| format!("{}&page={p}", href(&filter));
    let ran = q.ran.as_deref().and_then(|r| {
        let n: Vec<usize> = r.split('-').filter_map(|x| x.parse().ok()).collect();
        (n.len() == 4).then(|| t.f1("findings.ran", "counts", ran_text(t, n[0], n[1], n[2], n[3])))
    });
    let page_view = FindingsPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        crumbs: crumbs(&state, &user, &area).await?,
        area_name,
        area: area.to_string(),
        areas,
        year: filter.year.unwrap_or(0),
        rule: filter.rule_id.clone().unwrap_or_default(),
        severity: filter.severity.clone().unwrap_or_default(),
        status: filter.state.map(|s| s.as_str()).unwrap_or_default().to_owned(),
        hh: filter.hh_id.clone().unwrap_or_default(),
        years: overview.years,
        rules: overview.rules.into_iter().map(|r| (app::title(&r), r)).map(|(title, r)| (r, title)).collect(),
        states: StateFilter::ALL.into_iter().map(|s| (s.as_str(), state_label(t, s))).collect(),
        by_rule,
        by_state,
        state_labels: StateFilter::ALL.into_iter().map(|s| state_label(t, s)).collect(),
        lines: lines(&state, t, &found.lines).await?,
        total: found.total,
        page,
        pages,
        prev: (page > 1).then(|| at_page(page - 1)),
        next: (page < pages).then(|| at_page(page + 1)),
        editor: app::may_propose(user.user.role),
        confirmer: app::may_confirm(user.user.role),
        xlsx: format!("{}&format=xlsx", href(&filter)),
        runner: user.user.role == Role::CountyAdmin,
        ran,
    };
    Ok(html(&page_view)?.into_response())
}

fn ran_text(t: Tr, new: usize, still: usize, reopened: usize, fixed: usize) -> String {
    [
        t.f1("findings.ran.new", "n", new),
        t.f1("findings.ran.still", "n", still),
        t.f1("findings.ran.reopened", "n", reopened),
        t.f1("findings.ran.fixed", "n", fixed),
    ]
    .join(" · ")
}

/// The filtered worklist as a workbook: one line per finding, values masked as on the page.
async fn xlsx(state: &AppState, t: Tr, filter: &WorkFilter) -> Result<Response, WebError> {
    use super::edit_xlsx::XCell::{Number, Text};
    let found = app::export(&state.store, filter).await?;
    let lines = lines(state, t, &found).await?;
    let rows: Vec<Vec<super::edit_xlsx::XCell>> = lines
        .into_iter()
        .map(|l| {
            vec![
                Text(l.rule_id),
                Text(l.title),
                Text(l.severity),
                Number(f64::from(l.year)),
                Text(l.state.to_owned()),
                Text(l.place),
                Text(l.hh_id.unwrap_or_default()),
                Text(l.head),
                Text(l.entity),
                Text(l.explanation),
                Text(l.proposal.or(l.rejection).unwrap_or_default()),
            ]
        })
        .collect();
    let headers =
        ["规则编号", "规则", "严重程度", "年度", "状态", "村", "户编号", "户主", "对象", "问题说明", "说明或退回理由"];
    let bytes = super::edit_xlsx::workbook("问题清单", &headers, &rows)?;
    Ok(super::edit_xlsx::download(&format!("findings-{}.xlsx", filter.area), bytes))
}

/// `POST /findings/run` (county administrators): runs the default rule sets on the
/// whole county for the policy year, as `fupin check` does, and shows the worklist of
/// that year with what the run changed.
pub(crate) async fn run(State(state): State<AppState>, user: CurrentUser) -> Result<Response, WebError> {
    if user.user.role != Role::CountyAdmin {
        return Err(WebError::Forbidden);
    }
    let (year, report) =
        fupin_app::check::run_default(&state.store, &user, state.config.today).await.map_err(|e| match e {
            fupin_app::AppError::Store(e) => WebError::Store(e),
            fupin_app::AppError::Forbidden => WebError::Forbidden,
            e => WebError::Refused(e.to_string()),
        })?;
    let s = report.summary;
    tracing::info!(username = %user.user.username, year, new = s.new, fixed = s.fixed, "运行检查");
    let back = WorkFilter { area: user.area().to_string(), year: Some(year), ..WorkFilter::default() };
    Ok(Redirect::to(&format!("{}&ran={}-{}-{}-{}", href(&back), s.new, s.still, s.reopened, s.fixed)).into_response())
}

/// What an explanation form posts.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

/// An explanation refused as a bad request, in the reader's language: the reason is
/// checked before the action (as `fupin_app::findings::explain` does).
fn localized(tr: Tr, reason: &str, e: AppError) -> WebError {
    match e {
        AppError::BadRequest(_) if reason.chars().count() > MAX_REASON => {
            WebError::BadRequest(tr.f1("findings.reason_too_long", "max", MAX_REASON))
        }
        AppError::BadRequest(_) => WebError::BadRequest(tr.t("findings.bad_action").to_owned()),
        e => e.into(),
    }
}

/// `POST /findings/{id}`: propose, confirm or reject an explanation
/// (`fupin_app::findings::explain`), then
/// back to the worklist of the finding's household (or rule).
pub(crate) async fn act(
    State(state): State<AppState>,
    tr: Tr,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, WebError> {
    let f = app::explain(&state.store, &user, &id, &form.action, &form.reason)
        .await
        .map_err(|e| localized(tr, &form.reason, e))?;
    let back = WorkFilter {
        area: user.area().to_string(),
        year: Some(f.year),
        hh_id: f.hh_id.clone(),
        rule_id: if f.hh_id.is_none() { Some(f.rule_id.clone()) } else { None },
        ..WorkFilter::default()
    };
    Ok(Redirect::to(&href(&back)).into_response())
}

/// A household's open findings (those waiting for a confirmation included), for its page.
/// A department officer sees those of rules over their own columns only.
pub(crate) async fn open_of_household(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    hh_id: &str,
) -> Result<Vec<Line>, WebError> {
    Ok(app::open_of_household(&state.store, user, hh_id).await?.iter().map(|f| line(t, f)).collect())
}

/// The dashboard's 问题清单 section: counts by rule and by village of an area's
/// findings of a year, each number linked to the worklist, and a chart.
pub(crate) struct Summary {
    pub state_labels: Vec<&'static str>,
    pub by_rule: Vec<CountLine>,
    pub by_village: Vec<CountLine>,
    pub total: CountLine,
    pub chart: Option<String>,
}

pub(crate) async fn summary(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    year: i32,
) -> Result<Summary, WebError> {
    let counted = app::summary(&state.store, user, code, year).await?;
    let (base, rules, villages) = (&counted.base, &counted.by_rule, &counted.by_village);
    let by_rule: Vec<CountLine> = rules
        .iter()
        .map(|c| count_line(app::title(&c.key), &WorkFilter { rule_id: Some(c.key.clone()), ..base.clone() }, c))
        .collect();
    let mut by_village = Vec::with_capacity(villages.len());
    for c in villages {
        let (label, area) = match DivisionCode::parse(&c.key) {
            Ok(v) => (division_name(state, &v).await?.unwrap_or_else(|| c.key.clone()), c.key.clone()),
            Err(_) => (t.t("findings.above_village").to_owned(), code.to_string()),
        };
        by_village.push(count_line(label, &WorkFilter { area, ..base.clone() }, c));
    }
    let chart = bar_svg(Bars {
        title: t.t("findings.chart"),
        categories: rules.iter().map(|c| c.key.clone()).collect(),
        series: StateFilter::ALL
            .iter()
            .map(|s| (state_label(t, *s), rules.iter().map(|c| c.of(*s) as f64).collect()))
            .collect(),
        stacked: true,
        mark: None,
        counts: true,
        links: StateFilter::ALL
            .iter()
            .map(|st| {
                let link = |rule: &str| WorkFilter { rule_id: Some(rule.to_owned()), state: Some(*st), ..base.clone() };
                rules.iter().map(|c| href(&link(&c.key))).collect()
            })
            .collect(),
    });
    Ok(Summary {
        state_labels: StateFilter::ALL.into_iter().map(|s| state_label(t, s)).collect(),
        total: count_line(t.t("common.total").to_owned(), base, &counted.total),
        by_rule,
        by_village,
        chart,
    })
}
