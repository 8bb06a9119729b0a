//! The SQL compiler: one `SELECT` per rule that returns, for every entity of the
//! rule's level, its key, the verdict (1 pass, 0 fail, 2 skipped) and the rule's
//! values, in SQL that SQLite and PostgreSQL both run.
//!
//! It reads the checked form (`ir.rs`) that the interpreter reads, and follows the
//! same semantics: SQL's own three-valued logic, `NULLIF` for division by zero,
//! members as correlated subqueries on `persons`, ages from the ISO `birth_date`
//! text. Text literals from rule files are bound as parameters; the statement text
//! holds only schema identifiers, numbers and our own ISO dates. A rule with a part
//! SQL cannot express ([`Ir::sql_blocker`]) is refused with the reason, never dropped.

//!
//! One module each: this one the statement around a rule (its rows, joins and
//! verdict); [`expr`] the translation of the checked form node by node; [`arith`]
//! 64-bit integer arithmetic with its overflow guards; [`grouped`] aggregates over a
//! household's own lists as one grouped join per statement; [`id_number`] the
//! ID-number functions; [`batch`] several rules of a level in one statement (what a check run
//! sends).

pub mod batch;

mod arith;
mod expr;
mod grouped;
mod id_number;

use crate::eval::{Env, storage_of};
use crate::ir::{Const, Ir, Ty};
use crate::rule::{Level, Missing, Rule};
use fupin_domain::schema::Storage;

/// Which engine the text is for (they differ only in text ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A compiled rule: statement text, the texts bound to `$1…`, and how to read each
/// value column back. Verdicts: 1 pass, 0 fail, 2 skipped, 3 fail because the result
/// is missing (`never_skip`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSql {
    pub sql: String,
    /// The same statement returning only the failing entities (`verdict = 0`): what a
    /// check run keeps. The verdict is also tested in `WHERE`, so the engine computes
    /// the values of failing rows only and passes never leave it.
    pub failures_sql: String,
    pub params: Vec<String>,
    pub value_storages: Vec<Storage>,
}

/// Why a rule has no SQL form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("规则 {rule} 不能编译为 SQL（只用解释器运行）：{reason}")]
pub struct NotCompilable {
    pub rule: String,
    pub reason: String,
}

/// Compiles a rule for the policy year of `env`.
pub fn compile(rule: &Rule, env: &Env, dialect: Dialect) -> Result<CompiledSql, NotCompilable> {
    compile_parts(
        &rule.id,
        rule.level,
        rule.missing,
        &rule.expr,
        &rule.values.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        env,
        dialect,
    )
}

/// Compiles an expression with its values (the rule's, or a `rules try` query's).
pub fn compile_parts(
    id: &str,
    level: Level,
    missing: Missing,
    expr: &Ir,
    values: &[&Ir],
    env: &Env,
    dialect: Dialect,
) -> Result<CompiledSql, NotCompilable> {
    let refuse = |reason: String| NotCompilable { rule: id.to_owned(), reason };
    let mut c = Compiler::new(env, dialect, level);
    c.prepare(&[expr]);
    let RuleColumns { verdict, values, value_storages } = c.rule_columns(missing, expr, values).map_err(refuse)?;
    let fails = format!("{verdict} IN (0, 3)");
    let columns: Vec<String> = std::iter::once(verdict).chain(values).collect();
    let sql = select(level, env.year, &c.county_joins, &columns, "TRUE").map_err(refuse)?;
    let failures_sql = select(level, env.year, &c.county_joins, &columns, &fails).map_err(refuse)?;
    Ok(CompiledSql { sql, failures_sql, params: c.params, value_storages })
}

/// A rule's columns in a statement: its verdict (1 pass, 0 fail, 2 skipped) and its
/// values, with how to read each value back.
pub(crate) struct RuleColumns {
    pub verdict: String,
    pub values: Vec<String>,
    pub value_storages: Vec<Storage>,
}

/// A person of alias `a` counts in `year`: born by its last day (出生日期 empty:
/// counted), and a member now (人员状态 empty or 1) or one who died or left in or
/// after that year (`eval::counted_in` is the interpreter's).
pub(crate) fn counted_in(a: &str, year: i32) -> String {
    format!(
        "((COALESCE({a}.person_status, '1') = '1' OR {a}.left_on >= '{year:04}-01-01') \
         AND ({a}.birth_date IS NULL OR {a}.birth_date = '' OR {a}.birth_date <= '{year:04}-12-31'))"
    )
}

