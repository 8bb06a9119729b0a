//! The shipped rule sets as the worklist needs them: each rule's Chinese title and the
//! registry columns it reads (a department officer sees the findings of a rule only
//! when they see every column it reads, `departments.rs`). 运行检查, the county
//! administrator's run of the default sets, is `fupin_app::check::run_default`.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use fupin_domain::CodeLists;
use fupin_store::users::Role;

use crate::session::CurrentUser;

/// A rule as the worklist shows it.
#[derive(Debug)]
pub(crate) struct RuleInfo {
    pub title: String,
    pub columns: BTreeSet<(&'static str, &'static str)>,
}

struct Catalog {
    rules: HashMap<String, RuleInfo>,
}

/// The shipped rule sets, loaded once. They are checked by the rules crate's tests,
/// so a build that ships them loads them; should one not load, the worklist shows
/// rule ids and a department officer sees no finding (nothing is shown that is not
/// known to be theirs).
static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
    let sets = match fupin_rules::load::builtin(&CodeLists::builtin()) {
        Ok(sets) => sets,
        Err(e) => {
            tracing::error!(error = %e, "内置规则加载失败");
            Vec::new()
        }
    };
    let rules = sets
        .iter()
        .flat_map(|s| &s.rules)
        .map(|r| (r.id.clone(), RuleInfo { title: r.title.clone(), columns: r.columns() }))
        .collect();
    Catalog { rules }
});

/// The rule's title, or its id for a rule not shipped (a user rule set run by `fupin check`).
pub(crate) fn title(rule_id: &str) -> String {
    CATALOG.rules.get(rule_id).map_or_else(|| rule_id.to_owned(), |r| r.title.clone())
}

/// Whether the user sees every column the rule reads (every role but a department
/// officer sees every rule; a rule not shipped is nobody's department's).
pub(crate) fn may_see_rule(user: &CurrentUser, rule_id: &str) -> bool {
    if user.user.role != Role::DepartmentOfficer {
        return true;
    }
    CATALOG.rules.get(rule_id).is_some_and(|r| r.columns.iter().all(|(t, c)| user.may_see_field(t, c)))
}

/// The rules whose findings the user may see: `None` for every rule, else the
/// department officer's.
pub(crate) fn visible_rules(user: &CurrentUser) -> Option<Vec<String>> {
    if user.user.role != Role::DepartmentOfficer {
        return None;
    }
    let mut ids: Vec<String> = CATALOG.rules.keys().filter(|id| may_see_rule(user, id)).cloned().collect();
    ids.sort();
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_has_a_chinese_title() {
        assert!(!CATALOG.rules.is_empty());
        for (id, r) in &CATALOG.rules {
            assert!(r.title.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{id}: {}", r.title);
            assert_eq!(title(id), r.title);
        }
        assert_eq!(title("no_such_rule"), "no_such_rule");
    }
}
