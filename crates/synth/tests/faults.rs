//! The fault kinds against their oracle: for three seeds every kind is injected, the
//! key lists exactly what each kind's check finds, and clean data meets no check.
//! Also keeps `crates/synth/FAULTS.md` in step with `FAULT_KINDS`
//! (`FUPIN_WRITE_FAULTS=1 cargo test -p fupin-synth --test faults` rewrites it).

mod check;

use check::Data;
use check::oracle::{self, ORACLES, Pred};
use fupin_domain::DivisionTree;
use fupin_synth::{Config, FAULT_KINDS, Group, Level, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn cfg(households: usize, seed: u64, faults: usize) -> Config {
    let mut c = Config::xunyang(households, seed, time::macros::date!(2026 - 03 - 15));
    c.faults = faults;
    c
}

fn run(c: &Config, dir: &Path) -> fupin_synth::Summary {
    generate(c, &DivisionTree::builtin_xunyang(), dir, None).unwrap()
}

#[test]
fn the_oracle_has_one_predicate_per_kind_at_its_level() {
    assert_eq!(ORACLES.len(), FAULT_KINDS.len());
    for ((name, pred), kind) in ORACLES.iter().zip(FAULT_KINDS) {
        assert_eq!(*name, kind.kind);
        let person = matches!(pred, Pred::Person(_));
        assert_eq!(person, kind.level == Level::Person, "{name}");
    }
}

#[test]
fn the_checksum_of_the_id_checksum_check_is_gb_11643() {
    // The standard's published example, and numbers the domain crate composes.
    assert_eq!(oracle::check_char(b"11010519491231002"), 'X');
    for (seq, male) in [(0u16, false), (17, true), (998, false), (431, true)] {
        let birth = time::macros::date!(1987 - 02 - 28);
        let id = fupin_domain::id_number::compose("610981", birth, seq, male).to_string();
        assert_eq!(oracle::check_char(&id.as_bytes()[..17]), id.chars().last().unwrap(), "{id}");
    }
}

#[test]
fn three_seeds_inject_every_kind_and_the_key_is_what_the_checks_find() {
    let n = FAULT_KINDS.len();
    for seed in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let s = run(&cfg(1500, seed, 2 * n), dir.path());
        assert_eq!(s.faults, 2 * n);
        let d = Data::load(dir.path());
        assert_eq!(d.faults.len(), 2 * n, "seed {seed}: one key row per fault");
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &d.faults {
            *per_kind.entry(r["kind"].as_str()).or_default() += 1;
        }
        for k in FAULT_KINDS {
            assert!(per_kind.get(k.kind).is_some_and(|c| *c >= 1), "seed {seed}: {} never injected", k.kind);
        }
        let households: BTreeSet<&str> = d.faults.iter().map(|r| r["户编号"].as_str()).collect();
        assert_eq!(households.len(), 2 * n, "seed {seed}: one fault per household");
        let found = oracle::findings(&oracle::Db::load(dir.path()));
        let key = check::key(&d);
        for k in FAULT_KINDS {
            let f: Vec<_> = found.iter().filter(|x| x.0 == k.kind).collect();
            let want: Vec<_> = key.iter().filter(|x| x.0 == k.kind).collect();
            assert_eq!(f, want, "seed {seed}: the {} check against the key", k.kind);
        }
        assert_eq!(found, key, "seed {seed}");
        let other = check::findings(&d);
        assert!(other.is_empty(), "seed {seed}: faults broke an invariant: {other:#?}");
    }
}

#[test]
fn clean_data_meets_no_check_for_three_seeds_and_several_sizes() {
    for seed in [1, 2, 3] {
        for households in [120, 900, 2500] {
            let dir = tempfile::tempdir().unwrap();
            run(&cfg(households, seed, 0), dir.path());
            let found = oracle::findings(&oracle::Db::load(dir.path()));
            assert!(found.is_empty(), "seed {seed}, {households} households: {:#?}", &found[..found.len().min(20)]);
        }
    }
}

/// `|` inside a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

fn render() -> String {
    let mut md = String::from(
        "# Data-quality fault kinds\n\n\
         Generated from `FAULT_KINDS` (`crates/synth/src/faults/kinds.rs`) by \
         `FUPIN_WRITE_FAULTS=1 cargo test -p fupin-synth --test faults`; a test fails when this file is stale.\n\n\
         `fupin generate --faults N` injects these kinds into otherwise clean households and lists each one in \
         `key/faults.csv` (`kind,户编号,人编号,detail`). Each kind is one national data-quality check (REFERENCE \
         §1.3): the data-quality rule with the same id must test exactly the condition in **check**, which \
         `crates/synth/tests/check/oracle.rs` implements in plain Rust; on clean generated data no check finds \
         anything, on faulted data each finds exactly its key rows.\n\n\
         Conventions of the checks:\n\n\
         - Fields are `table.column` with the registry's English names (`crates/domain/src/schema.rs`); codes \
         are the `data/codes/` codes, quoted.\n\
         - *empty* means the cell is null. Booleans are true for 是.\n\
         - A comparison with an empty value is false (an empty age, amount or area meets no bound), except where \
         the check says \"0 or empty\" or \"empty amounts count as 0\".\n\
         - Code ranges (\"between '03' and '16'\") compare the two-digit codes as numbers.\n\
         - *age* is the age on 31 December of the policy year: policy year − year of `persons.birth_date` (the \
         policy year of generated data is its latest `incomes.year`).\n\
         - *members* are the `persons` rows with the household's `hh_id`; *member count* is their number.\n\
         - An `incomes` check is tested on every income year of the household; its finding is on the household.\n\
         - Households and persons are today's snapshot: a check that compares them with income reads *the latest \
         `incomes` row* (the policy year's) only, since earlier years may legitimately differ (a 低保 that ended, \
         migration that began later); the rules also check ages against today's fields only in that year.\n\
         - Level 人: the finding is keyed by 户编号 and 人编号; level 户: by 户编号 alone.\n\
         - Plain required-field checks are the `missing_…` kinds (at most 10).\n\
         - Not injected: a 15-digit number not upgraded to 18 — the importer upgrades every valid 15-digit \
         number, so the registry cannot hold one.\n\
         - Monitoring kinds need 防返贫监测 (2021 on); for earlier reference years they are left out.\n",
    );
    for g in Group::ALL {
        let kinds: Vec<_> = FAULT_KINDS.iter().filter(|k| k.group == g).collect();
        md.push_str(&format!(
            "\n## {} ({})\n\n| kind | level | description | check |\n|---|---|---|---|\n",
            g.name(),
            kinds.len()
        ));
        for k in kinds {
            let level = if k.level == Level::Person { "人" } else { "户" };
            md.push_str(&format!("| `{}` | {level} | {} | {} |\n", k.kind, cell(k.description), cell(k.check)));
        }
    }
    md.push_str(&format!("\n{} kinds in all.\n", FAULT_KINDS.len()));
    md
}

#[test]
fn faults_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/FAULTS.md");
    let want = render();
    if std::env::var_os("FUPIN_WRITE_FAULTS").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(have == want, "{path} is stale: FUPIN_WRITE_FAULTS=1 cargo test -p fupin-synth --test faults");
}
