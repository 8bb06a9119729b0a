//! End-to-end tests of the generator on the real 旬阳 division tree.

mod check;

use check::Data;
use fupin_domain::DivisionTree;
use fupin_domain::schema::TABLES;
use fupin_synth::{Config, FAULT_KINDS, Level, generate};
use std::collections::BTreeSet;
use std::path::Path;

fn cfg(households: usize, seed: u64, faults: usize) -> Config {
    let mut c = Config::xunyang(households, seed, time::macros::date!(2026 - 03 - 15));
    c.faults = faults;
    c
}

fn run(c: &Config, dir: &Path) -> fupin_synth::Summary {
    generate(c, &DivisionTree::builtin_xunyang(), dir, None).unwrap()
}

fn bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("key")] {
        let mut names: Vec<_> =
            std::fs::read_dir(&sub).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        names.sort();
        for p in names {
            files.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    files
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&cfg(300, 7, 30), a.path());
    run(&cfg(300, 7, 30), b.path());
    run(&cfg(300, 8, 30), c.path());
    let (fa, fb, fc) = (bytes(a.path()), bytes(b.path()), bytes(c.path()));
    assert_eq!(fa.len(), 9);
    assert_eq!(fa, fb);
    let persons = |f: &[(String, Vec<u8>)]| f.iter().find(|x| x.0 == "persons.csv").unwrap().1.clone();
    assert_ne!(persons(&fa), persons(&fc));
}

#[test]
fn headers_follow_the_schema_and_the_key_is_apart() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(&cfg(120, 1, 0), dir.path());
    for t in TABLES {
        let path = dir.path().join(format!("{}.csv", t.name));
        let raw = std::fs::read(&path).unwrap();
        assert!(!raw.starts_with(&[0xEF, 0xBB, 0xBF]), "{} has a BOM", t.name);
        let (headers, rows) = check::read(&path);
        let want: Vec<&str> = t.columns.iter().map(|c| c.header).collect();
        assert_eq!(headers, want, "{}", t.name);
        assert!(!rows.is_empty(), "{} is empty", t.name);
    }
    let mut top: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    top.sort();
    let mut want: Vec<String> = TABLES.iter().map(|t| format!("{}.csv", t.name)).collect();
    want.push("key".into());
    want.sort();
    assert_eq!(top, want);
    let mut key: Vec<String> = std::fs::read_dir(dir.path().join("key"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    key.sort();
    assert_eq!(key, ["faults.csv", "missed.csv", "monitoring.csv"]);
    let names: Vec<String> = s.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    let want: Vec<String> = TABLES.iter().map(|t| format!("{}.csv", t.name)).collect();
    assert_eq!(names, want, "exchange files in table order");
    assert!(s.key_files.iter().all(|f| f.parent().unwrap().ends_with("key")));
    assert_eq!(s.key_files.len(), 3);
}

#[test]
fn clean_data_has_no_problem_and_realistic_counts() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(&cfg(500, 3, 0), dir.path());
    let d = Data::load(dir.path());
    let problems = check::all(dir.path(), &d);
    assert!(problems.is_empty(), "clean data has problems: {:#?}", &problems[..problems.len().min(30)]);
    assert!(d.faults.is_empty());
    assert_eq!(s.households, 500);
    assert_eq!(d.households.len(), 500);
    assert_eq!(s.persons, d.persons.len());
    let avg = d.persons.len() as f64 / 500.0;
    assert!((2.9..3.6).contains(&avg), "{avg} persons per household");
    let registered = d.households.iter().filter(|h| h["户类型"] != "1").count() as f64 / 500.0;
    assert!((0.18..0.36).contains(&registered), "registered share {registered}");
    // Xunyang exited in 2020: every registered household had exited by then.
    assert!(d.households.iter().all(|h| h["户类型"] != "2"));
    let monitored = d.households.iter().filter(|h| !h["监测对象类型"].is_empty()).count();
    assert_eq!(monitored, d.monitoring.len());
    assert!((5..=40).contains(&monitored), "{monitored} monitored households");
    // Every village of the tree gets households when there are enough of them.
    let villages: BTreeSet<&str> = d.households.iter().map(|h| h["行政村代码"].as_str()).collect();
    assert!(villages.len() > 250, "{} villages", villages.len());
    assert_eq!(d.villages.len(), 309 * (2026 - 2014 + 1));
    assert!(!d.helpers.is_empty() && !d.pairings.is_empty());
    // 户编号 = village + 5 digits, 人编号 = 户编号 + 2 digits.
    for h in &d.households {
        assert_eq!(h["户编号"].len(), 17);
        assert!(h["户编号"].starts_with(&h["行政村代码"]));
    }
    for p in &d.persons {
        assert_eq!(p["人编号"].len(), 19);
        assert!(p["人编号"].starts_with(&p["户编号"]));
    }
}

