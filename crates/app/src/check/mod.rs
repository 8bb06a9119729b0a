//! The check: evaluates every applicable rule of the chosen sets for a policy year
//! (in SQL when the rule compiles, in the interpreter otherwise), keeps the failures
//! within the scope and records them as findings (`fupin_store::findings`) in one
//! transaction. `fupin check`, `fupin demo` and 运行检查 (`POST /findings/run`,
//! [`run_default`]) run it.
//!
//! The rules crate checks, interprets and compiles; this module runs what it compiles
//! through `fupin_store::rules_sql`: the SQL rules of a level together, one statement
//! per level (`fupin_rules::sql::batch`, run by [`batch`]), so the registry is read
//! once per level; a rule the batch cannot take, or the rules of a batch statement
//! that fails, run one by one ([`statements`]); rules without SQL run in the
//! interpreter on the records [`records`] reads.

pub mod batch;
pub mod records;
pub mod statements;

use std::sync::LazyLock;

use fupin_domain::schema::Personal;
use fupin_domain::{CodeLists, DivisionCode, mask};
use fupin_rules::ir::{Ir, IrKind};
use fupin_rules::sql::batch as plan_batches;
use fupin_rules::{Env, HouseholdRecord, Level, Outcome, Rule, RuleSet, Severity, Val, Verdict, interpret};
use fupin_store::findings::{self, EntityIndex, NewFinding, RunScope, RunSummary};
use fupin_store::users::Role;
use fupin_store::{Store, StoreError};
use time::OffsetDateTime;

use crate::{AppError, AppResult, Viewer};
pub use fupin_rules::sql::batch::MAX_RULES;
pub use records::{load_records, write_records};
pub use statements::{RunError, dialect, run_compiled, run_sql, run_sql_failures, try_query};

/// What to check.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The rule sets whose rules run (those of the policy year).
    pub sets: Vec<&'a RuleSet>,
    /// The policy year and its built-ins.
    pub env: &'a Env,
    /// Only entities whose household's village lies within this division.
    pub scope: Option<DivisionCode>,
    /// The time stamped on the findings (first/last seen).
    pub now: OffsetDateTime,
}

/// Told as the run goes, for a progress bar.
pub trait Progress {
    /// Before the first rule: how many rules will run and how many entity
    /// judgements they make in all.
    fn start(&mut self, rules: usize, judgements: u64);
    /// A rule has judged `entities` entities.
    fn rule_done(&mut self, rule: &Rule, entities: u64);
    /// One statement has judged `entities` entities of `level` for each of `rules`.
    fn batch_done(&mut self, level: Level, rules: &[&Rule], entities: u64) {
        let _ = level;
        for rule in rules {
            self.rule_done(rule, entities);
        }
    }
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: usize, _: u64) {}
    fn rule_done(&mut self, _: &Rule, _: u64) {}
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Rules evaluated (applicable to the year), and the ids of those skipped for it.
    pub rules_run: Vec<String>,
    pub rules_not_for_year: Vec<String>,
    /// Rules the interpreter ran because they do not compile to SQL.
    pub interpreted: Vec<String>,
    /// Batch statements that failed in the database (their rules then ran one by one):
    /// the rule ids and the error.
    pub batch_errors: Vec<(Vec<String>, String)>,
    pub summary: RunSummary,
}

/// Errors of a check run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("记录检查结果失败：{0}")]
    Store(#[from] StoreError),
    /// Incomes are at the year's prices; a line stated otherwise is not compared with
    /// them silently.
    #[error(
        "{year} 年的扶贫标准按{basis}计（{document}），而收入是当年价，不能直接比较：规则 {rules} 读取该标准，未运行。请在 data/policy/lines.csv 中填写该年的当年价标准"
    )]
    LineBasis { year: i32, basis: &'static str, document: String, rules: String },
    /// Findings are kept per rule id: two chosen sets must not share one.
    #[error("规则编号“{id}”在规则集 {first} 和 {second} 中重复：问题清单按规则编号记录，请改名或用 --set 只选其一")]
    DuplicateRule { id: String, first: String, second: String },
}

/// How findings store a rule's severity.
pub fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Runs the plan and records its findings.
pub async fn run(store: &Store, plan: &Plan<'_>, progress: &mut dyn Progress) -> Result<Report, CheckError> {
    run_batched(store, plan, progress, MAX_RULES).await
}

