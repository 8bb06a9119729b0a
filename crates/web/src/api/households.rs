//! The area, household list, household and history answers of the JSON API: the same
//! records the pages show, with the same scope checks and the same masking.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PAIRINGS, PERSONS, Table};
use fupin_domain::{CodeLists, DivisionLevel, Value};
use fupin_store::views;
use fupin_store::writer::ChangeRecord;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::display::{cell, masked, raw, scrub_ids};
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;

use super::{ApiError, ApiResult, AreaRef, CountsJson, area_ref, code_in_scope};

/// Households on one page of a village's list (as on the village page).
pub(crate) const PER_PAGE: i64 = 50;
/// The newest change records a history answer holds.
pub(crate) const HISTORY_LIMIT: i64 = 200;

#[derive(Serialize)]
pub(crate) struct AreaLine {
    #[serde(flatten)]
    area: AreaRef,
    counts: CountsJson,
}

#[derive(Serialize)]
pub(crate) struct AreaAnswer {
    #[serde(flatten)]
    area: AreaRef,
    counts: CountsJson,
    children: Vec<AreaLine>,
}

#[derive(Serialize)]
pub(crate) struct HouseholdLine {
    hh_id: String,
    head_name: Option<String>,
    group_no: Option<i64>,
    status: String,
    status_label: String,
    persons: i64,
}

#[derive(Serialize)]
pub(crate) struct HouseholdList {
    village: AreaRef,
    page: i64,
    pages: i64,
    per_page: i64,
    total: i64,
    households: Vec<HouseholdLine>,
}

/// One stored value: the stored text (masked if personal), its label where a code
/// list, 是/否 or 元 reads differently, and whether it was masked.
#[derive(Serialize)]
pub(crate) struct Field {
    name: &'static str,
    header: &'static str,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked: bool,
}

