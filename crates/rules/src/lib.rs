//! Rules as data: expressions in CEL (Common Expression Language) over registry
//! records, loaded from TOML rule files, type-checked at load time, evaluated in
//! memory and compiled to SQL with the same results.
//!
//! The pipeline, one module each:
//! - [`ast`]: `cel` parses; we lower its tree (macros recognised) into ours, with spans;
//! - [`check`]: names resolved against `fupin_domain::schema`, types checked, into
//!   the typed form of [`ir`];
//! - [`eval`]: the interpreter over [`eval::HouseholdRecord`]s;
//! - [`sql`]: the compiler to one `SELECT` per rule for SQLite and PostgreSQL, and
//!   ([`sql::batch`]) several rules of one level in one `SELECT` (what a check run uses);
//! - [`load`]: rule files and their errors (file:line:column);
//! - [`rule`]: a rule, its missing-value policy and verdicts;
//! - [`query`]: ad-hoc expressions (`fupin rules try`).
//!
//! The language is documented for rule writers in `data/rules/README.md`.
//!
//! This crate depends on `fupin_domain` only: it checks, interprets and compiles.
//! Running the statements on a registry and keeping the findings is the check use case
//! (`fupin_app::check`), through `fupin_store::rules_sql`.

pub mod ast;
pub mod check;
pub mod eval;
pub mod ir;
pub mod load;
pub mod query;
pub mod rule;
pub mod sql;

pub use eval::{Env, HouseholdRecord, Val, interpret};
pub use load::{LoadError, LoadErrors, RuleSet};
pub use rule::{Level, Missing, Outcome, Rule, Severity, Verdict, Years};
