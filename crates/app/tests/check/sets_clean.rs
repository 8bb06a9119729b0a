//! The exit, monitoring and eligibility rule sets (`data/rules/{exit,monitoring,
//! eligibility}.toml`) on clean generated counties, by SQL in the registry and by the
//! interpreter, on the engine `FUPIN_TEST_DB` names:
//! - every household the generator marks 已脱贫 in year Y passes every exit indicator
//!   for Y, and so does every village it marks 退出 in Y (checked on a county generated
//!   up to Y, so the registry is Y's snapshot);
//! - the monitoring risk rules together flag exactly the generator's monitoring
//!   households whose risk is open in the policy year (`key/monitoring.csv`) and the
//!   households it deliberately left unmonitored below the line (`key/missed.csv`), and
//!   the other monitoring rules flag nothing;
//! - the eligibility rules flag nothing, and flag a deliberately broken relocated household;
//! - rules are time-correct: today's attributes are not compared with past years;
//! - on clean data drawn from a different mix of distributions (`Mix::other`) no rule
//!   of any shipped set finds an error, in any year.

use std::collections::BTreeSet;
use std::path::Path;

use fupin_app::check::{load_records, run_sql, write_records};
use fupin_domain::{CodeLists, DivisionTree, Value, schema};
use fupin_rules::interpret;
use fupin_rules::{Env, HouseholdRecord, Outcome, Rule, RuleSet, Verdict, load};
use fupin_store::Store;
use fupin_synth::{Config, Mix, generate};
use time::Date;

const HOUSEHOLDS: usize = 300;

fn set(name: &str) -> RuleSet {
    let sets = load::builtin(&CodeLists::builtin()).unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    sets.into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("data/rules/{name}.toml is shipped"))
}

/// Generates a clean county up to `today` and imports it into a fresh registry.
async fn county(seed: u64, today: Date) -> (fupin_store::testing::TestDb, tempfile::TempDir) {
    county_of(Config::xunyang(HOUSEHOLDS, seed, today)).await
}

async fn county_of(cfg: Config) -> (fupin_store::testing::TestDb, tempfile::TempDir) {
    let seed = cfg.seed;
    let tree = DivisionTree::builtin_xunyang();
    let dir = tempfile::tempdir().expect("temp dir");
    let s = generate(&cfg, &tree, dir.path(), None).expect("generates");
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    db.store.write_divisions(&tree, "610981").await.expect("divisions");
    let o = fupin_ingest::import(&db.store, &s.files, None).await.expect("imports");
    assert!(o.applied && o.errors == 0, "seed {seed}: the import refused the generated data");
    (db, dir)
}

fn failing(outcomes: &[(String, Outcome)]) -> BTreeSet<String> {
    outcomes.iter().filter(|(_, o)| o.verdict == Verdict::Fail).map(|(k, _)| k.clone()).collect()
}

/// The households a rule fails, by SQL and by the interpreter (which must agree).
async fn fails(store: &Store, rule: &Rule, env: &Env, records: &[HouseholdRecord]) -> BTreeSet<String> {
    assert!(rule.sql_blocker.is_none(), "{} does not compile to SQL: {:?}", rule.id, rule.sql_blocker);
    let sql = run_sql(store, rule, env).await.unwrap_or_else(|e| panic!("{}: {e}", rule.id));
    let by_interpreter = interpret(rule, env, records);
    assert!(sql == by_interpreter, "{} in {}: SQL and interpreter differ", rule.id, env.year);
    failing(&sql)
}

fn field(record: &HouseholdRecord, col: &str) -> Option<String> {
    let i = schema::HOUSEHOLDS.index_of(col).expect("household column");
    record.household[i].canonical().filter(|t| !t.is_empty())
}

fn set_field(row: &mut [Value], table: &schema::Table, col: &str, v: Value) {
    row[table.index_of(col).expect("column")] = v;
}

