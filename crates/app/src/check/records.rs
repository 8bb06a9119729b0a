//! The interpreter's records from a registry, and records into one: every household
//! with its members, income years, pairings, helpers and village row as the
//! interpreter reads them (`fupin_rules::HouseholdRecord`), and example or generated
//! records written through the store's writer.

use std::collections::HashMap;

use fupin_domain::Value;
use fupin_domain::schema::{self, Table};
use fupin_rules::HouseholdRecord;
use fupin_rules::eval::counted_in;
use fupin_store::{Actor, Store, StoreError};

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
