//! Every shipped rule carries a passing and a failing example; each example gives
//! its stated verdict in the interpreter and, in a fresh registry, in SQL.

use fupin_app::check::{run_sql, write_records};
use fupin_domain::CodeLists;
use fupin_rules::interpret;
use fupin_rules::{Env, Verdict, load};

#[tokio::test]
async fn every_shipped_example_holds_in_the_interpreter_and_in_sql() {
    let codes = CodeLists::builtin();
    let sets = load::builtin(&codes).unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    assert_eq!(sets.len(), load::BUILTIN_FILES.len());
    let mut checked_in_sql = 0;
    for set in &sets {
        assert!(!set.rules.is_empty(), "{} has no rules", set.file);
        for rule in &set.rules {
            for expect in [Verdict::Pass, Verdict::Fail] {
                assert!(rule.examples.iter().any(|e| e.expect == expect), "{} lacks a {expect:?} example", rule.id);
            }
            for ex in &rule.examples {
                let env = Env::builtin(ex.year, "61");
                let got = rule.evaluate(&env, &ex.record, ex.person);
                assert_eq!(got.verdict, ex.expect, "interpreter: {} example at {}", rule.id, ex.place);
                let explanation = rule.explain(&env, &got.values);
                assert!(!explanation.contains('{'), "{}: unfilled placeholder in {explanation}", rule.id);

                let db = fupin_store::testing::fresh().await.expect("fresh registry");
                write_records(&db.store, std::slice::from_ref(&ex.record), "规则示例").await.expect("example rows");
                match run_sql(&db.store, rule, &env).await {
                    Ok(rows) => {
                        let by_interpreter = interpret(rule, &env, std::slice::from_ref(&ex.record));
                        assert_eq!(rows, by_interpreter, "SQL and interpreter differ: {} at {}", rule.id, ex.place);
                        let vc = fupin_domain::schema::HOUSEHOLDS.index_of("village_code").expect("column");
                        let village_code = ex.record.household.get(vc).and_then(fupin_domain::Value::canonical);
                        let judged = match (rule.level, ex.person) {
                            (l @ (fupin_rules::Level::Township | fupin_rules::Level::County), _) => {
                                let digits = l.area_digits().expect("area level");
                                village_code.unwrap_or_default()[..digits].to_owned()
                            }
                            (fupin_rules::Level::Village, _) => ex
                                .record
                                .village
                                .as_ref()
                                .and_then(|v| v.first())
                                .and_then(fupin_domain::Value::canonical)
                                .unwrap_or_default(),
                            (_, Some(_)) => "P1".to_owned(),
                            (_, None) => "H1".to_owned(),
                        };
                        let row = rows.iter().find(|(k, _)| *k == judged).expect("the example's entity");
                        assert_eq!(row.1.verdict, ex.expect, "SQL: {} example at {}", rule.id, ex.place);
                        checked_in_sql += 1;
                    }
                    Err(fupin_app::check::RunError::NotCompilable(e)) => {
                        assert!(rule.sql_blocker.is_some(), "{} was not compiled but names no reason: {e}", rule.id);
                    }
                    Err(e) => panic!("{}: {e}", rule.id),
                }
                db.store.close().await;
            }
        }
    }
    assert!(checked_in_sql > 20, "only {checked_in_sql} examples ran in SQL");
}

#[test]
fn the_shipped_set_uses_every_feature_and_one_rule_is_interpreter_only() {
    let sets = load::builtin(&CodeLists::builtin()).expect("loads");
    let sample = sets.iter().find(|s| s.name == "sample").expect("sample.toml");
    let sources: String = sample.rules.iter().map(|r| format!("{} ", r.source)).collect();
    for feature in [
        "age",
        "members.exists",
        ".filter(",
        "in_codes",
        "line.poverty",
        "line.monitoring",
        " in [",
        "has(",
        "id_valid(",
        ".matches(",
        ".startsWith(",
        "string(",
        "int(",
    ] {
        assert!(sources.contains(feature), "no sample rule uses {feature}");
    }
    let blocked: Vec<_> = sample.rules.iter().filter(|r| r.sql_blocker.is_some()).map(|r| r.id.as_str()).collect();
    assert_eq!(blocked, ["phone_format"]);
}
