//! The interpreter: evaluates a checked expression on in-memory rows with SQL's
//! three-valued logic, so that it agrees with the compiled SQL (`sql.rs`) value for
//! value. A missing value is `Val::Null`; it propagates through comparisons and
//! arithmetic; `&&`/`||` are Kleene's (false && null = false, true || null = true);
//! division by zero is null; aggregates count only members whose condition is true.//!
//! One module each: this one the values and records evaluated and the policy
//! year's built-ins; [`scope`] the evaluation of an expression on one record;
//! [`county`] the county-wide index that `first_with_id`, `helper_count`, village totals
//! and area aggregates read; [`functions`] the built-in functions' arithmetic (ID
//! numbers, ages); [`interpret`] a rule over every entity of its level.

pub mod county;
pub mod functions;
pub mod interpret;
pub mod scope;

use fupin_domain::schema::Storage;
use fupin_domain::{CodeLists, Value, Yuan};

use crate::ir::{List, Ty};

pub use county::{County, area_code};
pub use functions::{ID_CHECK_CHARS, ID_WEIGHTS, age, id_checksum_ok, real_to_int, valid_id18};
pub use interpret::{counted_in, interpret};
pub use scope::Scope;

/// A value during evaluation. Money is in fen; dates are ISO text.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Money(i64),
    Text(String),
}

impl Val {
    /// The text shown in explanations and stored with findings; the same for a value
    /// computed here and one read back from SQL.
    pub fn shown(&self) -> String {
        match self {
            Val::Null => "（空）".into(),
            Val::Bool(b) => if *b { "是" } else { "否" }.into(),
            Val::Int(i) => i.to_string(),
            Val::Real(r) => fupin_domain::value::format_real(*r),
            Val::Money(f) => Yuan::from_fen(*f).to_string(),
            Val::Text(t) => t.clone(),
        }
    }

    /// A stored cell as a value of the column's type.
    pub fn from_cell(cell: &Value, ty: Ty) -> Val {
        match (cell, ty) {
            (Value::Null, _) => Val::Null,
            (Value::Int(i), Ty::Bool) => Val::Bool(*i != 0),
            (Value::Int(i), Ty::Money) => Val::Money(*i),
            (Value::Int(i), Ty::Real) => Val::Real(*i as f64),
            (Value::Int(i), _) => Val::Int(*i),
            (Value::Real(r), _) => Val::Real(*r),
            (Value::Text(t), Ty::Int | Ty::Money | Ty::Bool) => match t.trim().parse::<i64>() {
                Ok(i) => Val::from_cell(&Value::Int(i), ty),
                Err(_) => Val::Null,
            },
            (Value::Text(t), Ty::Real) => t.trim().parse().map(Val::Real).unwrap_or(Val::Null),
            (Value::Text(t), _) => Val::Text(t.clone()),
        }
    }
}

/// One household with everything a person- or household-level rule reads: rows in
/// schema column order (`fupin_domain::schema`), as the store returns them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdRecord {
    pub household: Vec<Value>,
    pub members: Vec<Vec<Value>>,
    /// The `incomes` row of the policy year, if any.
    pub income: Option<Vec<Value>>,
    /// The `village_years` row of the policy year, if any.
    pub village: Option<Vec<Value>>,
    /// The household's `incomes` rows of the other years (`h.incomes` is `income`
    /// followed by these).
    pub other_incomes: Vec<Vec<Value>>,
    /// The household's `pairings` rows (`h.pairings`).
    pub pairings: Vec<Vec<Value>>,
    /// The `helpers` rows whose 证件号码 is a member's (what `helper_count` reads),
    /// and, in examples, the helpers its pairings name.
    pub helpers: Vec<Vec<Value>>,
}

impl HouseholdRecord {
    pub fn hh_id(&self) -> String {
        self.household.first().and_then(Value::canonical).unwrap_or_default()
    }

    /// The rows of a list an aggregate runs over.
    pub fn list(&self, list: List) -> Vec<&Vec<Value>> {
        match list {
            List::Members => self.members.iter().collect(),
            List::Incomes => self.income.iter().chain(&self.other_incomes).collect(),
            List::Pairings => self.pairings.iter().collect(),
            // Area lists are the county's, not a household's (`Scope::area_agg`).
            List::AreaHouseholds { .. } | List::AreaPersons { .. } | List::AreaVillages => Vec::new(),
        }
    }
}

/// The policy year's built-ins.
#[derive(Debug, Clone)]
pub struct Env {
    pub year: i32,
    /// 31 December of the policy year ([`fupin_domain::date::year_end`]), ISO text.
    pub ref_date: String,
    pub poverty_line: Option<Yuan>,
    pub monitoring_line: Option<Yuan>,
    /// The prices the year's lines are stated at, and their source (`lines.csv`): a
    /// check run refuses to compare the year's incomes with a line not at current prices.
    pub line_basis: Option<(fupin_domain::PriceBasis, String)>,
    pub codes: CodeLists,
    /// The years counties exited (`area.county_exit_year`).
    pub county_exits: fupin_domain::exit_policy::CountyExits,
}

impl Env {
    /// The built-ins of `year` in `province` (two digits, e.g. "61") from the shipped
    /// policy lines and code lists.
    pub fn builtin(year: i32, province: &str) -> Env {
        let lines = fupin_domain::PolicyLines::builtin();
        let py = lines.for_year(year, province);
        Env {
            year,
            ref_date: fupin_domain::date::iso(fupin_domain::date::year_end(year)),
            poverty_line: py.map(|p| p.poverty_line),
            monitoring_line: py.and_then(|p| p.monitoring_line),
            line_basis: py.map(|p| (p.basis, p.source.clone())),
            codes: CodeLists::builtin(),
            county_exits: fupin_domain::exit_policy::CountyExits::builtin(),
        }
    }
}

/// The storage a value of this type is read back from SQL as.
pub fn storage_of(ty: Ty) -> Storage {
    match ty {
        Ty::Bool | Ty::Int | Ty::Money => Storage::Integer,
        Ty::Real => Storage::Real,
        _ => Storage::Text,
    }
}
