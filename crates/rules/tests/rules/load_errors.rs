//! Bad rule files: every error names file, line and column, and all errors of a
//! file are reported.

use fupin_domain::CodeLists;
use fupin_rules::load::parse_file;

const GOOD_EXAMPLES: &str = r#"
  [[rule.example]]
  pass = true
  members = [{ relation = "01" }]
  [[rule.example]]
  pass = false
  members = []
"#;

fn rule(expr: &str) -> String {
    format!(
        "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"household\"\nseverity = \"error\"\nexpr = \"{expr}\"\nexplain = \"说明\"\n{GOOD_EXAMPLES}"
    )
}

fn errors(text: &str) -> Vec<String> {
    match parse_file("rules/t.toml", text, &CodeLists::builtin()) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_good_rule_loads() {
    assert_eq!(errors(&rule("size(members) > 0")), Vec::<String>::new());
}

#[test]
fn a_syntax_error_names_the_place_inside_the_expression() {
    // expr = "size(members) >" is line 6; the value starts in column 9.
    let e = errors(&rule("size(members) > > 1"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("rules/t.toml:6:"), "{e:?}");
    assert!(e[0].contains("语法错误"), "{e:?}");
}

#[test]
fn an_unknown_field_points_at_the_field() {
    let e = errors(&rule("h.no_such_field == 1"));
    assert_eq!(e, ["rules/t.toml:6:9：户没有字段“no_such_field”"]);
}

#[test]
fn a_type_mismatch_points_at_the_comparison() {
    let e = errors(&rule("h.group_no == 'x'"));
    assert_eq!(e, ["rules/t.toml:6:9：类型不匹配：不能比较整数和文本"]);
}

#[test]
fn an_unknown_function_and_a_bad_code_are_both_reported() {
    let text =
        format!("{}\n{}", rule("frobnicate(h.status)"), rule("h.status == '7'").replace("id = \"r\"", "id = \"r2\""));
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0], "rules/t.toml:6:9：未知的函数“frobnicate”");
    assert!(e[1].starts_with("rules/t.toml:21:21：“7”不是代码表 household_status 中的代码"), "{e:?}");
}

#[test]
fn a_rule_without_examples_is_refused() {
    let text = "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"household\"\nseverity = \"error\"\nexpr = \"true\"\nexplain = \"x\"\n";
    assert_eq!(errors(text), ["rules/t.toml:1:1：规则 r 缺少示例：至少要有一个通过和一个不通过的 [[rule.example]]"]);
    let only_pass = "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"household\"\nseverity = \"error\"\nexpr = \"true\"\nexplain = \"x\"\n[[rule.example]]\npass = true\n";
    assert_eq!(errors(only_pass), ["rules/t.toml:1:1：规则 r 缺少不通过（pass = false）的示例"]);
}

#[test]
fn toml_errors_unknown_keys_duplicates_and_placeholders_have_places() {
    let e = errors("[[rule]]\nid = \"r\"\ntitle = \n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("rules/t.toml:3:"), "{e:?}");
    let e = errors(&rule("true").replace("explain = \"说明\"", "explain = \"说明\"\nwhat = 1"));
    assert!(e[0].contains("what"), "{e:?}");
    let twice = format!("{}\n{}", rule("true"), rule("true"));
    let e = errors(&twice);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("rules/t.toml:17:6：规则编号“r”重复（第 1 行已有）"), "{e:?}");
    let e = errors(&rule("true").replace("explain = \"说明\"", "explain = \"收入 {income} 元\""));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("rules/t.toml:7:15：explain 中的 {income}"), "{e:?}");
}

#[test]
fn an_example_that_names_an_unknown_field_is_refused() {
    let e = errors(&rule("true").replace("members = []", "members = [{ shoe_size = 40 }]"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("shoe_size"), "{e:?}");
}

#[test]
fn multi_line_expressions_report_the_line_inside() {
    let text = rule("x").replace("expr = \"x\"", "expr = '''\nsize(members) > 0 &&\n  h.nothing == 1'''");
    let e = errors(&text);
    assert_eq!(e, ["rules/t.toml:8:3：户没有字段“nothing”"]);
}

#[test]
fn a_directory_of_user_rules_reports_every_file() {
    let dir = std::env::temp_dir().join(format!("fupin-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("a_good.toml"), rule("size(members) > 0")).expect("write");
    std::fs::write(dir.join("b_bad.toml"), rule("h.nothing > 0")).expect("write");
    std::fs::write(dir.join("c_bad.toml"), "[[rule]\n").expect("write");
    std::fs::write(dir.join("notes.txt"), "not a rule file").expect("write");
    let codes = CodeLists::builtin();
    let e = fupin_rules::load::load_dir(&dir, &codes).expect_err("two bad files");
    assert_eq!(e.0.len(), 2, "{e}");
    assert!(e.0[0].file.ends_with("b_bad.toml") && e.0[0].line == 6, "{e}");
    assert!(e.0[1].file.ends_with("c_bad.toml") && e.0[1].message.contains("TOML"), "{e}");
    std::fs::remove_file(dir.join("b_bad.toml")).expect("remove");
    std::fs::remove_file(dir.join("c_bad.toml")).expect("remove");
    let sets = fupin_rules::load::load_dir(&dir, &codes).expect("loads");
    assert_eq!((sets.len(), sets[0].name.as_str(), sets[0].rules.len()), (1, "a_good", 1));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
