//! Planning several rules of a level into one statement (`fupin_rules::sql::batch`):
//! a rule the batch cannot take is left to run by itself, with the reason; batches
//! hold one level and at most the given number of rules. That each batched rule fails
//! exactly what it fails alone is tested on a registry by the app crate
//! (`crates/app/tests/check/batch.rs`).

use fupin_domain::CodeLists;
use fupin_rules::load::parse_file;
use fupin_rules::sql::batch::{self, MAX_RULES};
use fupin_rules::{Env, Level, Rule};

const MIXED: &str = r#"
[[rule]]
id = "b_id_pattern"
title = "证件号码的字符（解释器）"
level = "person"
severity = "error"
expr = "p.id_type != '01' || p.id_number.matches('^[0-9]{17}[0-9Xx]$')"
missing = "skip_if_any_missing"
explain = "证件号码 {id} 含有不该有的字符"
values.id = "p.id_number"

  [[rule.example]]
  pass = true
  p = { id_type = "01", id_number = "11010519491231002X" }

  [[rule.example]]
  pass = false
  p = { id_type = "01", id_number = "1101051949123100Z1" }

[[rule]]
id = "b_ethnicity"
title = "民族为空"
level = "person"
severity = "warning"
expr = "has(p.ethnicity)"
missing = "never_skip"
explain = "{name} 没有填写民族"
values.name = "p.name"

  [[rule.example]]
  pass = true
  p = { ethnicity = "01" }

  [[rule.example]]
  pass = false
  p = { name = "示例甲" }

[[rule]]
id = "b_home_power"
title = "是否通生活用电为空"
level = "household"
severity = "warning"
expr = "has(h.home_power)"
missing = "never_skip"
explain = "没有填写是否通生活用电"

  [[rule.example]]
  pass = true
  h = { home_power = true }

  [[rule.example]]
  pass = false
  h = { }

[[rule]]
id = "b_education"
title = "文化程度为空"
level = "person"
severity = "warning"
expr = "has(p.education)"
missing = "never_skip"
explain = "{name} 没有填写文化程度"
values.name = "p.name"

  [[rule.example]]
  pass = true
  p = { education = "03" }

  [[rule.example]]
  pass = false
  p = { name = "示例乙" }
"#;

#[test]
fn a_rule_the_batch_cannot_take_runs_alone_with_the_reason() {
    let set = parse_file("batch.toml", MIXED, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let rules: Vec<&Rule> = set.rules.iter().collect();
    let env = Env::builtin(2025, "61");
    for dialect in [fupin_rules::sql::Dialect::Sqlite, fupin_rules::sql::Dialect::Postgres] {
        let plan = batch::plan(&rules, &env, dialect, MAX_RULES);
        assert_eq!(plan.single.len(), 1, "{:?}", plan.single);
        assert_eq!(plan.single[0].0, 0, "the matches() rule runs alone");
        assert!(plan.single[0].1.contains("matches"), "with the reason: {}", plan.single[0].1);
        let levels: Vec<(Level, Vec<usize>)> = plan.batches.iter().map(|b| (b.level, b.rules.clone())).collect();
        assert_eq!(levels, vec![(Level::Person, vec![1, 3]), (Level::Household, vec![2])]);
        let person = &plan.batches[0];
        assert_eq!(person.sql.matches(" IN (0, 3)").count(), 2, "one failure test per rule: {}", person.sql);
        let two = batch::plan(&rules, &env, dialect, 1);
        assert_eq!(two.batches.len(), 3, "batches of one rule each");
    }
}