#[test]
fn faults_are_exactly_what_the_key_says() {
    let dir = tempfile::tempdir().unwrap();
    let k = FAULT_KINDS.len() + 5;
    let s = run(&cfg(600, 11, k), dir.path());
    assert_eq!(s.faults, k);
    let d = Data::load(dir.path());
    assert_eq!(d.faults.len(), k);
    let kinds: BTreeSet<&str> = d.faults.iter().map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds.len(), FAULT_KINDS.len(), "every kind at least once");
    let households: BTreeSet<&str> = d.faults.iter().map(|r| r["户编号"].as_str()).collect();
    assert_eq!(households.len(), k, "one fault per household");
    for r in &d.faults {
        let kind = FAULT_KINDS.iter().find(|f| f.kind == r["kind"]).unwrap();
        assert_eq!(kind.level == Level::Person, !r["人编号"].is_empty(), "{r:?}");
        assert!(!r["detail"].is_empty());
    }
    let found = check::all(dir.path(), &d);
    assert_eq!(found, check::key(&d));
}

#[test]
fn faults_spread_over_a_bigger_county() {
    let dir = tempfile::tempdir().unwrap();
    run(&cfg(2000, 5, 100), dir.path());
    let d = Data::load(dir.path());
    assert_eq!(check::all(dir.path(), &d), check::key(&d));
}

#[test]
fn bad_configurations_are_refused_in_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let tree = DivisionTree::builtin_xunyang();
    let mut c = cfg(10, 1, 6);
    let e = generate(&c, &tree, dir.path(), None).unwrap_err().to_string();
    assert!(e.contains("错误数"), "{e}");
    c.faults = 0;
    c.county = "610999".into();
    let e = generate(&c, &tree, dir.path(), None).unwrap_err().to_string();
    assert!(e.contains("610999"), "{e}");
    c.county = "610981".into();
    c.first_year = 2000;
    let e = generate(&c, &tree, dir.path(), None).unwrap_err().to_string();
    assert!(e.contains("2000"), "{e}");
}

/// A larger county, for rare combinations; `SYNTH_HOUSEHOLDS=100000 cargo test --release
/// -p fupin-synth big_county` tries a bigger one.
#[test]
fn big_county_is_consistent() {
    let n: usize = std::env::var("SYNTH_HOUSEHOLDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let dir = tempfile::tempdir().unwrap();
    run(&cfg(n, 99, n / 20), dir.path());
    let d = Data::load(dir.path());
    let found = check::all(dir.path(), &d);
    let key = check::key(&d);
    let extra: Vec<_> = found.iter().filter(|f| !key.contains(f)).take(30).collect();
    let missing: Vec<_> = key.iter().filter(|f| !found.contains(f)).take(30).collect();
    assert!(extra.is_empty() && missing.is_empty(), "extra {extra:#?}\nmissing {missing:#?}");
}

#[test]
fn an_earlier_reference_year_has_registered_households_and_no_monitoring() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(400, 21, 30);
    c.today = time::macros::date!(2018 - 06 - 30);
    c.last_year = 2018;
    run(&c, dir.path());
    let d = Data::load(dir.path());
    assert_eq!(check::all(dir.path(), &d), check::key(&d));
    assert!(d.households.iter().any(|h| h["户类型"] == "2"), "some still registered in 2018");
    assert!(d.households.iter().all(|h| h["监测对象类型"].is_empty()));
    assert!(d.monitoring.is_empty());
    assert!(d.persons.iter().all(|p| p["出生日期"].as_str() <= "2018-06-30"));
    assert!(d.pairings.iter().all(|p| p["开始日期"].as_str() <= "2018-06-30"));
}

