//! Rule files and expressions (`fupin_rules`): any text is a rule set or errors that
//! name a place in it (file:line:column); an expression is refused or checks, and a
//! checked one compiles for both engines and evaluates without panicking.
#![no_main]

use fupin_domain::CodeLists;
use fupin_rules::load::parse_file;
use fupin_rules::query::Query;
use fupin_rules::sql::{Dialect, compile_parts};
use fupin_rules::{Env, HouseholdRecord, Level};
use libfuzzer_sys::fuzz_target;

const LEVELS: [Level; 5] = [Level::Person, Level::Household, Level::Village, Level::Township, Level::County];

fuzz_target!(|text: &str| {
    let codes = CodeLists::builtin();
    let env = Env::builtin(2019, "61");
    let lines = text.split('\n').count();
    match parse_file("fuzz.toml", text, &codes) {
        Ok(set) => {
            for rule in &set.rules {
                for ex in &rule.examples {
                    let _ = rule.evaluate(&env, &ex.record, ex.person);
                }
                let values: Vec<_> = rule.values.iter().map(|(_, v)| v).collect();
                for d in [Dialect::Sqlite, Dialect::Postgres] {
                    let _ = compile_parts(&rule.id, rule.level, rule.missing, &rule.expr, &values, &env, d);
                }
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty());
            for e in &errors.0 {
                assert!(e.line >= 1 && e.line <= lines + 1 && e.column >= 1, "{e}");
            }
        }
    }
    for level in LEVELS {
        if let Ok(q) = Query::parse(text, level, &codes) {
            let record = HouseholdRecord::default();
            for d in [Dialect::Sqlite, Dialect::Postgres] {
                let _ = compile_parts("fuzz", level, fupin_rules::Missing::NeverSkip, &q.expr, &[], &env, d);
            }
            let rule = fupin_rules::Rule {
                id: "fuzz".into(),
                title: String::new(),
                level,
                severity: fupin_rules::Severity::Info,
                missing: fupin_rules::Missing::NeverSkip,
                years: fupin_rules::Years::default(),
                explain: String::new(),
                source: text.to_owned(),
                expr: q.expr,
                values: Vec::new(),
                examples: Vec::new(),
                place: String::new(),
                sql_blocker: None,
            };
            let _ = rule.evaluate(&env, &record, None);
        }
    }
});
