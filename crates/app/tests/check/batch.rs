//! Several rules in one statement (`fupin_rules::sql::batch`, run by
//! `fupin_app::check::batch`) against each rule on its own (`check::run_sql_failures`),
//! on the engine `FUPIN_TEST_DB` names: for the shipped sets (dq, exit, monitoring,
//! eligibility) on generated counties with planted faults, every rule fails exactly
//! the same entities with exactly the same values, whether its level's rules share one
//! statement or statements of a few; a check run records the same findings batched as
//! rule by rule. (That a rule the batch cannot take is left to run by itself is the
//! rules crate's `tests/rules/batch_plan.rs`.)

use fupin_app::check::batch;
use fupin_app::check::{Plan, Quiet, run, run_batched};
use fupin_app::check::{dialect, run_sql_failures};
use fupin_domain::{CodeLists, DivisionTree};
use fupin_rules::sql::batch::{self as planner, MAX_RULES};
use fupin_rules::{Env, Outcome, Rule, RuleSet, load};
use fupin_store::Store;
use fupin_store::findings::{self, Filter};
use fupin_synth::{Config, FAULT_KINDS, generate};
use time::Date;

const HOUSEHOLDS: usize = 250;
const SHIPPED: [&str; 4] = ["dq", "exit", "monitoring", "eligibility"];

fn shipped() -> Vec<RuleSet> {
    let sets = load::builtin(&CodeLists::builtin()).unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    let chosen: Vec<RuleSet> = sets.into_iter().filter(|s| SHIPPED.contains(&s.name.as_str())).collect();
    assert_eq!(chosen.len(), SHIPPED.len(), "all four sets are shipped");
    chosen
}

/// Generates a county up to `today` with planted faults and imports it into a fresh registry.
async fn county(seed: u64, today: Date) -> (fupin_store::testing::TestDb, tempfile::TempDir) {
    let tree = DivisionTree::builtin_xunyang();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::xunyang(HOUSEHOLDS, seed, today);
    cfg.faults = FAULT_KINDS.len() + 10;
    let s = generate(&cfg, &tree, dir.path(), None).expect("generates");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    db.store.write_divisions(&tree, "610981").await.expect("divisions");
    let o = fupin_ingest::import(&db.store, &s.files, None).await.expect("imports");
    assert!(o.applied && o.errors == 0, "seed {seed}: the import refused the generated data");
    (db, dir)
}

async fn policy_year(store: &Store) -> i32 {
    fupin_store::rules_sql::latest_income_year(store).await.expect("year").expect("income rows")
}

/// Each rule's failures by one statement per batch of at most `max_rules` rules, in
/// the order of `rules`.
async fn batched(store: &Store, rules: &[&Rule], env: &Env, max_rules: usize) -> Vec<Vec<(String, Outcome)>> {
    let plan = planner::plan(rules, env, dialect(store), max_rules);
    assert!(plan.single.is_empty(), "the shipped rules all go into batches: {:?}", plan.single);
    for b in &plan.batches {
        assert!(b.rules.len() <= max_rules, "a batch of {} rules, at most {max_rules}", b.rules.len());
        assert!(b.rules.iter().all(|i| rules[*i].level == b.level), "a batch holds one level");
    }
    let mut out: Vec<Option<Vec<(String, Outcome)>>> = vec![None; rules.len()];
    for b in &plan.batches {
        let found = batch::run(store, b).await.unwrap_or_else(|e| panic!("batch of {:?}: {e}", b.level));
        for (i, f) in b.rules.iter().zip(found) {
            assert!(out[*i].is_none(), "{} is in two batches", rules[*i].id);
            out[*i] = Some(f);
        }
    }
    out.into_iter().zip(rules).map(|(o, r)| o.unwrap_or_else(|| panic!("{} is in no batch", r.id))).collect()
}

/// On a county generated up to `today`: every applicable shipped rule's failures
/// batched equal its failures alone; returns how many rules were compared.
async fn compare(seed: u64, today: Date) -> usize {
    let sets = shipped();
    let (db, _dir) = county(seed, today).await;
    let year = policy_year(&db.store).await;
    let env = Env::builtin(year, "61");
    let rules: Vec<&Rule> = sets.iter().flat_map(|s| &s.rules).filter(|r| r.years.contains(year)).collect();
    let mut alone = Vec::new();
    for rule in &rules {
        alone.push(run_sql_failures(&db.store, rule, &env).await.unwrap_or_else(|e| panic!("{}: {e}", rule.id)));
    }
    let failing = alone.iter().filter(|f| !f.is_empty()).count();
    assert!(failing >= 5, "seed {seed}, {year}: only {failing} rules fail anything; the comparison would say little");
    for max_rules in [MAX_RULES, 7, 1] {
        let together = batched(&db.store, &rules, &env, max_rules).await;
        for ((rule, a), t) in rules.iter().zip(&alone).zip(&together) {
            assert!(
                a == t,
                "seed {seed}, {year}, batches of {max_rules}: {} alone fails {} entities, batched {}\nalone: {a:?}\nbatched: {t:?}",
                rule.id,
                a.len(),
                t.len()
            );
        }
    }
    db.store.close().await;
    rules.len()
}

#[tokio::test]
async fn batched_rules_fail_what_each_rule_fails_alone_dq_monitoring_eligibility() {
    // dq, monitoring and eligibility apply from 2021 on; exit rules do not.
    let n = compare(7, time::macros::date!(2026 - 03 - 15)).await;
    assert!(n >= 50, "only {n} rules compared");
}

#[tokio::test]
async fn batched_rules_fail_what_each_rule_fails_alone_exit_years() {
    // Exit indicators (households and villages) apply up to 2020, as does dq.
    let n = compare(8, time::macros::date!(2019 - 12 - 20)).await;
    assert!(n >= 55, "only {n} rules compared");
}

#[tokio::test]
async fn a_check_run_records_the_same_findings_batched_as_rule_by_rule() {
    let sets = shipped();
    let (db, _dir) = county(9, time::macros::date!(2026 - 03 - 15)).await;
    let year = policy_year(&db.store).await;
    let env = Env::builtin(year, "61");
    let now = time::OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
    let plan = Plan { sets: sets.iter().collect(), env: &env, scope: None, now };
    let list = |report: &fupin_app::check::Report| Filter {
        year: Some(year),
        rule_ids: report.rules_run.clone(),
        division: None,
        hh_id: None,
        statuses: Vec::new(),
    };
    let one_by_one = run_batched(&db.store, &plan, &mut Quiet, 1).await.expect("runs rule by rule");
    let first = findings::list(&db.store, &list(&one_by_one)).await.expect("findings");
    assert!(first.len() >= FAULT_KINDS.len(), "{} findings for {} planted faults", first.len(), FAULT_KINDS.len());
    let together = run(&db.store, &plan, &mut Quiet).await.expect("runs batched");
    assert!(together.batch_errors.is_empty(), "batch statements failed: {:?}", together.batch_errors);
    assert_eq!(together.rules_run, one_by_one.rules_run);
    assert_eq!(together.interpreted, one_by_one.interpreted);
    assert_eq!(
        (together.summary.new, together.summary.fixed, together.summary.still),
        (0, 0, first.len()),
        "the batched run finds every finding of the rule-by-rule run again, and nothing else"
    );
    let second = findings::list(&db.store, &list(&together)).await.expect("findings");
    assert_eq!(second, first, "same findings, values and explanations");
    db.store.close().await;
}
