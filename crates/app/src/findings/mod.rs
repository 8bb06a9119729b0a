//! 问题清单 as use cases: which findings of `fupin check` a viewer may see (one by id,
//! a worklist under a filter, a household's open ones, an area's counts for the
//! dashboard), and their explanation proposed, confirmed or rejected with the role
//! checks that go with it. The worklist page, the household page, the dashboard and the
//! API all ask here; they only turn the answers into HTML or JSON.
//!
//! Explanations: a registry editor proposes one with a reason; a warning or an info is
//! explained at once, an error only when a township officer or county admin of that
//! area, not the proposer, confirms it, or stays open when they reject it (with a
//! reason). Each step is an event in the change history (`fupin_store::findings`).

pub mod rules;

use std::collections::HashMap;

use fupin_domain::DivisionCode;
use fupin_store::findings::{self, Finding, Status};
use fupin_store::findings_worklist::{self as worklist, Group, StateCounts, StateFilter, WorkFilter, WorkLine};
use fupin_store::users::Role;
use fupin_store::writer::ChangeRecord;
use fupin_store::{Store, StoreError};
use time::OffsetDateTime;

pub use rules::{may_see_rule, title, visible_rules};

use crate::{AppError, AppResult, Viewer};

/// Findings on one page of the worklist (the page's and the API's).
pub const PER_PAGE: i64 = 50;
/// The longest reason an explanation step keeps.
pub const MAX_REASON: usize = 500;
/// The most findings one download of the worklist holds.
pub const EXPORT_MAX: i64 = 100_000;

/// Whether a role may propose an explanation: the roles that keep the registry
/// (county admins, township officers and village cadres; [`crate::edits::may_edit`]).
pub fn may_propose(role: Role) -> bool {
    crate::edits::may_edit(role)
}

/// Whether a role may confirm or reject an explanation: township officers and county
/// admins (of the finding's area).
pub fn may_confirm(role: Role) -> bool {
    matches!(role, Role::TownshipOfficer | Role::CountyAdmin)
}

/// An explanation step, as a form's or an API body's `action` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A registry editor explains the finding (with a reason).
    Propose,
    /// A township officer or county admin confirms another's explanation.
    Confirm,
    /// A township officer or county admin sends it back (with a reason).
    Reject,
}

impl Action {
    /// `propose`, `confirm` or `reject`; anything else is no action.
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.trim() {
            "propose" => Action::Propose,
            "confirm" => Action::Confirm,
            "reject" => Action::Reject,
            _ => return None,
        })
    }
}

/// The state a finding is in as the worklist filters and shows it: open with an
/// explanation waiting for a confirmation is `Proposed`.
pub fn state_of(f: &Finding) -> StateFilter {
    match f.status {
        Status::Open if findings::is_pending(f) => StateFilter::Proposed,
        Status::Open => StateFilter::Open,
        Status::Explained => StateFilter::Explained,
        Status::Fixed => StateFilter::Fixed,
    }
}

/// The division a finding lies in (its village, or the division it judged).
fn place_of(f: &Finding) -> Option<DivisionCode> {
    let code = match f.level.as_str() {
        "village" | "township" | "county" => Some(f.entity_key.as_str()),
        _ => f.village_code.as_deref(),
    }?;
    DivisionCode::parse(code).ok()
}

/// Whether a finding lies in the viewer's scope, by its rule and its place alone: a
/// department officer's findings are those of rules over their own columns; a
/// household's finding is in scope where the household is (for a helper cadre: a
/// paired one); a finding above households where its division is, never for a helper
/// cadre, whose scope is households, not an area.
pub fn may_see_finding(viewer: &Viewer, f: &Finding) -> bool {
    if !may_see_rule(viewer, &f.rule_id) {
        return false;
    }
    let Some(place) = place_of(f) else { return false };
    match &f.hh_id {
        Some(hh_id) => viewer.may_see_household(hh_id, &place),
        None => viewer.may_see(&place) && !viewer.paired_only(),
    }
}

/// The finding a URL's id names, if it lies inside the viewer's scope
/// ([`may_see_finding`]); else not found, like a missing one. An attempt at a
/// household's finding outside the scope goes to the security log like any household
/// request.
pub async fn finding_in_scope(store: &Store, viewer: &Viewer, id: &str) -> AppResult<Finding> {
    let id: i64 = id.trim().parse().map_err(|_| AppError::NotFound)?;
    let f = findings::get(store, id).await?.ok_or(AppError::NotFound)?;
    if !may_see_rule(viewer, &f.rule_id) {
        return Err(AppError::NotFound);
    }
    let place = place_of(&f).ok_or(AppError::NotFound)?;
    let seen = match &f.hh_id {
        Some(hh_id) => viewer.household_in_scope(store, hh_id, &place).await?,
        None => may_see_finding(viewer, &f),
    };
    if !seen {
        return Err(AppError::NotFound);
    }
    Ok(f)
}

