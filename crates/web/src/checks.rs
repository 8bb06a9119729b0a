//! 运行检查, the county administrator's run of the default rule sets for the county
//! and the policy year, as `fupin check` does it. Which rules a viewer sees and their
//! titles are `fupin_app::findings::rules`.

use std::sync::LazyLock;

use fupin_domain::CodeLists;
use fupin_rules::RuleSet;
use fupin_rules::run::{Plan, Quiet, Report};

use crate::{AppState, WebError};

/// The shipped rule sets, loaded once. They are checked by the rules crate's tests,
/// so a build that ships them loads them; should one not load, a run has no rules.
static SETS: LazyLock<Vec<RuleSet>> = LazyLock::new(|| match fupin_rules::load::builtin(&CodeLists::builtin()) {
    Ok(sets) => sets,
    Err(e) => {
        tracing::error!(error = %e, "内置规则加载失败");
        Vec::new()
    }
});

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
        let sets: Vec<&RuleSet> = SETS.iter().filter(|s| s.default).collect();
        let plan = Plan { sets, env: &env, scope: None, now: time::OffsetDateTime::now_utc() };
        handle.block_on(fupin_rules::run::run(&store, &plan, &mut Quiet)).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| WebError::Refused(format!("运行检查失败：{e}")))?
    .map_err(|e| WebError::Refused(format!("运行检查失败：{e}")))?;
    Ok((year, report))
}
