//! The lists and county-wide built-ins the data-quality rules need (`h.incomes`,
//! `h.pairings`, `first_with_id`, `helper_count`, `id_checksum_ok`, `upper`) give the
//! same results in the interpreter and in SQL, over several households at once.

use fupin_app::check::{load_records, run_sql, write_records};
use fupin_domain::schema::{self, Table};
use fupin_domain::{CodeLists, Value};
use fupin_rules::interpret;
use fupin_rules::load::parse_file;
use fupin_rules::{Env, HouseholdRecord, Outcome, Val, Verdict};

fn row(table: &Table, cells: &[(&str, Value)]) -> Vec<Value> {
    let mut r = vec![Value::Null; table.columns.len()];
    for (c, v) in cells {
        r[table.index_of(c).unwrap_or_else(|| panic!("{}.{c}", table.name))] = v.clone();
    }
    r
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn household(hh: &str, status: &str, ids: &[(&str, Option<&str>)]) -> HouseholdRecord {
    let members = ids
        .iter()
        .enumerate()
        .map(|(i, (pid, id))| {
            row(
                &schema::PERSONS,
                &[
                    ("person_id", t(pid)),
                    ("hh_id", t(hh)),
                    ("name", t("测试")),
                    ("relation", t(if i == 0 { "01" } else { "03" })),
                    ("id_number", id.map(t).unwrap_or(Value::Null)),
                ],
            )
        })
        .collect();
    HouseholdRecord {
        household: row(
            &schema::HOUSEHOLDS,
            &[("hh_id", t(hh)), ("village_code", t("610981100201")), ("status", t(status))],
        ),
        members,
        ..Default::default()
    }
}

fn income(hh: &str, year: i64, wages: Option<i64>) -> Vec<Value> {
    row(
        &schema::INCOMES,
        &[("hh_id", t(hh)), ("year", Value::Int(year)), ("wages", wages.map(Value::Int).unwrap_or(Value::Null))],
    )
}

fn helper(id: &str, id_number: Option<&str>) -> Vec<Value> {
    row(
        &schema::HELPERS,
        &[("helper_id", t(id)), ("name", t("帮扶人")), ("id_number", id_number.map(t).unwrap_or(Value::Null))],
    )
}

fn pairing(helper: &str, hh: &str, from: &str, to: Option<&str>) -> Vec<Value> {
    row(
        &schema::PAIRINGS,
        &[
            ("helper_id", t(helper)),
            ("hh_id", t(hh)),
            ("from_date", t(from)),
            ("to_date", to.map(t).unwrap_or(Value::Null)),
        ],
    )
}

/// Three households: ids repeated across them (X and x alike), a helper sharing a
/// member's id, pairings open and ended, incomes of several years.
fn county() -> Vec<HouseholdRecord> {
    let mut a = household("H1", "2", &[("P10", Some("61090020000101001X")), ("P11", None)]);
    a.income = Some(income("H1", 2020, Some(0)));
    a.other_incomes = vec![income("H1", 2019, Some(500_000)), income("H1", 2018, None)];
    a.pairings = vec![pairing("B1", "H1", "2016-01-01", Some("2019-01-01")), pairing("B2", "H1", "2019-01-02", None)];
    let mut b = household("H2", "3", &[("P20", Some("61090020000101001x")), ("P05", Some("610900200001010028"))]);
    b.pairings = vec![pairing("B1", "H2", "2016-01-01", Some("2020-06-30"))];
    b.helpers = vec![helper("B3", Some("610900200001010028")), helper("B4", Some("610900200001010028"))];
    let mut c = household("H3", "1", &[("P30", Some("61090020000101001X")), ("P31", Some("11010519491231002X"))]);
    c.other_incomes = vec![income("H3", 2017, Some(100))];
    // Helpers the pairings name (no 证件号码 shared with anyone).
    a.helpers = vec![helper("B1", None), helper("B2", Some("999"))];
    vec![a, b, c]
}

/// A rule over `county()` by SQL and by the interpreter: both equal, returned.
async fn both(level: &str, expr: &str, values: &[&str]) -> Vec<(String, Outcome)> {
    let mut text = format!(
        "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"{level}\"\nseverity = \"error\"\nexpr = \"{expr}\"\nmissing = \"never_skip\"\nexplain = \"x\"\n"
    );
    for (i, v) in values.iter().enumerate() {
        text.push_str(&format!("values.v{i} = \"{v}\"\n"));
    }
    let example = if level == "person" { "p = { }" } else { "h = { }" };
    text.push_str(&format!("[[rule.example]]\npass = true\n{example}\n[[rule.example]]\npass = false\n{example}\n"));
    let set = parse_file("t.toml", &text, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let rule = &set.rules[0];
    assert!(rule.sql_blocker.is_none(), "{expr} compiles");
    let env = Env::builtin(2020, "61");
    let records = county();
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, &records, "测试").await.expect("rows");
    let sql = run_sql(&db.store, rule, &env).await.unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(sql, interpret(rule, &env, &records), "{expr}: SQL and the interpreter on the written records");
    let loaded = load_records(&db.store, 2020).await.expect("records");
    assert_eq!(sql, interpret(rule, &env, &loaded), "{expr}: the interpreter on the records read back");
    db.store.close().await;
    sql
}

fn failing(out: &[(String, Outcome)]) -> Vec<&str> {
    out.iter().filter(|(_, o)| o.verdict == Verdict::Fail).map(|(k, _)| k.as_str()).collect()
}

#[tokio::test]
async fn first_with_id_finds_the_earlier_holder_across_households() {
    let out = both("person", "p.first_with_id == p.person_id", &["p.first_with_id", "upper(p.id_number)"]).await;
    // P11 has no number: null, which never_skip fails; P20 and P30 repeat P10's.
    assert_eq!(failing(&out), ["P11", "P20", "P30"]);
    let p20 = &out.iter().find(|(k, _)| k == "P20").expect("P20").1;
    assert_eq!(p20.values, [Val::Text("P10".into()), Val::Text("61090020000101001X".into())]);
}

#[tokio::test]
async fn helper_count_matches_helpers_by_id_number() {
    let out = both("person", "!has(p.id_number) || p.helper_count == 0", &["p.helper_count"]).await;
    assert_eq!(failing(&out), ["P05"]);
    assert_eq!(out.iter().find(|(k, _)| k == "P05").expect("P05").1.values, [Val::Int(2)]);
}

#[tokio::test]
async fn pairings_and_incomes_of_every_year_are_lists() {
    let open = both("household", "h.pairings.exists(r, !has(r.to_date))", &["count(h.pairings, r, true)"]).await;
    assert_eq!(failing(&open), ["H2", "H3"]);
    let wages = both(
        "household",
        "!h.incomes.exists(i, i.wages > 0)",
        &["sum(h.incomes, i, i.wages)", "size(h.incomes)", "h.incomes.filter(i, !has(i.wages)).size()"],
    )
    .await;
    assert_eq!(failing(&wages), ["H1", "H3"]);
    let h1 = &wages.iter().find(|(k, _)| k == "H1").expect("H1").1;
    assert_eq!(h1.values, [Val::Money(500_000), Val::Int(3), Val::Int(1)]);
    // A member aggregate nested inside an income aggregate, and the other way round.
    both("household", "h.incomes.all(i, members.exists(m, has(m.id_number)) || i.year > 2018)", &[]).await;
    both("household", "members.exists(m, h.incomes.exists(i, i.year == 2017) && has(m.id_number))", &[]).await;
}

/// A rule over `records` in `year` by SQL and by the interpreter: both equal, returned.
async fn both_in(level: &str, expr: &str, records: &[HouseholdRecord], year: i32) -> Vec<(String, Outcome)> {
    let example = match level {
        "person" => "p = { }",
        "village" => "v = { }",
        _ => "h = { }",
    };
    let text = format!(
        "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"{level}\"\nseverity = \"error\"\nexpr = \"{expr}\"\nmissing = \"never_skip\"\nexplain = \"x\"\n\
         [[rule.example]]\npass = true\n{example}\n[[rule.example]]\npass = false\n{example}\n"
    );
    let set = parse_file("t.toml", &text, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let rule = &set.rules[0];
    let env = Env::builtin(year, "61");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, records, "测试").await.expect("rows");
    let sql = run_sql(&db.store, rule, &env).await.unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(sql, interpret(rule, &env, records), "{expr} in {year}: SQL and the interpreter");
    let loaded = load_records(&db.store, year).await.expect("records");
    assert_eq!(sql, interpret(rule, &env, &loaded), "{expr} in {year}: the records read back");
    db.store.close().await;
    sql
}

#[tokio::test]
async fn a_member_who_died_counts_in_the_years_they_lived() {
    // H1's head P10 died in 2019; P11, the widow, is the head since.
    let mut h = household("H1", "2", &[("P10", None), ("P11", None)]);
    let status = schema::PERSONS.index_of("person_status").expect("person_status");
    let left = schema::PERSONS.index_of("left_on").expect("left_on");
    h.members[0][status] = t("2");
    h.members[0][left] = t("2019-05-01");
    h.members[1][schema::PERSONS.index_of("relation").expect("relation")] = t("01");
    let records = vec![h, household("H2", "1", &[("P20", None)])];
    let one_head = "members.filter(m, m.relation == '01').size() == 1 && size(members) == 1";
    assert_eq!(failing(&both_in("household", one_head, &records, 2020).await), Vec::<&str>::new());
    assert_eq!(failing(&both_in("household", one_head, &records, 2019).await), ["H1"], "both lived in 2019");
    // Person rules judge only those who lived in the year.
    let people = both_in("person", "true", &records, 2020).await;
    assert_eq!(people.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["P11", "P20"]);
    let people = both_in("person", "true", &records, 2018).await;
    assert_eq!(people.len(), 3);
    // The village's persons (the denominator of incidence) in each year.
    let in_year = |year: i64| -> Vec<HouseholdRecord> {
        let v = row(&schema::VILLAGES, &[("village_code", t("610981100201")), ("year", Value::Int(year))]);
        records.iter().cloned().map(|r| HouseholdRecord { village: Some(v.clone()), ..r }).collect()
    };
    assert_eq!(failing(&both_in("village", "v.persons == 2", &in_year(2020), 2020).await), Vec::<&str>::new());
    assert_eq!(failing(&both_in("village", "v.persons == 3", &in_year(2019), 2019).await), Vec::<&str>::new());
}

#[tokio::test]
async fn a_child_counts_from_the_year_of_birth() {
    // H1's child P12 was born in 2024; P11 has no birth date recorded (counted).
    let mut h = household("H1", "2", &[("P10", None), ("P11", None), ("P12", None)]);
    let birth = schema::PERSONS.index_of("birth_date").expect("birth_date");
    h.members[0][birth] = t("1980-03-01");
    h.members[2][birth] = t("2024-12-31");
    let records = vec![h];
    let three = "size(members) == 3";
    assert_eq!(failing(&both_in("household", three, &records, 2024).await), Vec::<&str>::new());
    assert_eq!(failing(&both_in("household", three, &records, 2022).await), ["H1"], "not born in 2022");
    assert_eq!(failing(&both_in("household", "size(members) == 2", &records, 2023).await), Vec::<&str>::new());
    let people = both_in("person", "true", &records, 2022).await;
    assert_eq!(people.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["P10", "P11"]);
    // The village's persons and poor persons (incidence) in 2022 leave the child out.
    let in_year = |year: i64| -> Vec<HouseholdRecord> {
        let v = row(&schema::VILLAGES, &[("village_code", t("610981100201")), ("year", Value::Int(year))]);
        let ident = schema::HOUSEHOLDS.index_of("identified_year").expect("identified_year");
        records
            .iter()
            .cloned()
            .map(|mut r| {
                r.household[ident] = Value::Int(2014);
                HouseholdRecord { village: Some(v.clone()), ..r }
            })
            .collect()
    };
    let both_two = "v.persons == 2 && v.poor_persons == 2";
    assert_eq!(failing(&both_in("village", both_two, &in_year(2022), 2022).await), Vec::<&str>::new());
    let both_three = "v.persons == 3 && v.poor_persons == 3";
    assert_eq!(failing(&both_in("village", both_three, &in_year(2024), 2024).await), Vec::<&str>::new());
}

#[tokio::test]
async fn the_dashboard_incidence_equals_the_village_rule() {
    use fupin_store::dashboard_views::{HouseholdFilter, count_filtered, list_filtered, status_by_child};
    let ident = schema::HOUSEHOLDS.index_of("identified_year").expect("identified_year");
    let exit = schema::HOUSEHOLDS.index_of("exit_year").expect("exit_year");
    let relapse = schema::HOUSEHOLDS.index_of("relapse_year").expect("relapse_year");
    let birth = schema::PERSONS.index_of("birth_date").expect("birth_date");
    let year = 2022;
    let v = row(&schema::VILLAGES, &[("village_code", t("610981100201")), ("year", Value::Int(year.into()))]);
    let years = |mut r: HouseholdRecord, i: Option<i64>, e: Option<i64>, re: Option<i64>| {
        for (c, y) in [(ident, i), (exit, e), (relapse, re)] {
            r.household[c] = y.map(Value::Int).unwrap_or(Value::Null);
        }
        HouseholdRecord { village: Some(v.clone()), ..r }
    };
    // H1 exited in 2016 and returned to poverty (返贫) in 2017: poor in 2022, whichever
    // 户类型 it carries; H5 returns only in 2023. H2's child was born in 2024.
    let mut h2 = household("H2", "2", &[("P20", None), ("P21", None)]);
    h2.members[1][birth] = t("2024-02-01");
    let records = vec![
        years(household("H1", "3", &[("P10", None), ("P11", None)]), Some(2015), Some(2016), Some(2017)),
        years(h2, Some(2015), None, None),
        years(household("H3", "3", &[("P30", None)]), Some(2015), Some(2017), None),
        years(household("H4", "1", &[("P40", None)]), None, None, None),
        years(household("H5", "2", &[("P50", None), ("P51", None)]), Some(2014), Some(2016), Some(2023)),
        years(household("H6", "2", &[("P60", None)]), Some(2015), Some(2016), Some(2018)),
    ];
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, &records, "测试").await.expect("rows");
    let town = fupin_domain::DivisionCode::parse("610981100").expect("code");
    let lines = status_by_child(&db.store, &town, year).await.expect("dashboard");
    assert_eq!(lines.len(), 1);
    let f = lines[0].1;
    // A plain recount: poor H1 (2) + H2 (1, the child unborn) + H6 (1); 8 persons in all.
    assert_eq!((f.poor_persons(), f.total_persons()), (4, 8), "{f:?}");
    assert_eq!(f.households, [1, 3, 2], "{f:?}");
    let filter = HouseholdFilter {
        area: town.clone(),
        year,
        status: Some("2".into()),
        exit_year: None,
        monitor_type: None,
        monitor: None,
        visits: None,
    };
    assert_eq!(count_filtered(&db.store, &filter).await.expect("count"), (3, 4), "the list behind the number");
    let listed = list_filtered(&db.store, &filter, 10, 0).await.expect("list");
    let listed: Vec<(&str, i64)> = listed.iter().map(|l| (l.hh_id.as_str(), l.persons)).collect();
    assert_eq!(listed, [("H1", 2), ("H2", 1), ("H6", 1)]);
    db.store.close().await;
    // The village rule counts the same in that year.
    let same = format!("v.persons == {} && v.poor_persons == {}", f.total_persons(), f.poor_persons());
    assert_eq!(failing(&both_in("village", &same, &records, year).await), Vec::<&str>::new());
    let poor_households = format!("v.poor_households == {}", f.households[1]);
    assert_eq!(failing(&both_in("village", &poor_households, &records, year).await), Vec::<&str>::new());
}

