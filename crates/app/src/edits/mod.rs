//! 年度动态调整 as use cases: which changes of the registry exist (出生, 死亡, 婚入,
//! 婚出, 迁出, 迁移成员, 更正, 分户, 合户, and 新增农户 on a village), who may make them,
//! and a submitted form's fields turned into the input of one of
//! `fupin_store::operations` (with the stale-version check). The pages only parse the
//! HTTP form into [`Fields`], call [`submit`] or [`add_household`], and render the
//! answer.
//!
//! A change that does not happen answers [`Failure`]: refused on its merits (a
//! [`Refusal`] the page puts in the user's language, or the store's own reason), based
//! on a stale page (a conflict, never written), or failed inside ([`AppError`]).

mod run;

use fupin_domain::schema::PERSONS;
use fupin_domain::{DivisionCode, HouseholdId, Value};
use fupin_store::operations::{self, OpError};
use fupin_store::users::Role;
use fupin_store::{Store, StoreError, audit, views};

pub use run::{add_household, submit};

use crate::{AppError, Viewer};

/// The longest value any field but 原因 may hold (the store's own limits are checked
/// on top).
pub const MAX_FIELD: usize = 100;
/// The longest 原因.
pub const MAX_REASON: usize = 500;
/// More pairs than any form has: a forged request.
pub const MAX_PAIRS: usize = 300;

/// Whether a role keeps the registry: county admins, township officers and village
/// cadres. Helpers, department officers and inspectors only read.
pub fn may_edit(role: Role) -> bool {
    matches!(role, Role::CountyAdmin | Role::TownshipOfficer | Role::VillageCadre)
}

/// The changes a household's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// 出生.
    Birth,
    /// 死亡.
    Death,
    /// 婚入.
    MarriageIn,
    /// 婚出.
    MarriageOut,
    /// 迁出.
    MoveOut,
    /// 迁移成员 (to another household).
    Move,
    /// 更正 one field.
    Correct,
    /// 分户.
    Split,
    /// 合户 (into another household).
    Merge,
}

impl Change {
    /// Every change, in the order the household page links to them.
    pub const ALL: [Change; 9] = [
        Change::Birth,
        Change::Death,
        Change::MarriageIn,
        Change::MarriageOut,
        Change::MoveOut,
        Change::Move,
        Change::Correct,
        Change::Split,
        Change::Merge,
    ];

    /// The change a path names (`birth`, `marriage-in`, …); anything else is none.
    pub fn parse(s: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.slug() == s)
    }

    /// Its name in paths.
    pub fn slug(self) -> &'static str {
        match self {
            Change::Birth => "birth",
            Change::Death => "death",
            Change::MarriageIn => "marriage-in",
            Change::MarriageOut => "marriage-out",
            Change::MoveOut => "move-out",
            Change::Move => "move",
            Change::Correct => "correct",
            Change::Split => "split",
            Change::Merge => "merge",
        }
    }
}

/// The household a change is about, read after the scope check: its members now.
#[derive(Debug, Clone)]
pub struct Household {
    /// 户编号.
    pub hh_id: String,
    /// Its village.
    pub village: DivisionCode,
    /// Its members (rows of `persons`).
    pub persons: Vec<Vec<Value>>,
}

impl Household {
    /// The household a route names, already checked against the viewer's scope.
    pub async fn read(store: &Store, id: &HouseholdId, village: &DivisionCode) -> Result<Household, StoreError> {
        let persons = views::persons_of(store, id).await?;
        Ok(Household { hh_id: id.to_string(), village: village.clone(), persons })
    }

    /// Whether a person (by 人编号) is a member.
    pub fn is_member(&self, person_id: &str) -> bool {
        self.persons.iter().any(|p| person_value(p, "person_id") == person_id)
    }

    /// The version a form for `change` is based on: the household's own, except for a
    /// merge, which checks both households against it: the chain head is the one
    /// version that every change made after the page is newer than.
    pub async fn version(&self, store: &Store, change: Change) -> Result<i64, StoreError> {
        if change == Change::Merge {
            Ok(audit::head(store).await?.seq)
        } else {
            operations::household_version(store, &self.hh_id).await
        }
    }
}

