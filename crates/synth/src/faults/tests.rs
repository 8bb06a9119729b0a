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