#[tokio::test]
async fn every_household_exited_in_year_y_passes_every_exit_indicator_for_y() {
    let exit = set("exit");
    assert!(exit.rules.len() >= 7, "national and Shaanxi indicators, one rule each");
    for (seed, today) in [
        (21, time::macros::date!(2017 - 12 - 20)),
        (22, time::macros::date!(2018 - 12 - 20)),
        (23, time::macros::date!(2019 - 12 - 20)),
    ] {
        let (db, _dir) = county(seed, today).await;
        let year = today.year();
        let env = Env::builtin(year, "61");
        let records = load_records(&db.store, year).await.expect("records");
        let exited: Vec<&HouseholdRecord> =
            records.iter().filter(|r| field(r, "exit_year") == Some(year.to_string())).collect();
        assert!(exited.len() >= 10, "seed {seed}: only {} households exit in {year}", exited.len());
        let vexit = schema::VILLAGES.index_of("village_exit_year").expect("column");
        let villages_exiting: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r.village.as_ref())
            .filter(|v| v[vexit].canonical() == Some(year.to_string()))
            .filter_map(|v| v[0].canonical())
            .collect();
        assert!(!villages_exiting.is_empty(), "seed {seed}: no village exits in {year}");
        for rule in &exit.rules {
            assert!(rule.years.contains(year), "{} does not apply to {year}", rule.id);
            // A warning is a reminder, not an exit indicator (a township may stay above
            // 3 % in the county's exit year).
            if rule.severity != fupin_rules::Severity::Error {
                continue;
            }
            let failed = fails(&db.store, rule, &env, &records).await;
            assert!(failed.is_empty(), "seed {seed}, {year}: {} fails exited households {failed:?}", rule.id);
        }
        // Incidence bites: the first exiting village with all its households identified and not exited.
        let incidence = exit.rules.iter().find(|r| r.id == "village_exit_incidence").expect("incidence rule");
        let village = villages_exiting.first().expect("checked").clone();
        let exit_col = schema::HOUSEHOLDS.index_of("exit_year").expect("column");
        let ident_col = schema::HOUSEHOLDS.index_of("identified_year").expect("column");
        let still_poor: Vec<HouseholdRecord> = records
            .iter()
            .filter(|r| r.village.as_ref().and_then(|v| v[0].canonical()) == Some(village.clone()))
            .map(|r| {
                let mut r = r.clone();
                r.household[exit_col] = Value::Null;
                r.household[ident_col] = Value::Int(i64::from(year) - 2);
                r
            })
            .collect();
        let poor_db = fupin_store::testing::fresh().await.expect("fresh registry");
        write_records(&poor_db.store, &still_poor, "测试：贫困发生率").await.expect("rows");
        let failed = fails(&poor_db.store, incidence, &env, &still_poor).await;
        assert_eq!(failed, BTreeSet::from([village.clone()]), "seed {seed}: incidence of a village still all poor");
        // …and so does the county's, in the county's exit year, and its township's reminder.
        if env.county_exits.year_of("610981") == Some(year) {
            for id in ["county_exit_incidence", "township_incidence_in_county_exit_year"] {
                let rule = exit.rules.iter().find(|r| r.id == id).expect("rule");
                let failed = fails(&poor_db.store, rule, &env, &still_poor).await;
                let digits = rule.level.area_digits().expect("area rule");
                assert_eq!(failed, BTreeSet::from([village[..digits].to_owned()]), "seed {seed}: {id}");
            }
        }
        poor_db.store.close().await;

        // The indicators bite: the same households with unsafe water, a dangerous house
        // and an uninsured member fail exactly those indicators.
        let mut broken: Vec<HouseholdRecord> = exited.iter().take(3).map(|r| (*r).clone()).collect();
        set_field(&mut broken[0].household, &schema::HOUSEHOLDS, "water_safe", Value::Int(0));
        set_field(&mut broken[1].household, &schema::HOUSEHOLDS, "dangerous_house", Value::Int(1));
        set_field(&mut broken[2].members[0], &schema::PERSONS, "critical_insurance", Value::Int(0));
        set_field(&mut broken[2].members[0], &schema::PERSONS, "employee_insurance", Value::Int(0));
        let mut expected = vec![
            ("exit_water_unsafe", broken[0].hh_id()),
            ("exit_housing_unsafe", broken[1].hh_id()),
            ("exit_medical_uninsured", broken[2].hh_id()),
        ];
        // In the county's exit year (2019, data/policy/county_exit.csv) a county of
        // these three households has one in three unsafe: water below 90 %, housing
        // below 97 %, a 建档立卡 person uninsured.
        if env.county_exits.year_of("610981") == Some(year) {
            for id in ["county_exit_water", "county_exit_housing", "county_exit_insured"] {
                expected.push((id, "610981".to_owned()));
            }
        }
        db.store.close().await;
        let db = fupin_store::testing::fresh().await.expect("fresh registry");
        write_records(&db.store, &broken, "测试：退出指标不达标").await.expect("rows");
        for rule in &exit.rules {
            let failed = fails(&db.store, rule, &env, &broken).await;
            let want: BTreeSet<String> =
                expected.iter().filter(|(id, _)| *id == rule.id).map(|(_, h)| h.clone()).collect();
            assert_eq!(failed, want, "seed {seed}: {} on the broken households", rule.id);
        }
        db.store.close().await;
    }
}