#[derive(Serialize)]
pub(crate) struct Pairing {
    helper_id: String,
    helper_name: Option<String>,
    unit: Option<String>,
    unit_level: Option<String>,
    unit_level_label: Option<String>,
    from_date: String,
    to_date: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Row {
    fields: Vec<Field>,
}

#[derive(Serialize)]
pub(crate) struct HouseholdAnswer {
    hh_id: String,
    village: AreaRef,
    head_name: Option<String>,
    status: String,
    status_label: String,
    fields: Vec<Field>,
    members: Vec<Row>,
    incomes: Vec<Row>,
    pairings: Vec<Pairing>,
}

#[derive(Serialize)]
pub(crate) struct ChangeJson {
    seq: i64,
    at: String,
    actor: String,
    source: Option<String>,
    entity: String,
    entity_key: String,
    op: String,
    field: Option<String>,
    old_value: Option<serde_json::Value>,
    new_value: Option<serde_json::Value>,
    reason: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct HistoryAnswer {
    hh_id: String,
    limited: bool,
    records: Vec<ChangeJson>,
}

fn fields(table: &Table, row: &[Value], codes: &CodeLists) -> Vec<Field> {
    table
        .columns
        .iter()
        .zip(row)
        .filter_map(|(col, v)| {
            let text = v.canonical().filter(|t| !t.is_empty())?;
            let shown = cell(col, v, codes);
            Some(match col.personal {
                Some(_) => Field { name: col.name, header: col.header, value: shown, label: None, masked: true },
                None => Field {
                    name: col.name,
                    header: col.header,
                    label: (shown != text).then_some(shown),
                    value: text,
                    masked: false,
                },
            })
        })
        .collect()
}

/// A recorded value of the change history with personal values masked: a whole row
/// (JSON object) field by field, one field's value by its column.
fn recorded(table: Option<&'static Table>, field: Option<&str>, value: &Option<String>) -> Option<serde_json::Value> {
    let value = value.as_ref()?;
    let Some(table) = table else {
        return Some(serde_json::Value::String(scrub_ids(value)));
    };
    if let Some(name) = field {
        let text = match table.column(name).and_then(|c| c.personal) {
            Some(p) => masked(p, value),
            None if table.column(name).is_some() => value.clone(),
            None => scrub_ids(value),
        };
        return Some(serde_json::Value::String(text));
    }
    let Ok(map) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(value) else {
        return Some(serde_json::Value::String(scrub_ids(value)));
    };
    let map = map
        .into_iter()
        .map(|(k, v)| {
            let personal = table.column(&k).and_then(|c| c.personal);
            let v = match (personal, v) {
                (Some(p), serde_json::Value::String(s)) => serde_json::Value::String(masked(p, &s)),
                (None, serde_json::Value::String(s)) if table.column(&k).is_none() => {
                    serde_json::Value::String(scrub_ids(&s))
                }
                (_, serde_json::Value::Null) => serde_json::Value::Null,
                (None, other) => other,
                (Some(p), other) => serde_json::Value::String(masked(p, &other.to_string())),
            };
            (k, v)
        })
        .collect();
    Some(serde_json::Value::Object(map))
}

pub(crate) fn change_json(r: ChangeRecord) -> ChangeJson {
    let table: Option<&'static Table> = match r.entity.as_str() {
        "households" => Some(&HOUSEHOLDS),
        "persons" => Some(&PERSONS),
        "incomes" => Some(&INCOMES),
        "pairings" => Some(&PAIRINGS),
        _ => None,
    };
    let field = r.field.as_deref();
    ChangeJson {
        old_value: recorded(table, field, &r.old_value),
        new_value: recorded(table, field, &r.new_value),
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        source: r.source.as_deref().map(scrub_ids),
        entity: r.entity,
        entity_key: r.entity_key,
        op: r.op,
        field: r.field,
        reason: r.reason.as_deref().map(scrub_ids),
    }
}

/// `GET /api/v1/areas/{code}`: the area's figures and its children's.
pub(crate) async fn area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> ApiResult<AreaAnswer> {
    let code = code_in_scope(&user, &code)?;
    let area = area_ref(&state, &code).await?;
    let counts = CountsJson::of(views::counts_in(&state.store, &code).await?, &user);
    let children = views::counts_by_child(&state.store, &code)
        .await?
        .into_iter()
        .map(|a| AreaLine { area: a.division.into(), counts: CountsJson::of(a.counts, &user) })
        .collect();
    Ok(Json(AreaAnswer { area, counts, children }))
}

/// `?page=`: anything but a positive number means the first page.
#[derive(Deserialize)]
pub(crate) struct PageQuery {
    page: Option<String>,
}

/// `GET /api/v1/areas/{code}/households?page=`: a village's households, 50 a page.
pub(crate) async fn households(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<HouseholdList> {
    let code = code_in_scope(&user, &code)?;
    if code.level() != DivisionLevel::Village {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "只有村（社区）有户列表：请给出 12 位的村级区划代码"));
    }
    let village = area_ref(&state, &code).await?;
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<i64>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = (page - 1).saturating_mul(PER_PAGE);
    let (lines, total) = views::households_in_village(&state.store, &code, PER_PAGE, offset).await?;
    let codes = &state.codes;
    let households = lines
        .into_iter()
        .map(|l| {
            let status = if user.may_see_field("households", "status") { l.status } else { String::new() };
            HouseholdLine {
                status_label: codes.label("household_status", &status).to_owned(),
                hh_id: l.hh_id,
                head_name: l.head_name,
                group_no: l.group_no.filter(|_| user.may_see_field("households", "group_no")),
                status,
                persons: l.persons,
            }
        })
        .collect();
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    Ok(Json(HouseholdList { village, page, pages, per_page: PER_PAGE, total, households }))
}