/// `SELECT key, columns FROM <the level's rows and joins> WHERE filter ORDER BY key`;
/// `county_joins` are the compiler's ([`Compiler::county_joins`]).
pub(crate) fn select(
    level: Level,
    year: i32,
    county_joins: &[String],
    columns: &[String],
    filter: &str,
) -> Result<String, String> {
    let mut joins = format!(
        "LEFT JOIN incomes i ON i.hh_id = h.hh_id AND i.year = {year} \
         LEFT JOIN village_years v ON v.village_code = h.village_code AND v.year = {year}"
    );
    for j in county_joins {
        joins.push(' ');
        joins.push_str(j);
    }
    match level {
        Level::Person => Ok(format!(
            "SELECT p.person_id, {} FROM persons p JOIN households h ON h.hh_id = p.hh_id {joins} \
             WHERE {} AND {filter} ORDER BY p.person_id",
            columns.join(", "),
            counted_in("p", year)
        )),
        Level::Household => Ok(format!(
            "SELECT h.hh_id, {} FROM households h {joins} WHERE {filter} ORDER BY h.hh_id",
            columns.join(", ")
        )),
        Level::Village => {
            let poor = poor_in(year);
            Ok(format!(
                "SELECT v.village_code, {} FROM village_years v JOIN (SELECT h.village_code AS village_code, \
                 COALESCE(SUM(pc.n), 0) AS persons, COALESCE(SUM(CASE WHEN {poor} THEN pc.n ELSE 0 END), 0) AS poor_persons, \
                 COUNT(*) AS households, SUM(CASE WHEN {poor} THEN 1 ELSE 0 END) AS poor_households \
                 FROM households h LEFT JOIN (SELECT hh_id, COUNT(*) AS n FROM persons pp WHERE {counted} GROUP BY hh_id) pc \
                 ON pc.hh_id = h.hh_id \
                 GROUP BY h.village_code) va ON va.village_code = v.village_code WHERE v.year = {year} AND {filter} \
                 ORDER BY v.village_code",
                columns.join(", "),
                counted = counted_in("pp", year),
            ))
        }
        Level::Township | Level::County => {
            let n = level.area_digits().unwrap_or(6);
            Ok(format!(
                "SELECT ar.code, {} FROM (SELECT DISTINCT SUBSTR(village_code, 1, {n}) AS code FROM households \
                 WHERE LENGTH(village_code) >= {n}) ar WHERE {filter} ORDER BY ar.code",
                columns.join(", ")
            ))
        }
    }
}

/// Compiles expressions into one statement's text: parameters are numbered `$1…` in
/// the order they are bound, and county-wide joins are shared by the rules of a statement.
pub(crate) struct Compiler<'a> {
    env: &'a Env,
    dialect: Dialect,
    pub params: Vec<String>,
    /// Joins of county-wide lookups for the checked person `p`: one grouped pass over
    /// the table instead of a subquery per person.
    pub county_joins: Vec<String>,
    /// A township or county rule: the digits of the area code `ar.code`.
    area: Option<usize>,
    /// The level of the statement's rows.
    level: Level,
    /// The aggregates the statement evaluates for every row more than once
    /// ([`Compiler::prepare`]): each is one grouped join (`grouped.rs`).
    shared: Vec<Ir>,
    /// The grouped subqueries joined so far, alias `g{index}`.
    grouped: Vec<String>,
    /// The person columns whose GB 11643 checksum the statement tests more than once
    /// ([`Compiler::prepare`]): computed once per person in a join (`id_number.rs`).
    checksums: Vec<&'static str>,
}

