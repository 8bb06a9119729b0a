//! Runs the statements the rules compiler (`fupin_rules::sql`) builds: one `SELECT`
//! per rule returning the entity key, the verdict and the rule's values, or one
//! `SELECT` for several rules of a level (`fupin_rules::sql::batch`) returning the key and,
//! rule after rule, each one's verdict and values.
//!
//! The statement text comes from the compiler, which assembles it from schema
//! identifiers, numbers and `$n` placeholders only; every text from a rule file is
//! bound here as a parameter.

use fupin_domain::Value;
use fupin_domain::schema::Storage;

use crate::{Store, StoreError};

/// One entity's row of a rule statement.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    /// 户编号 or 人编号.
    pub key: String,
    /// 1 pass, 0 fail, 2 skipped.
    pub verdict: i64,
    pub values: Vec<Value>,
}

/// Runs a compiled rule: `SELECT key, verdict, value… FROM …` with `params` bound to
/// `$1…` in order; the value columns are read as `value_storages` says.
pub async fn run_rule_select(
    store: &Store,
    sql: &str,
    params: &[String],
    value_storages: &[Storage],
) -> Result<Vec<RuleRow>, StoreError> {
    use futures_util::TryStreamExt;
    use sqlx::Row;
    let mut q = sqlx::query(crate::rows::safe(sql.to_owned()));
    for p in params {
        q = q.bind(p.clone());
    }
    let mut stream = q.fetch(store.pool());
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await? {
        let key: String = row.try_get(0)?;
        let verdict: i64 = row.try_get(1)?;
        let values = value_storages
            .iter()
            .enumerate()
            .map(|(i, s)| crate::get_value(&row, i + 2, *s))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RuleRow { key, verdict, values });
    }
    Ok(out)
}

/// One rule's part of a row of a several-rules statement.
#[derive(Debug, Clone, PartialEq)]
pub struct RulePart {
    /// 1 pass, 0 fail, 2 skipped.
    pub verdict: i64,
    pub values: Vec<Value>,
}

/// One entity's row of a several-rules statement.
#[derive(Debug, Clone, PartialEq)]
pub struct WideRow {
    /// 户编号, 人编号 or 村代码.
    pub key: String,
    /// In the order of the statement's rules.
    pub rules: Vec<RulePart>,
}

/// Runs a several-rules statement: `SELECT key, verdict₁, values₁…, verdict₂, values₂…
/// FROM …` with `params` bound to `$1…` in order; `layout` gives, rule by rule, how to
/// read its value columns.
pub async fn run_rules_select(
    store: &Store,
    sql: &str,
    params: &[String],
    layout: &[Vec<Storage>],
) -> Result<Vec<WideRow>, StoreError> {
    use futures_util::TryStreamExt;
    use sqlx::Row;
    let mut q = sqlx::query(crate::rows::safe(sql.to_owned()));
    for p in params {
        q = q.bind(p.clone());
    }
    let mut stream = q.fetch(store.pool());
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await? {
        let key: String = row.try_get(0)?;
        let mut column = 1;
        let mut rules = Vec::with_capacity(layout.len());
        for storages in layout {
            let verdict: i64 = row.try_get(column)?;
            let values = storages
                .iter()
                .enumerate()
                .map(|(i, s)| crate::get_value(&row, column + 1 + i, *s))
                .collect::<Result<Vec<_>, _>>()?;
            column += 1 + storages.len();
            rules.push(RulePart { verdict, values });
        }
        out.push(WideRow { key, rules });
    }
    Ok(out)
}

/// The latest year with income rows, the default policy year of a rule run.
pub async fn latest_income_year(store: &Store) -> Result<Option<i32>, StoreError> {
    let row: (Option<i64>,) = sqlx::query_as("SELECT MAX(year) FROM incomes").fetch_one(store.pool()).await?;
    Ok(row.0.map(|y| y as i32))
}
