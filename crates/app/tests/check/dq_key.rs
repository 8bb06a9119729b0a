//! The data-quality rule set (`data/rules/dq.toml`) against the generator's answer
//! key: on counties generated with faults, the failures of every dq rule — by SQL in
//! the registry and by the interpreter — are exactly the rows of `key/faults.csv`
//! (rule id = fault kind, 户编号, 人编号); every dq rule meets at least one fault;
//! on clean generated data no dq rule fails anywhere.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use fupin_app::check::{load_records, run_sql, run_sql_failures};
use fupin_domain::schema;
use fupin_domain::{CodeLists, DivisionTree};
use fupin_rules::interpret;
use fupin_rules::{Env, HouseholdRecord, Level, Outcome, RuleSet, Verdict, load};
use fupin_store::Store;
use fupin_synth::{Config, FAULT_KINDS, generate};

/// (rule id, 户编号, 人编号 or empty).
type Finding = (String, String, String);

const HOUSEHOLDS: usize = 250;

fn dq_set() -> RuleSet {
    let sets = load::builtin(&CodeLists::builtin()).unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    sets.into_iter().find(|s| s.name == "dq").expect("data/rules/dq.toml is shipped")
}

/// Generates a county (with `faults` faults) and imports it into a fresh registry.
async fn county(seed: u64, faults: usize) -> (fupin_store::testing::TestDb, tempfile::TempDir) {
    let tree = DivisionTree::builtin_xunyang();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::xunyang(HOUSEHOLDS, seed, time::macros::date!(2026 - 03 - 15));
    cfg.faults = faults;
    let s = generate(&cfg, &tree, dir.path(), None).expect("generates");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    db.store.write_divisions(&tree, "610981").await.expect("divisions");
    let o = fupin_ingest::import(&db.store, &s.files, None).await.expect("imports");
    assert!(o.applied && o.errors == 0, "seed {seed}: the import refused the generated data");
    (db, dir)
}

fn key(dir: &Path) -> BTreeSet<Finding> {
    let mut r = csv::Reader::from_path(dir.join("key").join("faults.csv")).expect("key/faults.csv");
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (kind, hh, person) = (col("kind"), col("户编号"), col("人编号"));
    r.records()
        .map(|row| {
            let row = row.expect("key row");
            (row[kind].to_owned(), row[hh].to_owned(), row[person].to_owned())
        })
        .collect()
}

/// 人编号 → 户编号 of every person.
fn households_of(records: &[HouseholdRecord]) -> HashMap<String, String> {
    let pid = schema::PERSONS.index_of("person_id").expect("column");
    records
        .iter()
        .flat_map(|r| r.members.iter().map(move |m| (m[pid].canonical().unwrap_or_default(), r.hh_id())))
        .collect()
}

fn failures(
    rule: &fupin_rules::Rule,
    outcomes: &[(String, Outcome)],
    hh_of: &HashMap<String, String>,
) -> BTreeSet<Finding> {
    outcomes
        .iter()
        .filter(|(_, o)| o.verdict == Verdict::Fail)
        .map(|(k, _)| match rule.level {
            Level::Person => (rule.id.clone(), hh_of.get(k).cloned().unwrap_or_default(), k.clone()),
            _ => (rule.id.clone(), k.clone(), String::new()),
        })
        .collect()
}

