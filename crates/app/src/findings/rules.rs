//! The shipped rules as the worklist needs them: each rule's Chinese title and the
//! registry columns it reads. A department officer (部门数据员) sees the findings of a
//! rule only when they see every column it reads (`data/policy/department_fields.csv`),
//! so that no finding shows them a value of another department's.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use fupin_domain::CodeLists;
use fupin_store::users::Role;

use crate::Viewer;

/// A shipped rule as the worklist shows it.
#[derive(Debug)]
struct RuleInfo {
    title: String,
    columns: BTreeSet<(&'static str, &'static str)>,
}

/// The shipped rules by id, loaded once. They are checked by the rules crate's tests,
/// so a build that ships them loads them; should one not load, the worklist shows
/// rule ids and a department officer sees no finding (nothing is shown that is not
/// known to be theirs).
static CATALOG: LazyLock<HashMap<String, RuleInfo>> = LazyLock::new(|| {
    let sets = match fupin_rules::load::builtin(&CodeLists::builtin()) {
        Ok(sets) => sets,
        Err(e) => {
            tracing::error!(error = %e, "内置规则加载失败");
            Vec::new()
        }
    };
    sets.iter()
        .flat_map(|s| &s.rules)
        .map(|r| (r.id.clone(), RuleInfo { title: r.title.clone(), columns: r.columns() }))
        .collect()
});

/// The rule's title, or its id for a rule not shipped (a user rule set run by `fupin check`).
pub fn title(rule_id: &str) -> String {
    CATALOG.get(rule_id).map_or_else(|| rule_id.to_owned(), |r| r.title.clone())
}

/// Whether the viewer sees every column the rule reads (every role but a department
/// officer sees every rule; a rule not shipped is nobody's department's).
pub fn may_see_rule(viewer: &Viewer, rule_id: &str) -> bool {
    if viewer.user.role != Role::DepartmentOfficer {
        return true;
    }
    CATALOG.get(rule_id).is_some_and(|r| r.columns.iter().all(|(t, c)| viewer.may_see_field(t, c)))
}

/// The rules whose findings the viewer may see: `None` for every rule, else the
/// department officer's, sorted.
pub fn visible_rules(viewer: &Viewer) -> Option<Vec<String>> {
    if viewer.user.role != Role::DepartmentOfficer {
        return None;
    }
    let mut ids: Vec<String> = CATALOG.keys().filter(|id| may_see_rule(viewer, id)).cloned().collect();
    ids.sort();
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::viewer;

    #[test]
    fn every_shipped_rule_has_a_chinese_title() {
        assert!(!CATALOG.is_empty());
        for (id, r) in CATALOG.iter() {
            assert!(r.title.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{id}: {}", r.title);
            assert_eq!(title(id), r.title);
        }
        assert_eq!(title("no_such_rule"), "no_such_rule");
    }

    #[test]
    fn a_department_officer_sees_only_the_rules_over_their_own_columns() {
        let admin = viewer(Role::CountyAdmin, "610981", None);
        assert_eq!(visible_rules(&admin), None);
        assert!(may_see_rule(&admin, "no_such_rule"));
        let officer = viewer(Role::DepartmentOfficer, "610981", Some("02"));
        let theirs = visible_rules(&officer).unwrap_or_default();
        assert!(theirs.len() < CATALOG.len(), "not every rule is one department's");
        assert!(!may_see_rule(&officer, "no_such_rule"), "a rule not shipped is nobody's");
        for id in CATALOG.keys() {
            assert_eq!(may_see_rule(&officer, id), theirs.contains(id), "{id}");
        }
    }
}
