//! The rules against a registry: reading households for the interpreter, running
//! compiled rules through `fupin_store::rules_sql`, and writing example records.

use std::collections::HashMap;

use fupin_domain::Value;
use fupin_domain::schema::{self, Table};
use fupin_store::rules_sql::{RuleRow, run_rule_select};
use fupin_store::{Actor, Engine, Store, StoreError};

use crate::eval::{County, Env, HouseholdRecord, Val};
use crate::rule::{Outcome, Rule, Verdict};
use crate::sql::{CompiledSql, Dialect, NotCompilable, compile};

/// The SQL dialect of a store.
pub fn dialect(store: &Store) -> Dialect {
    match store.engine() {
        Engine::Sqlite => Dialect::Sqlite,
        Engine::Postgres => Dialect::Postgres,
    }
}

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

/// Every household with its members who count in `year` (former members in the years
/// they lived), and its income and village rows of `year`, in 户编号 order; members in
/// 人编号 order.
pub async fn load_records(store: &Store, year: i32) -> Result<Vec<HouseholdRecord>, StoreError> {
    let mut households: Vec<HouseholdRecord> = Vec::new();
    store
        .for_each_row::<StoreError>(&schema::HOUSEHOLDS, |row| {
            households.push(HouseholdRecord { household: row, ..Default::default() });
            Ok(())
        })
        .await?;
    let by_id: HashMap<String, usize> = households.iter().enumerate().map(|(i, h)| (h.hh_id(), i)).collect();
    let hh_of = |row: &[Value]| row.get(schema::PERSONS.index_of("hh_id").unwrap_or(1)).and_then(Value::canonical);
    let mut members: Vec<(usize, Vec<Value>)> = Vec::new();
    store
        .for_each_row::<StoreError>(&schema::PERSONS, |row| {
            if let Some(i) = hh_of(&row).and_then(|h| by_id.get(&h).copied())
                && counted_in(&row, year)
            {
                members.push((i, row));
            }
            Ok(())
        })
        .await?;
    for (i, row) in members {
        households[i].members.push(row);
    }
    let of_year = |row: &[Value], t: &Table| row.get(t.index_of("year").unwrap_or(1)) == Some(&Value::Int(year.into()));
    let mut incomes = Vec::new();
    store
        .for_each_row::<StoreError>(&schema::INCOMES, |row| {
            incomes.push(row);
            Ok(())
        })
        .await?;
    for row in incomes {
        if let Some(i) = row.first().and_then(Value::canonical).and_then(|h| by_id.get(&h).copied()) {
            if of_year(&row, &schema::INCOMES) {
                households[i].income = Some(row);
            } else {
                households[i].other_incomes.push(row);
            }
        }
    }
    let pairing_hh = schema::PAIRINGS.index_of("hh_id").unwrap_or(1);
    let mut pairings = Vec::new();
    store
        .for_each_row::<StoreError>(&schema::PAIRINGS, |row| {
            pairings.push(row);
            Ok(())
        })
        .await?;
    for row in pairings {
        if let Some(i) = row.get(pairing_hh).and_then(Value::canonical).and_then(|h| by_id.get(&h).copied()) {
            households[i].pairings.push(row);
        }
    }
    // Helpers sharing a member's 证件号码 go with that member's household.
    let upper =
        |v: Option<&Value>| v.and_then(Value::canonical).filter(|t| !t.is_empty()).map(|t| t.to_ascii_uppercase());
    let pidn = schema::PERSONS.index_of("id_number").unwrap_or(3);
    let mut holders: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, h) in households.iter().enumerate() {
        for m in &h.members {
            if let Some(id) = upper(m.get(pidn)) {
                holders.entry(id).or_default().push(i);
            }
        }
    }
    let hidn = schema::HELPERS.index_of("id_number").unwrap_or(2);
    let mut helpers = Vec::new();
    store
        .for_each_row::<StoreError>(&schema::HELPERS, |row| {
            if upper(row.get(hidn)).is_some_and(|id| holders.contains_key(&id)) {
                helpers.push(row);
            }
            Ok(())
        })
        .await?;
    for row in helpers {
        let mut to = holders.get(&upper(row.get(hidn)).unwrap_or_default()).cloned().unwrap_or_default();
        to.dedup();
        for i in to {
            households[i].helpers.push(row.clone());
        }
    }
    let mut villages: HashMap<String, Vec<Value>> = HashMap::new();
    store
        .for_each_row::<StoreError>(&schema::VILLAGES, |row| {
            if of_year(&row, &schema::VILLAGES) {
                villages.insert(row.first().and_then(Value::canonical).unwrap_or_default(), row);
            }
            Ok(())
        })
        .await?;
    let vc = schema::HOUSEHOLDS.index_of("village_code").unwrap_or(1);
    for h in &mut households {
        let code = h.household.get(vc).and_then(Value::canonical).unwrap_or_default();
        h.village = villages.get(&code).cloned();
    }
    Ok(households)
}

