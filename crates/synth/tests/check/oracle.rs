//! The ground truth for the data-quality rules: each fault kind's `check` text
//! (`fupin_synth::FAULT_KINDS`) as a plain Rust predicate over the written records,
//! read by their English schema names as the registry holds them. A CEL rule with the
//! kind's id must find exactly what its predicate finds.

use fupin_domain::Yuan;
use fupin_domain::schema::{self, Role, Table};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One record, by English column name.
pub type Rec = BTreeMap<&'static str, String>;
/// (kind, 户编号, 人编号 or empty).
pub type Finding = (String, String, String);

fn load(dir: &Path, table: &'static Table) -> Vec<Rec> {
    let mut r = csv::Reader::from_path(dir.join(format!("{}.csv", table.name))).unwrap();
    let names: Vec<&'static str> =
        r.headers().unwrap().iter().map(|h| table.columns[table.by_header(h).unwrap()].name).collect();
    r.records().map(|rec| names.iter().copied().zip(rec.unwrap().iter().map(str::to_owned)).collect()).collect()
}

/// The registry as the rules read it.
pub struct Db {
    pub households: Vec<Rec>,
    pub persons: Vec<Rec>,
    pub incomes: Vec<Rec>,
    pub helpers: Vec<Rec>,
    pub pairings: Vec<Rec>,
}

impl Db {
    pub fn load(dir: &Path) -> Db {
        Db {
            households: load(dir, &schema::HOUSEHOLDS),
            persons: load(dir, &schema::PERSONS),
            incomes: load(dir, &schema::INCOMES),
            helpers: load(dir, &schema::HELPERS),
            pairings: load(dir, &schema::PAIRINGS),
        }
    }
}

/// One household with what its checks read.
pub struct Hh<'a> {
    pub row: &'a Rec,
    pub members: Vec<&'a Rec>,
    pub incomes: Vec<&'a Rec>,
    pub open_pairing: bool,
}

pub struct Ctx<'a> {
    /// The policy year: ages are taken on its 31 December.
    pub year: i32,
    /// Upper-cased 证件号码 → the smallest 人编号 holding it.
    first_holder: BTreeMap<String, &'a str>,
    helper_ids: BTreeSet<String>,
}

// ------------------------------------------------------------------ field readers

fn empty(r: &Rec, f: &str) -> bool {
    r[f].is_empty()
}
fn is(r: &Rec, f: &str, v: &str) -> bool {
    r[f] == v
}
fn yes(r: &Rec, f: &str) -> bool {
    r[f] == "是"
}
fn in_(r: &Rec, f: &str, set: &[&str]) -> bool {
    set.contains(&r[f].as_str())
}
fn int(r: &Rec, f: &str) -> Option<i64> {
    r[f].parse().ok()
}
/// An amount in fen, `None` when empty.
fn amount(r: &Rec, f: &str) -> Option<i64> {
    (!r[f].is_empty()).then(|| Yuan::parse(&r[f]).unwrap().fen())
}
/// An amount in fen where the check counts empty as 0 (sums, "0 or empty").
fn fen(r: &Rec, f: &str) -> i64 {
    if r[f].is_empty() { 0 } else { Yuan::parse(&r[f]).unwrap().fen() }
}
/// A decimal; empty is never greater than a bound.
fn dec(r: &Rec, f: &str) -> f64 {
    r[f].parse().unwrap_or(f64::NEG_INFINITY)
}
fn health(p: &Rec, code: &str) -> bool {
    p["health"].split(';').any(|c| c == code)
}
/// `persons.school_status` between two codes, compared as numbers.
fn school_between(p: &Rec, lo: u8, hi: u8) -> bool {
    p["school_status"].parse::<u8>().is_ok_and(|s| (lo..=hi).contains(&s))
}
fn months(p: &Rec) -> i64 {
    int(p, "migrant_months").unwrap_or(0)
}
fn able(p: &Rec) -> bool {
    in_(p, "labour", &["01", "02"])
}
/// Whether the age (policy year − birth year) is known and in `range`.
fn age_in(c: &Ctx, p: &Rec, range: impl std::ops::RangeBounds<i32>) -> bool {
    p["birth_date"].get(..4).and_then(|y| y.parse::<i32>().ok()).is_some_and(|y| range.contains(&(c.year - y)))
}
fn registered(h: &Hh) -> bool {
    in_(h.row, "status", &["2", "3"])
}
fn risk(h: &Hh, code: &str) -> bool {
    (1..=5).any(|i| h.row[format!("risk{i}").as_str()] == code)
}

