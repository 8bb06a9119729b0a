//! A member joins (出生, 婚入), leaves (死亡, 婚出, 迁出) or moves to another household;
//! when the 户主 leaves, a successor takes over and the others' relations are re-based.

use fupin_domain::household_rules::{self, HEAD, MARRIAGE_IN_RELATIONS};
use fupin_domain::schema::PERSONS;
use fupin_domain::{Value, date};

use super::{
    Done, Edit, OpError, Outcome, PersonDraft, cell, check_heads, check_version, codes, existing_household, finish,
    household_row, members, name_of, next_member_id, person_from_draft, present_person, read_field, refuse,
    relation_of, relations, start, why,
};
use crate::{Store, Writer};

/// 出生: a newborn joins `hh_id` as 人编号 `hh_id` + next two-digit number.
pub async fn record_birth(store: &Store, edit: &Edit, hh_id: &str, person: PersonDraft) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = join_in(&mut w, edit, hh_id, person, Joining::Birth).await;
    finish(store, w, r).await
}

/// 婚入: a person marries into `hh_id`, as 配偶 (02), 之儿媳 (05) or 之女婿 (06).
pub async fn record_marriage_in(
    store: &Store,
    edit: &Edit,
    hh_id: &str,
    person: PersonDraft,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = join_in(&mut w, edit, hh_id, person, Joining::Marriage).await;
    finish(store, w, r).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Joining {
    Birth,
    Marriage,
}

async fn join_in(w: &mut Writer, edit: &Edit, hh_id: &str, p: PersonDraft, how: Joining) -> Result<Done, OpError> {
    let codes = codes();
    existing_household(w, hh_id).await?;
    check_version(w, edit, hh_id).await?;
    let id = next_member_id(w, hh_id).await?;
    let (row, warnings) = person_from_draft(&id, hh_id, &p)?;
    let relation = relation_of(&row).to_owned();
    let label = match how {
        Joining::Birth => {
            if cell(&PERSONS, &row, "birth_date").is_none() {
                return refuse("登记出生须填写「出生日期」");
            }
            if !household_rules::birth_relation_allowed(&relation) {
                return refuse(format!(
                    "新生儿的「与户主关系」不能是 {relation} {}",
                    codes.label("relation", &relation)
                ));
            }
            "出生"
        }
        Joining::Marriage => {
            if !MARRIAGE_IN_RELATIONS.contains(&relation.as_str()) {
                return refuse("婚入成员的「与户主关系」应为 02 配偶、05 之儿媳或 06 之女婿");
            }
            "婚入"
        }
    };
    let before = relations(&members(w, hh_id).await?);
    let mut after = before.clone();
    after.push(relation);
    check_heads(hh_id, &before, &after)?;
    w.insert(&PERSONS, row, &why(label, edit)).await?;
    Ok(Done { created: Some(id), warnings })
}

/// 死亡: the person leaves the household (the row stays with 人员状态 2 死亡 and the
/// date as 减员日期). When the person is the 户主 and others remain, `new_head` names the
/// member who becomes 户主.
pub async fn record_death(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = death_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn death_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    leave_dated(w, edit, person_id, date_text, STATUS_DIED, "死亡", new_head).await
}

/// A dated departure (death, move out): the date must be one and not before the
/// person's birth; the row stays with `status` and the date as 减员日期.
async fn leave_dated(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    status: &'static str,
    what: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let Some(day) = date::parse(date_text) else {
        return refuse(format!("{what}日期「{date_text}」不是日期（应写作 2024-03-05）"));
    };
    let day = date::iso(day);
    let person = present_person(w, person_id).await?;
    if let Some(birth) = cell(&PERSONS, &person, "birth_date")
        && *birth > *day.as_str()
    {
        return refuse(format!("{what}日期 {day} 早于出生日期 {birth}"));
    }
    let label = format!("{what}（{day}）");
    leave(w, edit, person, Left { status, on: day, label }, new_head).await
}

/// 人员状态 of a person who died.
pub const STATUS_DIED: &str = "2";
/// 人员状态 of a person who married out.
pub const STATUS_MARRIED_OUT: &str = "3";
/// 人员状态 of a person who moved out of the county (户籍迁出).
pub const STATUS_MOVED_OUT: &str = "4";

/// How a person left: the 人员状态, the 减员日期 and the label of the records.
struct Left {
    status: &'static str,
    on: String,
    label: String,
}

/// 迁出: the person moves out of the county (户籍迁出) and leaves the household; the
/// row stays as history. Same 户主 rule as a death.
pub async fn record_move_out(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = move_out_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn move_out_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    leave_dated(w, edit, person_id, date_text, STATUS_MOVED_OUT, "迁出", new_head).await
}

/// 婚出: the person marries out and leaves the household; same 户主 rule as a death.
pub async fn record_marriage_out(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    date: Option<&str>,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = marriage_out_in(&mut w, edit, person_id, date, new_head).await;
    finish(store, w, r).await
}

async fn marriage_out_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    date_text: Option<&str>,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let (label, on) = match date_text.map(str::trim).filter(|t| !t.is_empty()) {
        None => ("婚出".to_owned(), date::iso(time::OffsetDateTime::now_utc().date())),
        Some(t) => match date::parse(t) {
            Some(d) => (format!("婚出（{}）", date::iso(d)), date::iso(d)),
            None => return refuse(format!("婚出日期「{t}」不是日期（应写作 2024-03-05）")),
        },
    };
    let person = present_person(w, person_id).await?;
    leave(w, edit, person, Left { status: STATUS_MARRIED_OUT, on, label }, new_head).await
}