/// `GET /api/v1/households/{hh_id}`: fields, members, incomes by year, pairings.
pub(crate) async fn household(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: HouseholdInScope,
) -> ApiResult<HouseholdAnswer> {
    let HouseholdInScope { id, village } = scope;
    let hh_id = id.to_string();
    let row = views::household(&state.store, &id).await?.ok_or_else(ApiError::not_found)?;
    let codes = &state.codes;
    let persons = views::persons_of(&state.store, &id).await?;
    let incomes = views::incomes_of(&state.store, &id).await?;
    let pairings = views::pairings_of(&state.store, &id).await?;
    let head_name = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
    // A department officer gets only the identifying columns and their department's;
    // the others are not in the answer at all (empty values are left out).
    let row = user.visible(&HOUSEHOLDS, &row);
    let persons: Vec<Vec<Value>> = persons.iter().map(|p| user.visible(&PERSONS, p)).collect();
    let incomes: Vec<Vec<Value>> = incomes.iter().map(|r| user.visible(&INCOMES, r)).collect();
    let pairings = if user.may_see_field("pairings", "helper_id") { pairings } else { Vec::new() };
    let status = raw(&HOUSEHOLDS, &row, "status");
    Ok(Json(HouseholdAnswer {
        village: area_ref(&state, &village).await?,
        status_label: codes.label("household_status", &status).to_owned(),
        status,
        head_name,
        fields: fields(&HOUSEHOLDS, &row, codes),
        members: persons.iter().map(|p| Row { fields: fields(&PERSONS, p, codes) }).collect(),
        incomes: incomes.iter().map(|r| Row { fields: fields(&INCOMES, r, codes) }).collect(),
        pairings: pairings
            .into_iter()
            .map(|p| Pairing {
                unit_level_label: p.unit_level.as_deref().map(|l| codes.label("unit_level", l).to_owned()),
                helper_id: p.helper_id,
                helper_name: p.helper_name,
                unit: p.unit,
                unit_level: p.unit_level,
                from_date: p.from_date,
                to_date: p.to_date,
            })
            .collect(),
        hh_id,
    }))
}

/// `GET /api/v1/households/{hh_id}/history`: the newest change records, masked.
pub(crate) async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    scope: HouseholdInScope,
) -> ApiResult<HistoryAnswer> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    let records = views::history_of(&state.store, &id, HISTORY_LIMIT).await?;
    let limited = records.len() as i64 >= HISTORY_LIMIT;
    let records = records.iter().filter_map(|r| user.visible_record(r)).map(change_json).collect();
    Ok(Json(HistoryAnswer { hh_id, limited, records }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "61098119900101123X";

    #[test]
    fn recorded_values_are_masked_field_by_field() {
        let whole = Some(format!(r#"{{"person_id":"P1","name":"张三","id_number":"{ID}","phone":"13812341234"}}"#));
        let v = recorded(Some(&PERSONS), None, &whole).unwrap();
        assert_eq!(v["id_number"], "610981************");
        assert_eq!(v["phone"], "138****1234");
        assert_eq!(v["name"], "张三");
        let one = recorded(Some(&PERSONS), Some("id_number"), &Some(ID.to_owned())).unwrap();
        assert_eq!(one, "610981************");
        let unknown = recorded(None, Some("x"), &Some(format!("证件 {ID}"))).unwrap();
        assert!(!unknown.to_string().contains(ID));
        let broken = recorded(Some(&PERSONS), None, &Some(format!("not json {ID}"))).unwrap();
        assert!(!broken.to_string().contains(ID));
        assert_eq!(recorded(Some(&PERSONS), None, &None), None);
    }

    #[test]
    fn fields_mask_personal_numbers_and_label_codes() {
        let codes = CodeLists::builtin();
        let mut row = vec![Value::Null; PERSONS.columns.len()];
        row[PERSONS.index_of("id_number").unwrap()] = Value::Text(ID.to_owned());
        row[PERSONS.index_of("relation").unwrap()] = Value::Text("01".to_owned());
        let f = fields(&PERSONS, &row, &codes);
        assert_eq!(f.len(), 2, "empty values are left out");
        let json = serde_json::to_string(&f).unwrap();
        assert!(!json.contains(ID), "{json}");
        assert!(json.contains(r#""value":"610981************","masked":true"#), "{json}");
        assert!(json.contains(r#""value":"01","label":"户主""#), "{json}");
    }
}