/// Proposes, confirms or rejects an explanation: the one set of checks behind the
/// worklist's form and the API. Forbidden for a role that keeps no registry; not found
/// for a finding outside the viewer's scope; a bad request for an overlong reason or
/// an unknown action (checked in that order); forbidden for a village cadre confirming
/// or rejecting; refused, with the store's sentence, when the finding's state does not
/// allow the step (no reason, nothing to confirm, the proposer confirming).
pub async fn explain(store: &Store, viewer: &Viewer, id: &str, action: &str, reason: &str) -> AppResult<Finding> {
    if !may_propose(viewer.user.role) {
        return Err(AppError::Forbidden);
    }
    let f = finding_in_scope(store, viewer, id).await?;
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::BadRequest(format!("理由最多 {MAX_REASON} 个字")));
    }
    let action = Action::parse(action).ok_or_else(|| AppError::BadRequest("无效的操作".to_owned()))?;
    if action != Action::Propose && !may_confirm(viewer.user.role) {
        return Err(AppError::Forbidden);
    }
    let by = viewer.user.username.as_str();
    let done = match action {
        Action::Propose => findings::propose_explanation(store, f.id, by, reason, OffsetDateTime::now_utc()).await,
        Action::Confirm => findings::confirm_explanation(store, f.id, by, OffsetDateTime::now_utc()).await,
        Action::Reject => findings::reject_explanation(store, f.id, by, reason).await,
    };
    match done {
        Ok(f) => Ok(f),
        Err(StoreError::Refused(m)) => Err(AppError::Refused(m)),
        Err(e) => Err(e.into()),
    }
}

/// A finding's explanation steps (proposed, confirmed, rejected) as recorded in the
/// change history, oldest first, as the viewer may see them.
pub async fn history(store: &Store, viewer: &Viewer, f: &Finding) -> AppResult<Vec<ChangeRecord>> {
    let events = findings::events_of(store, f).await?;
    Ok(events.iter().filter_map(|r| viewer.visible_record(r)).collect())
}

/// A worklist query as typed (every value trimmed here; empty is absent).
#[derive(Debug, Clone, Default)]
pub struct WorkQuery {
    /// A division code inside the viewer's area; none: their own.
    pub area: Option<String>,
    pub rule: Option<String>,
    /// `error`, `warning` or `info`.
    pub severity: Option<String>,
    /// `open`, `proposed`, `explained` or `fixed`.
    pub status: Option<String>,
    /// A year, or (the page's) `all`.
    pub year: Option<String>,
    /// A 户编号 (the page's).
    pub hh: Option<String>,
}

/// A value as typed, trimmed; empty is none.
fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The area a query names, inside the viewer's (not found outside or unparsable).
fn area_of(viewer: &Viewer, q: &WorkQuery) -> AppResult<DivisionCode> {
    let area = match text(&q.area) {
        Some(a) => DivisionCode::parse(&a).map_err(|_| AppError::NotFound)?,
        None => viewer.area().clone(),
    };
    if !viewer.may_see(&area) {
        return Err(AppError::NotFound);
    }
    Ok(area)
}

/// The worklist page's filter from its query, where anything not understood is
/// ignored: the area inside the viewer's (not found outside), the year asked for
/// (`all`: every year; none: the newest year with findings, so a problem found in
/// several years is counted once), and for a department officer only the rules over
/// their own columns.
pub async fn work_filter(store: &Store, viewer: &Viewer, q: &WorkQuery) -> AppResult<WorkFilter> {
    let area = area_of(viewer, q)?;
    let rules = visible_rules(viewer);
    let year = match text(&q.year).as_deref() {
        Some("all") => None,
        Some(y) => y.parse().ok(),
        None => worklist::choices(store, area.as_str(), rules.clone()).await?.1.first().copied(),
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

/// The API's filter from its query, where a value not understood is a bad request
/// and no year means every year: the area inside the viewer's (not found outside),
/// and for a department officer only the rules over their own columns.
pub fn strict_filter(viewer: &Viewer, q: &WorkQuery) -> AppResult<WorkFilter> {
    let area = area_of(viewer, q)?;
    let bad = |m: &str| AppError::BadRequest(m.to_owned());
    let severity = text(&q.severity);
    if severity.as_deref().is_some_and(|s| !["error", "warning", "info"].contains(&s)) {
        return Err(bad("severity 应为 error、warning 或 info"));
    }
    let state = match text(&q.status) {
        Some(s) => Some(StateFilter::parse(&s).ok_or_else(|| bad("status 应为 open、proposed、explained 或 fixed"))?),
        None => None,
    };
    let year = match text(&q.year) {
        Some(y) => Some(y.parse::<i32>().map_err(|_| bad("year 应为四位年份"))?),
        None => None,
    };
    Ok(WorkFilter {
        area: area.to_string(),
        year,
        rule_id: text(&q.rule),
        severity,
        state,
        hh_id: None,
        rules: visible_rules(viewer),
    })
}

/// The page number asked for: anything but a positive number is the first page.
pub fn page_number(asked: Option<&str>) -> i64 {
    asked.and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1)
}

/// One page of the worklist.
#[derive(Debug, Clone)]
pub struct Page {
    /// The findings of the page with their household's head and their place.
    pub lines: Vec<WorkLine>,
    /// How many findings match in all.
    pub total: i64,
    /// The page (from 1) and how many there are (at least one).
    pub page: i64,
    pub pages: i64,
}

/// Page `page` (from 1) of the worklist under `filter` ([`PER_PAGE`] findings each).
pub async fn page(store: &Store, filter: &WorkFilter, page: i64) -> AppResult<Page> {
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let (lines, total) = worklist::page(store, filter, offset, PER_PAGE).await?;
    Ok(Page { lines, total, page, pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1) })
}

