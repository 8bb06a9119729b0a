//! 新增户, 分户, 合户: operations that create or remove a household.

use fupin_domain::Value;
use fupin_domain::household_rules::HEAD;
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PAIRINGS, PERSONS};

use super::members::{successor, take_over};
use super::{
    Done, Edit, HouseholdDraft, OpError, Outcome, Split, all_persons, cell, check_heads, check_new_household_id,
    check_version, check_village, existing_household, finish, household_from_fields, is_present, keys_of_household,
    members, next_household_id, person_from_draft, read_field, refuse, relation_of, relations, start, why,
};
use crate::writer::RowIn;
use crate::{Store, Writer};

/// 新增户: a new household with its head (and members). `hh_id` empty → generated.
pub async fn add_household(store: &Store, edit: &Edit, draft: HouseholdDraft) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = add_household_in(&mut w, edit, draft).await;
    finish(store, w, r).await
}

async fn add_household_in(w: &mut Writer, edit: &Edit, d: HouseholdDraft) -> Result<Done, OpError> {
    let village = read_field(&HOUSEHOLDS, "village_code", &d.village_code, "")?.1;
    let Some(village) = village.as_text().map(str::to_owned) else { return refuse("「行政村代码」必填") };
    check_village(w, &village).await?;
    let hh_id = if d.hh_id.trim().is_empty() {
        next_household_id(w, &village).await?
    } else {
        let id = read_field(&HOUSEHOLDS, "hh_id", &d.hh_id, "")?.1;
        let id = id.as_text().unwrap_or_default().to_owned();
        check_new_household_id(w, &id).await?;
        id
    };
    let mut cells: Vec<(&str, &str)> =
        vec![("village_code", &village), ("group_no", &d.group_no), ("status", &d.status)];
    cells.extend(d.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (row, mut warnings) = household_from_fields(w, &hh_id, &cells).await?;

    let mut head = d.head;
    if head.relation.trim().is_empty() {
        head.relation = HEAD.to_owned();
    }
    let mut people = Vec::new();
    let mut rels = Vec::new();
    for (n, p) in std::iter::once(&head).chain(&d.members).enumerate() {
        let id = format!("{hh_id}{:02}", n + 1);
        let (prow, warn) = person_from_draft(&id, &hh_id, p)?;
        if n == 0 && relation_of(&prow) != HEAD {
            return refuse("户主的「与户主关系」应为 01 户主");
        }
        rels.push(relation_of(&prow).to_owned());
        warnings.extend(warn);
        people.push(RowIn { values: prow, source: None });
    }
    if people.len() > 99 {
        return refuse("一户最多 99 名成员");
    }
    check_heads(&hh_id, &[], &rels)?;
    let reason = why("新增户", edit);
    w.insert(&HOUSEHOLDS, row, &reason).await?;
    w.upsert(&PERSONS, people, &reason).await?;
    Ok(Done { created: Some(hh_id), warnings })
}

/// 分户: members of a household form a new one.
pub async fn split_household(store: &Store, edit: &Edit, split: Split) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = split_in(&mut w, edit, split).await;
    finish(store, w, r).await
}

