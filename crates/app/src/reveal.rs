//! 显示号码: one personal number (a column with `Column.personal` in
//! `fupin_domain::schema`: 证件号码, 残疾证号, 联系电话, 银行账号) shown unmasked, once, to a
//! role that needs it, with a reason. Who may reveal what ([`may_reveal`],
//! [`may_reveal_field`]), which value a request names ([`find`], [`phone_to_call`]), and
//! the one way a value leaves the registry unmasked ([`reveal`]): the reveal log row
//! first (`fupin_store::reveals`), then the value; if the row cannot be written, the
//! value is not given.

use fupin_domain::schema::{Column, HOUSEHOLDS, PERSONS, Table};
use fupin_domain::{HouseholdId, Value, mask};
use fupin_store::reveals::{self, RevealRecord};
use fupin_store::users::Role;
use fupin_store::{Store, views};

use crate::{AppError, Viewer};

/// The longest 原因 kept for a number shown on the household page.
pub const MAX_REASON: usize = 500;
/// The longest 原因 kept for a phone number shown to call it.
pub const MAX_CALL_REASON: usize = 200;
/// The longest row key a request may name (longer ones answer as not found).
const MAX_KEY: usize = 40;

/// Whether a role may see personal numbers unmasked, one at a time: county admins,
/// township officers and village cadres (in their own area), and department officers
/// for their own department's columns only ([`may_reveal_field`]). Helper cadres and
/// inspectors only see masks.
pub fn may_reveal(role: Role) -> bool {
    matches!(role, Role::CountyAdmin | Role::TownshipOfficer | Role::VillageCadre | Role::DepartmentOfficer)
}

/// Whether `viewer` may reveal `table.field` at all: their role reveals, and a
/// department officer only their own department's columns (公安: 证件号码). Asked before
/// the household's scope, so a refused column answers 403 wherever the household is.
pub fn may_reveal_field(viewer: &Viewer, table: &str, field: &str) -> bool {
    may_reveal(viewer.user.role) && viewer.may_see_field(table, field)
}

/// The tables whose personal columns a household page shows.
pub fn personal_table(name: &str) -> Option<&'static Table> {
    [&HOUSEHOLDS, &PERSONS].into_iter().find(|t| t.name == name)
}

/// Why a request to reveal is refused.
#[derive(Debug)]
pub enum RevealError {
    /// The named table holds no personal numbers of a household (400).
    BadTable,
    /// The named column is not a personal number (400).
    BadField,
    /// The value is not registered: nothing to show (422).
    Empty(Found),
    /// No 原因 given (422).
    NoReason,
    /// The 原因 is longer than this many characters (422).
    ReasonTooLong(usize),
    /// Not found, out of scope, or the store failed.
    App(AppError),
}

impl From<AppError> for RevealError {
    fn from(e: AppError) -> RevealError {
        RevealError::App(e)
    }
}

impl From<fupin_store::StoreError> for RevealError {
    fn from(e: fupin_store::StoreError) -> RevealError {
        RevealError::App(AppError::Store(e))
    }
}

/// The one value a request names, found in the household.
#[derive(Debug, Clone)]
pub struct Found {
    /// The household it belongs to.
    pub hh_id: String,
    /// Its table (`households` or `persons`).
    pub table: &'static Table,
    /// Its column: a personal number.
    pub column: &'static Column,
    /// The row's key (the household's or the person's number).
    pub key: String,
    /// The member's name, for a person's number.
    pub person_name: Option<String>,
    /// The full value: never shown before [`reveal`] logs it.
    pub value: String,
}

impl Found {
    /// The value as every page shows it, masked.
    pub fn masked(&self) -> String {
        use fupin_domain::schema::Personal;
        match self.column.personal {
            Some(Personal::IdNumber) => mask::id_number(&self.value),
            Some(Personal::Phone) => mask::phone(&self.value),
            Some(Personal::Account) => mask::account(&self.value),
            None => String::new(),
        }
    }
}

/// The raw text of column `name` of a row.
fn raw(table: &Table, row: &[Value], name: &str) -> String {
    table.index_of(name).and_then(|i| row.get(i)).and_then(Value::canonical).unwrap_or_default()
}