/// 户编号 the generator deliberately left below the monitoring line without monitoring
/// in `year` (`key/missed.csv`, 漏监测).
fn missed_in(dir: &Path, year: i32) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(dir.join("key").join("missed.csv")).expect("key/missed.csv");
    r.records()
        .map(|row| row.expect("key row"))
        .filter(|row| &row[1] == year.to_string().as_str() && &row[2] == "漏监测")
        .map(|row| row[0].to_owned())
        .collect()
}

/// 户编号 of the generator's monitoring households whose risk is open in `year`:
/// monitored on or before 31 December of `year` and not cleared by then.
fn open_in(dir: &Path, year: i32) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(dir.join("key").join("monitoring.csv")).expect("key/monitoring.csv");
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (hh, since, cleared) = (col("户编号"), col("纳入监测日期"), col("风险消除日期"));
    let year_of = |d: &str| d.get(..4).and_then(|y| y.parse::<i32>().ok());
    r.records()
        .map(|row| row.expect("key row"))
        .filter(|row| year_of(&row[since]).is_some_and(|y| y <= year))
        .filter(|row| year_of(&row[cleared]).is_none_or(|y| y > year))
        .map(|row| row[hh].to_owned())
        .collect()
}

#[tokio::test]
async fn the_monitoring_rules_flag_exactly_the_open_monitoring_households() {
    let monitoring = set("monitoring");
    // The rules that find households to monitor; the others (clearance, registration,
    // the guarantees of 脱贫户) find nothing on clean data.
    let risk = ["monitor_income_below_line", "monitor_rigid_spending", "monitor_job_loss", "monitor_disaster"];
    let mut hits: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let (mut cleared, mut missed) = (0, 0);
    for seed in [31, 32] {
        let (db, dir) = county(seed, time::macros::date!(2026 - 03 - 15)).await;
        for year in [2021, 2022, 2024, 2025, 2026] {
            let env = Env::builtin(year, "61");
            let records = load_records(&db.store, year).await.expect("records");
            let mut expected = open_in(dir.path(), year);
            let missed_now = missed_in(dir.path(), year);
            missed += missed_now.len();
            expected.extend(missed_now);
            let ref_date = format!("{year}-12-31");
            cleared += records.iter().filter(|r| field(r, "risk_cleared_on").is_some_and(|c| c <= ref_date)).count();
            assert!(expected.len() >= 3, "seed {seed}: only {} open monitoring households in {year}", expected.len());
            let mut flagged = BTreeSet::new();
            for rule in &monitoring.rules {
                let failed = fails(&db.store, rule, &env, &records).await;
                if !risk.contains(&rule.id.as_str()) {
                    assert!(failed.is_empty(), "seed {seed}, {year}: {} flags {failed:?}", rule.id);
                } else {
                    *hits.entry(rule.id.clone()).or_insert(0) += failed.len();
                    flagged.extend(failed);
                }
            }
            let extra: Vec<_> = flagged.difference(&expected).collect();
            let missed: Vec<_> = expected.difference(&flagged).collect();
            assert!(
                extra.is_empty() && missed.is_empty(),
                "seed {seed}, {year}: flagged but not monitored {extra:?}; monitored but not flagged {missed:?}"
            );
        }
        db.store.close().await;
    }
    assert!(cleared > 0, "no cleared risk to hold the clearance rules against");
    assert!(missed > 0, "no household left unmonitored below the line");
    for rule in monitoring.rules.iter().filter(|r| risk.contains(&r.id.as_str())) {
        assert!(hits.get(&rule.id).is_some_and(|n| *n > 0), "{} flagged no household: {hits:?}", rule.id);
    }
}