async fn split_in(w: &mut Writer, edit: &Edit, s: Split) -> Result<Done, OpError> {
    let from = existing_household(w, &s.from_hh).await?;
    check_version(w, edit, &s.from_hh).await?;
    let mut leaving: Vec<&str> = Vec::new();
    for m in s.members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
        if !leaving.contains(&m) {
            leaving.push(m);
        }
    }
    if leaving.is_empty() {
        return refuse("分户须列出分出的成员");
    }
    let before = members(w, &s.from_hh).await?;
    let in_from = |id: &str| before.iter().find(|r| cell(&PERSONS, r, "person_id") == Some(id));
    for m in &leaving {
        if in_from(m).is_none() {
            return refuse(format!("{m} 不是户 {} 的成员", s.from_hh));
        }
    }
    if leaving.len() == before.len() {
        return refuse(format!("户 {} 的成员不能全部分出：原户将没有成员", s.from_hh));
    }
    let new_head = s.new_head.trim();
    if !leaving.contains(&new_head) {
        return refuse(format!("新户主 {new_head} 须是分出的成员之一"));
    }
    let remaining_head = successor(&s.from_hh, &before, &leaving, s.remaining_head.as_deref())?.map(str::to_owned);

    // New relations of the leaving members: the new head is 01, others as given or kept.
    let mut moved: Vec<(String, String)> = Vec::new();
    for m in &leaving {
        let row = in_from(m).expect("checked above");
        moved.push(((*m).to_owned(), relation_of(row).to_owned()));
    }
    for (id, rel) in &s.relations {
        let Some(slot) = moved.iter_mut().find(|(m, _)| m == id.trim()) else {
            return refuse(format!("{id} 不是分出的成员，不能在此改与户主关系"));
        };
        let v = read_field(&PERSONS, "relation", rel, "")?.1;
        let Some(v) = v.as_text() else { return refuse(format!("{id} 的「与户主关系」必填")) };
        slot.1 = v.to_owned();
    }
    for (id, rel) in moved.iter_mut() {
        if id.as_str() == new_head {
            if *rel != HEAD && s.relations.iter().any(|(m, r)| m.trim() == id.as_str() && !r.trim().is_empty()) {
                return refuse(format!("新户主 {id} 的「与户主关系」应为 01 户主"));
            }
            *rel = HEAD.to_owned();
        }
    }
    let new_rels: Vec<String> = moved.iter().map(|m| m.1.clone()).collect();
    let remaining: Vec<String> = before
        .iter()
        .filter(|r| !leaving.contains(&cell(&PERSONS, r, "person_id").unwrap_or_default()))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == remaining_head.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&s.from_hh, &relations(&before), &remaining)?;

    // The new household: fields as given, or as the household split from.
    let h = &s.household;
    let from_text = |name: &str| HOUSEHOLDS.index_of(name).and_then(|i| from[i].canonical()).unwrap_or_default();
    let pick = |given: &str, name: &str| if given.trim().is_empty() { from_text(name) } else { given.to_owned() };
    let village = pick(&h.village_code, "village_code");
    let (group_no, status) = (pick(&h.group_no, "group_no"), pick(&h.status, "status"));
    let village = read_field(&HOUSEHOLDS, "village_code", &village, "")?.1;
    let village = village.as_text().unwrap_or_default().to_owned();
    check_village(w, &village).await?;
    let hh_id = if h.hh_id.trim().is_empty() {
        next_household_id(w, &village).await?
    } else {
        let id = read_field(&HOUSEHOLDS, "hh_id", &h.hh_id, "")?.1;
        let id = id.as_text().unwrap_or_default().to_owned();
        check_new_household_id(w, &id).await?;
        id
    };
    check_heads(&hh_id, &[], &new_rels)?;
    let mut cells: Vec<(&str, &str)> = vec![("village_code", &village), ("group_no", &group_no), ("status", &status)];
    cells.extend(h.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (row, warnings) = household_from_fields(w, &hh_id, &cells).await?;

    let reason = why(&format!("分户（从户 {} 分出户 {hh_id}）", s.from_hh), edit);
    w.insert(&HOUSEHOLDS, row, &reason).await?;
    for (id, rel) in moved {
        w.set_fields(&PERSONS, &id, &[("hh_id", Value::from(hh_id.as_str())), ("relation", Value::from(rel))], &reason)
            .await?;
    }
    let mut warnings = warnings;
    warnings.extend(take_over(w, &before, &leaving, remaining_head.as_deref(), &reason).await?);
    Ok(Done { created: Some(hh_id), warnings })
}

