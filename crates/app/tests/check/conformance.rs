//! The CEL specification's own conformance cases (a selection, in
//! `tests/cel_conformance.toml`): each accepted expression gives CEL's value in the
//! interpreter and in SQL on the engine under test; a CEL evaluation error is a
//! missing value (null) here; what the language deliberately does not have (unsigned
//! integers, bytes, maps, heterogeneous comparisons…) is refused at load with a
//! message, never evaluated to something else.

use fupin_app::check::{run_compiled, write_records};
use fupin_domain::CodeLists;
use fupin_rules::eval::{County, Scope};
use fupin_rules::ir::{Const, Ir, IrKind, Ty};
use fupin_rules::load::{BUILTIN_FILES, parse_file};
use fupin_rules::sql::compile_parts;
use fupin_rules::{Env, HouseholdRecord, Level, Missing, Val};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    file: String,
    name: String,
    expr: String,
    /// CEL's value, written as a CEL literal.
    value: Option<String>,
    /// CEL reports an evaluation error (overflow, division by zero, a bad conversion).
    #[serde(default)]
    error: bool,
    /// Refused at load: a part of the message.
    refused: Option<String>,
    /// Where the language deliberately differs from CEL (documented in
    /// `data/rules/README.md`): why; `value`/`error` are then this language's result.
    #[serde(default)]
    #[allow(dead_code)]
    deviation: Option<String>,
}

fn cases() -> Vec<Case> {
    let path = std::env::var("CEL_CASES")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cel_conformance.toml").to_owned());
    let text = std::fs::read_to_string(&path).expect("the conformance cases");
    toml::from_str::<Cases>(&text).expect("cases parse").case
}

fn checked(text: &str, codes: &CodeLists) -> Result<Ir, String> {
    let node = fupin_rules::ast::parse(text).map_err(|e| e[0].message.clone())?;
    fupin_rules::check::check(&node, Level::Household, codes).map_err(|e| e.message)
}

fn record() -> HouseholdRecord {
    let codes = CodeLists::builtin();
    let set = parse_file(BUILTIN_FILES[0].0, BUILTIN_FILES[0].1, &codes).expect("shipped");
    set.rules[0].examples[0].record.clone()
}

/// Values of one type compare as CEL compares them; a decimal expected where an
/// integer came (or the reverse) is a difference.
fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Real(x), Val::Real(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

#[tokio::test]
async fn cel_conformance_cases_hold_in_the_interpreter_and_in_sql() {
    let codes = CodeLists::builtin();
    let env = Env::builtin(2019, "61");
    let record = record();
    let records = std::slice::from_ref(&record);
    let county = County::of(records).with_villages(records, env.year);
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, records, "测试").await.expect("rows");
    let dialect = fupin_app::check::dialect(&db.store);
    let cases = cases();
    let mut wrong = Vec::new();
    for c in &cases {
        let place = format!("{}/{}: {}", c.file, c.name, c.expr);
        let ir = checked(&c.expr, &codes);
        if let Some(part) = &c.refused {
            match ir {
                Err(m) if m.contains(part.as_str()) => {}
                Err(m) => wrong.push(format!("{place}: refused with “{m}”, expected “{part}”")),
                Ok(_) => wrong.push(format!("{place}: accepted, expected refusal “{part}”")),
            }
            continue;
        }
        let ir = match ir {
            Ok(ir) => ir,
            Err(m) => {
                wrong.push(format!("{place}: refused: {m}"));
                continue;
            }
        };
        let interpreted = Scope::new(&env, &county, &record, None).eval(&ir);
        let truth = Ir::new(Ty::Bool, IrKind::Const(Const::Bool(true)));
        let by_sql = match compile_parts("cel", Level::Household, Missing::NeverSkip, &truth, &[&ir], &env, dialect) {
            Ok(compiled) => match run_compiled(&db.store, &compiled, &[ir.ty]).await {
                Ok(rows) => rows.first().map(|(_, o)| o.values[0].clone()),
                Err(e) => {
                    wrong.push(format!("{place}: SQL failed: {e}"));
                    continue;
                }
            },
            // Interpreter-only parts (matches) are checked in the interpreter alone.
            Err(_) if ir.sql_blocker().is_some() => None,
            Err(e) => {
                wrong.push(format!("{place}: does not compile: {e}"));
                continue;
            }
        };
        let expected = match (&c.value, c.error) {
            (Some(v), false) => match checked(v, &codes) {
                Ok(v) => Scope::new(&env, &county, &record, None).eval(&v),
                Err(m) => panic!("{place}: expected value {v} does not check: {m}"),
            },
            (None, true) => Val::Null,
            _ => panic!("{place}: a case has one of value, error, refused"),
        };
        if !same(&interpreted, &expected) {
            wrong.push(format!("{place}: interpreter {interpreted:?}, CEL {expected:?}"));
        }
        if let Some(s) = by_sql
            && !same(&s, &expected)
        {
            wrong.push(format!("{place}: SQL {s:?}, CEL {expected:?}"));
        }
    }
    db.store.close().await;
    assert!(cases.len() >= 100, "{} cases", cases.len());
    assert!(wrong.is_empty(), "{} of {} cases differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}