/// GB 11643: the check character of 17 digits.
pub fn check_char(first17: &[u8]) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = first17.iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    b"10X98765432"[(s % 11) as usize] as char
}

fn valid_date(yyyymmdd: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) =
        (yyyymmdd[..4].parse::<i32>(), yyyymmdd[4..6].parse::<u8>(), yyyymmdd[6..].parse::<u8>())
    else {
        return false;
    };
    time::Month::try_from(m).is_ok_and(|m| time::Date::from_calendar_date(y, m, d).is_ok())
}

/// The person's 证件号码 when it is a valid 18-character number of 证件类型 '01' or
/// empty: digits, a real date from 1880 to 2100, the right check character.
fn valid_id(p: &Rec) -> Option<String> {
    let id = p["id_number"].to_ascii_uppercase();
    let b = id.as_bytes();
    let ok = id_type_01(p)
        && b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && valid_date(&id[6..14])
        && (1880..=2100).contains(&id[6..10].parse::<i32>().unwrap_or(0))
        && b[17] as char == check_char(&b[..17]);
    ok.then_some(id)
}

fn id_type_01(p: &Rec) -> bool {
    in_(p, "id_type", &["01", ""])
}

// ------------------------------------------------------------------ the predicates

type PersonCheck = fn(&Ctx, &Hh, &Rec) -> bool;
type HouseholdCheck = fn(&Ctx, &Hh) -> bool;

pub enum Pred {
    Person(PersonCheck),
    Household(HouseholdCheck),
}

use Pred::{Household as H, Person as P};

fn any_income(h: &Hh, f: impl Fn(&Rec) -> bool) -> bool {
    h.incomes.iter().any(|i| f(i))
}

/// The household's row of the policy year (its latest income year).
fn latest_income(c: &Ctx, h: &Hh, f: impl Fn(&Rec) -> bool) -> bool {
    h.incomes.iter().any(|i| i["year"] == c.year.to_string() && f(i))
}

/// 劳动技能 普通, 技能 or 弱劳动力: can work at all.
fn can_work(p: &Rec) -> bool {
    in_(p, "labour", &["01", "02", "05"])
}