/// Who becomes 户主 when `leaving` (a list of 人编号) leave `hh_id`: refuses when the
/// head leaves others behind without a new head, or names one who cannot be.
pub(super) fn successor<'a>(
    hh_id: &str,
    before: &'a [Vec<Value>],
    leaving: &[&str],
    new_head: Option<&'a str>,
) -> Result<Option<&'a str>, OpError> {
    let is_leaving = |r: &Vec<Value>| leaving.contains(&cell(&PERSONS, r, "person_id").unwrap_or_default());
    let head_leaves = before.iter().any(|r| is_leaving(r) && relation_of(r) == HEAD);
    let staying: Vec<&Vec<Value>> = before.iter().filter(|r| !is_leaving(r)).collect();
    let Some(new_head) = new_head.map(str::trim).filter(|h| !h.is_empty()) else {
        if head_leaves && !staying.is_empty() && !staying.iter().any(|r| relation_of(r) == HEAD) {
            let head = before.iter().find(|r| is_leaving(r) && relation_of(r) == HEAD).map_or("", |r| name_of(r));
            return refuse(format!("{head} 是户 {hh_id} 的户主，户内还有 {} 名成员：请指定新户主", staying.len()));
        }
        return Ok(None);
    };
    if !head_leaves {
        return refuse(format!("户 {hh_id} 的户主没有离开，不需要指定新户主"));
    }
    if !staying.iter().any(|r| cell(&PERSONS, r, "person_id") == Some(new_head)) {
        return refuse(format!("新户主 {new_head} 不是户 {hh_id} 留下的成员"));
    }
    Ok(Some(new_head))
}

/// The relations of the members who stay when `successor` takes over from the 户主
/// who leaves: each one that follows from the relations (and sexes) changes, each one
/// that does not is named in a warning for the cadre to set by a correction.
fn rebase(before: &[Vec<Value>], leaving: &[&str], successor: &str) -> (Vec<(String, String)>, Vec<String>) {
    fn id_of(r: &[Value]) -> &str {
        cell(&PERSONS, r, "person_id").unwrap_or_default()
    }
    let staying: Vec<&Vec<Value>> = before.iter().filter(|r| !leaving.contains(&id_of(r))).collect();
    let Some(head) = staying.iter().find(|r| id_of(r) == successor) else { return (Vec::new(), Vec::new()) };
    let head_rel = relation_of(head);
    let head_sex = cell(&PERSONS, head, "sex").unwrap_or_default();
    let count = |rel: &str| staying.iter().filter(|r| relation_of(r) == rel).count();
    let (mut changes, mut warnings) = (Vec::new(), Vec::new());
    for r in &staying {
        let (id, rel) = (id_of(r), relation_of(r));
        if id == successor {
            continue;
        }
        let sole = match rel {
            "05" | "06" => count(rel) == 1,
            "07" | "08" => count("03") == 1,
            "09" | "10" => count("04") == 1,
            _ => true,
        };
        let sex = cell(&PERSONS, r, "sex").unwrap_or_default();
        match household_rules::rebased_relation(head_rel, head_sex, rel, sex, sole) {
            Some(new) if new == rel => {}
            Some(new) => changes.push((id.to_owned(), new.to_owned())),
            None => warnings.push(format!(
                "{}（{id}）的「与户主关系」原为 {rel} {}，对新户主的关系无法推定：请用“更正”核对",
                name_of(r),
                codes().label("relation", rel)
            )),
        }
    }
    (changes, warnings)
}