/// Every finding under `filter`, up to [`EXPORT_MAX`], for a download.
pub async fn export(store: &Store, filter: &WorkFilter) -> AppResult<Vec<WorkLine>> {
    Ok(worklist::page(store, filter, 0, EXPORT_MAX).await?.0)
}

/// Who sent the last explanation of each of these findings back, and why, by id.
pub async fn rejections(store: &Store, found: &[WorkLine]) -> AppResult<HashMap<i64, (String, String)>> {
    Ok(findings::rejections(store, &found.iter().map(|w| &w.finding).collect::<Vec<_>>()).await?)
}

/// Every finding counted once per state.
pub fn total(lines: &[StateCounts]) -> StateCounts {
    let mut t = StateCounts::default();
    for l in lines {
        t.open += l.open;
        t.proposed += l.proposed;
        t.explained += l.explained;
        t.fixed += l.fixed;
    }
    t
}

/// What the worklist page shows beside the list: counts by rule (the filter without
/// its rule and state) and in all (without its state), and the rules and years the
/// filters offer.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The filter the counts by rule are of (its rule and state dropped).
    pub unruled: WorkFilter,
    pub by_rule: Vec<StateCounts>,
    /// The filter the total is of (its state dropped).
    pub stateless: WorkFilter,
    pub total: StateCounts,
    /// The rules with findings in the area (ids), and the years, newest first.
    pub rules: Vec<String>,
    pub years: Vec<i32>,
}

/// The counts and choices of the worklist under `filter` (see [`Overview`]).
pub async fn overview(store: &Store, filter: &WorkFilter) -> AppResult<Overview> {
    let unruled = WorkFilter { rule_id: None, state: None, ..filter.clone() };
    let by_rule = worklist::counts(store, &unruled, Group::Rule).await?;
    let stateless = WorkFilter { state: None, ..filter.clone() };
    let counted = worklist::counts(store, &stateless, Group::Rule).await?;
    let (rules, years) = worklist::choices(store, &filter.area, filter.rules.clone()).await?;
    Ok(Overview { unruled, by_rule, total: total(&counted), stateless, rules, years })
}

/// A household's open findings (those waiting for a confirmation included) for its
/// page, whose scope the page has checked. A department officer sees those of rules
/// over their own columns only.
pub async fn open_of_household(store: &Store, viewer: &Viewer, hh_id: &str) -> AppResult<Vec<Finding>> {
    let filter =
        findings::Filter { hh_id: Some(hh_id.to_owned()), statuses: vec![Status::Open], ..findings::Filter::default() };
    let found = findings::list(store, &filter).await?;
    Ok(found.into_iter().filter(|f| may_see_rule(viewer, &f.rule_id)).collect())
}

/// The dashboard's 问题清单: an area's findings of a year counted by rule and by
/// village (the key of findings above the village level is empty).
#[derive(Debug, Clone)]
pub struct Summary {
    /// The filter the counts are of (area, year and the viewer's rules).
    pub base: WorkFilter,
    pub by_rule: Vec<StateCounts>,
    pub by_village: Vec<StateCounts>,
    /// Every finding of the area and year, by state.
    pub total: StateCounts,
}