/// Every kind's predicate, in `FAULT_KINDS` order.
pub const ORACLES: &[(&str, Pred)] = &[
    (
        "id_checksum",
        P(|_, _, p| {
            let id = p["id_number"].to_ascii_uppercase();
            let b = id.as_bytes();
            id_type_01(p)
                && b.len() == 18
                && b[..17].iter().all(u8::is_ascii_digit)
                && valid_date(&id[6..14])
                && b[17] as char != check_char(&b[..17])
        }),
    ),
    (
        "id_length",
        P(|_, _, p| {
            let n = p["id_number"].chars().count();
            id_type_01(p) && n > 0 && n != 15 && n != 18
        }),
    ),
    (
        "duplicate_id",
        P(|c, _, p| {
            !empty(p, "id_number") && c.first_holder[p["id_number"].to_ascii_uppercase().as_str()] != p["person_id"]
        }),
    ),
    (
        "head_spouse_same_sex",
        P(|_, h, p| {
            is(p, "relation", "02") && h.members.iter().any(|m| is(m, "relation", "01") && m["sex"] == p["sex"])
        }),
    ),
    (
        "relation_sex_mismatch",
        P(|_, _, p| {
            (in_(p, "relation", &["03", "06", "07", "09", "11", "13", "15", "17", "19"]) && is(p, "sex", "2"))
                || (in_(p, "relation", &["04", "05", "08", "10", "12", "14", "16", "18", "20"]) && is(p, "sex", "1"))
        }),
    ),
    (
        "cause_illness_all_healthy",
        H(|_, h| is(h.row, "main_cause", "01") && !h.members.iter().any(|m| health(m, "02") || health(m, "03"))),
    ),
    (
        "cause_school_no_student",
        H(|_, h| is(h.row, "main_cause", "03") && !h.members.iter().any(|m| school_between(m, 3, 16))),
    ),
    (
        "cause_disability_nobody_disabled",
        H(|_, h| is(h.row, "main_cause", "02") && !h.members.iter().any(|m| health(m, "04"))),
    ),
    (
        "other_cause_repeats_main",
        H(|_, h| {
            let m = &h.row["main_cause"];
            !m.is_empty() && (h.row["other_cause1"] == *m || h.row["other_cause2"] == *m)
        }),
    ),
    (
        "income_not_adding_up",
        H(|_, h| {
            any_income(h, |i| {
                let members = int(i, "members").unwrap_or(0);
                let sum = |role| schema::INCOMES.columns_of(role).map(|c| fen(i, c.name)).sum::<i64>();
                let total = sum(Role::Income) - sum(Role::Cost);
                // Compared in fen × members, so no division rounds.
                members > 0 && (total - fen(i, "net_per_capita") * members).abs() > 100 * members
            })
        }),
    ),
    (
        "business_income_without_costs",
        H(|_, h| {
            any_income(h, |i| {
                fen(i, "planting") + fen(i, "breeding") + fen(i, "other_business") > 0 && fen(i, "business_costs") == 0
            })
        }),
    ),
    ("migrant_months_out_of_range", P(|_, _, p| int(p, "migrant_months").is_some_and(|m| !(0..=12).contains(&m)))),
    ("migrant_place_without_months", P(|_, _, p| !empty(p, "migrant_place") && months(p) == 0)),
    (
        "working_age_healthy_no_labour",
        P(|c, _, p| age_in(c, p, 16..=65) && is(p, "health", "01") && in_(p, "labour", &["03", "04"])),
    ),
    ("missing_ethnicity", P(|_, _, p| empty(p, "ethnicity"))),
    (
        "missing_education",
        P(|c, _, p| age_in(c, p, 16..) && in_(p, "school_status", &["", "01"]) && empty(p, "education")),
    ),
    ("missing_school_status", P(|c, _, p| age_in(c, p, 6..=23) && empty(p, "school_status"))),
    ("farmland_too_large", H(|_, h| dec(h.row, "farmland_mu") > 50.0 * h.members.len() as f64)),
    ("road_too_far", H(|_, h| dec(h.row, "road_km") > 50.0)),
    (
        "senior_high_too_young",
        P(|c, _, p| age_in(c, p, ..=14) && (school_between(p, 7, 16) || in_(p, "education", &["04", "05"]))),
    ),
    ("primary_too_old", P(|c, _, p| age_in(c, p, 20..) && in_(p, "school_status", &["02", "03"]))),
    (
        "dibao_household_without_dibao_member",
        H(|_, h| is(h.row, "attribute", "2") && !h.members.iter().any(|m| yes(m, "dibao"))),
    ),
    ("tekun_with_able_member", P(|c, h, p| is(h.row, "attribute", "3") && age_in(c, p, 16..=65) && able(p))),
    ("missing_labour", P(|c, _, p| age_in(c, p, 16..=65) && empty(p, "labour"))),
    ("missing_main_cause", H(|_, h| registered(h) && empty(h.row, "main_cause"))),
    ("missing_home_power", H(|_, h| empty(h.row, "home_power"))),
    ("missing_house_area", H(|_, h| empty(h.row, "house_area"))),
    ("missing_water_safe", H(|_, h| empty(h.row, "water_safe"))),
    ("missing_fuel", H(|_, h| empty(h.row, "fuel"))),
    ("missing_path_type", H(|_, h| empty(h.row, "path_type"))),
    ("disabled_without_cert", P(|_, _, p| health(p, "04") && empty(p, "disability_cert"))),
    (
        "disability_cert_length",
        P(|_, _, p| {
            let n = p["disability_cert"].chars().count();
            n > 0 && n != 20 && n != 22
        }),
    ),
    (
        "ordinary_household_with_benefit_money",
        H(|c, h| {
            is(h.row, "attribute", "1")
                && latest_income(c, h, |i| fen(i, "dibao_money") > 0 || fen(i, "tekun_money") > 0)
        }),
    ),
    ("dibao_and_tekun", P(|_, _, p| yes(p, "dibao") && yes(p, "tekun"))),
    (
        "benefit_amount_zero",
        H(|c, h| {
            (is(h.row, "attribute", "2") && latest_income(c, h, |i| fen(i, "dibao_money") == 0))
                || (is(h.row, "attribute", "3") && latest_income(c, h, |i| fen(i, "tekun_money") == 0))
        }),
    ),
    (
        "net_income_out_of_range",
        H(|_, h| any_income(h, |i| amount(i, "net_per_capita").is_some_and(|n| n <= 0 || n > 100_000 * 100))),
    ),
    (
        "wages_without_worker",
        H(|c, h| !h.members.iter().any(|m| months(m) > 0) && latest_income(c, h, |i| fen(i, "wages") > 0)),
    ),
    (
        "worker_without_wages",
        H(|c, h| h.members.iter().any(|m| months(m) > 0) && latest_income(c, h, |i| fen(i, "wages") == 0)),
    ),
    ("migrant_months_without_place", P(|_, _, p| months(p) > 0 && empty(p, "migrant_place"))),
    ("non_able_working", P(|_, _, p| months(p) > 0 && in_(p, "labour", &["03", "04"]))),
    ("no_helper", H(|_, h| (registered(h) || !empty(h.row, "monitor_type")) && !h.open_pairing)),
    (
        "helper_is_poor",
        P(|c, h, p| {
            registered(h) && !empty(p, "id_number") && c.helper_ids.contains(&p["id_number"].to_ascii_uppercase())
        }),
    ),
    ("forest_too_large", H(|_, h| dec(h.row, "forest_mu") > 70.0 * h.members.len() as f64)),
    (
        "monitor_unstable_work_nobody_able",
        H(|_, h| !empty(h.row, "monitor_type") && risk(h, "07") && !h.members.iter().any(|m| can_work(m))),
    ),
    (
        "monitor_unstable_work_no_work_records",
        H(|_, h| {
            !empty(h.row, "monitor_type")
                && risk(h, "07")
                && h.members.iter().any(|m| can_work(m))
                && !h.members.iter().any(|m| months(m) > 0)
        }),
    ),
    (
        "id_malformed",
        P(|_, _, p| {
            let id = &p["id_number"];
            let b = id.as_bytes();
            id_type_01(p)
                && id.chars().count() == 18
                && (!b[..17].iter().all(u8::is_ascii_digit) || !id.get(6..14).is_some_and(valid_date))
        }),
    ),
    (
        "birth_date_id_mismatch",
        P(|_, _, p| {
            valid_id(p).is_some_and(|id| {
                !empty(p, "birth_date") && p["birth_date"] != format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14])
            })
        }),
    ),
    (
        "sex_id_mismatch",
        P(|_, _, p| {
            valid_id(p).is_some_and(|id| {
                let from_id = if (id.as_bytes()[16] - b'0') % 2 == 1 { "1" } else { "2" };
                in_(p, "sex", &["1", "2"]) && p["sex"] != from_id
            })
        }),
    ),
];