/// Every dq rule's failures by SQL and by the interpreter.
async fn run_all(store: &Store, set: &RuleSet) -> (BTreeSet<Finding>, BTreeSet<Finding>) {
    let year = fupin_store::rules_sql::latest_income_year(store).await.expect("year").expect("income rows");
    let env = Env::builtin(year, "61");
    let records = load_records(store, year).await.expect("records");
    let hh_of = households_of(&records);
    let (mut by_sql, mut by_interpreter) = (BTreeSet::new(), BTreeSet::new());
    for rule in &set.rules {
        assert!(rule.years.contains(year), "{} does not apply to {year}", rule.id);
        let sql = run_sql(store, rule, &env).await.unwrap_or_else(|e| panic!("{}: {e}", rule.id));
        // What a check run reads: the failing rows only, with the same values.
        let failing = run_sql_failures(store, rule, &env).await.unwrap_or_else(|e| panic!("{}: {e}", rule.id));
        let all_failing: Vec<(String, Outcome)> =
            sql.iter().filter(|(_, o)| o.verdict == Verdict::Fail).cloned().collect();
        assert_eq!(failing, all_failing, "{}: the failures-only statement returns exactly the failures", rule.id);
        by_sql.extend(failures(rule, &sql, &hh_of));
        by_interpreter.extend(failures(rule, &interpret(rule, &env, &records), &hh_of));
    }
    (by_sql, by_interpreter)
}

/// The differences by rule, for the failure message.
fn differences(found: &BTreeSet<Finding>, expected: &BTreeSet<Finding>) -> String {
    let mut by_rule: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for f in found.difference(expected) {
        by_rule.entry(&f.0).or_default().0.push(format!("{}/{}", f.1, f.2));
    }
    for f in expected.difference(found) {
        by_rule.entry(&f.0).or_default().1.push(format!("{}/{}", f.1, f.2));
    }
    by_rule
        .iter()
        .map(|(rule, (extra, missed))| format!("{rule}: not in the key {extra:?}; key rows not found {missed:?}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn dq_findings_equal_the_answer_key_for_three_seeds() {
    let set = dq_set();
    assert_eq!(set.rules.len(), FAULT_KINDS.len(), "one dq rule per fault kind");
    for rule in &set.rules {
        assert!(rule.sql_blocker.is_none(), "{} does not compile to SQL: {:?}", rule.id, rule.sql_blocker);
    }
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for seed in [7, 8, 9] {
        let (db, dir) = county(seed, FAULT_KINDS.len() + 10).await;
        let expected = key(dir.path());
        let (by_sql, by_interpreter) = run_all(&db.store, &set).await;
        assert!(by_sql == expected, "seed {seed}, SQL against the key:\n{}", differences(&by_sql, &expected));
        assert!(
            by_interpreter == expected,
            "seed {seed}, interpreter against the key:\n{}",
            differences(&by_interpreter, &expected)
        );
        covered.extend(expected.iter().map(|f| f.0.clone()));
        db.store.close().await;
    }
    let uncovered: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).filter(|id| !covered.contains(*id)).collect();
    assert!(uncovered.is_empty(), "dq rules that no injected fault exercises: {uncovered:?}");
}

#[tokio::test]
async fn clean_generated_data_has_no_dq_finding() {
    let set = dq_set();
    let (db, dir) = county(11, 0).await;
    assert!(key(dir.path()).is_empty(), "a clean county has an empty answer key");
    let (by_sql, by_interpreter) = run_all(&db.store, &set).await;
    let none = BTreeSet::new();
    assert!(by_sql.is_empty(), "SQL on clean data:\n{}", differences(&by_sql, &none));
    assert!(by_interpreter.is_empty(), "interpreter on clean data:\n{}", differences(&by_interpreter, &none));
    db.store.close().await;
}

#[test]
fn every_fault_kind_has_its_rule_with_the_same_level() {
    let set = dq_set();
    for kind in FAULT_KINDS {
        let rule = set.rules.iter().find(|r| r.id == kind.kind).unwrap_or_else(|| panic!("no dq rule {}", kind.kind));
        assert_eq!(rule.severity, fupin_rules::Severity::Error, "{}: the national checks are errors", rule.id);
        let level = match kind.level {
            fupin_synth::Level::Person => Level::Person,
            fupin_synth::Level::Household => Level::Household,
        };
        assert_eq!(rule.level, level, "{}: the key's level", rule.id);
    }
    let required = set.rules.iter().filter(|r| r.id.starts_with("missing_")).count();
    assert!(required <= 10, "{required} plain required-field rules (at most 10)");
}
