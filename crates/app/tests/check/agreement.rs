//! Property: on generated households the interpreter and SQL give the same verdict
//! and the same values for every sample rule.

use fupin_app::check::{dialect, run_compiled, run_sql, write_records};
use fupin_domain::schema::{self, Table};
use fupin_domain::{CodeLists, Value};
use fupin_rules::interpret;
use fupin_rules::sql::compile;
use fupin_rules::{Env, HouseholdRecord, Level, Rule, load};
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
    /// Which of [`VILLAGES`] (two townships), and the household's 识别/脱贫 years and
    /// living conditions, what township and county rules total.
    village: usize,
    years: (Option<i64>, Option<i64>),
    water_safe: Option<bool>,
    home_power: Option<bool>,
}

/// Villages of two townships of one county; the first has no `village_years` row.
const VILLAGES: [&str; 3] = ["610981100201", "610981100202", "610981101203"];

fn household() -> impl Strategy<Value = Household> {
    (
        prop::sample::select(vec!["1", "2", "3"]),
        prop::option::of(prop::sample::select(vec!["11", "21", "22"])),
        prop::option::of((0..2000u32).prop_map(|a| f64::from(a) / 10.0)),
        prop::collection::vec(member(), 0..5),
        prop::option::of(prop::array::uniform4(prop::option::of(0..1_500_000i64))),
        (
            0..VILLAGES.len(),
            (prop::option::of(2014..2021i64), prop::option::of(2016..2022i64)),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(|(status, mode, area, members, income, (village, years, water_safe, home_power))| Household {
            status,
            mode,
            area,
            members,
            income,
            village,
            years,
            water_safe,
            home_power,
        })
}

fn record(i: usize, h: &Household, year: i32) -> HouseholdRecord {
    let hh = format!("H{i:03}");
    let mut row = vec![Value::Null; schema::HOUSEHOLDS.columns.len()];
    let t = &schema::HOUSEHOLDS;
    set(&mut row, t, "hh_id", text(&hh));
    set(&mut row, t, "village_code", text(VILLAGES[h.village]));
    set(&mut row, t, "identified_year", opt(h.years.0.map(Value::Int)));
    set(&mut row, t, "exit_year", opt(h.years.1.map(Value::Int)));
    set(&mut row, t, "water_safe", opt(h.water_safe.map(i64::from)));
    set(&mut row, t, "home_power", opt(h.home_power.map(i64::from)));
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
    // The same row for every household of a village, as the registry keeps one.
    let village = (h.village > 0).then(|| {
        let t = &schema::VILLAGES;
        let mut r = vec![Value::Null; t.columns.len()];
        set(&mut r, t, "village_code", text(VILLAGES[h.village]));
        set(&mut r, t, "year", Value::Int(year.into()));
        set(&mut r, t, "paved_road", Value::Int(i64::from(h.village == 1)));
        r
    });
    HouseholdRecord { household: row, members, income, village, ..Default::default() }
}

/// Expressions beyond the shipped rules: area aggregates and their elements, and an
/// aggregate inside another's body.
const EXTRA: [(Level, &str); 9] = [
    (Level::Household, "members.exists(m, h.members_count > 2 && m.age > 60)"),
    (Level::Township, "households.exists(x, members.exists(m, m.age > 60 && x.members_count > 2))"),
    (Level::County, "sum(households, x, x.income.net_per_capita) > 1000"),
    (
        Level::Township,
        "persons.filter(x, has(x.household.identified_year) && x.age < 18).size() * 3 > size(poor_persons)",
    ),
    (Level::Township, "count(villages, x, x.paved_road) >= 1 || area.code == '610981100'"),
    (Level::County, "poor_households.all(x, has(x.water_safe) && x.water_safe)"),
    (Level::Township, "size(persons) == 0 || persons.exists(x, x.first_with_id == x.person_id)"),
    (Level::County, "count(households, x, x.village.paved_road) * 2 > size(households)"),
    (
        Level::County,
        "!has(area.county_exit_year) || area.county_exit_year != year || size(poor_persons) * 100 < size(persons) * 3",
    ),
];

/// A rule of one expression, skipped on missing values, showing two totals.
fn query_rule(text: &str, level: Level) -> Rule {
    let codes = CodeLists::builtin();
    let query = fupin_rules::query::Query::parse(text, level, &codes).unwrap_or_else(|e| panic!("{text}: {e}"));
    let shown = match level {
        Level::Household => "h.members_count",
        _ => "size(poor_persons)",
    };
    let value = fupin_rules::query::value(shown, level, &codes).expect("value");
    Rule {
        id: "extra".into(),
        title: String::new(),
        level,
        severity: fupin_rules::Severity::Info,
        missing: fupin_rules::Missing::SkipIfAnyMissing,
        years: fupin_rules::Years::default(),
        explain: String::new(),
        source: text.into(),
        expr: query.expr,
        values: vec![("n".into(), value)],
        examples: Vec::new(),
        place: String::new(),
        sql_blocker: None,
    }
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
            for (level, text) in EXTRA {
                let rule = query_rule(text, level);
                let compiled = compile(&rule, &env, dialect(&db.store)).expect("compiles");
                let types: Vec<_> = rule.values.iter().map(|(_, v)| v.ty).collect();
                let sql = run_compiled(&db.store, &compiled, &types).await.expect("runs");
                assert_eq!(sql, interpret(&rule, &env, &records), "{text}");
            }
            db.store.close().await;
        });
    }
}
