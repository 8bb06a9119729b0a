//! `fupin check` on a generated county with faults, run as an operator would, on the
//! engine `FUPIN_TEST_DB` names: table, JSON and XLSX output, masking, reruns, scope
//! and bad arguments.

use calamine::{Data, Reader};
use fupin_store::{Target, testing};

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
    let revealed = json(&target, &["--reveal"]);
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
    ] {
        let r = check(&target, &args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}
