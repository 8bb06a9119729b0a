//! The check runner and the findings worklist: first/last seen, fixed on a rerun,
//! explained findings staying explained, the years filter and the scope.

use fupin_app::check::write_records;
use fupin_app::check::{Plan, Quiet, Report, run};
use fupin_domain::schema::{self, Table};
use fupin_domain::{CodeLists, DivisionCode, Value};
use fupin_rules::load::parse_file;
use fupin_rules::{Env, HouseholdRecord, RuleSet};
use fupin_store::Store;
use fupin_store::findings::{self, Filter, Finding, Status};
use fupin_store::operations::{Edit, correct_field};
use time::OffsetDateTime;

const RULES: &str = r#"
[[rule]]
id = "t_id_checksum"
title = "身份证号码校验位错误"
level = "person"
severity = "error"
expr = "p.id_type != '01' || id_valid(p.id_number)"
missing = "skip_if_any_missing"
explain = "证件号码 {id} 不符合校验规则"
values.id = "p.id_number"

  [[rule.example]]
  pass = true
  p = { id_type = "01", id_number = "11010519491231002X" }

  [[rule.example]]
  pass = false
  p = { id_type = "01", id_number = "110105194912310021" }

[[rule]]
id = "t_birth_required"
title = "出生日期未填写"
level = "person"
severity = "warning"
expr = "has(p.birth_date)"
missing = "never_skip"
explain = "{name} 没有出生日期"
values.name = "p.name"

  [[rule.example]]
  pass = true
  p = { birth_date = "1980-05-01" }

  [[rule.example]]
  pass = false
  p = { name = "王五" }

[[rule]]
id = "t_old_rule"
title = "只适用于 2014—2015 年的规则"
level = "person"
severity = "error"
years = "2014-2015"
expr = "has(p.birth_date)"
missing = "never_skip"
explain = "旧规则"

  [[rule.example]]
  pass = true
  year = 2015
  p = { birth_date = "1980-05-01" }

  [[rule.example]]
  pass = false
  year = 2015
  p = { name = "王五" }
"#;

const VALID: [&str; 3] = ["610928198001010012", "610928199002020022", "610928197003030039"];
const INVALID: &str = "610928198001010013";
const VILLAGE_A: &str = "610981100201";
const VILLAGE_B: &str = "610981101201";

fn set(row: &mut [Value], t: &Table, col: &str, v: Value) {
    row[t.index_of(col).expect("column")] = v;
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// (person id, ID number, has a birth date)
fn household(hh: &str, village: &str, persons: &[(&str, &str, bool)]) -> HouseholdRecord {
    let t = &schema::HOUSEHOLDS;
    let mut row = vec![Value::Null; t.columns.len()];
    set(&mut row, t, "hh_id", text(hh));
    set(&mut row, t, "village_code", text(village));
    set(&mut row, t, "status", text("1"));
    let members = persons
        .iter()
        .enumerate()
        .map(|(i, (pid, id, birth))| {
            let t = &schema::PERSONS;
            let mut r = vec![Value::Null; t.columns.len()];
            set(&mut r, t, "person_id", text(pid));
            set(&mut r, t, "hh_id", text(hh));
            set(&mut r, t, "name", text(&format!("测试{i}")));
            set(&mut r, t, "relation", text(if i == 0 { "01" } else { "03" }));
            set(&mut r, t, "id_type", text("01"));
            set(&mut r, t, "id_number", text(id));
            if *birth {
                set(&mut r, t, "birth_date", text("1980-01-01"));
            }
            r
        })
        .collect();
    HouseholdRecord { household: row, members, ..Default::default() }
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000 + seconds).expect("time")
}

async fn check(store: &Store, rules: &RuleSet, env: &Env, scope: Option<&str>, now: OffsetDateTime) -> Report {
    let plan = Plan { sets: vec![rules], env, scope: scope.map(|s| DivisionCode::parse(s).expect("code")), now };
    run(store, &plan, &mut Quiet).await.expect("check runs")
}

async fn all(store: &Store) -> Vec<Finding> {
    findings::list(store, &Filter::default()).await.expect("list")
}

