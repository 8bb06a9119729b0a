//! 户详情: one household's fields, members, incomes, helpers and change history,
//! every value labelled and every personal number masked.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, Kind, PAIRINGS, PERSONS, Table};
use fupin_domain::{HouseholdId, Value};
use fupin_store::views;
use fupin_store::writer::ChangeRecord;

use super::reveal::RevealTarget;
use super::{Crumb, Grid, Nav, crumbs, html};
use crate::display::{self, cell, field, raw};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use fupin_app::reveal::may_reveal;

/// The newest change records shown.
const HISTORY_LIMIT: i64 = 200;

/// Members' columns, in the order the 扶贫手册 lists them.
const MEMBER_COLUMNS: &[&str] = &[
    "name",
    "sex",
    "relation",
    "birth_date",
    "id_number",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "labour",
    "migrant_place",
    "migrant_months",
    "dibao",
    "tekun",
    "phone",
];

/// Former members' columns: who they were and when and how they left.
const FORMER_COLUMNS: &[&str] = &["name", "sex", "relation", "birth_date", "person_status", "left_on"];

/// A titled list of `表头：值` pairs, a masked number with the value to reveal.
struct Section {
    title: &'static str,
    items: Vec<(String, String, Option<RevealTarget>)>,
}

/// The members' table: each cell as shown, a masked number with the value to reveal.
struct Members {
    headers: Vec<String>,
    rows: Vec<Vec<(String, Option<RevealTarget>)>>,
}

/// A helper cadre paired with the household.
struct Helper {
    name: String,
    unit: String,
    unit_level: String,
    from: String,
    to: String,
}

