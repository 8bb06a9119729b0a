//! 问题清单: the findings of `fupin check` for the user's area (village, township or
//! county), with filters (area, rule, severity, state, policy year), counts by rule and
//! by state, 50 per page; each finding's explanation as stored masked, and a link to
//! its household. The household page lists its open findings, and the dashboard counts
//! them by rule and by village ([`summary`]), so explaining away shows up.
//!
//! Explanations (`POST /findings/{id}`, same-origin like every form): a registry
//! editor proposes one with a reason; a warning or an info is explained at once, an
//! error only when a township officer or county admin of that area, not the proposer,
//! confirms it, or stays open when they reject it (with a reason). Each step is an
//! event in the change history (`fupin_store::findings`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_domain::DivisionCode;
use fupin_store::StoreError;
use fupin_store::findings::{self, Finding, Status};
use fupin_store::findings_worklist::{self as worklist, Group, StateCounts, StateFilter, WorkFilter};
use fupin_store::users::Role;
use serde::Deserialize;
use time::OffsetDateTime;

use super::dashboard::Linked;
use super::dashboard_charts::{Bars, bar_svg};
use super::{Crumb, Nav, crumbs, division_name, html};
use crate::i18n::Tr;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// Findings on one page of the worklist.
const PER_PAGE: i64 = 50;
/// The longest reason kept.
const MAX_REASON: usize = 500;