/// Incomes, labour and schooling do not simply agree with registration: registered
/// households above the line, unregistered ones below it (漏评, listed in the key),
/// 弱劳动力, 职工医保, children who start school by birth month; and another mix is
/// another county, still deterministic per seed.
#[test]
fn households_are_drawn_from_realistic_distributions() {
    let policy = fupin_domain::PolicyLines::builtin();
    for (mix, seed) in [(fupin_synth::Mix::xunyang(), 5), (fupin_synth::Mix::other(), 6)] {
        // Up to 2019: registered years and missed poor.
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::xunyang(1500, seed, time::macros::date!(2019 - 12 - 20));
        c.mix = mix.clone();
        run(&c, dir.path());
        let d = check::Data::load(dir.path());
        let status: std::collections::BTreeMap<&str, (&str, &str)> = d
            .households
            .iter()
            .map(|h| (h["户编号"].as_str(), (h["户类型"].as_str(), h["脱贫年度"].as_str())))
            .collect();
        let (mut poor_above, mut general_below) = (0, 0);
        for i in &d.incomes {
            let year: i32 = i["年度"].parse().unwrap();
            let line = policy.for_year(year, "61").unwrap().poverty_line.fen();
            let net = fupin_domain::Yuan::parse(&i["人均纯收入"]).unwrap().fen();
            let (st, exit) = status[i["户编号"].as_str()];
            let still_poor = st == "2" || (st == "3" && exit.parse::<i32>().is_ok_and(|e| year < e));
            poor_above += usize::from(still_poor && net > line);
            general_below += usize::from(st == "1" && net < line);
        }
        assert!(poor_above > 0, "{mix:?}: no registered household above the line");
        assert!(general_below > 0, "{mix:?}: no unregistered household below the line");
        assert_eq!(general_below, d.missed.iter().filter(|m| m["类型"] == "漏评").count(), "{mix:?}: 漏评 in the key");
        // School starts in the September after the sixth birthday.
        for p in &d.persons {
            let age = 2019 - p["出生日期"][..4].parse::<i32>().unwrap();
            let late = p["出生日期"][5..7].parse::<u8>().unwrap() > 8;
            if age == 6 {
                assert_eq!(p["在校生状况"] == "03", !late, "{mix:?}: {} born {}", p["人编号"], p["出生日期"]);
            }
        }
        let left_after_grade_9 = d
            .persons
            .iter()
            .any(|p| 2019 - p["出生日期"][..4].parse::<i32>().unwrap() == 15 && p["在校生状况"] == "01");
        assert!(left_after_grade_9, "{mix:?}: no 15-year-old who left after grade 9");

        // Up to 2026: weak labour and employee insurance.
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::xunyang(800, seed, time::macros::date!(2026 - 03 - 15));
        c.mix = mix.clone();
        run(&c, dir.path());
        let d = check::Data::load(dir.path());
        assert!(d.persons.iter().any(|p| p["劳动技能"] == "05"), "{mix:?}: no 弱劳动力");
        assert!(d.persons.iter().any(|p| p["是否参加职工基本医疗保险"] == "是"), "{mix:?}: no 职工医保");
        assert!(d.missed.iter().any(|m| m["类型"] == "漏监测"), "{mix:?}: no 漏监测");
        assert!(check::all(dir.path(), &d).is_empty(), "{mix:?}: {:?}", check::all(dir.path(), &d));
    }
}
