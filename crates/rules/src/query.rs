//! Ad-hoc expressions: the dry run of `fupin rules try` while a rule is being written.

use fupin_domain::CodeLists;

use crate::ir::{Ir, Ty};
use crate::load::LoadError;
use crate::rule::{Level, Missing, Outcome, Rule, Severity, Verdict, Years};

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

impl Query {
    /// The query as a rule judging every entity of its level (never skipped), with the
    /// shown columns ([`shown_columns`]) as its values: what the SQL compiler or the
    /// interpreter runs for a dry run (`fupin_app::check::try_query`).
    pub fn rule(&self, codes: &CodeLists) -> Rule {
        let values: Vec<Ir> =
            shown_columns(self.level).iter().filter_map(|(_, e)| value(e, self.level, codes)).collect();
        Rule {
            id: "try".into(),
            title: String::new(),
            level: self.level,
            severity: Severity::Info,
            missing: Missing::NeverSkip,
            years: Years::default(),
            explain: String::new(),
            source: String::new(),
            expr: self.expr.clone(),
            values: values.into_iter().map(|v| (String::new(), v)).collect(),
            examples: Vec::new(),
            place: String::new(),
            sql_blocker: None,
        }
    }
}

impl TryResult {
    /// The dry run's result from every entity's outcome (in key order): the entities
    /// for which the expression is true match; `interpreter_reason` says why SQL did
    /// not run it, if it did not.
    pub fn of(outcomes: Vec<(String, Outcome)>, interpreter_reason: Option<String>) -> TryResult {
        let total = outcomes.len();
        let matches =
            outcomes.into_iter().filter(|(_, o)| o.verdict == Verdict::Pass).map(|(k, o)| (k, o.values)).collect();
        TryResult { total, matches, interpreter_reason }
    }
}
