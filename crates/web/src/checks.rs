//! The shipped rule sets as the worklist needs them: each rule's Chinese title, the
//! registry columns it reads (a department officer sees the findings of a rule only
//! when they see every column it reads, `departments.rs`), and 运行检查, the county
//! administrator's run of the default sets for the county and the policy year, as
//! `fupin check` does it.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use fupin_domain::CodeLists;
use fupin_rules::RuleSet;
use fupin_rules::run::{Plan, Quiet, Report};
use fupin_store::users::Role;

use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// A rule as the worklist shows it.
#[derive(Debug)]
pub(crate) struct RuleInfo {
    pub title: String,
    pub columns: BTreeSet<(&'static str, &'static str)>,
}

struct Catalog {
    sets: Vec<RuleSet>,
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
    Catalog { sets, rules }
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

/// 运行检查: the default sets (all but `sample`) on the whole county for the policy
/// year (the newest income year, else this year), findings recorded as `fupin check`
/// records them. The runner reports progress through a `&mut dyn Progress`, which a
/// handler's future may not hold across an await, so the run has a blocking thread of
/// its own.
pub(crate) async fn run_default(state: &AppState) -> Result<(i32, Report), WebError> {
    let year = match fupin_store::rules_sql::latest_income_year(&state.store).await? {
        Some(y) => y,
        None => state.config.today.year(),
    };
    let province = state.store.meta("province").await?.unwrap_or_default();
    let store = state.store.clone();
    let handle = tokio::runtime::Handle::current();
    let report = tokio::task::spawn_blocking(move || {
        let env = fupin_rules::Env::builtin(year, &province);
        let sets: Vec<&RuleSet> = CATALOG.sets.iter().filter(|s| s.default).collect();
        let plan = Plan { sets, env: &env, scope: None, now: time::OffsetDateTime::now_utc() };
        handle.block_on(fupin_rules::run::run(&store, &plan, &mut Quiet)).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| WebError::Refused(format!("运行检查失败：{e}")))?
    .map_err(|e| WebError::Refused(format!("运行检查失败：{e}")))?;
    Ok((year, report))
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
