//! Missing values and division by zero give each policy's stated result, the same
//! in the interpreter and in SQL.

use fupin_app::check::{run_sql, write_records};
use fupin_domain::CodeLists;
use fupin_rules::Env;
use fupin_rules::interpret;
use fupin_rules::load::parse_file;

/// A one-rule file with the given expression and policy; its examples are the records
/// to judge: `pass`/`fail`/`skip` is what each must give.
fn rules_file(expr: &str, missing: &str, examples: &[(&str, &str)]) -> String {
    let mut t = format!(
        "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"household\"\nseverity = \"error\"\nexpr = \"{expr}\"\nmissing = \"{missing}\"\nexplain = \"x\"\n"
    );
    for (expect, income) in examples {
        let head = match *expect {
            "pass" => "pass = true",
            "fail" => "pass = false",
            _ => "skip = true",
        };
        t.push_str(&format!("[[rule.example]]\n{head}\nyear = 2019\n{income}\n"));
    }
    t
}

async fn holds(expr: &str, missing: &str, cases: &[(&str, &str)]) {
    let text = rules_file(expr, missing, cases);
    let set = parse_file("t.toml", &text, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let rule = &set.rules[0];
    let env = Env::builtin(2019, "61");
    for ex in &rule.examples {
        let got = rule.evaluate(&env, &ex.record, None);
        assert_eq!(got.verdict, ex.expect, "interpreter, {expr} [{missing}] at {}", ex.place);
        let db = fupin_store::testing::fresh().await.expect("fresh registry");
        write_records(&db.store, std::slice::from_ref(&ex.record), "测试").await.expect("rows");
        let sql = run_sql(&db.store, rule, &env).await.expect("runs in SQL");
        assert_eq!(sql, interpret(rule, &env, std::slice::from_ref(&ex.record)), "{expr} [{missing}] at {}", ex.place);
        db.store.close().await;
    }
}

#[tokio::test]
async fn division_by_zero_is_missing() {
    let expr = "h.income.planting / h.income.wages < 2";
    let zero = "income = { wages = 0, planting = 100 }";
    let (pass, fail) =
        (("pass", "income = { wages = 100, planting = 100 }"), ("fail", "income = { wages = 10, planting = 100 }"));
    holds(expr, "skip_if_any_missing", &[pass, fail, ("skip", zero)]).await;
    holds(expr, "never_skip", &[pass, fail, ("fail", zero)]).await;
    let either = "h.income.planting / h.income.wages >= 0.5 || h.income.planting > 50";
    holds(either, "never_skip", &[("pass", zero), ("fail", "income = { wages = 0, planting = 10 }")]).await;
}

#[tokio::test]
async fn missing_values_follow_the_policy() {
    let expr = "h.income.wages > 0 || h.income.planting > 500";
    let one_missing = "income = { planting = 1000 }";
    let all_missing = "income = { }";
    let no_row = "";
    let (pass, fail) =
        (("pass", "income = { wages = 100, planting = 0 }"), ("fail", "income = { wages = 0, planting = 100 }"));
    holds(expr, "skip_if_any_missing", &[pass, fail, ("skip", one_missing), ("skip", all_missing), ("skip", no_row)])
        .await;
    // Kleene: null || true is true; with every value missing the rule is skipped.
    holds(expr, "skip_if_all_missing", &[pass, fail, ("pass", one_missing), ("skip", all_missing), ("skip", no_row)])
        .await;
    // Never skip: null || false is null, and a missing result fails.
    holds(
        expr,
        "never_skip",
        &[pass, fail, ("pass", one_missing), ("fail", all_missing), ("fail", "income = { planting = 100 }")],
    )
    .await;
    // has() is never "missing".
    holds("has(h.income.wages)", "skip_if_any_missing", &[pass, ("fail", all_missing)]).await;
}

#[tokio::test]
async fn money_compares_exactly_in_yuan() {
    // 100.50 − 100.49 is exactly 0.01 元 here, unlike in binary floating point.
    let expr = "h.income.wages - h.income.planting == 0.01 && h.income.wages * 3 == 301.5 && h.income.wages > 100";
    let pass = ("pass", "income = { wages = 100.50, planting = 100.49 }");
    let fail = ("fail", "income = { wages = 100.51, planting = 100.49 }");
    holds(expr, "never_skip", &[pass, fail]).await;
}

#[tokio::test]
async fn nested_aggregates_bind_each_member() {
    let expr = "members.all(m, m.relation != '02' || members.exists(n, n.relation == '01' && n.sex != m.sex))";
    let pass = ("pass", "members = [{ relation = '01', sex = '1' }, { relation = '02', sex = '2' }]");
    let fail = ("fail", "members = [{ relation = '01', sex = '1' }, { relation = '02', sex = '1' }]");
    // A spouse without a sex: the inner condition is null for every n, so `exists` is
    // false (it counts only true conditions), and the spouse violates `all`.
    let unknown = ("fail", "members = [{ relation = '01', sex = '1' }, { relation = '02' }]");
    holds(expr, "skip_if_any_missing", &[pass, fail, unknown]).await;
}

#[tokio::test]
async fn integer_overflow_is_missing_in_both() {
    // 50 000 000 000 000 000 元 is 5e18 fen: one fits in 64 bits, twice does not.
    let big = "income = { wages = 50000000000000000, planting = 50000000000000000 }";
    let small = ("pass", "income = { wages = 100, planting = 100 }");
    let expr = "h.income.wages + h.income.planting > 0";
    let zero = ("fail", "income = { wages = 0, planting = 0 }");
    holds(expr, "skip_if_any_missing", &[small, zero, ("skip", big)]).await;
    holds(expr, "never_skip", &[small, ("fail", big)]).await;
    // An overflow inside a chain stays one even when the end result would fit.
    let chain = "h.income.wages * 2 - h.income.planting * 2 == 0";
    holds(chain, "never_skip", &[("pass", "income = { wages = 7, planting = 7 }"), ("fail", big)]).await;
    // Integers: years times a large factor.
    holds(
        "h.identified_year * 9000000000000000 > 0",
        "never_skip",
        &[("pass", "h = { identified_year = 1 }"), ("fail", "h = { identified_year = 2019 }")],
    )
    .await;
    // sum() of the income rows: exact, null when the total leaves 64 bits (SQLite's
    // SUM would stop the statement, PostgreSQL's CAST would fail).
    let rows = "income = { wages = 50000000000000000 }\nincomes = [{ year = 2018, wages = 50000000000000000 }, { year = 2017, wages = -50000000000000000 }]";
    let over = "income = { wages = 50000000000000000 }\nincomes = [{ year = 2018, wages = 50000000000000000 }]";
    let sum = "sum(h.incomes, i, i.wages) > 0";
    holds(sum, "never_skip", &[("pass", rows), ("fail", over)]).await;
    holds(sum, "skip_if_any_missing", &[("pass", rows), ("fail", "income = { wages = -5 }"), ("skip", over)]).await;
}

#[tokio::test]
async fn string_functions_read_columns_in_both() {
    let expr = "h.village_code.startsWith('6109') && h.village_code.endsWith('201') && h.village_code.contains('811') \
                && size(h.village_code + '-' + string(h.group_no)) == 14 && int(h.village_code) > 610981000000";
    holds(
        expr,
        "never_skip",
        &[
            ("pass", "h = { village_code = '610981100201', group_no = 3 }"),
            ("fail", "h = { village_code = '610928100201', group_no = 3 }"),
            ("fail", "h = { village_code = '610981100201', group_no = 13 }"),
        ],
    )
    .await;
}
