//! Ad-hoc expressions: the dry run of `fupin rules try` while a rule is being written.

use fupin_domain::CodeLists;

use crate::ir::{Ir, Ty};
use crate::load::LoadError;
use crate::rule::Level;

/// A checked ad-hoc expression: entities for which it is true "match".
#[derive(Debug, Clone)]
pub struct Query {
    pub level: Level,
    pub expr: Ir,
}

impl Query {
    /// Parses and checks `text`; errors name the place as `<表达式>:1:column`.
    pub fn parse(text: &str, level: Level, codes: &CodeLists) -> Result<Query, LoadError> {
        let at = |offset: usize, message: String| {
            let before = &text[..offset.min(text.len())];
            LoadError {
                file: "<表达式>".into(),
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
                message,
            }
        };
        let node = crate::ast::parse(text).map_err(|e| at(e[0].span.start, e[0].message.clone()))?;
        let expr = crate::check::check(&node, level, codes).map_err(|e| at(e.span.start, e.message))?;
        if expr.ty != Ty::Bool {
            return Err(at(0, format!("表达式必须是布尔值，实为{}", expr.ty.name())));
        }
        Ok(Query { level, expr })
    }
}

/// A checked expression of any type (a column shown beside a match).
pub fn value(text: &str, level: Level, codes: &CodeLists) -> Option<Ir> {
    let node = crate::ast::parse(text).ok()?;
    crate::check::check(&node, level, codes).ok()
}

/// The columns shown for each match: (Chinese header, expression).
pub fn shown_columns(level: Level) -> &'static [(&'static str, &'static str)] {
    match level {
        Level::Person => &[("户编号", "p.hh_id"), ("姓名", "p.name"), ("证件号码", "p.id_number"), ("年龄", "p.age")],
        Level::Household => &[("行政村代码", "h.village_code"), ("户类型", "h.status"), ("人数", "h.members_count")],
        Level::Village => &[("户数", "v.households"), ("人数", "v.persons"), ("贫困人口", "v.poor_persons")],
        Level::Township | Level::County => &[
            ("村数", "size(villages)"),
            ("户数", "size(households)"),
            ("人数", "size(persons)"),
            ("贫困人口", "size(poor_persons)"),
        ],
    }
}

/// What a dry run found.
#[derive(Debug, Clone, PartialEq)]
pub struct TryResult {
    /// Entities of the level judged.
    pub total: usize,
    /// Matching entities in key order: key and the shown columns' values.
    pub matches: Vec<(String, Vec<crate::Val>)>,
    /// Whether SQL ran it (else the interpreter, with the reason).
    pub interpreter_reason: Option<String>,
}

/// Runs a query on a registry: in SQL when it compiles, else in the interpreter.
pub async fn run(
    store: &fupin_store::Store,
    query: &Query,
    env: &crate::Env,
) -> Result<TryResult, crate::db::RunError> {
    use crate::rule::{Missing, Verdict};
    let values: Vec<Ir> =
        shown_columns(query.level).iter().filter_map(|(_, e)| value(e, query.level, &env.codes)).collect();
    let refs: Vec<&Ir> = values.iter().collect();
    let compiled = crate::sql::compile_parts(
        "try",
        query.level,
        Missing::NeverSkip,
        &query.expr,
        &refs,
        env,
        crate::db::dialect(store),
    );
    let (outcomes, interpreter_reason) = match compiled {
        Ok(c) => {
            let types: Vec<Ty> = values.iter().map(|v| v.ty).collect();
            (crate::db::run_compiled(store, &c, &types).await?, None)
        }
        Err(e) => {
            let records = crate::db::load_records(store, env.year).await?;
            let rule = crate::Rule {
                id: "try".into(),
                title: String::new(),
                level: query.level,
                severity: crate::Severity::Info,
                missing: Missing::NeverSkip,
                years: crate::Years::default(),
                explain: String::new(),
                source: String::new(),
                expr: query.expr.clone(),
                values: values.iter().map(|v| (String::new(), v.clone())).collect(),
                examples: Vec::new(),
                place: String::new(),
                sql_blocker: None,
            };
            (crate::db::interpret(&rule, env, &records), Some(e.reason))
        }
    };
    let total = outcomes.len();
    let matches =
        outcomes.into_iter().filter(|(_, o)| o.verdict == Verdict::Pass).map(|(k, o)| (k, o.values)).collect();
    Ok(TryResult { total, matches, interpreter_reason })
}