impl<'a> Compiler<'a> {
    /// A compiler for rules of `level` (township and county rules read `ar.code`).
    pub fn new(env: &'a Env, dialect: Dialect, level: Level) -> Compiler<'a> {
        Compiler {
            env,
            dialect,
            params: Vec::new(),
            county_joins: Vec::new(),
            area: level.area_digits(),
            level,
            shared: Vec::new(),
            grouped: Vec::new(),
            checksums: Vec::new(),
        }
    }

    /// Looks at the expressions of the rules the statement will judge (before their
    /// columns are compiled): what they compute for every row more than once is then
    /// computed once per statement. It changes how a value is computed, never the
    /// value.
    pub fn prepare(&mut self, exprs: &[&Ir]) {
        self.shared = grouped::shared_aggregates(exprs);
        self.checksums = id_number::repeated_checksums(exprs);
    }

    /// A rule's verdict and value columns. On an error the compiler is left as it was
    /// (no parameter or join of the refused rule stays behind).
    pub fn rule_columns(&mut self, missing: Missing, expr: &Ir, values: &[&Ir]) -> Result<RuleColumns, String> {
        let (params, joins, grouped) = (self.params.len(), self.county_joins.len(), self.grouped.len());
        let columns = self.rule_columns_inner(missing, expr, values);
        if columns.is_err() {
            self.params.truncate(params);
            self.county_joins.truncate(joins);
            self.grouped.truncate(grouped);
        }
        columns
    }

    fn rule_columns_inner(&mut self, missing: Missing, expr: &Ir, values: &[&Ir]) -> Result<RuleColumns, String> {
        let e = self.expr(expr)?;
        let refs: Vec<String> = expr
            .referenced()
            .into_iter()
            .map(|r| self.expr(r).map(|s| format!("{s} IS NULL")))
            .collect::<Result<_, _>>()?;
        let skip = match missing {
            Missing::SkipIfAnyMissing if !refs.is_empty() => refs.join(" OR "),
            Missing::SkipIfAllMissing if !refs.is_empty() => refs.join(" AND "),
            _ => "FALSE".to_owned(),
        };
        // 3: failing because the result is missing (a missing value, a division by zero,
        // an overflow); the finding says so.
        let on_null = if missing == Missing::NeverSkip { 3 } else { 2 };
        let verdict = format!(
            "CAST(CASE WHEN {skip} THEN 2 ELSE (CASE {e} WHEN TRUE THEN 1 WHEN FALSE THEN 0 ELSE {on_null} END) END AS BIGINT)"
        );
        let mut columns = Vec::new();
        let mut value_storages = Vec::new();
        for v in values {
            let s = self.expr(v)?;
            columns.push(match v.ty {
                Ty::Bool => format!("CAST(CASE {s} WHEN TRUE THEN 1 WHEN FALSE THEN 0 END AS BIGINT)"),
                Ty::Int | Ty::Money => format!("CAST({s} AS BIGINT)"),
                Ty::Real => format!("CAST({s} AS DOUBLE PRECISION)"),
                _ => format!("CAST({s} AS TEXT)"),
            });
            value_storages.push(storage_of(v.ty));
        }
        Ok(RuleColumns { verdict, values: columns, value_storages })
    }

    fn county_join(&mut self, join: String) {
        if !self.county_joins.contains(&join) {
            self.county_joins.push(join);
        }
    }

    fn bind(&mut self, text: &str) -> String {
        self.params.push(text.to_owned());
        format!("CAST(${} AS TEXT)", self.params.len())
    }

    fn constant(&mut self, c: &Const) -> Result<String, String> {
        Ok(match c {
            Const::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            // -2^63 as a literal is the negation of a number out of range.
            Const::Int(i64::MIN) | Const::Money(i64::MIN) => "(-9223372036854775807 - 1)".into(),
            Const::Int(i) | Const::Money(i) => format!("({i})"),
            Const::Real(r) if r.is_finite() => format!("CAST({r:?} AS DOUBLE PRECISION)"),
            Const::Real(_) => return Err("无穷大不能写入 SQL".into()),
            Const::Text(t) => self.bind(t),
        })
    }

    /// Ordered text comparison in byte order on both engines.
    fn collate(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }
}

/// A household `h` is poor in `year`: identified by then and not yet exited, or
/// returned to poverty (返贫年度) after its exit and by then (the interpreter's test in
/// `County::with_villages`).
pub(crate) fn poor_in(year: i32) -> String {
    format!(
        "h.identified_year IS NOT NULL AND h.identified_year <= {year} AND (h.exit_year IS NULL OR h.exit_year > {year} \
         OR (h.relapse_year IS NOT NULL AND h.relapse_year > h.exit_year AND h.relapse_year <= {year}))"
    )
}