/// What every kind's predicate finds in `db`, sorted.
pub fn findings(db: &Db) -> Vec<Finding> {
    let year = db.incomes.iter().map(|i| i["year"].parse::<i32>().unwrap()).max().unwrap();
    let mut first_holder: BTreeMap<String, &str> = BTreeMap::new();
    for p in db.persons.iter().filter(|p| !empty(p, "id_number")) {
        let e = first_holder.entry(p["id_number"].to_ascii_uppercase()).or_insert(&p["person_id"]);
        if p["person_id"].as_str() < *e {
            *e = &p["person_id"];
        }
    }
    let helper_ids = db.helpers.iter().map(|h| h["id_number"].to_ascii_uppercase()).collect();
    let ctx = Ctx { year, first_holder, helper_ids };
    let mut hhs: BTreeMap<&str, Hh> = db
        .households
        .iter()
        .map(|h| (h["hh_id"].as_str(), Hh { row: h, members: vec![], incomes: vec![], open_pairing: false }))
        .collect();
    for p in &db.persons {
        hhs.get_mut(p["hh_id"].as_str()).unwrap().members.push(p);
    }
    for i in &db.incomes {
        hhs.get_mut(i["hh_id"].as_str()).unwrap().incomes.push(i);
    }
    for pa in db.pairings.iter().filter(|pa| empty(pa, "to_date")) {
        hhs.get_mut(pa["hh_id"].as_str()).unwrap().open_pairing = true;
    }
    let mut out = BTreeSet::new();
    for (kind, pred) in ORACLES {
        for (id, h) in &hhs {
            match pred {
                Pred::Household(f) => {
                    if f(&ctx, h) {
                        out.insert((kind.to_string(), id.to_string(), String::new()));
                    }
                }
                Pred::Person(f) => {
                    for p in &h.members {
                        if f(&ctx, h, p) {
                            out.insert((kind.to_string(), id.to_string(), p["person_id"].clone()));
                        }
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}