#[tokio::test]
async fn id_checksum_agrees_on_every_kind_of_number() {
    // (number, expected): None = not a number the check applies to.
    let cases: [(&str, Option<bool>); 14] = [
        ("11010519491231002X", Some(true)),
        ("11010519491231002x", Some(true)),
        ("110105194912310021", Some(false)),
        ("11010519491331002X", None),        // month 13
        ("11010519490229002X", None),        // 1949 is not a leap year
        ("11010520000229001X", Some(false)), // 2000 is
        ("11010519000229002X", None),        // 1900 is not
        ("11010519491200002X", None),        // day 0
        ("1101051949123100X1", None),        // a letter among the 17
        ("11010519491231002", None),         // 17 characters
        ("11010519491231002XX", None),       // 19
        ("１1010519491231002X", None),       // a full-width digit
        ("110105194912310", None),           // 15
        ("", None),
    ];
    let mut records = Vec::new();
    for (i, (id, want)) in cases.iter().enumerate() {
        assert_eq!(fupin_rules::eval::id_checksum_ok(id), *want, "{id}");
        let hh = format!("H{i:02}");
        records.push(household(&hh, "2", &[(&format!("{hh}-1"), Some(id))]));
    }
    let text = "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"person\"\nseverity = \"error\"\nexpr = \"id_checksum_ok(p.id_number)\"\nmissing = \"never_skip\"\nexplain = \"x\"\nvalues.ok = \"id_checksum_ok(p.id_number)\"\n[[rule.example]]\npass = true\np = { id_number = \"11010519491231002X\" }\n[[rule.example]]\npass = false\np = { id_number = \"110105194912310021\" }\n";
    let set = parse_file("t.toml", text, &CodeLists::builtin()).unwrap_or_else(|e| panic!("{e}"));
    let rule = &set.rules[0];
    let env = Env::builtin(2020, "61");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, &records, "测试").await.expect("rows");
    let sql = run_sql(&db.store, rule, &env).await.expect("runs");
    assert_eq!(sql, interpret(rule, &env, &records));
    db.store.close().await;
}