/// The value of `table.field` in row `key` of household `id` (already in the viewer's
/// scope): 404 for a key too long, a household gone, or a row not of this household;
/// 400 for a table or column that is not a personal number; [`RevealError::Empty`]
/// for a value not registered.
pub async fn find(store: &Store, id: &HouseholdId, table: &str, key: &str, field: &str) -> Result<Found, RevealError> {
    if key.chars().count() > MAX_KEY {
        return Err(AppError::NotFound.into());
    }
    let hh_id = id.to_string();
    let household = views::household(store, id).await?.ok_or(AppError::NotFound)?;
    let t = personal_table(table).ok_or(RevealError::BadTable)?;
    let column = t.column(field).filter(|c| c.personal.is_some()).ok_or(RevealError::BadField)?;
    let (row, person_name) = if t.name == HOUSEHOLDS.name {
        if key != hh_id {
            return Err(AppError::NotFound.into());
        }
        (household, None)
    } else {
        let persons = views::persons_of(store, id).await?;
        let person = persons.into_iter().find(|p| raw(&PERSONS, p, "person_id") == key).ok_or(AppError::NotFound)?;
        let name = raw(&PERSONS, &person, "name");
        (person, Some(name))
    };
    let value = raw(t, &row, column.name);
    let found = Found { hh_id, table: t, column, key: key.to_owned(), person_name, value };
    if found.value.is_empty() {
        return Err(RevealError::Empty(found));
    }
    Ok(found)
}

/// The number to call household `id` (already in the viewer's scope): its own phone,
/// else its head's (the number its card shows masked), with the head's name.
/// [`RevealError::Empty`] when neither is registered.
pub async fn phone_to_call(store: &Store, id: &HouseholdId) -> Result<(Found, Option<String>), RevealError> {
    let hh_id = id.to_string();
    let row = views::household(store, id).await?.ok_or(AppError::NotFound)?;
    let persons = views::persons_of(store, id).await?;
    let head = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01");
    let head_name = head.map(|p| raw(&PERSONS, p, "name"));
    let (table, key, value) = match raw(&HOUSEHOLDS, &row, "phone") {
        p if !p.is_empty() => (&HOUSEHOLDS, hh_id.clone(), p),
        _ => match head {
            Some(h) => (&PERSONS, raw(&PERSONS, h, "person_id"), raw(&PERSONS, h, "phone")),
            None => (&PERSONS, String::new(), String::new()),
        },
    };
    let column = table.column("phone").ok_or_else(|| AppError::Internal("no phone column".into()))?;
    let found = Found { hh_id, table, column, key, person_name: None, value };
    if found.value.is_empty() {
        return Err(RevealError::Empty(found));
    }
    Ok((found, head_name))
}

/// The reason as kept (trimmed), or why it is refused: none, or longer than `max`.
pub fn check_reason(reason: &str, max: usize) -> Result<&str, RevealError> {
    let reason = reason.trim();
    if reason.is_empty() {
        Err(RevealError::NoReason)
    } else if reason.chars().count() > max {
        Err(RevealError::ReasonTooLong(max))
    } else {
        Ok(reason)
    }
}

/// The one way a full value is given: checks the reason (at most `max` characters),
/// writes the reveal log row (who, which value, why, from where) and only then
/// answers the value. If the row cannot be written, the value is not given.
pub async fn reveal(
    store: &Store,
    viewer: &Viewer,
    found: &Found,
    reason: &str,
    max: usize,
    remote_addr: Option<&str>,
) -> Result<String, RevealError> {
    let reason = check_reason(reason, max)?;
    let record = RevealRecord {
        username: &viewer.user.username,
        hh_id: &found.hh_id,
        table: found.table.name,
        key: &found.key,
        field: found.column.name,
        reason,
        remote_addr,
    };
    reveals::log_reveal(store, &record).await?;
    tracing::info!(username = %viewer.user.username, hh_id = %found.hh_id, table = found.table.name, field = found.column.name, "显示完整号码");
    Ok(found.value.clone())
}