/// A value of a `persons` row as text (empty when missing).
fn person_value(row: &[Value], name: &str) -> String {
    PERSONS.index_of(name).and_then(|i| row.get(i)).and_then(Value::canonical).unwrap_or_default()
}

/// Another household a form names (a move's or a merge's target) if it exists and lies
/// inside the viewer's scope; else `None`, alike for a text that cannot be a 户编号.
pub async fn household_in_area(store: &Store, viewer: &Viewer, hh_id: &str) -> Result<Option<Household>, StoreError> {
    let Ok(id) = HouseholdId::parse(hh_id) else { return Ok(None) };
    let Some(village) = views::household_village(store, &id).await? else { return Ok(None) };
    let Ok(village) = DivisionCode::parse(&village) else { return Ok(None) };
    if !viewer.household_in_scope(store, id.as_str(), &village).await? {
        return Ok(None);
    }
    let persons = views::persons_of(store, &id).await?;
    Ok(Some(Household { hh_id: id.into_string(), village, persons }))
}

/// A submitted form as its pairs (a checkbox list repeats its name).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value given for `name`, untrimmed.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The trimmed value, empty when missing.
    pub fn get(&self, name: &str) -> &str {
        self.first(name).map(str::trim).unwrap_or_default()
    }
    /// Every value given for `name` (a checkbox list), trimmed.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
    }
}

/// Which other household a form names, for the refusal's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Other {
    /// The household a member moves to (迁入户).
    MoveTo,
    /// The household merged into (并入户).
    MergeInto,
}

/// Why a change was refused before the store was asked; the page words it in the
/// user's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// More pairs than any form has.
    TooManyFields,
    /// A field (by its form name) longer than `max` characters.
    TooLong {
        /// The field's form name.
        field: String,
        /// Its limit.
        max: usize,
    },
    /// 原因 left empty.
    NoReason,
    /// The hidden version missing or not a number.
    NoVersion,
    /// No member chosen.
    ChooseMember,
    /// A person who is not a member of the household.
    NotMember {
        /// The 人编号 given.
        id: String,
        /// The household.
        hh_id: String,
    },
    /// The other household left empty.
    OtherMissing(Other),
    /// The other household does not exist or lies outside the viewer's scope.
    OtherUnknown(Other, String),
    /// A death without its date.
    DeathNoDate,
    /// A move-out without its date.
    MoveOutNoDate,
    /// A correction of a person's field with no person chosen.
    CorrectChoosePerson,
    /// A correction with no (known) field chosen.
    CorrectChooseField,
    /// A correction of a household field with a person chosen.
    CorrectChooseHousehold,
    /// A correction of 行政村代码 to a village outside the viewer's area.
    VillageOutside(String),
    /// The store refused (its own message, in Chinese).
    Store(String),
}

/// Why a submitted change did not happen.
#[derive(Debug)]
pub enum Failure {
    /// Refused on its merits: the form comes back with the reason (422).
    Refused(Refusal),
    /// Based on a stale page: the form comes back over the current household (409).
    Conflict(String),
    /// Failed inside, or not allowed.
    App(AppError),
}

impl From<OpError> for Failure {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Refused(m) => Failure::Refused(Refusal::Store(m)),
            c @ OpError::Conflict { .. } => Failure::Conflict(c.to_string()),
            OpError::Store(s) => Failure::App(AppError::Store(s)),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::App(AppError::Store(e))
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure::App(e)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_editing_roles_edit() {
        let editors: Vec<Role> = Role::ALL.into_iter().filter(|r| may_edit(*r)).collect();
        assert_eq!(editors, [Role::CountyAdmin, Role::TownshipOfficer, Role::VillageCadre]);
    }

    #[test]
    fn every_change_parses_from_its_slug() {
        for c in Change::ALL {
            assert_eq!(Change::parse(c.slug()), Some(c));
        }
        assert_eq!(Change::parse("nothing"), None);
    }
}
