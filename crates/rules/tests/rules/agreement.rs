//! Property: on generated households the interpreter and SQL give the same verdict
//! and the same values for every sample rule.

use fupin_domain::schema::{self, Table};
use fupin_domain::{CodeLists, Value};
use fupin_rules::db::{interpret, run_sql, write_records};
use fupin_rules::{Env, HouseholdRecord, load};
use proptest::prelude::*;

fn set(row: &mut [Value], t: &Table, col: &str, v: Value) {
    row[t.index_of(col).expect("column")] = v;
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

/// Optional values: `None` is a missing cell.
fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map(Into::into).unwrap_or(Value::Null)
}

#[derive(Debug, Clone)]
struct Member {
    relation: &'static str,
    sex: Option<&'static str>,
    birth: Option<(i32, u8, u8)>,
    health: Option<Vec<&'static str>>,
    disease: bool,
    school: Option<&'static str>,
    months: Option<i64>,
}

fn member() -> impl Strategy<Value = Member> {
    (
        prop::sample::select(vec!["01", "02", "03", "04"]),
        prop::option::of(prop::sample::select(vec!["1", "2"])),
        prop::option::of((1940..2020i32, 1..=12u8, 1..=28u8)),
        prop::option::of(prop::sample::subsequence(vec!["01", "02", "03", "04"], 1..3)),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["01", "03", "05"])),
        prop::option::of(0..13i64),
    )
        .prop_map(|(relation, sex, birth, health, disease, school, months)| Member {
            relation,
            sex,
            birth,
            health,
            disease,
            school,
            months,
        })
}

#[derive(Debug, Clone)]
struct Household {
    status: &'static str,
    mode: Option<&'static str>,
    area: Option<f64>,
    members: Vec<Member>,
    income: Option<[Option<i64>; 4]>,
}

fn household() -> impl Strategy<Value = Household> {
    (
        prop::sample::select(vec!["1", "2", "3"]),
        prop::option::of(prop::sample::select(vec!["11", "21", "22"])),
        prop::option::of((0..2000u32).prop_map(|a| f64::from(a) / 10.0)),
        prop::collection::vec(member(), 0..5),
        prop::option::of(prop::array::uniform4(prop::option::of(0..1_500_000i64))),
    )
        .prop_map(|(status, mode, area, members, income)| Household { status, mode, area, members, income })
}

fn record(i: usize, h: &Household, year: i32) -> HouseholdRecord {
    let hh = format!("H{i:03}");
    let mut row = vec![Value::Null; schema::HOUSEHOLDS.columns.len()];
    let t = &schema::HOUSEHOLDS;
    set(&mut row, t, "hh_id", text(&hh));
    set(&mut row, t, "village_code", text("610981100201"));
    set(&mut row, t, "status", text(h.status));
    set(&mut row, t, "relocation_mode", opt(h.mode.map(text)));
    set(&mut row, t, "relocation_area", opt(h.area.map(Value::Real)));
    let members = h
        .members
        .iter()
        .enumerate()
        .map(|(j, m)| {
            let t = &schema::PERSONS;
            let mut r = vec![Value::Null; t.columns.len()];
            set(&mut r, t, "person_id", text(&format!("{hh}-{j}")));
            set(&mut r, t, "hh_id", text(&hh));
            set(&mut r, t, "name", text("测试"));
            set(&mut r, t, "relation", text(m.relation));
            set(&mut r, t, "sex", opt(m.sex.map(text)));
            set(&mut r, t, "birth_date", opt(m.birth.map(|(y, mo, d)| text(&format!("{y:04}-{mo:02}-{d:02}")))));
            set(&mut r, t, "health", opt(m.health.as_ref().map(|h| text(&h.join(";")))));
            set(&mut r, t, "disease", if m.disease { text("慢性病") } else { Value::Null });
            set(&mut r, t, "school_status", opt(m.school.map(text)));
            set(&mut r, t, "migrant_months", opt(m.months.map(Value::Int)));
            r
        })
        .collect();
    let income = h.income.map(|cols| {
        let t = &schema::INCOMES;
        let mut r = vec![Value::Null; t.columns.len()];
        set(&mut r, t, "hh_id", text(&hh));
        set(&mut r, t, "year", Value::Int(year.into()));
        for (c, v) in ["wages", "planting", "breeding", "net_per_capita"].iter().zip(cols) {
            set(&mut r, t, c, opt(v.map(Value::Int)));
        }
        r
    });
    HouseholdRecord { household: row, members, income, ..Default::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn interpreter_and_sql_agree(households in prop::collection::vec(household(), 1..25), late in any::<bool>()) {
        let year = if late { 2021 } else { 2019 };
        let records: Vec<HouseholdRecord> = households.iter().enumerate().map(|(i, h)| record(i, h, year)).collect();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let db = fupin_store::testing::fresh().await.expect("fresh registry");
            write_records(&db.store, &records, "生成").await.expect("rows");
            let env = Env::builtin(year, "61");
            let sets = load::builtin(&CodeLists::builtin()).expect("loads");
            let mut compared = 0;
            for rule in sets.iter().flat_map(|s| &s.rules).filter(|r| r.sql_blocker.is_none()) {
                let sql = run_sql(&db.store, rule, &env).await.expect("runs");
                let interpreted = interpret(rule, &env, &records);
                assert_eq!(sql, interpreted, "rule {}", rule.id);
                compared += 1;
            }
            assert!(compared >= 9);
            db.store.close().await;
        });
    }
}
