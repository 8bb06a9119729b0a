//! Several rules of one level in one statement, so a check run reads persons ⋈
//! households ⋈ incomes ⋈ village years once per level instead of once per rule:
//!
//! `SELECT key, verdict₁, values₁…, verdict₂, values₂… FROM <the level's rows> WHERE
//! verdict₁ IN (0, 3) OR verdict₂ IN (0, 3) … ORDER BY key`
//!
//! Each rule's columns are exactly those of its own statement ([`super::compile`]): the
//! same [`Compiler`] builds them, here with one numbering of `$1…` and one set of
//! county-wide joins for all the rules of the statement. A row comes back when any of
//! its rules fails, and a rule's failures are the rows where its own verdict is 0, so
//! every rule finds the same entities with the same values as on its own (the app
//! crate's `tests/check/batch.rs` compares them on both engines). A rule the batch
//! cannot take (one that runs in the interpreter, or whose columns do not compile) is
//! left to run by itself, with the reason; none is dropped. The statements run in the
//! store (`fupin_store::rules_sql::run_rules_select`, called by `fupin_app::check`).

use fupin_domain::schema::Storage;

use crate::eval::Env;
use crate::ir::{Ir, Ty};
use crate::rule::{Level, Rule};
use crate::sql::{Compiler, Dialect, RuleColumns, select};

/// How many rules one statement judges at most. One statement per level measured
/// fastest on both engines (bench/RESULTS.md, "Rule check").
pub const MAX_RULES: usize = 1000;

/// One statement judging several rules of one level.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub level: Level,
    /// The rules' positions in the list given to [`plan`], in the statement's column order.
    pub rules: Vec<usize>,
    pub sql: String,
    /// Bound to `$1…` in order.
    pub params: Vec<String>,
    /// Per rule: how the store reads each value column back.
    pub layout: Vec<Vec<Storage>>,
    /// Per rule: the type of each value, as the interpreter types it.
    pub types: Vec<Vec<Ty>>,
}

/// How a list of rules runs: in batches, and the rules left to run by themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub batches: Vec<Batch>,
    /// Positions of the rules no batch took, with the reason, in list order.
    pub single: Vec<(usize, String)>,
}

/// Puts the rules of each level into statements of at most `max_rules` rules (rules in
/// list order within a level, levels in the order they first appear).
pub fn plan(rules: &[&Rule], env: &Env, dialect: Dialect, max_rules: usize) -> Plan {
    let mut levels: Vec<Level> = Vec::new();
    for r in rules {
        if !levels.contains(&r.level) {
            levels.push(r.level);
        }
    }
    let mut out = Plan { batches: Vec::new(), single: Vec::new() };
    for level in levels {
        // What the level's rules compute for every row more than once is computed once
        // per statement (`Compiler::prepare`).
        let exprs: Vec<&Ir> =
            rules.iter().filter(|r| r.level == level && r.sql_blocker.is_none()).map(|r| &r.expr).collect();
        let mut open = Open::new(env, dialect, level, &exprs);
        for (i, rule) in rules.iter().enumerate().filter(|(_, r)| r.level == level) {
            if let Some(reason) = rule.sql_blocker {
                out.single.push((i, reason.to_owned()));
                continue;
            }
            let values: Vec<_> = rule.values.iter().map(|(_, v)| v).collect();
            match open.compiler.rule_columns(rule.missing, &rule.expr, &values) {
                Ok(columns) => open.add(i, rule, columns),
                Err(reason) => out.single.push((i, reason)),
            }
            if open.rules.len() >= max_rules.max(1) {
                std::mem::replace(&mut open, Open::new(env, dialect, level, &exprs)).finish(&mut out);
            }
        }
        open.finish(&mut out);
    }
    out.single.sort_by_key(|(i, _)| *i);
    out
}

/// A batch being filled.
struct Open<'a> {
    compiler: Compiler<'a>,
    level: Level,
    year: i32,
    rules: Vec<usize>,
    columns: Vec<String>,
    fails: Vec<String>,
    layout: Vec<Vec<Storage>>,
    types: Vec<Vec<Ty>>,
}

impl<'a> Open<'a> {
    fn new(env: &'a Env, dialect: Dialect, level: Level, exprs: &[&Ir]) -> Open<'a> {
        let mut compiler = Compiler::new(env, dialect, level);
        compiler.prepare(exprs);
        Open {
            compiler,
            level,
            year: env.year,
            rules: Vec::new(),
            columns: Vec::new(),
            fails: Vec::new(),
            layout: Vec::new(),
            types: Vec::new(),
        }
    }

    fn add(&mut self, i: usize, rule: &Rule, columns: RuleColumns) {
        self.fails.push(format!("{} IN (0, 3)", columns.verdict));
        self.columns.push(columns.verdict);
        self.columns.extend(columns.values);
        self.layout.push(columns.value_storages);
        self.types.push(rule.values.iter().map(|(_, v)| v.ty).collect());
        self.rules.push(i);
    }

    fn finish(self, out: &mut Plan) {
        if self.rules.is_empty() {
            return;
        }
        let filter = format!("({})", self.fails.join(" OR "));
        match select(self.level, self.year, &self.compiler.county_joins, &self.columns, &filter) {
            Ok(sql) => out.batches.push(Batch {
                level: self.level,
                rules: self.rules,
                sql,
                params: self.compiler.params,
                layout: self.layout,
                types: self.types,
            }),
            Err(reason) => out.single.extend(self.rules.into_iter().map(|i| (i, reason.clone()))),
        }
    }
}