#[tokio::test]
async fn eligibility_rules_pass_clean_data_and_catch_a_broken_relocated_household() {
    let eligibility = set("eligibility");
    let (db, _dir) = county(41, time::macros::date!(2020 - 12 - 20)).await;
    // Each relocation is judged in its relocation year (2016–2020).
    for year in 2016..=2020 {
        let env = Env::builtin(year, "61");
        let records = load_records(&db.store, year).await.expect("records");
        for rule in &eligibility.rules {
            let failed = fails(&db.store, rule, &env, &records).await;
            assert!(failed.is_empty(), "{year}: {} flags clean households {failed:?}", rule.id);
        }
    }
    let year = 2020;
    let env = Env::builtin(year, "61");
    let records = load_records(&db.store, year).await.expect("records");
    let relocated: Vec<&HouseholdRecord> = records.iter().filter(|r| field(r, "relocation_type").is_some()).collect();
    let dispersed = relocated.iter().find(|r| field(r, "relocation_mode").is_some_and(|m| m.starts_with('2'))).copied();
    assert!(relocated.len() >= 5, "only {} relocated households", relocated.len());
    let dispersed = dispersed.expect("a dispersed relocation among the generated households");
    db.store.close().await;

    // One 建档立卡 household relocated (dispersed) in 2020 living off wages, in a flat of
    // 40 m² per person, whose labourers have no practical skill: each rule names it.
    let mut broken = dispersed.clone();
    set_field(&mut broken.household, &schema::HOUSEHOLDS, "relocation_year", Value::Int(i64::from(year)));
    set_field(&mut broken.household, &schema::HOUSEHOLDS, "relocation_type", Value::Text("1".into()));
    let income = broken.income.as_mut().expect("the policy year's income");
    let wages = schema::INCOMES.index_of("wages").expect("column");
    let farm: i64 = ["planting", "breeding"]
        .iter()
        .map(|c| match income[schema::INCOMES.index_of(c).expect("column")] {
            Value::Int(f) => f,
            _ => 0,
        })
        .sum();
    income[wages] = Value::Int(farm * 2 + 100_000);
    let n = broken.members.len() as f64;
    set_field(&mut broken.household, &schema::HOUSEHOLDS, "relocation_area", Value::Real(40.0 * n));
    for m in &mut broken.members {
        set_field(m, &schema::PERSONS, "skills", Value::Null);
    }
    let db = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&db.store, std::slice::from_ref(&broken), "测试：搬迁资格不符").await.expect("rows");
    for rule in &eligibility.rules {
        let failed = fails(&db.store, rule, &env, std::slice::from_ref(&broken)).await;
        assert_eq!(failed, BTreeSet::from([broken.hh_id()]), "{} on the broken household", rule.id);
    }
    db.store.close().await;
}

fn int_cell(row: &[Value], table: &schema::Table, col: &str) -> i64 {
    match row[table.index_of(col).expect("column")] {
        Value::Int(v) => v,
        _ => 0,
    }
}

/// Every rule of every set checked by default (`fupin check` without `--set`).
fn default_rules() -> Vec<Rule> {
    let sets = load::builtin(&CodeLists::builtin()).unwrap_or_else(|e| panic!("shipped rules do not load:\n{e}"));
    sets.into_iter().filter(|s| s.default).flat_map(|s| s.rules).collect()
}

