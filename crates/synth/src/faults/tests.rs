use super::*;
use fupin_domain::schema;
use std::collections::BTreeSet;

/// The `table.column` names a check text quotes in backticks.
fn fields(check: &str) -> Vec<&str> {
    check.split('`').skip(1).step_by(2).collect()
}

#[test]
fn at_least_45_kinds_with_unique_names_covering_every_group() {
    assert!(FAULT_KINDS.len() >= 45, "{} kinds", FAULT_KINDS.len());
    let names: BTreeSet<&str> = FAULT_KINDS.iter().map(|k| k.kind).collect();
    assert_eq!(names.len(), FAULT_KINDS.len(), "a kind is listed twice");
    for g in Group::ALL {
        assert!(FAULT_KINDS.iter().any(|k| k.group == g), "no fault kind in group {}", g.name());
    }
    for k in FAULT_KINDS {
        assert!(k.kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{}", k.kind);
        assert!(!k.description.is_empty() && !k.description.is_ascii(), "{}: Chinese description", k.kind);
    }
}

#[test]
fn at_most_ten_plain_required_field_kinds() {
    let plain: Vec<&str> = FAULT_KINDS.iter().filter(|k| k.kind.starts_with("missing_")).map(|k| k.kind).collect();
    assert!(plain.len() <= 10, "{plain:?}");
    for k in FAULT_KINDS.iter().filter(|k| k.kind.starts_with("missing_")) {
        assert_eq!(k.group, Group::Required, "{}", k.kind);
        assert!(k.check.contains("is empty"), "{}: a plain required-field check tests emptiness", k.kind);
    }
}

#[test]
fn earlier_kind_names_are_kept() {
    let earlier = [
        "id_checksum",
        "id_length",
        "duplicate_id",
        "head_spouse_same_sex",
        "relation_sex_mismatch",
        "cause_illness_all_healthy",
        "cause_school_no_student",
        "cause_disability_nobody_disabled",
        "other_cause_repeats_main",
        "income_not_adding_up",
        "business_income_without_costs",
        "migrant_months_out_of_range",
        "migrant_place_without_months",
        "working_age_healthy_no_labour",
        "missing_ethnicity",
        "missing_education",
        "missing_school_status",
        "farmland_too_large",
        "road_too_far",
        "senior_high_too_young",
        "primary_too_old",
        "dibao_household_without_dibao_member",
        "tekun_with_able_member",
    ];
    for (i, name) in earlier.iter().enumerate() {
        assert_eq!(FAULT_KINDS[i].kind, *name);
    }
}

#[test]
fn checks_name_only_schema_fields() {
    for k in FAULT_KINDS {
        let fs = fields(k.check);
        assert!(!fs.is_empty(), "{}: the check names no field", k.kind);
        for f in fs {
            let (table, column) = f.split_once('.').map_or((f, None), |(t, c)| (t, Some(c)));
            let t = schema::table(table).unwrap_or_else(|| panic!("{}: no table {table}", k.kind));
            if let Some(c) = column {
                assert!(t.column(c).is_some(), "{}: no column {table}.{c}", k.kind);
            }
        }
        let on_person = k.check.starts_with("person:");
        assert_eq!(on_person, k.level == Level::Person, "{}: the check's subject and the level differ", k.kind);
    }
}

#[test]
fn kinds_needing_a_household_shape_get_a_hint() {
    assert_eq!(hint(index("tekun_with_able_member")), Hint::Tekun);
    assert_eq!(hint(index("dibao_and_tekun")), Hint::Tekun);
    assert_eq!(hint(index("dibao_household_without_dibao_member")), Hint::DibaoSingle);
    assert_eq!(hint(index("helper_is_poor")), Hint::Registered);
    assert_eq!(hint(index("road_too_far")), Hint::None);
}

#[test]
fn the_planner_leaves_out_monitoring_kinds_before_monitoring_began() {
    use rand::SeedableRng;
    let mut rng = Rng8::seed_from_u64(3);
    let n = FAULT_KINDS.len();
    let mut p = Planner::new(&mut rng, 2 * n, 10 * n, false);
    let mut kinds = BTreeSet::new();
    while let Some(k) = p.due(10 * n - 1) {
        kinds.insert(k);
        p.placed();
    }
    let monitoring = (0..n).filter(|k| monitoring_kind(*k)).count();
    assert!(monitoring >= 2);
    assert_eq!(kinds.len(), n - monitoring);
    assert!(kinds.iter().all(|k| !monitoring_kind(*k)));
    let mut p = Planner::new(&mut rng, n, 10 * n, true);
    let mut all = BTreeSet::new();
    while let Some(k) = p.due(10 * n - 1) {
        all.insert(k);
        p.placed();
    }
    assert_eq!(all.len(), n, "every kind once when faults = kinds");
}

/// Generates households for `kind` (with its hint) until one takes the fault; returns
/// the household before and after.
fn injected(kind: usize, seed: u64) -> (Household, Household, FaultRow) {
    use rand::SeedableRng;
    let cfg = crate::Config::xunyang(2000, seed, time::macros::date!(2026 - 03 - 15));
    let lines = crate::check(&cfg).unwrap();
    let mut rng = Rng8::seed_from_u64(seed);
    let tree = fupin_domain::DivisionTree::builtin_xunyang();
    let villages = crate::villages::plan(&mut rng, &tree, &cfg.county, cfg.households, cfg.first_year).unwrap();
    let mut g = Gen {
        rng,
        ids: crate::ids::IdAllocator::new(),
        lines,
        today: cfg.today,
        first_year: cfg.first_year,
        last_year: cfg.last_year,
        min_age: 0,
        monitoring_on: true,
        mix: cfg.mix.clone(),
        unregistered: 0,
        missed_poor: 0,
    };
    let mut donors = Donors::default();
    for i in 0..5000 {
        let mut hh = g.household(&villages, i % villages.len(), hint(kind));
        hh.id = format!("{}{:05}", villages[i % villages.len()].code, i + 1);
        let before = hh.clone();
        if let Some(row) = apply(kind, &mut hh, &mut g, &mut donors) {
            return (before, hh, row);
        }
        donors.offer(&hh);
    }
    panic!("{} was never injected", FAULT_KINDS[kind].kind);
}

/// Records of the household that differ: members by 人编号, then `income YEAR`,
/// `monitoring` and `household` (its own row, with the markers for blank cells, pairings
/// and helpers).
fn changed_records(before: &Household, after: &Household) -> Vec<String> {
    let dbg = |x: &dyn std::fmt::Debug| format!("{x:?}");
    let mut out: Vec<String> = before
        .persons
        .iter()
        .zip(&after.persons)
        .filter(|(a, b)| dbg(a) != dbg(b))
        .map(|(_, b)| person_id(after, b.no))
        .collect();
    for (x, y) in before.incomes.iter().zip(&after.incomes) {
        if dbg(x) != dbg(y) {
            out.push(format!("income {}", y.year));
        }
    }
    if dbg(&before.monitor) != dbg(&after.monitor) {
        out.push("monitoring".into());
    }
    let strip = |h: &Household| {
        let mut h = h.clone();
        h.persons.clear();
        h.incomes.clear();
        h.monitor = None;
        format!("{h:?}")
    };
    if strip(before) != strip(after) {
        out.push("household".into());
    }
    out
}

#[test]
fn every_kind_changes_one_record_of_its_household() {
    for (kind, k) in FAULT_KINDS.iter().enumerate() {
        let (before, after, row) = injected(kind, 40 + kind as u64);
        assert_eq!(row.kind, k.kind);
        assert!(!row.detail.is_empty());
        assert_eq!(before.persons.len(), after.persons.len(), "{}: members added or removed", k.kind);
        let changed = changed_records(&before, &after);
        assert_eq!(changed.len(), 1, "{}: one record changes, not {changed:?}", k.kind);
        match k.level {
            Level::Person if k.kind == "helper_is_poor" => {
                // The member's own row stays; a helper row with the member's number is added.
                assert_eq!(changed, ["household"]);
                assert_eq!(after.helper_member.map(|no| person_id(&after, no)), Some(row.person_id.clone()));
            }
            Level::Person => assert_eq!(changed, [row.person_id.as_str()], "{}: the named member", k.kind),
            Level::Household => assert!(row.person_id.is_empty(), "{}", k.kind),
        }
    }
}
