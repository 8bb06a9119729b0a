//! A rule over every entity of its level, by the interpreter: the members who count in
//! the policy year, the county index, and one judgement per person, household,
//! village or area, as the SQL compiler's statement makes them.

use std::collections::HashSet;

use fupin_domain::Value;
use fupin_domain::schema;

use super::{County, Env, HouseholdRecord};
use crate::rule::{Level, Outcome, Rule};

/// Whether a person row counts in `year`: born by its last day (出生日期 empty:
/// counted), and a member now (人员状态 empty or 1) or one who died or left in or
/// after that year (`sql::counted_in` is the SQL's).
pub fn counted_in(row: &[Value], year: i32) -> bool {
    let text = |c: &str| schema::PERSONS.index_of(c).and_then(|i| row.get(i)).and_then(Value::as_text);
    if text("birth_date").is_some_and(|b| !b.is_empty() && *b > *format!("{year:04}-12-31")) {
        return false;
    }
    match text("person_status") {
        None | Some("") => true,
        Some(s) if s == schema::PRESENT => true,
        Some(_) => text("left_on").is_some_and(|d| *d >= *format!("{year:04}-01-01")),
    }
}

/// A rule's outcome for every entity of its level, by the interpreter: (key, outcome)
/// sorted by key.
pub fn interpret(rule: &Rule, env: &Env, records: &[HouseholdRecord]) -> Vec<(String, Outcome)> {
    // Members born after the year, or who died or left before it, are not judged nor
    // counted in it (the SQL leaves them out alike); records read by `fupin_app::check::load_records` have none.
    let kept: Vec<HouseholdRecord>;
    let records = if records.iter().any(|r| r.members.iter().any(|m| !counted_in(m, env.year))) {
        kept = records
            .iter()
            .map(|r| HouseholdRecord {
                members: r.members.iter().filter(|m| counted_in(m, env.year)).cloned().collect(),
                ..r.clone()
            })
            .collect();
        &kept[..]
    } else {
        records
    };
    let mut out = Vec::new();
    let pid = schema::PERSONS.index_of("person_id").unwrap_or(0);
    let county = County::of(records).with_villages(records, env.year);
    let vc = schema::VILLAGES.index_of("village_code").unwrap_or(0);
    let mut villages_seen = HashSet::new();
    if let Some(digits) = rule.level.area_digits() {
        return county
            .area_codes(digits)
            .into_iter()
            .map(|code| {
                let outcome = rule.evaluate_area(env, &county, records, &code);
                (code, outcome)
            })
            .collect();
    }
    for r in records {
        match rule.level {
            // One judgement per village of the policy year, on its first household's
            // record (which carries the village row); villages without households
            // have nothing to total.
            Level::Village => {
                let Some(code) = r.village.as_ref().and_then(|v| v.get(vc)).and_then(Value::canonical) else {
                    continue;
                };
                if villages_seen.insert(code.clone()) {
                    out.push((code, rule.evaluate_in(env, &county, r, None)));
                }
            }
            Level::Person => {
                for (i, m) in r.members.iter().enumerate() {
                    let key = m.get(pid).and_then(Value::canonical).unwrap_or_default();
                    out.push((key, rule.evaluate_in(env, &county, r, Some(i))));
                }
            }
            _ => out.push((r.hh_id(), rule.evaluate_in(env, &county, r, None))),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