/// One change record as read.
#[derive(Clone)]
struct HistoryLine {
    at: String,
    who: String,
    what: String,
    field: String,
    change: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    hh_id: String,
    head: String,
    status: String,
    sections: Vec<Section>,
    members: Members,
    /// Members who died, married out or moved out: kept as history.
    former: Members,
    incomes: Grid,
    helpers: Vec<Helper>,
    history: Vec<HistoryLine>,
    history_limited: bool,
    /// Links to the change forms, for roles that may edit (empty otherwise).
    edits: Vec<(String, &'static str)>,
    /// What the last change left to say (once).
    flash: Option<super::edit::Flash>,
    /// Its open findings, and the area their worklist link names.
    findings: Vec<super::findings::Line>,
    findings_area: String,
}

/// `/household/{hh_id}`: the household in the user's scope ([`HouseholdInScope`], 404
/// otherwise, before anything is read).
pub(crate) async fn show(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    HouseholdInScope { id, village }: HouseholdInScope,
    headers: axum::http::HeaderMap,
) -> Result<Response, WebError> {
    let (registry_head, data) = load(&state, &id).await?;
    let data = data.ok_or(WebError::NotFound)?;
    let Stored { row, persons, former, incomes, pairings, records } = &*data;
    // A department officer gets only the identifying columns and their department's:
    // the others are emptied here, so the page never carries them.
    let (row, persons, former, incomes) = (
        &user.visible(&HOUSEHOLDS, row),
        &persons.iter().map(|p| user.visible(&PERSONS, p)).collect::<Vec<_>>(),
        &former.iter().map(|p| user.visible(&PERSONS, p)).collect::<Vec<_>>(),
        &incomes.iter().map(|r| user.visible(&INCOMES, r)).collect::<Vec<_>>(),
    );
    let pairings: &[views::PairingLine] = if user.may_see_field("pairings", "helper_id") { pairings } else { &[] };
    let records: Vec<ChangeRecord> = records.iter().filter_map(|r| user.visible_record(r)).collect();
    let hh_id = id.as_str().to_owned();
    let codes = &state.codes;

    // The head's name is identifying; found by 与户主关系, which not every role sees.
    let head = data
        .persons
        .iter()
        .find(|p| raw(&PERSONS, p, "relation") == "01")
        .map(|p| raw(&PERSONS, p, "name"))
        .unwrap_or_default();
    let names: HashMap<String, String> =
        persons.iter().chain(former).map(|p| (raw(&PERSONS, p, "person_id"), raw(&PERSONS, p, "name"))).collect();
    let helpers = pairings
        .iter()
        .map(|p| Helper {
            name: p.helper_name.clone().unwrap_or_else(|| p.helper_id.clone()),
            unit: p.unit.clone().unwrap_or_default(),
            unit_level: p.unit_level.as_ref().map(|l| codes.label("unit_level", l).to_owned()).unwrap_or_default(),
            from: p.from_date.clone(),
            to: p.to_date.clone().unwrap_or_else(|| t.t("household.helpers.ongoing").to_owned()),
        })
        .collect();
    let (flash, clear) = super::edit::take_flash(&headers).unzip();
    // "显示" beside each masked number, for the roles that may reveal one.
    let reveal = may_reveal(user.user.role);
    let page = HouseholdPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        crumbs: crumbs(&state, &user, &village).await?,
        status: field(&HOUSEHOLDS, row, "status", codes),
        sections: sections(t, row, codes, reveal),
        members: members(t, persons, &state, reveal),
        // Who left is 公安's column for a department officer: the section only with it.
        former: former_members(if user.may_see_field("persons", "person_status") { former } else { &[] }, &state),
        incomes: incomes_grid(t, incomes, codes),
        helpers,
        history_limited: records.len() as i64 >= HISTORY_LIMIT,
        history: history_lines(&state, t, &user, &hh_id, registry_head, &records, &names),
        edits: if super::edit::may_edit(user.user.role) { super::edit::household_links(t, &hh_id) } else { Vec::new() },
        flash,
        findings: super::findings::open_of_household(&state, t, &user, &hh_id).await?,
        findings_area: user.area().to_string(),
        head,
        hh_id,
    };
    let mut response = html(&page)?.into_response();
    if let Some(clear) = clear
        && let Ok(v) = axum::http::HeaderValue::from_str(&clear)
    {
        response.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    Ok(response)
}

/// What a household page reads from the registry.
struct Stored {
    row: Vec<Value>,
    persons: Vec<Vec<Value>>,
    former: Vec<Vec<Value>>,
    incomes: Vec<Vec<Value>>,
    pairings: Vec<views::PairingLine>,
    records: Vec<ChangeRecord>,
}

/// A household's rows, from the cache while the registry head has not moved since they
/// were read (module `cache`), else from the database. `None`: no such household.
async fn load(state: &AppState, hh_id: &HouseholdId) -> Result<(i64, Option<Arc<Stored>>), WebError> {
    let head = views::registry_head(&state.store).await?;
    if let Some(data) = state.cache.household::<Stored>(hh_id.as_str(), head) {
        return Ok((head, Some(data)));
    }
    let Some(row) = views::household(&state.store, hh_id).await? else {
        return Ok((head, None));
    };
    let data = Arc::new(Stored {
        row,
        persons: views::persons_of(&state.store, hh_id).await?,
        former: views::former_persons_of(&state.store, hh_id).await?,
        incomes: views::incomes_of(&state.store, hh_id).await?,
        pairings: views::pairings_of(&state.store, hh_id).await?,
        records: views::history_of(&state.store, hh_id, HISTORY_LIMIT).await?,
    });
    // Read after the head: a write in between moves the head past `head`, so this
    // entry is never served for the newer head.
    state.cache.put_household(hh_id.as_str(), head, Arc::clone(&data));
    Ok((head, Some(data)))
}

/// The history as shown, in the page's language: read from the cache while the registry
/// head stands still (summing up inserted rows parses their JSON, the page's costliest
/// part).
#[allow(clippy::too_many_arguments)]
fn history_lines(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    hh_id: &str,
    head: i64,
    records: &[ChangeRecord],
    names: &HashMap<String, String>,
) -> Vec<HistoryLine> {
    // What the user may see of the history: all of it, or a department's columns.
    let view = match user.user.role {
        fupin_store::users::Role::DepartmentOfficer => user.user.department.as_deref().unwrap_or("-"),
        _ => "*",
    };
    let key = format!("{hh_id}\u{1}history\u{1}{}\u{1}{view}", t.lang().code());
    if let Some(lines) = state.cache.household::<Vec<HistoryLine>>(&key, head) {
        return lines.as_ref().clone();
    }
    let lines: Vec<HistoryLine> = records.iter().map(|r| history_line(t, r, names, &state.codes)).collect();
    state.cache.put_household(&key, head, Arc::new(lines.clone()));
    lines
}

/// The household's own fields in three sections, empty values left out.
fn sections(t: Tr, row: &[Value], codes: &fupin_domain::CodeLists, reveal: bool) -> Vec<Section> {
    let split = |name: &str| HOUSEHOLDS.index_of(name).unwrap_or(HOUSEHOLDS.columns.len());
    let (conditions, relocation) = (split("farmland_mu"), split("relocation_type"));
    let ranges = [
        (t.t("household.section.basic"), 0, conditions),
        (t.t("household.section.conditions"), conditions, relocation),
        (t.t("household.section.relocation"), relocation, HOUSEHOLDS.columns.len()),
    ];
    ranges
        .into_iter()
        .map(|(title, from, to)| {
            let items = (from..to)
                .filter_map(|i| {
                    let col = &HOUSEHOLDS.columns[i];
                    if matches!(col.name, "hh_id" | "village_code" | "status") {
                        return None;
                    }
                    let shown = cell(col, row.get(i)?, codes);
                    let target = if reveal { RevealTarget::of(&HOUSEHOLDS, row, col.name) } else { None };
                    (!shown.is_empty()).then(|| (col.header.to_owned(), shown, target))
                })
                .collect();
            Section { title, items }
        })
        .filter(|s| !s.items.is_empty())
        .collect()
}

/// Members' table: the columns of [`MEMBER_COLUMNS`] that any member fills (name
/// and relation always).
fn members(t: Tr, persons: &[Vec<Value>], state: &AppState, reveal: bool) -> Members {
    let columns: Vec<&str> = MEMBER_COLUMNS
        .iter()
        .copied()
        .filter(|c| matches!(*c, "name" | "relation") || persons.iter().any(|p| !raw(&PERSONS, p, c).is_empty()))
        .collect();
    let headers = columns
        .iter()
        .map(|c| match *c {
            "birth_date" => t.t("household.birth_age").to_owned(),
            _ => PERSONS.column(c).map(|c| c.header.to_owned()).unwrap_or_default(),
        })
        .collect();
    let rows = persons
        .iter()
        .map(|p| {
            columns
                .iter()
                .map(|c| {
                    let shown = match *c {
                        "birth_date" => {
                            let b = raw(&PERSONS, p, c);
                            if b.is_empty() { b } else { display::birth_with_age(t, &b, state.config.today) }
                        }
                        _ => field(&PERSONS, p, c, &state.codes),
                    };
                    let target = if reveal { RevealTarget::of(&PERSONS, p, c) } else { None };
                    (shown, target)
                })
                .collect()
        })
        .collect();
    Members { headers, rows }
}

/// Former members' table: no personal numbers, nothing to reveal.
fn former_members(persons: &[Vec<Value>], state: &AppState) -> Members {
    let headers = FORMER_COLUMNS.iter().map(|c| PERSONS.column(c).map(|c| c.header.to_owned()).unwrap_or_default());
    let rows =
        persons.iter().map(|p| FORMER_COLUMNS.iter().map(|c| (field(&PERSONS, p, c, &state.codes), None)).collect());
    Members { headers: headers.collect(), rows: rows.collect() }
}

/// 年度, 家庭人口数, every money column any year fills, and 人均纯收入 (元).
fn incomes_grid(t: Tr, incomes: &[Vec<Value>], codes: &fupin_domain::CodeLists) -> Grid {
    let shown: Vec<&fupin_domain::Column> = INCOMES
        .columns
        .iter()
        .enumerate()
        .filter(|(i, c)| match c.name {
            "hh_id" => false,
            "year" | "members" | "net_per_capita" => true,
            _ => incomes.iter().any(|r| r.get(*i).is_some_and(|v| !v.is_null())),
        })
        .map(|(_, c)| c)
        .collect();
    let headers = shown
        .iter()
        .map(|c| if c.kind == Kind::Money { t.f1("household.yuan", "header", c.header) } else { c.header.to_owned() })
        .collect();
    let rows = incomes.iter().map(|r| shown.iter().map(|c| field(&INCOMES, r, c.name, codes)).collect()).collect();
    Grid { headers, rows }
}

/// What a record is about, in words: 户信息, 成员 张三, 2019 年收入, 结对帮扶.
fn subject(t: Tr, r: &ChangeRecord, names: &HashMap<String, String>) -> (Option<&'static Table>, String) {
    match r.entity.as_str() {
        "households" => (Some(&HOUSEHOLDS), t.t("household.subject.household").to_owned()),
        "persons" => (
            Some(&PERSONS),
            t.f1("household.subject.person", "name", names.get(&r.entity_key).unwrap_or(&r.entity_key)),
        ),
        "incomes" => {
            let year = r.entity_key.rsplit('|').next().unwrap_or_default();
            (Some(&INCOMES), t.f1("household.subject.incomes", "year", year))
        }
        "pairings" => (Some(&PAIRINGS), t.t("household.subject.pairing").to_owned()),
        fupin_store::findings::EVENT_ENTITY => {
            let rule = r.entity_key.splitn(3, '|').nth(2).unwrap_or_default();
            (None, t.f1("household.subject.finding", "rule", rule))
        }
        other => (None, other.to_owned()),
    }
}

fn history_line(
    t: Tr,
    r: &ChangeRecord,
    names: &HashMap<String, String>,
    codes: &fupin_domain::CodeLists,
) -> HistoryLine {
    let (table, what) = subject(t, r, names);
    let summary = |json: &Option<String>| match (table, json) {
        (Some(table), Some(j)) => display::row_summary(t, table, j, codes, 12),
        _ => String::new(),
    };
    let (field, change) = match r.op.as_str() {
        "I" => (t.t("household.history.added").to_owned(), summary(&r.new_value)),
        "D" => (t.t("household.history.deleted").to_owned(), summary(&r.old_value)),
        _ => {
            let col = table.zip(r.field.as_deref()).and_then(|(table, f)| table.column(f));
            let show = |v: &Option<String>| match (col, v) {
                (_, None) => t.t("household.history.empty_value").to_owned(),
                (Some(c), Some(v)) => cell(c, &Value::Text(v.clone()), codes),
                // A field the schema no longer has: mask it as if it were personal.
                (None, Some(v)) => display::scrub_ids(v),
            };
            let header = if r.entity == fupin_store::findings::EVENT_ENTITY {
                t.t("findings.state").to_owned()
            } else {
                col.map(|c| c.header.to_owned()).or_else(|| r.field.clone()).unwrap_or_default()
            };
            (header, format!("{} → {}", show(&r.old_value), show(&r.new_value)))
        }
    };
    let mut reason = r.reason.clone().unwrap_or_default();
    if let Some(src) = &r.source {
        reason = if reason.is_empty() { src.clone() } else { format!("{reason}（{src}）") };
    }
    HistoryLine {
        at: display::beijing(&r.at),
        who: display::actor(t, &r.actor),
        what,
        field,
        change,
        reason: display::scrub_ids(&reason),
    }
}
