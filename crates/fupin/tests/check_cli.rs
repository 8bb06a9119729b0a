//! `fupin check` on a generated county with faults, run as an operator would, on the
//! engine `FUPIN_TEST_DB` names: table, JSON and XLSX output, masking, reruns, scope,
//! the reveal log of `--reveal` and bad arguments.

use calamine::{Data, Reader};
use fupin_store::{Store, Target, testing};

mod support;
use support::*;

/// A registry with a generated county of 60 households (30 faults) imported.
async fn county() -> (Target, Option<testing::TempDir>, tempfile::TempDir) {
    generated_county("60", "30", "Check-Cli-Passw0rd!").await
}

fn check(target: &Target, rest: &[&str]) -> Run {
    let mut args = strings(&["check"]);
    args.extend(registry_args(target));
    args.extend(strings(rest));
    fupin(&args)
}

fn json(target: &Target, rest: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend(rest);
    let r = check(target, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn findings(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    doc["findings"].as_array().expect("findings array")
}

fn text<'a>(f: &'a serde_json::Value, key: &str) -> &'a str {
    f[key].as_str().unwrap_or_else(|| panic!("{key} missing in {f}"))
}

#[tokio::test]
async fn check_lists_findings_as_table_json_and_xlsx_and_keeps_them() {
    let (target, _dir, files) = county().await;

    let first = json(&target, &[]);
    let list = findings(&first);
    assert!(!list.is_empty(), "the faults give findings: {first}");
    assert_eq!(first["summary"]["new"].as_u64(), Some(list.len() as u64), "{first}");
    let revealed = json(&target, &["--reveal", "--reason", "核对证件号码"]);
    assert_eq!(revealed["summary"]["still"].as_u64(), Some(list.len() as u64), "a rerun finds the same: {revealed}");
    assert_eq!(revealed["summary"]["new"].as_u64(), Some(0));
    let mut people = 0;
    for (f, r) in list.iter().zip(findings(&revealed)) {
        for key in ["rule_id", "severity", "hh_id", "explanation", "status", "first_seen", "last_seen"] {
            assert!(!text(f, key).is_empty(), "{key} in {f}");
        }
        assert!(["error", "warning", "info"].contains(&text(f, "severity")), "{f}");
        assert_eq!(text(f, "status"), "open");
        assert_eq!(f["first_seen"], r["first_seen"], "first seen stays");
        assert_eq!((&f["rule_id"], &f["person_id"]), (&r["rule_id"], &r["person_id"]));
        if f["person_id"].is_string() {
            let full = text(r, "id_number");
            let masked = text(f, "id_number");
            assert_eq!(masked, fupin_domain::mask::id_number(full), "{f}");
            assert_ne!(masked, full);
            assert!(!f.to_string().contains(full), "the full number leaks: {f}");
            people += 1;
        } else {
            assert!(f["person_id"].is_null() && f["id_number"].is_null(), "{f}");
        }
    }
    assert!(people > 0, "some findings are about persons: {first}");

    let r = check(&target, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().expect("header");
    assert!(header.starts_with("规则编号\t规则\t严重程度\t户编号\t人编号\t证件号码\t说明\t状态"), "{header}");
    assert_eq!(r.stdout.lines().skip(1).take_while(|l| !l.is_empty()).count(), list.len(), "{}", r.stdout);
    assert!(r.stdout.contains("按规则统计") && r.stdout.contains("按严重程度统计"), "{}", r.stdout);
    let first_rule = text(&list[0], "rule_id");
    let per_rule = list.iter().filter(|f| text(f, "rule_id") == first_rule).count();
    let counted =
        r.stdout.lines().skip_while(|l| *l != "按规则统计：").find(|l| l.starts_with(&format!("{first_rule}\t")));
    assert!(counted.expect("a count line").ends_with(&format!("\t{per_rule}")), "{}", r.stdout);

    let xlsx = files.path().join("findings.xlsx");
    let r = check(&target, &["--format", "xlsx", "--out", xlsx.to_str().expect("utf-8")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut book = calamine::open_workbook_auto(&xlsx).expect("opens");
    let sheet = book.worksheet_range("问题清单").expect("sheet");
    assert_eq!(sheet.get_value((0, 3)), Some(&Data::String("户编号".into())));
    assert_eq!(sheet.height(), list.len() + 1);
    let hh = text(&list[0], "hh_id");
    assert_eq!(sheet.get_value((1, 3)), Some(&Data::String(hh.into())), "户编号 is text");

    // Scope: the township of the first finding's village.
    let township = &text(&list[0], "village_code")[..9];
    let scoped = json(&target, &["--scope", township]);
    let inside = findings(&scoped);
    assert!(!inside.is_empty() && inside.len() <= list.len());
    assert!(inside.iter().all(|f| text(f, "village_code").starts_with(township)), "{scoped}");
    let expected = list.iter().filter(|f| text(f, "village_code").starts_with(township)).count();
    assert_eq!(inside.len(), expected);
    assert_eq!(scoped["summary"]["fixed"].as_u64(), Some(0), "a scoped run fixes nothing outside");
    assert_eq!(findings(&json(&target, &[])).len(), list.len(), "the whole county is still there");
}

#[tokio::test]
async fn bad_arguments_exit_2_with_a_chinese_message() {
    let (target, _dir, _files) = county().await;
    for (args, message) in [
        (vec!["--set", "nope"], "没有名为“nope”的规则集"),
        (vec!["--scope", "61098"], "区划代码“61098”无效"),
        (vec!["--scope", "110101"], "不在本登记库的区划树中"),
        (vec!["--year", "1990"], "1990 年没有扶贫标准"),
        (vec!["--format", "xlsx"], "需要用 --out"),
        (vec!["--reveal"], "须用 --reason 写明原因"),
        (vec!["--reveal", "--reason", "  "], "须用 --reason 写明原因"),
        (vec!["--reason", "核对"], "--reason 只与 --reveal 一起使用"),
    ] {
        let r = check(&target, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

/// The reveal log's rows as (username, 户编号, table, key, field, reason), in order.
async fn reveal_log(target: &Target) -> Vec<(String, String, String, String, String, String)> {
    let store = Store::open(target).await.expect("opens");
    sqlx::query_as("SELECT username, hh_id, table_name, row_key, field, reason FROM reveal_log ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("reveal_log")
}

#[tokio::test]
async fn reveal_needs_a_reason_and_logs_each_number_shown_in_full() {
    let (target, _dir, _files) = county().await;
    let masked = json(&target, &[]);
    assert!(reveal_log(&target).await.is_empty(), "a masked run logs nothing");
    let refused = check(&target, &["--reveal", "--format", "json"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "nothing printed without a reason: {}", refused.stdout);
    assert!(reveal_log(&target).await.is_empty());

    let shown = json(&target, &["--reveal", "--reason", "公安户籍比对"]);
    assert_eq!(findings(&shown).len(), findings(&masked).len());
    let log = reveal_log(&target).await;
    // Every person whose 证件号码 the output prints in full, once, with household and reason.
    let mut persons: Vec<(String, String)> = findings(&shown)
        .iter()
        .filter(|f| f["id_number"].is_string())
        .map(|f| (text(f, "hh_id").to_owned(), text(f, "person_id").to_owned()))
        .collect();
    persons.sort();
    persons.dedup();
    assert!(!persons.is_empty(), "some findings show an ID number: {shown}");
    let mut logged: Vec<(String, String)> =
        log.iter().filter(|r| r.2 == "persons" && r.4 == "id_number").map(|r| (r.1.clone(), r.3.clone())).collect();
    logged.sort();
    assert_eq!(logged, persons, "one row per person shown, each with its household");
    for (username, hh_id, table, _, field, reason) in &log {
        assert!(username.starts_with("命令行"), "{username}");
        assert_eq!(reason, "公安户籍比对");
        assert!(!hh_id.is_empty());
        let column = fupin_domain::schema::table(table).and_then(|t| t.column(field));
        assert!(column.is_some_and(|c| c.personal.is_some()), "{table}.{field} is a personal column");
    }
    // The XLSX and table outputs log too, each run again; a masked run still does not.
    let r = check(&target, &["--reveal", "--reason", "复核"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("已记入查看记录"), "{}", r.stderr);
    let again = reveal_log(&target).await;
    assert_eq!(again.len(), 2 * log.len(), "one row per number per run");
    assert!(again[log.len()..].iter().all(|r| r.5 == "复核"));
    json(&target, &[]);
    assert_eq!(reveal_log(&target).await.len(), again.len());
}

fn rules_run(doc: &serde_json::Value) -> Vec<String> {
    doc["rules_run"].as_array().expect("rules_run").iter().map(|r| r.as_str().expect("id").to_owned()).collect()
}

#[tokio::test]
async fn the_language_showcase_runs_only_when_named() {
    let (target, _dir, _files) = county().await;
    let codes = fupin_domain::CodeLists::builtin();
    let sets = fupin_rules::load::builtin(&codes).expect("the shipped rules load");
    let set = |name: &str| -> Vec<String> {
        let s = sets.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no set {name}"));
        s.rules.iter().map(|r| r.id.clone()).collect()
    };
    let (sample, dq) = (set("sample"), set("dq"));

    let default = json(&target, &[]);
    let run = rules_run(&default);
    assert!(run.iter().all(|r| !sample.contains(r)), "no sample rule runs by default: {run:?}");
    assert!(dq.iter().all(|r| run.contains(r)), "every data-quality rule does: {run:?}");
    assert!(findings(&default).iter().all(|f| text(f, "rule_set") != "sample"), "{default}");
    assert!(findings(&default).iter().any(|f| text(f, "rule_set") == "dq"), "{default}");

    let named = json(&target, &["--set", "sample"]);
    let run = rules_run(&named);
    assert!(!run.is_empty() && run.iter().all(|r| sample.contains(r)), "--set sample runs the showcase: {run:?}");
    assert!(findings(&named).iter().all(|f| text(f, "rule_set") == "sample"), "{named}");
    // Its findings stay theirs: a run without --set neither lists nor fixes them.
    let again = json(&target, &[]);
    assert_eq!(again["summary"]["fixed"].as_u64(), Some(0), "{again}");
    assert_eq!(findings(&again).len(), findings(&default).len());
}
