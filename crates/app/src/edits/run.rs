//! A submitted change turned into one of `fupin_store::operations`: the checks of the
//! form that come before the store (sizes, 原因, the version, members, the other
//! household inside the viewer's scope), then the operation itself.

use fupin_domain::DivisionCode;
use fupin_store::Store;
use fupin_store::operations::{self, Edit, HouseholdDraft, Outcome, PersonDraft, Split};

use super::{Change, Failure, Fields, Household, MAX_FIELD, MAX_PAIRS, MAX_REASON, Other, Refusal, person_value};
use crate::{AppError, Viewer};

fn optional(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// Refuses forged sizes before anything is read.
fn check_sizes(f: &Fields) -> Result<(), Refusal> {
    if f.0.len() > MAX_PAIRS {
        return Err(Refusal::TooManyFields);
    }
    for (k, v) in &f.0 {
        let max = if k == "reason" { MAX_REASON } else { MAX_FIELD };
        if k.chars().count() > MAX_FIELD || v.chars().count() > max {
            return Err(Refusal::TooLong { field: k.clone(), max });
        }
    }
    Ok(())
}

/// The edit: who, 原因 (required) and the version the page was based on.
fn edit_of(f: &Fields, viewer: &Viewer) -> Result<Edit, Refusal> {
    let reason = f.get("reason");
    if reason.is_empty() {
        return Err(Refusal::NoReason);
    }
    let Ok(version) = f.get("version").parse::<i64>() else {
        return Err(Refusal::NoVersion);
    };
    Ok(Edit::new(viewer.user.username.clone(), reason).based_on(version))
}

/// The new person a form describes (出生, 婚入, 新增农户's head).
fn person_of(f: &Fields) -> PersonDraft {
    PersonDraft {
        name: f.get("name").to_owned(),
        sex: f.get("sex").to_owned(),
        birth_date: f.get("birth_date").to_owned(),
        relation: f.get("relation").to_owned(),
        id_type: String::new(),
        id_number: f.get("id_number").to_owned(),
        fields: [("ethnicity", f.get("ethnicity"))]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

/// Refuses a person who is not a member of this household.
fn member<'a>(hh: &Household, f: &'a Fields, name: &str) -> Result<&'a str, Refusal> {
    let id = f.get(name);
    if id.is_empty() {
        return Err(Refusal::ChooseMember);
    }
    if !hh.is_member(id) {
        return Err(Refusal::NotMember { id: id.to_owned(), hh_id: hh.hh_id.clone() });
    }
    Ok(id)
}

/// Another household named on a form: it must lie inside the viewer's scope (one
/// outside reads like one that does not exist).
async fn other_household(store: &Store, viewer: &Viewer, hh_id: &str, what: Other) -> Result<(), Failure> {
    if hh_id.is_empty() {
        return Err(Refusal::OtherMissing(what).into());
    }
    if super::household_in_area(store, viewer, hh_id).await?.is_none() {
        return Err(Refusal::OtherUnknown(what, hh_id.to_owned()).into());
    }
    Ok(())
}

/// `rel_{人编号}` values given (non-empty) for the listed persons.
fn relations_from(f: &Fields, ids: &[String]) -> Vec<(String, String)> {
    ids.iter().filter_map(|id| optional(f.get(&format!("rel_{id}"))).map(|r| (id.clone(), r.to_owned()))).collect()
}

/// Runs a submitted change on a household already checked against the viewer's scope.
/// Returns the outcome (changes, warnings, a created household) and the household to
/// show next (the merged-into one after a merge).
pub async fn submit(
    store: &Store,
    viewer: &Viewer,
    change: Change,
    hh: &Household,
    f: &Fields,
) -> Result<(Outcome, String), Failure> {
    if !super::may_edit(viewer.user.role) {
        return Err(AppError::Forbidden.into());
    }
    check_sizes(f)?;
    let edit = edit_of(f, viewer)?;
    let here = hh.hh_id.clone();
    let out = match change {
        Change::Birth => operations::record_birth(store, &edit, &hh.hh_id, person_of(f)).await?,
        Change::MarriageIn => operations::record_marriage_in(store, &edit, &hh.hh_id, person_of(f)).await?,
        Change::Death => {
            let p = member(hh, f, "person")?;
            let date = f.get("date");
            if date.is_empty() {
                return Err(Refusal::DeathNoDate.into());
            }
            operations::record_death(store, &edit, p, date, optional(f.get("new_head"))).await?
        }
        Change::MarriageOut => {
            let p = member(hh, f, "person")?;
            operations::record_marriage_out(store, &edit, p, optional(f.get("date")), optional(f.get("new_head")))
                .await?
        }
        Change::MoveOut => {
            let p = member(hh, f, "person")?;
            let date = f.get("date");
            if date.is_empty() {
                return Err(Refusal::MoveOutNoDate.into());
            }
            operations::record_move_out(store, &edit, p, date, optional(f.get("new_head"))).await?
        }
        Change::Move => {
            let p = member(hh, f, "person")?;
            let to = f.get("to_hh");
            other_household(store, viewer, to, Other::MoveTo).await?;
            operations::move_member(store, &edit, p, to, f.get("relation"), optional(f.get("new_head"))).await?
        }
        Change::Correct => {
            let (table, column) = f.get("field").split_once('.').unwrap_or_default();
            let target = f.get("target");
            let key = match table {
                "households" => hh.hh_id.clone(),
                "persons" => {
                    if target == "household" || target.is_empty() {
                        return Err(Refusal::CorrectChoosePerson.into());
                    }
                    member(hh, f, "target")?.to_owned()
                }
                _ => return Err(Refusal::CorrectChooseField.into()),
            };
            if table == "households" && target != "household" && !target.is_empty() {
                return Err(Refusal::CorrectChooseHousehold.into());
            }
            let value = f.get("value");
            if table == "households" && column == "village_code" {
                let inside = DivisionCode::parse(value).is_ok_and(|c| viewer.may_see(&c));
                if !inside {
                    return Err(Refusal::VillageOutside(value.to_owned()).into());
                }
            }
            operations::correct_field(store, &edit, table, &key, column, value).await?
        }
        Change::Split => {
            let members: Vec<String> =
                f.all("member").into_iter().filter(|m| !m.is_empty()).map(str::to_owned).collect();
            for m in &members {
                if !hh.is_member(m) {
                    return Err(Refusal::NotMember { id: m.clone(), hh_id: hh.hh_id.clone() }.into());
                }
            }
            let relations = relations_from(f, &members);
            let split = Split {
                from_hh: hh.hh_id.clone(),
                members,
                new_head: f.get("new_head").to_owned(),
                relations,
                remaining_head: optional(f.get("remaining_head")).map(str::to_owned),
                household: Default::default(),
            };
            operations::split_household(store, &edit, split).await?
        }
        Change::Merge => {
            let into = f.get("into_hh");
            other_household(store, viewer, into, Other::MergeInto).await?;
            let ids: Vec<String> = hh.persons.iter().map(|p| person_value(p, "person_id")).collect();
            let relations = relations_from(f, &ids);
            let out = operations::merge_households(store, &edit, &hh.hh_id, into, relations).await?;
            return Ok((out, into.to_owned()));
        }
    };
    Ok((out, here))
}

/// 新增农户: a household in `village` (already checked inside the viewer's area) with
/// its head, numbered by the system; the outcome names it in `created`.
pub async fn add_household(
    store: &Store,
    viewer: &Viewer,
    village: &DivisionCode,
    f: &Fields,
) -> Result<Outcome, Failure> {
    if !super::may_edit(viewer.user.role) {
        return Err(AppError::Forbidden.into());
    }
    check_sizes(f)?;
    let reason = f.get("reason");
    if reason.is_empty() {
        return Err(Refusal::NoReason.into());
    }
    let edit = Edit::new(viewer.user.username.clone(), reason);
    let mut fields = Vec::new();
    if !f.get("phone").is_empty() {
        fields.push(("phone".to_owned(), f.get("phone").to_owned()));
    }
    let draft = HouseholdDraft {
        hh_id: String::new(),
        village_code: village.to_string(),
        group_no: f.get("group_no").to_owned(),
        status: f.get("status").to_owned(),
        fields,
        head: person_of(f),
        members: Vec::new(),
    };
    Ok(operations::add_household(store, &edit, draft).await?)
}