/// 合户: every member of `from_hh` moves into `into_hh`, each with the relation given
/// in `relations` (members of either household may be re-labelled; others keep
/// theirs); the emptied household is removed with its incomes and pairings (their
/// history stays in the change records).
pub async fn merge_households(
    store: &Store,
    edit: &Edit,
    from_hh: &str,
    into_hh: &str,
    relations: Vec<(String, String)>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = merge_in(&mut w, edit, from_hh, into_hh, relations).await;
    finish(store, w, r).await
}

async fn merge_in(
    w: &mut Writer,
    edit: &Edit,
    from_hh: &str,
    into_hh: &str,
    new_relations: Vec<(String, String)>,
) -> Result<Done, OpError> {
    if from_hh.trim() == into_hh.trim() {
        return refuse("不能把一户并入它自己");
    }
    existing_household(w, from_hh).await?;
    existing_household(w, into_hh).await?;
    check_version(w, edit, from_hh).await?;
    check_version(w, edit, into_hh).await?;
    let from = members(w, from_hh).await?;
    let into = members(w, into_hh).await?;
    if from.is_empty() {
        return refuse(format!("户 {from_hh} 没有成员可以并入"));
    }
    // (人编号, relation now, relation after, moves)
    let mut plan: Vec<(String, String, String, bool)> = Vec::new();
    for (rows, moves) in [(&from, true), (&into, false)] {
        for r in rows {
            let id = cell(&PERSONS, r, "person_id").unwrap_or_default().to_owned();
            plan.push((id, relation_of(r).to_owned(), relation_of(r).to_owned(), moves));
        }
    }
    for (id, rel) in &new_relations {
        let Some(slot) = plan.iter_mut().find(|p| p.0 == id.trim()) else {
            return refuse(format!("{id} 不是户 {from_hh} 或户 {into_hh} 的成员"));
        };
        let v = read_field(&PERSONS, "relation", rel, "")?.1;
        let Some(v) = v.as_text() else { return refuse(format!("{id} 的「与户主关系」必填")) };
        slot.2 = v.to_owned();
    }
    let into_before: Vec<String> = relations(&into);
    let into_after: Vec<String> = plan.iter().map(|p| p.2.clone()).collect();
    check_heads(into_hh, &into_before, &into_after)?;

    let reason = why(&format!("合户（户 {from_hh} 并入户 {into_hh}）"), edit);
    for (id, old, new, moves) in &plan {
        let mut fields: Vec<(&str, Value)> = Vec::new();
        if *moves {
            fields.push(("hh_id", Value::from(into_hh)));
        }
        if old != new {
            fields.push(("relation", Value::from(new.as_str())));
        }
        if !fields.is_empty() {
            w.set_fields(&PERSONS, id, &fields, &reason).await?;
        }
    }
    // Former members' rows follow, so their history stays with a household.
    for r in all_persons(w, from_hh).await?.iter().filter(|r| !is_present(r)) {
        let id = cell(&PERSONS, r, "person_id").unwrap_or_default().to_owned();
        w.set_fields(&PERSONS, &id, &[("hh_id", Value::from(into_hh))], &reason).await?;
    }
    let incomes = keys_of_household(w, &INCOMES, from_hh).await?;
    let pairings = keys_of_household(w, &PAIRINGS, from_hh).await?;
    let mut warnings = Vec::new();
    let removed = format!("{reason}；原户注销");
    if !incomes.is_empty() {
        w.delete(&INCOMES, &incomes, None, &removed).await?;
        warnings.push(format!("户 {from_hh} 的 {} 条年度收入记录随户注销（变更记录中保留）", incomes.len()));
    }
    if !pairings.is_empty() {
        w.delete(&PAIRINGS, &pairings, None, &removed).await?;
        warnings.push(format!(
            "户 {from_hh} 的 {} 条结对帮扶记录随户注销，请为户 {into_hh} 核对帮扶责任人",
            pairings.len()
        ));
    }
    w.delete(&HOUSEHOLDS, &[from_hh.to_owned()], None, &removed).await?;
    Ok(Done { created: None, warnings })
}