/// [`Summary`] of `code` (inside the viewer's area, else not found) in `year`.
pub async fn summary(store: &Store, viewer: &Viewer, code: &DivisionCode, year: i32) -> AppResult<Summary> {
    if !viewer.may_see(code) {
        return Err(AppError::NotFound);
    }
    let rules = visible_rules(viewer);
    let base = WorkFilter { area: code.to_string(), year: Some(year), rules, ..WorkFilter::default() };
    let by_rule = worklist::counts(store, &base, Group::Rule).await?;
    let by_village = worklist::counts(store, &base, Group::Village).await?;
    Ok(Summary { total: total(&by_rule), base, by_rule, by_village })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::viewer;

    fn finding(level: &str, entity_key: &str, hh_id: Option<&str>, village: Option<&str>) -> Finding {
        Finding {
            id: 1,
            rule_id: "no_such_rule".to_owned(),
            rule_set: "dq".to_owned(),
            severity: "error".to_owned(),
            level: level.to_owned(),
            entity_key: entity_key.to_owned(),
            hh_id: hh_id.map(str::to_owned),
            person_id: None,
            village_code: village.map(str::to_owned),
            id_number: None,
            year: 2024,
            value_json: "{}".to_owned(),
            explanation: String::new(),
            masked_value_json: "{}".to_owned(),
            masked_explanation: String::new(),
            first_seen: String::new(),
            last_seen: String::new(),
            status: Status::Open,
            fixed_at: None,
            proposed_by: None,
            proposed_reason: None,
            proposed_at: None,
            confirmed_by: None,
            confirmed_at: None,
        }
    }

    const VILLAGE: &str = "610981100201";

    #[test]
    fn only_registry_keepers_explain_and_only_township_and_county_confirm() {
        for role in Role::ALL {
            let keeps = matches!(role, Role::CountyAdmin | Role::TownshipOfficer | Role::VillageCadre);
            assert_eq!(may_propose(role), keeps, "{role:?}");
            assert_eq!(may_confirm(role), matches!(role, Role::CountyAdmin | Role::TownshipOfficer), "{role:?}");
        }
        assert_eq!(Action::parse(" confirm "), Some(Action::Confirm));
        assert_eq!(Action::parse("delete"), None);
    }

    #[test]
    fn a_finding_is_seen_where_its_household_or_division_is() {
        let household = finding("person", "P1", Some("H1"), Some(VILLAGE));
        let village = finding("village", VILLAGE, None, Some(VILLAGE));
        let county = viewer(Role::CountyAdmin, "610981", None);
        assert!(may_see_finding(&county, &household));
        assert!(may_see_finding(&county, &village));
        let elsewhere = viewer(Role::TownshipOfficer, "610981101", None);
        assert!(!may_see_finding(&elsewhere, &household));
        assert!(!may_see_finding(&elsewhere, &village));
        // A helper cadre: their paired households only, never a division's finding.
        let helper = viewer(Role::HelperCadre, "610981", None);
        assert!(may_see_finding(&helper, &household));
        assert!(!may_see_finding(&helper, &finding("person", "P9", Some("H9"), Some(VILLAGE))));
        assert!(!may_see_finding(&helper, &village));
        // A finding with no place is nobody's.
        assert!(!may_see_finding(&county, &finding("person", "P1", Some("H1"), None)));
        // A department officer: not a rule that is nobody's department's.
        assert!(!may_see_finding(&viewer(Role::DepartmentOfficer, "610981", Some("02")), &household));
    }

    #[test]
    fn the_page_ignores_what_the_api_refuses() {
        let v = viewer(Role::TownshipOfficer, "610981100", None);
        let q = |f: fn(&mut WorkQuery)| {
            let mut q = WorkQuery::default();
            f(&mut q);
            q
        };
        let bad = q(|q| q.severity = Some("fatal".into()));
        assert!(matches!(strict_filter(&v, &bad), Err(AppError::BadRequest(_))));
        let bad = q(|q| q.status = Some("gone".into()));
        assert!(matches!(strict_filter(&v, &bad), Err(AppError::BadRequest(_))));
        let bad = q(|q| q.year = Some("all".into()));
        assert!(matches!(strict_filter(&v, &bad), Err(AppError::BadRequest(_))));
        let outside = q(|q| q.area = Some("610981101".into()));
        assert!(matches!(strict_filter(&v, &outside), Err(AppError::NotFound)));
        let fine = q(|q| {
            q.area = Some(format!(" {VILLAGE} "));
            q.status = Some("proposed".into());
            q.hh = Some("H1".into());
        });
        let f = strict_filter(&v, &fine).unwrap_or_default();
        assert_eq!((f.area.as_str(), f.state, f.year, f.hh_id), (VILLAGE, Some(StateFilter::Proposed), None, None));
        assert_eq!(page_number(Some(" 3 ")), 3);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("x")), 1);
    }

    #[test]
    fn counts_add_up_per_state() {
        let a = StateCounts { key: "a".into(), open: 1, proposed: 2, explained: 3, fixed: 4 };
        let b = StateCounts { key: "b".into(), open: 10, proposed: 0, explained: 0, fixed: 1 };
        let t = total(&[a, b]);
        assert_eq!((t.open, t.proposed, t.explained, t.fixed, t.total()), (11, 2, 3, 5, 21));
    }
}
