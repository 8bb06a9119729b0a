//! `fupin rules try` on a generated county, run as an operator would, on the engine
//! `FUPIN_TEST_DB` names.

use std::path::PathBuf;
use std::process::Command;

use fupin_store::{Store, Target, testing};

const TODAY: &str = "2026-11-27";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fupin(args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .args(args)
        .env_remove("FUPIN_DB")
        .env("FUPIN_LOG", "warn")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn registry_args(target: &Target) -> Vec<String> {
    match target {
        Target::Dir(d) => vec!["--data".into(), d.display().to_string()],
        Target::Url(u) => vec!["--db".into(), u.clone()],
    }
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A registry with a generated county of 40 households imported.
async fn county() -> (Target, Option<testing::TempDir>, tempfile::TempDir) {
    let (target, dir) = testing::fresh_target().await.expect("target");
    let mut init = strings(&["init", "--county", "610981", "--admin-password", "Rules-Cli-Passw0rd!"]);
    init.extend(registry_args(&target));
    let r = fupin(&init);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = tempfile::tempdir().expect("temp dir");
    let out = files.path().to_str().expect("utf-8 path");
    let r = fupin(&strings(&[
        "generate",
        "--households",
        "40",
        "--seed",
        "7",
        "--faults",
        "0",
        "--today",
        TODAY,
        "--out",
        out,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut import = strings(&["import"]);
    import.extend(registry_args(&target));
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(files.path())
        .expect("generated")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    csvs.sort();
    import.extend(csvs.iter().map(|p| p.display().to_string()));
    let r = fupin(&import);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (target, dir, files)
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
    let persons = store.count("persons").await.expect("count");
    let (exited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households WHERE status = '3'")
        .fetch_one(store.pool())
        .await
        .expect("count");
    store.close().await;

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
    let r = try_expr(&target, "!id_valid(p.id_number)", &["--level", "person", "--year", "2020"]);
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
