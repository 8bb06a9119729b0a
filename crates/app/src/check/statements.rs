//! One rule (or a dry-run expression) in one statement: the rules compiler
//! (`fupin_rules::sql`) builds the text, the store runs it
//! (`fupin_store::rules_sql::run_rule_select`), and the rows come back here typed as
//! the interpreter types them. What SQL cannot express runs in the interpreter.

use fupin_rules::ir::Ty;
use fupin_rules::query::{Query, TryResult};
use fupin_rules::sql::{CompiledSql, Dialect, NotCompilable, compile};
use fupin_rules::{Env, Outcome, Rule, Val, Verdict, interpret};
use fupin_store::rules_sql::{RuleRow, run_rule_select};
use fupin_store::{Engine, Store, StoreError};

use super::records::load_records;

/// The SQL dialect of a store.
pub fn dialect(store: &Store) -> Dialect {
    match store.engine() {
        Engine::Sqlite => Dialect::Sqlite,
        Engine::Postgres => Dialect::Postgres,
    }
}

/// Errors of running a rule in the database.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    NotCompilable(#[from] NotCompilable),
    #[error("规则在数据库中运行失败：{0}")]
    Store(#[from] StoreError),
    #[error("数据库返回了无效的判定值 {0}")]
    BadVerdict(i64),
}

/// A rule's outcome for every entity of its level, by SQL in the store: (key,
/// outcome) sorted by key, values typed as the interpreter types them.
pub async fn run_sql(store: &Store, rule: &Rule, env: &Env) -> Result<Vec<(String, Outcome)>, RunError> {
    let compiled = compile(rule, env, dialect(store))?;
    let types: Vec<_> = rule.values.iter().map(|(_, ir)| ir.ty).collect();
    run_compiled(store, &compiled, &types).await
}

/// The entities a rule fails, by SQL: only failing rows leave the database (what a
/// check run keeps), sorted by key.
pub async fn run_sql_failures(store: &Store, rule: &Rule, env: &Env) -> Result<Vec<(String, Outcome)>, RunError> {
    let mut compiled = compile(rule, env, dialect(store))?;
    compiled.sql = std::mem::take(&mut compiled.failures_sql);
    let types: Vec<_> = rule.values.iter().map(|(_, ir)| ir.ty).collect();
    run_compiled(store, &compiled, &types).await
}

/// Runs an already compiled statement; `types` are the value columns' types.
pub async fn run_compiled(
    store: &Store,
    compiled: &CompiledSql,
    types: &[Ty],
) -> Result<Vec<(String, Outcome)>, RunError> {
    let rows = run_rule_select(store, &compiled.sql, &compiled.params, &compiled.value_storages).await?;
    let mut out = Vec::with_capacity(rows.len());
    for RuleRow { key, verdict, values } in rows {
        let (verdict, undetermined) = match verdict {
            1 => (Verdict::Pass, false),
            0 => (Verdict::Fail, false),
            3 => (Verdict::Fail, true),
            2 => (Verdict::Skip, false),
            v => return Err(RunError::BadVerdict(v)),
        };
        let values = values.iter().zip(types).map(|(v, t)| Val::from_cell(v, *t)).collect();
        out.push((key, Outcome { verdict, values, undetermined }));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Runs a dry-run expression (`fupin rules try`) on a registry: in SQL when it
/// compiles, else in the interpreter (the result says why).
pub async fn try_query(store: &Store, query: &Query, env: &Env) -> Result<TryResult, RunError> {
    let rule = query.rule(&env.codes);
    let types: Vec<Ty> = rule.values.iter().map(|(_, v)| v.ty).collect();
    match compile(&rule, env, dialect(store)) {
        Ok(c) => Ok(TryResult::of(run_compiled(store, &c, &types).await?, None)),
        Err(e) => {
            let records = load_records(store, env.year).await?;
            Ok(TryResult::of(interpret(&rule, env, &records), Some(e.reason)))
        }
    }
}