/// [`run`] with at most `max_rules` rules in one statement (1: each rule by itself).
pub async fn run_batched(
    store: &Store,
    plan: &Plan<'_>,
    progress: &mut dyn Progress,
    max_rules: usize,
) -> Result<Report, CheckError> {
    let year = plan.env.year;
    let mut rules: Vec<(&str, &Rule)> = Vec::new();
    let mut not_for_year = Vec::new();
    for set in &plan.sets {
        for rule in &set.rules {
            if rule.years.contains(year) {
                rules.push((set.name.as_str(), rule));
            } else {
                not_for_year.push(rule.id.clone());
            }
        }
    }
    for (i, (set, rule)) in rules.iter().enumerate() {
        if let Some((other, _)) = rules[..i].iter().find(|(_, r)| r.id == rule.id) {
            return Err(CheckError::DuplicateRule {
                id: rule.id.clone(),
                first: (*other).to_owned(),
                second: (*set).to_owned(),
            });
        }
    }
    if let Some((basis, source)) = &plan.env.line_basis
        && *basis != fupin_domain::PriceBasis::Current
    {
        let reading: Vec<&str> = rules.iter().filter(|(_, r)| reads_a_line(r)).map(|(_, r)| r.id.as_str()).collect();
        if !reading.is_empty() {
            return Err(CheckError::LineBasis {
                year,
                basis: basis.label(),
                document: source.clone(),
                rules: reading.join("、"),
            });
        }
    }
    let index = findings::entity_index(store).await?;
    let per_level = |l: Level| match l {
        Level::Person => index.person_household.len() as u64,
        _ => index.household_village.len() as u64,
    };
    progress.start(rules.len(), rules.iter().map(|(_, r)| per_level(r.level)).sum());
    let only_rules: Vec<&Rule> = rules.iter().map(|(_, r)| *r).collect();
    let batches = plan_batches::plan(&only_rules, plan.env, dialect(store), max_rules);
    let mut batched: Vec<Option<Vec<(String, Outcome)>>> = vec![None; rules.len()];
    let mut batch_errors = Vec::new();
    for b in &batches.batches {
        let members: Vec<&Rule> = b.rules.iter().map(|i| only_rules[*i]).collect();
        match batch::run(store, b).await {
            Ok(outcomes) => {
                for (i, o) in b.rules.iter().zip(outcomes) {
                    batched[*i] = Some(o);
                }
                progress.batch_done(b.level, &members, per_level(b.level));
            }
            Err(e) => batch_errors.push((members.iter().map(|r| r.id.clone()).collect(), e.to_string())),
        }
    }
    let mut records: Option<Vec<HouseholdRecord>> = None;
    let mut failing = Vec::new();
    let mut interpreted = Vec::new();
    for ((set, rule), batched) in rules.iter().zip(batched) {
        let outcomes = match batched {
            Some(o) => o,
            None => {
                let o = match sql_outcomes(store, rule, plan.env).await? {
                    Some(o) => o,
                    None => {
                        interpreted.push(rule.id.clone());
                        if records.is_none() {
                            records = Some(load_records(store, year).await?);
                        }
                        interpret(rule, plan.env, records.as_deref().unwrap_or_default())
                    }
                };
                // SQL returns the failing entities only; every entity of the level was judged.
                progress.rule_done(rule, per_level(rule.level));
                o
            }
        };
        for (key, outcome) in outcomes {
            if outcome.verdict == Verdict::Fail
                && let Some(f) = finding(set, rule, plan, &index, key, &outcome)
            {
                failing.push(f);
            }
        }
    }
    let scope = RunScope {
        year,
        rule_ids: rules.iter().map(|(_, r)| r.id.clone()).collect(),
        division: plan.scope.as_ref().map(|d| d.as_str().to_owned()),
    };
    let summary = findings::record_run(store, &scope, &failing, plan.now).await?;
    Ok(Report { rules_run: scope.rule_ids, rules_not_for_year: not_for_year, interpreted, batch_errors, summary })
}

/// Whether a rule reads `line.poverty` or `line.monitoring` (in its expression or values).
fn reads_a_line(rule: &Rule) -> bool {
    let mut found = false;
    for ir in std::iter::once(&rule.expr).chain(rule.values.iter().map(|(_, v)| v)) {
        ir.walk(&mut |n| {
            found |= matches!(n.kind, IrKind::Line(_));
            !found
        });
    }
    found
}