#[tokio::test]
async fn a_household_whose_dibao_ended_and_wages_rose_has_no_finding_in_any_year() {
    // A registered 一般贫困户 of a 2026 registry with a member working away today: its
    // 低保 ended in 2022 (低保金 in 2019–2022, none since, nobody 低保 today) and its
    // wages began in 2021 (none in 2019–2020). Today's attributes describe 2026 only.
    let (db, _dir) = county(61, time::macros::date!(2026 - 03 - 15)).await;
    let records = load_records(&db.store, 2026).await.expect("records");
    db.store.close().await;
    let months = schema::PERSONS.index_of("migrant_months").expect("column");
    let year_of = |row: &Vec<Value>| int_cell(row, &schema::INCOMES, "year");
    let record = records
        .iter()
        .find(|r| {
            field(r, "attribute").as_deref() == Some("1")
                && field(r, "relocation_type").is_none()
                && field(r, "monitor_type").is_none()
                && r.members.iter().any(|m| matches!(m[months], Value::Int(n) if n > 0))
                && (2019..=2025).all(|y| r.other_incomes.iter().any(|i| year_of(i) == y))
                && r.other_incomes.iter().filter(|i| (2019..=2022).contains(&year_of(i))).all(|i| {
                    int_cell(i, &schema::INCOMES, "planting") > 300_000
                        && int_cell(i, &schema::INCOMES, "dibao_money") == 0
                })
        })
        .expect("a registered 一般贫困户 with a migrant member and incomes 2019–2026");
    let mut hh = record.clone();
    let (wages, planting, dibao) = (
        schema::INCOMES.index_of("wages").expect("column"),
        schema::INCOMES.index_of("planting").expect("column"),
        schema::INCOMES.index_of("dibao_money").expect("column"),
    );
    for row in hh.other_incomes.iter_mut() {
        let y = year_of(row);
        // Amounts move between components, so 人均纯收入 still adds up.
        if (2019..=2022).contains(&y) {
            let p = int_cell(row, &schema::INCOMES, "planting");
            row[planting] = Value::Int(p - 240_000);
            row[dibao] = Value::Int(240_000);
        }
        if (2019..=2020).contains(&y) {
            let (w, p) = (int_cell(row, &schema::INCOMES, "wages"), int_cell(row, &schema::INCOMES, "planting"));
            row[planting] = Value::Int(p + w);
            row[wages] = Value::Int(0);
        }
    }
    let fresh = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&fresh.store, std::slice::from_ref(&hh), "测试：低保结束、工资后来才有").await.expect("rows");
    let rules = default_rules();
    for year in 2019..=2026 {
        let env = Env::builtin(year, "61");
        let records = load_records(&fresh.store, year).await.expect("records");
        for rule in rules.iter().filter(|r| r.years.contains(year)) {
            let failed = fails(&fresh.store, rule, &env, &records).await;
            assert!(failed.is_empty(), "{year}: {} flags the household {failed:?}", rule.id);
        }
    }
    // The same household would be flagged if today's attributes were those of 2019.
    let dq = set("dq");
    let env = Env::builtin(2019, "61");
    let records = load_records(&fresh.store, 2019).await.expect("records");
    let mut past = records[0].clone();
    past.other_incomes.retain(|i| year_of(i) <= 2019);
    let today = fupin_store::testing::fresh().await.expect("fresh registry");
    write_records(&today.store, std::slice::from_ref(&past), "测试：2019 年的快照").await.expect("rows");
    for id in ["ordinary_household_with_benefit_money", "worker_without_wages"] {
        let rule = dq.rules.iter().find(|r| r.id == id).expect("rule");
        let failed = fails(&today.store, rule, &env, std::slice::from_ref(&past)).await;
        assert_eq!(failed, BTreeSet::from([hh.hh_id()]), "{id} on a registry whose snapshot is 2019");
    }
    today.store.close().await;
    fresh.store.close().await;
}

