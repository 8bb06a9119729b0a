//! `fupin rules try` on a generated county, run as an operator would, on the engine
//! `FUPIN_TEST_DB` names.

use fupin_store::{Store, Target, testing};

mod support;
use support::*;

/// A registry with a generated county of 40 households imported.
async fn county() -> (Target, Option<testing::TempDir>, tempfile::TempDir) {
    county_with_faults("0").await
}

/// A registry with a generated county of 40 households, `faults` of them with planted faults.
async fn county_with_faults(faults: &str) -> (Target, Option<testing::TempDir>, tempfile::TempDir) {
    generated_county("40", faults, "Rules-Cli-Passw0rd!").await
}

fn try_expr(target: &Target, expr: &str, rest: &[&str]) -> Run {
    let mut args = strings(&["rules", "try", expr]);
    args.extend(registry_args(target));
    args.extend(strings(rest));
    fupin(&args)
}

/// The number in "N 户中有 M 户符合": (N, M).
fn counts(out: &str) -> (i64, i64) {
    let line = out.lines().next().expect("a first line");
    let nums: Vec<i64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("number"))
        .collect();
    (nums[1], nums[2])
}

#[tokio::test]
async fn try_counts_and_lists_matches_with_masked_numbers() {
    let (target, _dir, _files) = county().await;
    let store = Store::open(&target).await.expect("open");
    let households = store.count("households").await.expect("count");
    // Persons who count in 2020: born by its end, not gone before it began.
    let (persons,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM persons WHERE (birth_date IS NULL OR birth_date = '' OR birth_date <= '2020-12-31') \
         AND (COALESCE(person_status, '1') = '1' OR left_on >= '2020-01-01')",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    let (exited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households WHERE status = '3'")
        .fetch_one(store.pool())
        .await
        .expect("count");
    let (townships,): (i64,) = sqlx::query_as("SELECT COUNT(DISTINCT SUBSTR(village_code, 1, 9)) FROM households")
        .fetch_one(store.pool())
        .await
        .expect("count");
    store.close().await;

    // Township and county levels: one judgement per area, totals over its households.
    let r = try_expr(&target, "size(households) > 0 && size(persons) > 0", &["--level", "township", "--year", "2020"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stdout), (townships, townships), "{}", r.stdout);
    let r = try_expr(&target, &format!("size(households) == {households}"), &["--level", "county", "--year", "2020"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(counts(&r.stdout), (1, 1), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l.starts_with("610981\t")), "the county's row: {}", r.stdout);

    let r = try_expr(&target, "h.status == '3'", &["--year", "2020"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("2020 年："), "{}", r.stdout);
    assert_eq!(counts(&r.stdout), (households, exited), "{}", r.stdout);

    let r =
        try_expr(&target, "has(p.id_number) && p.age >= 18", &["--level", "person", "--limit", "3", "--year", "2020"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (total, matched) = counts(&r.stdout);
    assert_eq!(total, persons);
    assert!(matched > 3, "{}", r.stdout);
    let rows: Vec<&str> = r.stdout.lines().skip(2).take(3).collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    for row in rows {
        let id = row.split('\t').nth(3).expect("证件号码 column");
        assert!(id.contains("********"), "unmasked: {row}");
    }
    assert!(r.stdout.contains("另有"), "{}", r.stdout);

    // A rule part SQL cannot express runs in the interpreter, and says so.
    let r = try_expr(&target, "!p.id_number.matches('^[0-9]{17}[0-9X]$')", &["--level", "person", "--year", "2020"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("解释器"), "{}", r.stdout);
    assert_eq!(counts(&r.stdout).0, persons);
}

#[tokio::test]
async fn a_bad_expression_names_the_column() {
    let (target, dir) = testing::fresh_target().await.expect("target");
    let r = try_expr(&target, "size(members) > 0 && h.nope == 1", &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("<表达式>:1:22：户没有字段“nope”"), "{}", r.stderr);
    let r = try_expr(&target, "p.age > 1", &["--level", "household"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("户级规则中没有 p"), "{}", r.stderr);
    drop(dir);
}

#[tokio::test]
async fn sql_prints_every_dq_rule_and_its_statements_find_what_check_finds() {
    let (target, _dir, _files) = county_with_faults("10").await;
    let dialect = match target {
        Target::Dir(_) => "sqlite",
        Target::Url(_) => "postgres",
    };
    let mut args = strings(&["rules", "sql", "--set", "dq", "--dialect", dialect]);
    args.extend(registry_args(&target));
    let r = fupin(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> =
        r.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    assert!(lines.len() >= 40, "{}", r.stdout);

    let mut args = strings(&["check", "--set", "dq", "--format", "json", "--today", TODAY]);
    args.extend(registry_args(&target));
    let c = fupin(&args);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let doc: serde_json::Value = serde_json::from_str(&c.stdout).expect("json");
    let rules_run: Vec<&str> =
        doc["rules_run"].as_array().expect("rules_run").iter().filter_map(|v| v.as_str()).collect();
    let printed: Vec<&str> = lines.iter().map(|l| l["rule"].as_str().expect("rule id")).collect();
    assert_eq!(printed, rules_run);

    // Each printed statement, run as printed, fails exactly the entities check recorded.
    let store = Store::open(&target).await.expect("open");
    let mut total = 0;
    for l in &lines {
        assert_eq!(l["set"], "dq");
        let sql = l["sql"].as_str().unwrap_or_else(|| panic!("{l} has no SQL"));
        let params: Vec<String> =
            l["params"].as_array().expect("params").iter().map(|p| p.as_str().expect("text").to_owned()).collect();
        let rows = fupin_store::rules_sql::run_rule_select(&store, sql, &params, &[]).await;
        let rows = rows.unwrap_or_else(|e| panic!("{}: {e}", l["rule"]));
        let mut failing: Vec<String> = rows.into_iter().filter(|r| r.verdict == 0).map(|r| r.key).collect();
        let key = if l["level"] == "person" { "person_id" } else { "hh_id" };
        let mut found: Vec<String> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule_id"] == l["rule"])
            .map(|f| f[key].as_str().expect("key").to_owned())
            .collect();
        failing.sort();
        found.sort();
        assert_eq!(failing, found, "{}", l["rule"]);
        total += found.len();
    }
    store.close().await;
    assert_eq!(total, doc["findings"].as_array().expect("findings").len());
    assert!(total > 0, "the generated county has findings to compare");

    let mut args = strings(&["rules", "sql", "--set", "nope"]);
    args.extend(registry_args(&target));
    let r = fupin(&args);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("没有名为“nope”的规则集"), "{}", r.stderr);
}