/// The rule's failing entities by SQL, or `None` when it does not compile (the
/// interpreter then runs it).
async fn sql_outcomes(store: &Store, rule: &Rule, env: &Env) -> Result<Option<Vec<(String, Outcome)>>, RunError> {
    if rule.sql_blocker.is_some() {
        return Ok(None);
    }
    match run_sql_failures(store, rule, env).await {
        Ok(o) => Ok(Some(o)),
        Err(RunError::NotCompilable(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The finding of a failing entity, or `None` when it lies outside the scope.
fn finding(
    set: &str,
    rule: &Rule,
    plan: &Plan<'_>,
    index: &EntityIndex,
    key: String,
    outcome: &Outcome,
) -> Option<NewFinding> {
    let (hh_id, person_id, village) = match rule.level {
        Level::Person => {
            let hh = index.person_household.get(&key).cloned();
            let village = hh.as_ref().and_then(|h| index.household_village.get(h)).cloned();
            (hh, Some(key.clone()), village)
        }
        Level::Household => (Some(key.clone()), None, index.household_village.get(&key).cloned()),
        Level::Village | Level::Township | Level::County => (None, None, Some(key.clone())),
    };
    if let Some(scope) = &plan.scope
        && !village.as_deref().is_some_and(|v| v.starts_with(scope.as_str()))
    {
        return None;
    }
    let masked: Vec<Val> = rule.values.iter().zip(&outcome.values).map(|((_, ir), v)| masked(ir, v)).collect();
    let named = |vals: &[Val]| rule.values.iter().zip(vals).map(|((n, _), v)| (n.clone(), v.shown())).collect();
    Some(NewFinding {
        rule_id: rule.id.clone(),
        rule_set: set.to_owned(),
        severity: severity_str(rule.severity).to_owned(),
        level: rule.level.as_str().to_owned(),
        entity_key: key,
        hh_id,
        person_id,
        village_code: village,
        values: named(&outcome.values),
        explanation: rule.explain(plan.env, &outcome.values) + undetermined(outcome),
        masked_values: named(&masked),
        masked_explanation: rule.explain(plan.env, &masked) + undetermined(outcome),
    })
}

/// What a finding adds when its rule could not compute a result (`never_skip`).
pub const UNDETERMINED: &str = "（无法算出结果：所读的值缺失、除以零或整数溢出，按 never_skip 记为问题）";

fn undetermined(outcome: &Outcome) -> &'static str {
    if outcome.undetermined { UNDETERMINED } else { "" }
}

/// A value as pages show it without revealing: masked when its expression reads a
/// personal column (`fupin_domain::schema`, `Column.personal`).
fn masked(ir: &Ir, value: &Val) -> Val {
    let mut personal = None;
    ir.walk(&mut |n| {
        if let IrKind::Col { column, .. } = &n.kind
            && column.personal.is_some()
        {
            personal = column.personal;
        }
        personal.is_none()
    });
    let shown = value.shown();
    match (personal, value) {
        (_, Val::Null) | (None, _) => value.clone(),
        (Some(Personal::IdNumber), _) => Val::Text(mask::id_number(&shown)),
        (Some(Personal::Phone), _) => Val::Text(mask::phone(&shown)),
        (Some(Personal::Account), _) => Val::Text(mask::account(&shown)),
    }
}

/// The shipped rule sets (`data/rules/*.toml`), loaded once: the rules crate's tests
/// load them, so a build that ships them loads them.
static BUILTIN: LazyLock<Result<Vec<RuleSet>, String>> =
    LazyLock::new(|| fupin_rules::load::builtin(&CodeLists::builtin()).map_err(|e| e.to_string()));

/// 运行检查 (county administrators): the default sets (all but `sample`) on the whole
/// county for the policy year (the newest income year, else `today`'s), findings
/// recorded as `fupin check` records them; answers the year and the report. The
/// runner reports progress through a `&mut dyn Progress`, which an async task may not
/// hold across an await, and interprets rules without SQL on every household, so the
/// run has a blocking thread of its own.
pub async fn run_default(store: &Store, viewer: &Viewer, today: time::Date) -> AppResult<(i32, Report)> {
    if viewer.user.role != Role::CountyAdmin {
        return Err(AppError::Forbidden);
    }
    let year = match fupin_store::rules_sql::latest_income_year(store).await? {
        Some(y) => y,
        None => today.year(),
    };
    let province = store.meta("province").await?.unwrap_or_default();
    let store = store.clone();
    let handle = tokio::runtime::Handle::current();
    let refused = |e: String| AppError::Refused(format!("运行检查失败：{e}"));
    let report = tokio::task::spawn_blocking(move || {
        let sets = BUILTIN.as_ref().map_err(Clone::clone)?;
        let env = Env::builtin(year, &province);
        let plan = Plan {
            sets: sets.iter().filter(|s| s.default).collect(),
            env: &env,
            scope: None,
            now: OffsetDateTime::now_utc(),
        };
        handle.block_on(run(&store, &plan, &mut Quiet)).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| refused(e.to_string()))?
    .map_err(refused)?;
    Ok((year, report))
}