#[tokio::test]
async fn clean_data_of_another_mix_has_no_error_in_any_year() {
    let rules: Vec<Rule> = default_rules().into_iter().filter(|r| r.severity == fupin_rules::Severity::Error).collect();
    // Up to the county's exit evaluation (2019), and up to today.
    for (seed, today, years) in
        [(71, time::macros::date!(2019 - 12 - 20), 2016..=2019), (72, time::macros::date!(2026 - 03 - 15), 2019..=2026)]
    {
        let mut cfg = Config::xunyang(HOUSEHOLDS, seed, today);
        cfg.mix = Mix::other();
        let (db, dir) = county_of(cfg).await;
        let records = load_records(&db.store, today.year()).await.expect("records");
        // The mix is really another one: weak labour, employee insurance, missed households.
        let labour = schema::PERSONS.index_of("labour").expect("column");
        let weak = records.iter().flat_map(|r| &r.members).filter(|m| m[labour].canonical().as_deref() == Some("05"));
        let missed = csv::Reader::from_path(dir.path().join("key").join("missed.csv")).expect("key").records().count();
        assert!(missed > 0, "seed {seed}: no missed household");
        if today.year() >= 2021 {
            assert!(weak.count() > 0, "seed {seed}: no 弱劳动力");
        }
        for year in years {
            let env = Env::builtin(year, "61");
            let records = load_records(&db.store, year).await.expect("records");
            for rule in rules.iter().filter(|r| r.years.contains(year)) {
                let failed = fails(&db.store, rule, &env, &records).await;
                assert!(failed.is_empty(), "seed {seed}, {year}: {} flags clean households {failed:?}", rule.id);
            }
        }
        db.store.close().await;
    }
}

fn load_errors(level: &str, expr: &str) -> Vec<String> {
    let text = format!(
        "[[rule]]\nid = \"r\"\ntitle = \"测试\"\nlevel = \"{level}\"\nseverity = \"error\"\nexpr = \"{expr}\"\nexplain = \"说明\"\n\
         [[rule.example]]\npass = true\nv = {{ paved_road = true }}\n[[rule.example]]\npass = false\nv = {{ paved_road = false }}\n"
    );
    match load::parse_file("rules/t.toml", &text, &CodeLists::builtin()) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn village_names_are_checked_at_load_with_their_place() {
    assert_eq!(load_errors("village", "v.paved_road && v.poor_persons * 100 < v.persons * 3"), Vec::<String>::new());
    let e = load_errors("village", "h.status == '3'");
    assert!(e.len() == 1 && e[0].starts_with("rules/t.toml:6:") && e[0].contains("村级规则中没有 h"), "{e:?}");
    let e = load_errors("household", "v.persons > 0");
    assert!(e.len() == 1 && e[0].starts_with("rules/t.toml:6:") && e[0].contains("persons"), "{e:?}");
    let e = load_errors("village", "days_between(v.paved_road, ref_date) > 0");
    assert!(e.len() == 1 && e[0].contains("days_between 需要两个日期"), "{e:?}");
}

#[test]
fn township_and_county_names_are_checked_at_load_with_their_place() {
    let ok = "size(poor_persons) * 100 < size(persons) * 3 && count(villages, x, x.paved_road) >= 1";
    assert_eq!(load_errors("county", ok), Vec::<String>::new());
    assert_eq!(load_errors("township", "households.all(x, members.all(m, m.age >= 0))"), Vec::<String>::new());
    let e = load_errors("township", "v.paved_road");
    assert!(e.len() == 1 && e[0].starts_with("rules/t.toml:6:") && e[0].contains("乡镇级规则中没有 v"), "{e:?}");
    let e = load_errors("county", "members.exists(m, m.age > 60)");
    assert!(e.len() == 1 && e[0].contains("县级规则中没有 members"), "{e:?}");
    let e = load_errors("county", "households.exists(x, persons.exists(y, y.age > x.members_count))");
    assert!(e.len() == 1 && e[0].contains("不能互相嵌套"), "{e:?}");
    let e = load_errors("household", "size(households) > 0");
    assert!(e.len() == 1 && e[0].contains("只能用于 township、county"), "{e:?}");
    let e = load_errors("county", "area.name == 'x'");
    assert!(e.len() == 1 && e[0].contains("area 没有“name”"), "{e:?}");
    let e = load_errors("county", "villages.exists(x, x.households > 0)");
    assert!(e.len() == 1 && e[0].contains("没有字段“households”"), "{e:?}");
}