fn one<'a>(found: &'a [Finding], rule: &str, person: &str) -> &'a Finding {
    found
        .iter()
        .find(|f| f.rule_id == rule && f.person_id.as_deref() == Some(person))
        .unwrap_or_else(|| panic!("no finding {rule} for {person} in {found:#?}"))
}

#[tokio::test]
async fn reruns_keep_first_seen_fix_what_passes_and_keep_explanations() {
    let rules = parse_file("t.toml", RULES, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    let store = &db.store;
    let records = [
        household("H1", VILLAGE_A, &[("H1-0", VALID[0], true), ("H1-1", INVALID, true)]),
        household("H2", VILLAGE_B, &[("H2-0", INVALID, false)]),
        household("H3", VILLAGE_A, &[("H3-0", VALID[2], false)]),
    ];
    write_records(store, &records, "测试").await.expect("rows");
    let env = Env::builtin(2019, "61");

    let first = check(store, &rules, &env, None, at(0)).await;
    assert_eq!(first.rules_not_for_year, vec!["t_old_rule".to_string()]);
    assert_eq!(first.rules_run, vec!["t_id_checksum".to_string(), "t_birth_required".to_string()]);
    assert_eq!((first.summary.new, first.summary.still, first.summary.fixed), (4, 0, 0));
    let found = all(store).await;
    assert_eq!(found.len(), 4, "{found:#?}");
    let t0 = fupin_store::users::timestamp(at(0));
    assert!(found.iter().all(|f| f.status == Status::Open && f.first_seen == t0 && f.last_seen == t0));
    let id = one(&found, "t_id_checksum", "H1-1");
    assert_eq!((id.hh_id.as_deref(), id.village_code.as_deref()), (Some("H1"), Some(VILLAGE_A)));
    assert_eq!(id.explanation, format!("证件号码 {INVALID} 不符合校验规则"));
    assert_eq!(id.value_json, format!("{{\"id\":\"{INVALID}\"}}"));
    let masked = fupin_domain::mask::id_number(INVALID);
    assert_ne!(masked, INVALID);
    assert_eq!(id.masked_explanation, format!("证件号码 {masked} 不符合校验规则"));
    assert_eq!(id.masked_value_json, format!("{{\"id\":\"{masked}\"}}"));
    let birth = one(&found, "t_birth_required", "H2-0");
    assert_eq!(birth.masked_explanation, birth.explanation, "a name is not masked");
    assert_eq!((id.severity.as_str(), id.level.as_str(), id.year), ("error", "person", 2019));

    // A warning is explained at once; an error waits for a township officer.
    let birth = one(&found, "t_birth_required", "H3-0").id;
    let explained = findings::propose_explanation(store, birth, "cadre", "本人无户籍档案", at(5)).await.expect("ok");
    assert_eq!(explained.status, Status::Explained);
    let error = one(&found, "t_id_checksum", "H2-0").id;
    let proposed = findings::propose_explanation(store, error, "cadre", "证件待补办", at(6)).await.expect("ok");
    assert_eq!(proposed.status, Status::Open, "an error is not explained by a proposal alone");
    assert!(findings::confirm_explanation(store, error, "cadre", at(7)).await.is_err(), "not by its proposer");
    let confirmed = findings::confirm_explanation(store, error, "township", at(7)).await.expect("confirmed");
    assert_eq!((confirmed.status, confirmed.confirmed_by.as_deref()), (Status::Explained, Some("township")));
    assert!(findings::propose_explanation(store, error, "cadre", "  ", at(8)).await.is_err());

    // Correct one ID number through the everyday edit; rerun.
    let edit = Edit::new("tester", "更正证件号码");
    correct_field(store, &edit, "persons", "H1-1", "id_number", VALID[1]).await.expect("corrected");
    let second = check(store, &rules, &env, None, at(60)).await;
    assert_eq!((second.summary.new, second.summary.still, second.summary.fixed), (0, 3, 1));
    let found = all(store).await;
    let t1 = fupin_store::users::timestamp(at(60));
    let fixed = one(&found, "t_id_checksum", "H1-1");
    assert_eq!(
        (fixed.status, fixed.fixed_at.as_deref(), fixed.last_seen.as_str()),
        (Status::Fixed, Some(t1.as_str()), t0.as_str())
    );
    for (rule, person, status) in [
        ("t_id_checksum", "H2-0", Status::Explained),
        ("t_birth_required", "H2-0", Status::Open),
        ("t_birth_required", "H3-0", Status::Explained),
    ] {
        let f = one(&found, rule, person);
        assert_eq!(
            (f.status, f.first_seen.as_str(), f.last_seen.as_str()),
            (status, t0.as_str(), t1.as_str()),
            "{rule} {person}"
        );
    }

    // Scope: a run over township 610981101 (village B) leaves village A alone, even
    // where village A's state changed.
    correct_field(store, &edit, "persons", "H1-1", "id_number", INVALID).await.expect("broken again");
    correct_field(store, &edit, "persons", "H3-0", "birth_date", "1990-02-02").await.expect("birth date");
    let scoped = check(store, &rules, &env, Some("610981101"), at(120)).await;
    assert_eq!((scoped.summary.new, scoped.summary.still, scoped.summary.reopened, scoped.summary.fixed), (0, 2, 0, 0));
    let found = all(store).await;
    assert_eq!(one(&found, "t_id_checksum", "H1-1").status, Status::Fixed);
    assert_eq!(one(&found, "t_birth_required", "H3-0").status, Status::Explained);
    let t2 = fupin_store::users::timestamp(at(120));
    assert_eq!(one(&found, "t_birth_required", "H2-0").last_seen, t2);
    let in_b =
        findings::list(store, &Filter { division: Some("610981101".into()), ..Filter::default() }).await.expect("list");
    assert!(in_b.iter().all(|f| f.village_code.as_deref() == Some(VILLAGE_B)) && in_b.len() == 2, "{in_b:#?}");

    // The whole county again: the broken number opens again, the dated person is fixed.
    let whole = check(store, &rules, &env, None, at(180)).await;
    assert_eq!((whole.summary.new, whole.summary.still, whole.summary.reopened, whole.summary.fixed), (0, 2, 1, 1));
    let found = all(store).await;
    let again = one(&found, "t_id_checksum", "H1-1");
    assert_eq!((again.status, again.first_seen.as_str(), again.fixed_at.as_deref()), (Status::Open, t0.as_str(), None));
    assert_eq!(one(&found, "t_birth_required", "H3-0").status, Status::Fixed);
    db.store.close().await;
}

#[tokio::test]
async fn another_year_is_a_separate_worklist() {
    let rules = parse_file("t.toml", RULES, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    let store = &db.store;
    write_records(store, &[household("H1", VILLAGE_A, &[("H1-0", INVALID, true)])], "测试").await.expect("rows");
    check(store, &rules, &Env::builtin(2019, "61"), None, at(0)).await;
    let old = check(store, &rules, &Env::builtin(2015, "61"), None, at(10)).await;
    assert_eq!(old.rules_run.len(), 3, "the 2014-2015 rule runs for 2015");
    assert_eq!((old.summary.new, old.summary.fixed), (1, 0), "2019's finding is not fixed by a 2015 run");
    let found = all(store).await;
    let years: Vec<i32> = found.iter().filter(|f| f.rule_id == "t_id_checksum").map(|f| f.year).collect();
    assert_eq!(years, vec![2015, 2019]);
    db.store.close().await;
}

#[tokio::test]
async fn a_fixed_finding_that_fails_again_is_open_without_its_old_explanation() {
    let rules = parse_file("t.toml", RULES, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    let store = &db.store;
    write_records(store, &[household("H1", VILLAGE_A, &[("H1-0", INVALID, true)])], "测试").await.expect("rows");
    let env = Env::builtin(2019, "61");
    check(store, &rules, &env, None, at(0)).await;
    let id = one(&all(store).await, "t_id_checksum", "H1-0").id;
    findings::propose_explanation(store, id, "cadre", "证件待补办", at(1)).await.expect("proposed");
    findings::confirm_explanation(store, id, "township", at(2)).await.expect("confirmed");
    let edit = Edit::new("tester", "更正证件号码");
    correct_field(store, &edit, "persons", "H1-0", "id_number", VALID[0]).await.expect("corrected");
    assert_eq!(check(store, &rules, &env, None, at(10)).await.summary.fixed, 1);
    correct_field(store, &edit, "persons", "H1-0", "id_number", INVALID).await.expect("broken again");
    assert_eq!(check(store, &rules, &env, None, at(20)).await.summary.reopened, 1);
    let f = findings::get(store, id).await.expect("read").expect("kept");
    assert_eq!((f.status, f.proposed_by, f.confirmed_by), (Status::Open, None, None));
    assert!(findings::confirm_explanation(store, id, "township", at(21)).await.is_err(), "nothing to confirm");
    db.store.close().await;
}

#[tokio::test]
async fn two_sets_sharing_a_rule_id_are_refused_before_anything_is_written() {
    let a = parse_file("a.toml", RULES, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let b = parse_file("b.toml", RULES, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, &[household("H1", VILLAGE_A, &[("H1-0", INVALID, true)])], "测试").await.expect("rows");
    let env = Env::builtin(2019, "61");
    let plan = Plan { sets: vec![&a, &b], env: &env, scope: None, now: at(0) };
    let e = run(&db.store, &plan, &mut Quiet).await.expect_err("refused");
    assert!(e.to_string().contains("规则编号“t_id_checksum”在规则集 a 和 b 中重复"), "{e}");
    assert!(all(&db.store).await.is_empty());
    db.store.close().await;
}

#[tokio::test]
async fn a_line_not_at_current_prices_is_not_compared_with_incomes() {
    let sets = fupin_rules::load::builtin(&CodeLists::builtin()).expect("loads");
    let exit = sets.iter().find(|s| s.name == "exit").expect("exit.toml");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, &[household("H1", VILLAGE_A, &[("H1-0", INVALID, true)])], "测试").await.expect("rows");
    let mut env = Env::builtin(2019, "61");
    env.line_basis = Some((fupin_domain::PriceBasis::Constant2010, "2011 年标准 2300 元".into()));
    let plan = Plan { sets: vec![exit], env: &env, scope: None, now: at(0) };
    let e = run(&db.store, &plan, &mut Quiet).await.expect_err("refused");
    let m = e.to_string();
    assert!(m.contains("2010 年不变价") && m.contains("2011 年标准 2300 元") && m.contains("当年价"), "{m}");
    assert!(all(&db.store).await.is_empty(), "nothing recorded");
    // At current prices (as every shipped year is) the same run goes ahead.
    let env = Env::builtin(2019, "61");
    assert_eq!(env.line_basis.as_ref().map(|b| b.0), Some(fupin_domain::PriceBasis::Current));
    let plan = Plan { sets: vec![exit], env: &env, scope: None, now: at(0) };
    run(&db.store, &plan, &mut Quiet).await.expect("runs");
    db.store.close().await;
}

#[tokio::test]
async fn a_finding_from_an_overflow_says_the_result_could_not_be_computed() {
    const OVERFLOW: &str = r#"
[[rule]]
id = "t_overflow"
title = "识别年度乘大数"
level = "household"
severity = "error"
expr = "h.identified_year * 9000000000000000 > 0"
missing = "never_skip"
explain = "识别年度 {year_of}"
values.year_of = "h.identified_year"

  [[rule.example]]
  pass = true
  h = { identified_year = 1 }

  [[rule.example]]
  pass = false
  h = { identified_year = 2019 }
"#;
    let rules = parse_file("o.toml", OVERFLOW, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    let mut overflowing = household("H1", VILLAGE_A, &[]);
    let mut small = household("H2", VILLAGE_A, &[]);
    let mut negative = household("H3", VILLAGE_A, &[]);
    let year = schema::HOUSEHOLDS.index_of("identified_year").expect("column");
    overflowing.household[year] = Value::Int(2019);
    small.household[year] = Value::Int(1);
    negative.household[year] = Value::Int(-1);
    write_records(&db.store, &[overflowing, small, negative], "测试").await.expect("rows");
    let env = Env::builtin(2019, "61");
    check(&db.store, &rules, &env, None, at(0)).await;
    let found = all(&db.store).await;
    assert_eq!(found.len(), 2, "{found:#?}");
    let of = |hh: &str| found.iter().find(|f| f.hh_id.as_deref() == Some(hh)).expect("finding");
    assert!(of("H1").explanation.contains("无法算出结果") && of("H1").explanation.contains("溢出"), "{found:#?}");
    assert!(!of("H3").explanation.contains("无法算出结果"), "a plain failure says nothing of it: {found:#?}");
    db.store.close().await;
}
