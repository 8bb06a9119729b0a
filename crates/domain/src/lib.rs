//! The registry's vocabulary: divisions, households, persons, incomes, code lists,
//! ID numbers and policy years.
//!
//! Architecture invariant: this crate does no I/O beyond parsing text it is handed
//! (the code lists and policy table are compiled in with `include_str!`); it knows
//! nothing of SQL, HTTP or files on disk.

pub mod cell;
pub mod codes;
pub mod date;
pub mod departments;
pub mod division;
pub mod exit_policy;
pub mod household_rules;
pub mod id_number;
pub mod ids;
pub mod mask;
pub mod money;
pub mod policy;
pub mod renamed;
pub mod schema;
pub mod value;

pub use codes::{CodeList, CodeLists};
pub use division::{DivisionCode, DivisionLevel, DivisionTree};
pub use id_number::{IdNumber, IdProblem};
pub use ids::{HouseholdId, PersonId};
pub use money::Yuan;
pub use policy::{PolicyLines, PolicyYear, PriceBasis};
pub use schema::{Column, Kind, Table};
pub use value::Value;