/// A person leaves the household (death, marriage out, moving out of the county):
/// the row stays, with its 人员状态 and 减员日期, as history.
async fn leave(
    w: &mut Writer,
    edit: &Edit,
    person: Vec<Value>,
    left: Left,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let person_id = cell(&PERSONS, &person, "person_id").unwrap_or_default().to_owned();
    let hh_id = cell(&PERSONS, &person, "hh_id").unwrap_or_default().to_owned();
    check_version(w, edit, &hh_id).await?;
    let before = members(w, &hh_id).await?;
    let successor = successor(&hh_id, &before, &[person_id.as_str()], new_head)?.map(str::to_owned);
    let after: Vec<String> = before
        .iter()
        .filter(|r| cell(&PERSONS, r, "person_id") != Some(person_id.as_str()))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == successor.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&hh_id, &relations(&before), &after)?;
    let reason = why(&left.label, edit);
    w.set_fields(
        &PERSONS,
        &person_id,
        &[("person_status", Value::from(left.status)), ("left_on", Value::from(left.on.as_str()))],
        &reason,
    )
    .await?;
    let warnings = take_over(w, &before, &[person_id.as_str()], successor.as_deref(), &reason).await?;
    Ok(Done { created: None, warnings })
}

/// The new 户主 takes over and the others' relations are re-based on them.
pub(super) async fn take_over(
    w: &mut Writer,
    before: &[Vec<Value>],
    leaving: &[&str],
    successor: Option<&str>,
    reason: &str,
) -> Result<Vec<String>, OpError> {
    let Some(h) = successor else { return Ok(Vec::new()) };
    let (changes, warnings) = rebase(before, leaving, h);
    w.set_fields(&PERSONS, h, &[("relation", Value::from(HEAD))], &format!("{reason}；改任户主")).await?;
    for (id, rel) in changes {
        w.set_fields(&PERSONS, &id, &[("relation", Value::from(rel))], &format!("{reason}；随户主变更")).await?;
    }
    Ok(warnings)
}

/// 迁移成员: a person moves to another existing household with a new relation to its
/// head. When the person is the 户主 of a household with others, `new_head` names who
/// takes over there.
pub async fn move_member(
    store: &Store,
    edit: &Edit,
    person_id: &str,
    to_hh_id: &str,
    new_relation: &str,
    new_head: Option<&str>,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = move_in(&mut w, edit, person_id, to_hh_id, new_relation, new_head).await;
    finish(store, w, r).await
}

async fn move_in(
    w: &mut Writer,
    edit: &Edit,
    person_id: &str,
    to_hh: &str,
    new_relation: &str,
    new_head: Option<&str>,
) -> Result<Done, OpError> {
    let person = present_person(w, person_id).await?;
    let from_hh = cell(&PERSONS, &person, "hh_id").unwrap_or_default().to_owned();
    check_version(w, edit, &from_hh).await?;
    let to_hh = to_hh.trim();
    if to_hh == from_hh {
        return refuse(format!("{} 已在户 {to_hh} 中", name_of(&person)));
    }
    if household_row(w, to_hh).await?.is_none() {
        return refuse(format!("迁入的户 {to_hh} 不存在：请先新增该户"));
    }
    let relation = read_field(&PERSONS, "relation", new_relation, "")?.1;
    let Some(relation) = relation.as_text().map(str::to_owned) else {
        return refuse("请填写迁入后的「与户主关系」");
    };

    let from_before = members(w, &from_hh).await?;
    let successor = successor(&from_hh, &from_before, &[person_id], new_head)?.map(str::to_owned);
    let from_after: Vec<String> = from_before
        .iter()
        .filter(|r| cell(&PERSONS, r, "person_id") != Some(person_id))
        .map(|r| {
            if cell(&PERSONS, r, "person_id") == successor.as_deref() {
                HEAD.to_owned()
            } else {
                relation_of(r).to_owned()
            }
        })
        .collect();
    check_heads(&from_hh, &relations(&from_before), &from_after)?;
    let to_before = relations(&members(w, to_hh).await?);
    let mut to_after = to_before.clone();
    to_after.push(relation.clone());
    check_heads(to_hh, &to_before, &to_after)?;

    let reason = why("迁移成员", edit);
    w.set_fields(&PERSONS, person_id, &[("hh_id", Value::from(to_hh)), ("relation", Value::from(relation))], &reason)
        .await?;
    let warnings = take_over(w, &from_before, &[person_id], successor.as_deref(), &reason).await?;
    Ok(Done { created: None, warnings })
}
