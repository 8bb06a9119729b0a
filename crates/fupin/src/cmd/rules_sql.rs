//! `fupin rules sql`: prints the SQL the rule compiler emits for each applicable rule
//! of the chosen sets, one JSON object a line, so the statements can be run by other
//! engines (`bench/check.sh` runs them in DuckDB) or read while looking into a rule.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use fupin_domain::CodeLists;
use fupin_rules::RuleSet;
use fupin_rules::sql::{Dialect, compile};

use super::rules::{DialectArg, SqlArgs};

pub async fn print(a: SqlArgs) -> anyhow::Result<ExitCode> {
    let codes = CodeLists::builtin();
    let all = fupin_rules::load::builtin(&codes).context("加载内置规则")?;
    let mut sets: Vec<&RuleSet> = Vec::new();
    for name in &a.sets {
        match all.iter().find(|s| &s.name == name) {
            Some(s) if !sets.iter().any(|c| c.name == s.name) => sets.push(s),
            Some(_) => {}
            None => {
                let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
                eprintln!("错误：没有名为“{name}”的规则集（可用：{}）", known.join("、"));
                return Ok(ExitCode::from(2));
            }
        }
    }
    if sets.is_empty() {
        // As `fupin check`: every set but those whose file says `default = false`.
        sets = all.iter().filter(|s| s.default).collect();
    }
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    let env = super::rules_env(&store, &a.registry, a.year).await?;
    let year = env.year;
    let dialect = match a.dialect {
        DialectArg::Sqlite => Dialect::Sqlite,
        DialectArg::Postgres => Dialect::Postgres,
    };
    let mut out = std::io::stdout().lock();
    for set in sets {
        for rule in set.rules.iter().filter(|r| r.years.contains(year)) {
            let line = match compile(rule, &env, dialect) {
                Ok(c) => serde_json::json!({
                    "rule": rule.id,
                    "set": set.name,
                    "level": rule.level.as_str(),
                    "year": year,
                    "sql": c.sql,
                    "params": c.params,
                }),
                // Printed too, so a consumer never silently runs fewer rules than fupin.
                Err(e) => serde_json::json!({
                    "rule": rule.id,
                    "set": set.name,
                    "level": rule.level.as_str(),
                    "year": year,
                    "sql": null,
                    "reason": e.reason,
                }),
            };
            writeln!(out, "{line}").context("写到标准输出")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