/// Whether a role may confirm or reject an explanation: township officers and county
/// admins (of the finding's area).
pub(crate) fn may_confirm(role: Role) -> bool {
    matches!(role, Role::TownshipOfficer | Role::CountyAdmin)
}

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
    let pending = findings::is_pending(f);
    let state = match f.status {
        Status::Open if pending => StateFilter::Proposed,
        Status::Open => StateFilter::Open,
        Status::Explained => StateFilter::Explained,
        Status::Fixed => StateFilter::Fixed,
    };
    let proposal = match (&f.proposed_by, &f.proposed_reason) {
        (Some(by), Some(reason)) => {
            Some(t.f2("findings.proposal", "by", by, "reason", crate::display::scrub_ids(reason)))
        }
        _ => None,
    };
    Line {
        id: f.id,
        title: crate::checks::title(&f.rule_id),
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

fn total(lines: &[StateCounts]) -> StateCounts {
    let mut t = StateCounts::default();
    for l in lines {
        t.open += l.open;
        t.proposed += l.proposed;
        t.explained += l.explained;
        t.fixed += l.fixed;
    }
    t
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

/// The worklist's filter from the query: the area inside the user's (404 outside),
/// the year asked for (`all`: every year; none: the newest year with findings, so a
/// problem found in several years is counted once), and for a department officer
/// only the rules over their own columns.
async fn work_filter(state: &AppState, user: &CurrentUser, q: &WorkQuery) -> Result<WorkFilter, WebError> {
    let area = match q.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => DivisionCode::parse(a).map_err(|_| WebError::NotFound)?,
        None => user.area().clone(),
    };
    if !user.may_see(&area) {
        return Err(WebError::NotFound);
    }
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let rules = crate::checks::visible_rules(user);
    let year = match text(&q.year).as_deref() {
        Some("all") => None,
        Some(y) => y.parse().ok(),
        None => worklist::choices(&state.store, area.as_str(), rules.clone()).await?.1.first().copied(),
    };
    Ok(WorkFilter {
        area: area.to_string(),
        year,
        rule_id: text(&q.rule),
        severity: text(&q.severity).filter(|s| ["error", "warning", "info"].contains(&s.as_str())),
        state: text(&q.status).and_then(|s| StateFilter::parse(&s)),
        hh_id: text(&q.hh).filter(|h| h.chars().count() <= 40),
        rules,
    })
}

/// The worklist's lines with the head, the place and a rejection's reason.
async fn lines(state: &AppState, t: Tr, found: &[worklist::WorkLine]) -> Result<Vec<Line>, WebError> {
    let rejected = findings::rejections(&state.store, &found.iter().map(|w| &w.finding).collect::<Vec<_>>()).await?;
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
    let filter = work_filter(&state, &user, &q).await?;
    let area = DivisionCode::parse(&filter.area).map_err(|_| WebError::NotFound)?;
    if super::edit_xlsx::wants_xlsx(q.format.as_deref()) {
        return xlsx(&state, t, &filter).await;
    }
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let (found, total_found) = worklist::page(&state.store, &filter, (page - 1) * PER_PAGE, PER_PAGE).await?;
    let pages = ((total_found + PER_PAGE - 1) / PER_PAGE).max(1);
    let unruled = WorkFilter { rule_id: None, state: None, ..filter.clone() };
    let rule_counts = worklist::counts(&state.store, &unruled, Group::Rule).await?;
    let by_rule = rule_counts
        .iter()
        .map(|c| {
            let label = crate::checks::title(&c.key);
            count_line(label, &WorkFilter { rule_id: Some(c.key.clone()), ..unruled.clone() }, c)
        })
        .collect();
    let stateless = WorkFilter { state: None, ..filter.clone() };
    let state_counts = worklist::counts(&state.store, &stateless, Group::Rule).await?;
    let by_state = count_line(t.t("common.total").to_owned(), &stateless, &total(&state_counts));
    let (rules, years) = worklist::choices(&state.store, area.as_str(), filter.rules.clone()).await?;
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
        years,
        rules: rules.into_iter().map(|r| (crate::checks::title(&r), r)).map(|(title, r)| (r, title)).collect(),
        states: StateFilter::ALL.into_iter().map(|s| (s.as_str(), state_label(t, s))).collect(),
        by_rule,
        by_state,
        state_labels: StateFilter::ALL.into_iter().map(|s| state_label(t, s)).collect(),
        lines: lines(&state, t, &found).await?,
        total: total_found,
        page,
        pages,
        prev: (page > 1).then(|| at_page(page - 1)),
        next: (page < pages).then(|| at_page(page + 1)),
        editor: super::edit::may_edit(user.user.role),
        confirmer: may_confirm(user.user.role),
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

/// The most findings one download holds.
const XLSX_MAX: i64 = 100_000;

/// The filtered worklist as a workbook: one line per finding, values masked as on the page.
async fn xlsx(state: &AppState, t: Tr, filter: &WorkFilter) -> Result<Response, WebError> {
    use super::edit_xlsx::XCell::{Number, Text};
    let (found, _) = worklist::page(&state.store, filter, 0, XLSX_MAX).await?;
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

/// The division a finding lies in (its village, or the division it judged).
fn place_of(f: &Finding) -> Option<DivisionCode> {
    let code = match f.level.as_str() {
        "village" | "township" | "county" => Some(f.entity_key.as_str()),
        _ => f.village_code.as_deref(),
    }?;
    DivisionCode::parse(code).ok()
}

/// An explanation step, as a form's or an API body's `action` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Propose,
    Confirm,
    Reject,
}

impl Action {
    pub(crate) fn parse(s: &str) -> Option<Action> {
        Some(match s.trim() {
            "propose" => Action::Propose,
            "confirm" => Action::Confirm,
            "reject" => Action::Reject,
            _ => return None,
        })
    }
}

/// The finding a URL's id names, if it lies inside the user's scope; else 404 like a
/// missing one. A household's finding is in scope where the household is (for a helper
/// cadre: a paired one; an attempt outside goes to the security log like any household
/// request); a finding above households where its division is, never for a helper
/// cadre, whose scope is households, not an area.
pub(crate) async fn finding_in_scope(state: &AppState, user: &CurrentUser, id: &str) -> Result<Finding, WebError> {
    let id: i64 = id.trim().parse().map_err(|_| WebError::NotFound)?;
    let f = findings::get(&state.store, id).await?.ok_or(WebError::NotFound)?;
    // A department officer's findings are those of rules over their own columns.
    if !crate::checks::may_see_rule(user, &f.rule_id) {
        return Err(WebError::NotFound);
    }
    let place = place_of(&f).ok_or(WebError::NotFound)?;
    let seen = match &f.hh_id {
        Some(hh_id) => user.household_in_scope(&state.store, hh_id, &place).await?,
        None => user.may_see(&place) && !user.paired_only(),
    };
    if !seen {
        return Err(WebError::NotFound);
    }
    Ok(f)
}

/// Proposes, confirms or rejects an explanation: the one set of checks behind the
/// worklist's form (`POST /findings/{id}`) and the API (`POST /api/v1/findings/{id}`).
/// 404 for a finding outside the user's scope; 403 for a role that keeps no registry,
/// or a village cadre confirming or rejecting; a bad request for an unknown action or
/// an overlong reason; refused, with the store's sentence, when the finding's state
/// does not allow the step (no reason, nothing to confirm, the proposer confirming).
pub(crate) async fn explain(
    state: &AppState,
    tr: Tr,
    user: &CurrentUser,
    id: &str,
    action: &str,
    reason: &str,
) -> Result<Finding, WebError> {
    if !super::edit::may_edit(user.user.role) {
        return Err(WebError::Forbidden);
    }
    let f = finding_in_scope(state, user, id).await?;
    if reason.chars().count() > MAX_REASON {
        return Err(WebError::BadRequest(tr.f1("findings.reason_too_long", "max", MAX_REASON)));
    }
    let action = Action::parse(action).ok_or_else(|| WebError::BadRequest(tr.t("findings.bad_action").to_owned()))?;
    if action != Action::Propose && !may_confirm(user.user.role) {
        return Err(WebError::Forbidden);
    }
    let by = user.user.username.as_str();
    let done = match action {
        Action::Propose => {
            findings::propose_explanation(&state.store, f.id, by, reason, OffsetDateTime::now_utc()).await
        }
        Action::Confirm => findings::confirm_explanation(&state.store, f.id, by, OffsetDateTime::now_utc()).await,
        Action::Reject => findings::reject_explanation(&state.store, f.id, by, reason).await,
    };
    match done {
        Ok(f) => Ok(f),
        Err(StoreError::Refused(m)) => Err(WebError::Refused(m)),
        Err(e) => Err(e.into()),
    }
}

/// `POST /findings/{id}`: propose, confirm or reject an explanation ([`explain`]), then
/// back to the worklist of the finding's household (or rule).
pub(crate) async fn act(
    State(state): State<AppState>,
    tr: Tr,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActForm>,
) -> Result<Response, WebError> {
    let f = explain(&state, tr, &user, &id, &form.action, &form.reason).await?;
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
    let filter =
        findings::Filter { hh_id: Some(hh_id.to_owned()), statuses: vec![Status::Open], ..findings::Filter::default() };
    Ok(findings::list(&state.store, &filter)
        .await?
        .iter()
        .filter(|f| crate::checks::may_see_rule(user, &f.rule_id))
        .map(|f| line(t, f))
        .collect())
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
    let rules = crate::checks::visible_rules(user);
    let base = WorkFilter { area: code.to_string(), year: Some(year), rules, ..WorkFilter::default() };
    let rules = worklist::counts(&state.store, &base, Group::Rule).await?;
    let villages = worklist::counts(&state.store, &base, Group::Village).await?;
    let by_rule: Vec<CountLine> = rules
        .iter()
        .map(|c| {
            count_line(crate::checks::title(&c.key), &WorkFilter { rule_id: Some(c.key.clone()), ..base.clone() }, c)
        })
        .collect();
    let mut by_village = Vec::with_capacity(villages.len());
    for c in &villages {
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
        total: count_line(t.t("common.total").to_owned(), &base, &total(&rules)),
        by_rule,
        by_village,
        chart,
    })
}