/// A rule's outcome for every entity of its level, by the interpreter: (key, outcome)
/// sorted by key.
pub fn interpret(rule: &Rule, env: &Env, records: &[HouseholdRecord]) -> Vec<(String, Outcome)> {
    // Members born after the year, or who died or left before it, are not judged nor
    // counted in it (the SQL leaves them out alike); records read by `load_records` have none.
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
    let mut villages_seen = std::collections::HashSet::new();
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
            crate::Level::Village => {
                let Some(code) = r.village.as_ref().and_then(|v| v.get(vc)).and_then(Value::canonical) else {
                    continue;
                };
                if villages_seen.insert(code.clone()) {
                    out.push((code, rule.evaluate_in(env, &county, r, None)));
                }
            }
            crate::Level::Person => {
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

/// Errors of running a rule in the database.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    NotCompilable(#[from] NotCompilable),
    #[error("规则在数据库中运行失败：{0}")]
    Store(#[from] StoreError),
    #[error("数据库返回了无效的判定值 {0}")]
    BadVerdict(i64),
}

/// A rule's outcome for every entity of its level, by SQL in the store: (key,
/// outcome) sorted by key, values typed as the interpreter types them.
pub async fn run_sql(store: &Store, rule: &Rule, env: &Env) -> Result<Vec<(String, Outcome)>, RunError> {
    let compiled = compile(rule, env, dialect(store))?;
    let types: Vec<_> = rule.values.iter().map(|(_, ir)| ir.ty).collect();
    run_compiled(store, &compiled, &types).await
}

/// The entities a rule fails, by SQL: only failing rows leave the database (what a
/// check run keeps), sorted by key.
pub async fn run_sql_failures(store: &Store, rule: &Rule, env: &Env) -> Result<Vec<(String, Outcome)>, RunError> {
    let mut compiled = compile(rule, env, dialect(store))?;
    compiled.sql = std::mem::take(&mut compiled.failures_sql);
    let types: Vec<_> = rule.values.iter().map(|(_, ir)| ir.ty).collect();
    run_compiled(store, &compiled, &types).await
}

/// Runs an already compiled statement; `types` are the value columns' types.
pub async fn run_compiled(
    store: &Store,
    compiled: &CompiledSql,
    types: &[crate::ir::Ty],
) -> Result<Vec<(String, Outcome)>, RunError> {
    let rows = run_rule_select(store, &compiled.sql, &compiled.params, &compiled.value_storages).await?;
    let mut out = Vec::with_capacity(rows.len());
    for RuleRow { key, verdict, values } in rows {
        let (verdict, undetermined) = match verdict {
            1 => (Verdict::Pass, false),
            0 => (Verdict::Fail, false),
            3 => (Verdict::Fail, true),
            2 => (Verdict::Skip, false),
            v => return Err(RunError::BadVerdict(v)),
        };
        let values = values.iter().zip(types).map(|(v, t)| Val::from_cell(v, *t)).collect();
        out.push((key, Outcome { verdict, values, undetermined }));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Writes records (an example's, or generated ones) into a registry through the
/// store's writer, as one change.
pub async fn write_records(store: &Store, records: &[HouseholdRecord], reason: &str) -> Result<(), StoreError> {
    let mut w = store.writer(Actor::System).await?;
    for r in records {
        w.insert(&schema::HOUSEHOLDS, r.household.clone(), reason).await?;
        for m in &r.members {
            w.insert(&schema::PERSONS, m.clone(), reason).await?;
        }
        for i in r.income.iter().chain(&r.other_incomes) {
            w.insert(&schema::INCOMES, i.clone(), reason).await?;
        }
        if let Some(v) = &r.village {
            let key = fupin_store::rows::key_of(&schema::VILLAGES, v);
            if w.fetch(&schema::VILLAGES, std::slice::from_ref(&key)).await?.is_empty() {
                w.insert(&schema::VILLAGES, v.clone(), reason).await?;
            }
        }
    }
    // Helpers before the pairings that name them; one helper may come with several
    // households.
    for r in records {
        for h in &r.helpers {
            let key = fupin_store::rows::key_of(&schema::HELPERS, h);
            if w.fetch(&schema::HELPERS, std::slice::from_ref(&key)).await?.is_empty() {
                w.insert(&schema::HELPERS, h.clone(), reason).await?;
            }
        }
    }
    for r in records {
        for p in &r.pairings {
            w.insert(&schema::PAIRINGS, p.clone(), reason).await?;
        }
    }
    w.commit().await?;
    Ok(())
}
