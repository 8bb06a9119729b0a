//! A loaded, checked rule and how it judges one entity.

use crate::eval::{County, Env, HouseholdRecord, Scope, Val};
use crate::ir::Ir;

/// Which entity a rule checks (`level` in the rule file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Person,
    Household,
    Village,
    Township,
    County,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "person" => Level::Person,
            "household" => Level::Household,
            "village" => Level::Village,
            "township" => Level::Township,
            "county" => Level::County,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Person => "person",
            Level::Household => "household",
            Level::Village => "village",
            Level::Township => "township",
            Level::County => "county",
        }
    }

    /// The Chinese name of the level, as in messages.
    pub fn label(self) -> &'static str {
        match self {
            Level::Person => "人",
            Level::Household => "户",
            Level::Village => "村",
            Level::Township => "乡镇",
            Level::County => "县",
        }
    }

    /// How many leading digits of a 行政村代码 name the area a township or county
    /// rule checks (9 and 6); none for the lower levels.
    pub fn area_digits(self) -> Option<usize> {
        match self {
            Level::Township => Some(9),
            Level::County => Some(6),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s {
            "error" => Severity::Error,
            "warning" => Severity::Warning,
            "info" => Severity::Info,
            _ => return None,
        })
    }
}

/// What a rule does when values it reads are missing (DHIS2's validation-rule
/// missing-value strategies). "Referenced values" are the columns, ages and
/// `line.monitoring` the expression reads outside `has()`, `is_null()` and member
/// aggregates ([`Ir::referenced`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Skip (no finding) when any referenced value is missing, and when the
    /// expression's result is missing (e.g. a division by zero).
    SkipIfAnyMissing,
    /// Skip when every referenced value is missing (a rule that reads none never
    /// skips this way), and when the result is missing.
    SkipIfAllMissing,
    /// Never skip: the expression is evaluated with missing values as null, and a
    /// missing result counts as failing (a finding is raised).
    NeverSkip,
}

impl Missing {
    pub fn parse(s: &str) -> Option<Missing> {
        Some(match s {
            "skip_if_any_missing" => Missing::SkipIfAnyMissing,
            "skip_if_all_missing" => Missing::SkipIfAllMissing,
            "never_skip" => Missing::NeverSkip,
            _ => return None,
        })
    }
}

/// The policy years a rule applies to, both ends included; `None` is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Years {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

impl Years {
    /// `2014-2020`, `2016-`, `-2020`, `2019`.
    pub fn parse(s: &str) -> Option<Years> {
        let year = |t: &str| -> Option<Option<i32>> {
            let t = t.trim();
            if t.is_empty() {
                return Some(None);
            }
            t.parse::<i32>().ok().filter(|y| (1949..=2100).contains(y)).map(Some)
        };
        let y = match s.split_once('-') {
            Some((a, c)) => Years { from: year(a)?, to: year(c)? },
            None => {
                let y = year(s)??;
                Years { from: Some(y), to: Some(y) }
            }
        };
        match (y.from, y.to) {
            (Some(a), Some(c)) if a > c => None,
            _ => Some(y),
        }
    }
    pub fn contains(&self, year: i32) -> bool {
        self.from.is_none_or(|f| year >= f) && self.to.is_none_or(|t| year <= t)
    }
}

/// The judgement of one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// A finding is raised.
    Fail,
    /// Not judged: values were missing and the missing-value policy skips.
    Skip,
}

/// One rule of a rule file, checked and ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub severity: Severity,
    pub missing: Missing,
    pub years: Years,
    /// The explanation template; `{name}` takes a value or a built-in.
    pub explain: String,
    /// The expression as written (true = the record passes).
    pub source: String,
    pub expr: Ir,
    /// `[rule.values]`, in name order.
    pub values: Vec<(String, Ir)>,
    pub examples: Vec<crate::load::Example>,
    /// Where the rule starts: `file:line`.
    pub place: String,
    /// Why SQL cannot run this rule (it then runs in the interpreter only).
    pub sql_blocker: Option<&'static str>,
}

/// A rule's judgement and the values it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub values: Vec<Val>,
    /// A `never_skip` rule failed because its result was missing (a missing value, a
    /// division by zero, an integer overflow), not because it was false.
    pub undetermined: bool,
}

impl Rule {
    /// The registry columns the rule reads, in its expression and its values
    /// ([`Ir::columns`]): who may see its findings is judged on them.
    pub fn columns(&self) -> std::collections::BTreeSet<(&'static str, &'static str)> {
        let mut out = std::collections::BTreeSet::new();
        self.expr.columns(&mut out);
        for (_, v) in &self.values {
            v.columns(&mut out);
        }
        out
    }

    /// Judges the household (household level) or its member `person` (person level),
    /// as if it were the county's only household (see [`Rule::evaluate_in`]).
    /// A township or county rule judges the area of the household's village.
    pub fn evaluate(&self, env: &Env, record: &HouseholdRecord, person: Option<usize>) -> Outcome {
        let records = std::slice::from_ref(record);
        let county = County::of(records).with_villages(records, env.year);
        if let Some(digits) = self.level.area_digits() {
            let code = crate::eval::area_code(record, digits).unwrap_or_default();
            return self.evaluate_area(env, &county, records, &code);
        }
        self.evaluate_in(env, &county, record, person)
    }

    /// Judges one township or county (`code`: its 9 or 6 digits) over `records`,
    /// the registry's households.
    pub fn evaluate_area(&self, env: &Env, county: &County, records: &[HouseholdRecord], code: &str) -> Outcome {
        let empty = HouseholdRecord::default();
        let mut scope = Scope::new(env, county, &empty, None);
        scope.area = Some((code, records));
        let (verdict, undetermined) = judge_why(&self.expr, self.missing, &mut scope);
        let values = self.values.iter().map(|(_, ir)| scope.eval(ir)).collect();
        Outcome { verdict, values, undetermined }
    }

    /// Judges one household or member of a county whose index county-wide built-ins
    /// (`first_with_id`, `helper_count`) read.
    pub fn evaluate_in(&self, env: &Env, county: &County, record: &HouseholdRecord, person: Option<usize>) -> Outcome {
        let mut scope = Scope::new(env, county, record, person);
        let (verdict, undetermined) = judge_why(&self.expr, self.missing, &mut scope);
        let values = self.values.iter().map(|(_, ir)| scope.eval(ir)).collect();
        Outcome { verdict, values, undetermined }
    }

    /// The explanation with its placeholders filled.
    pub fn explain(&self, env: &Env, values: &[Val]) -> String {
        fill(&self.explain, |name| {
            if let Some(i) = self.values.iter().position(|(n, _)| n == name) {
                return values.get(i).map(Val::shown);
            }
            builtin(env, name)
        })
    }
}

/// The verdict of an expression under a missing-value policy.
pub fn judge(expr: &Ir, missing: Missing, scope: &mut Scope) -> Verdict {
    judge_why(expr, missing, scope).0
}

/// The verdict, and whether a failure comes from a missing result ([`Outcome::undetermined`]).
pub fn judge_why(expr: &Ir, missing: Missing, scope: &mut Scope) -> (Verdict, bool) {
    let refs = expr.referenced();
    let nulls = refs.iter().filter(|r| scope.eval(r) == Val::Null).count();
    let skip = match missing {
        Missing::SkipIfAnyMissing => nulls > 0,
        Missing::SkipIfAllMissing => !refs.is_empty() && nulls == refs.len(),
        Missing::NeverSkip => false,
    };
    if skip {
        return (Verdict::Skip, false);
    }
    match scope.eval(expr) {
        Val::Bool(true) => (Verdict::Pass, false),
        Val::Bool(false) => (Verdict::Fail, false),
        _ if missing == Missing::NeverSkip => (Verdict::Fail, true),
        _ => (Verdict::Skip, false),
    }
}

/// The built-in placeholders of explanations.
pub const BUILTIN_PLACEHOLDERS: [&str; 4] = ["year", "ref_date", "line", "monitoring_line"];

fn builtin(env: &Env, name: &str) -> Option<String> {
    let shown = |y: Option<fupin_domain::Yuan>| y.map(|y| y.to_string()).unwrap_or_else(|| "（空）".into());
    Some(match name {
        "year" => env.year.to_string(),
        "ref_date" => env.ref_date.clone(),
        "line" => shown(env.poverty_line),
        "monitoring_line" => shown(env.monitoring_line),
        _ => return None,
    })
}

/// Replaces `{name}` by `value(name)`; an unknown name stays as written.
pub fn fill(template: &str, mut value: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let name = &rest[open + 1..open + close];
                out.push_str(&value(name).unwrap_or_else(|| format!("{{{name}}}")));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The placeholders of a template with their byte offsets; `Err(offset)` for an
/// unclosed brace.
pub fn placeholders(template: &str) -> Result<Vec<(usize, &str)>, usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = template[at..].find('{') {
        let open = at + open;
        let close = template[open..].find('}').ok_or(open)? + open;
        out.push((open, &template[open + 1..close]));
        at = close + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_read_ranges_and_refuse_nonsense() {
        let y = Years::parse("2014-2020").expect("range");
        assert!(y.contains(2014) && y.contains(2020) && !y.contains(2021) && !y.contains(2013));
        let open = Years::parse("2016-").expect("open end");
        assert!(open.contains(2040) && !open.contains(2015));
        assert_eq!(Years::parse("2019"), Some(Years { from: Some(2019), to: Some(2019) }));
        for bad in ["2020-2014", "abc", "20x0-", "1800-"] {
            assert_eq!(Years::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_rule_names_every_column_it_reads() {
        let codes = fupin_domain::CodeLists::builtin();
        let sets = crate::load::builtin(&codes).expect("the shipped rules load");
        let rule = |id: &str| sets.iter().flat_map(|s| &s.rules).find(|r| r.id == id).expect(id).columns();
        let id = rule("id_checksum");
        assert!(id.contains(&("persons", "id_type")) && id.contains(&("persons", "id_number")), "{id:?}");
        assert_eq!(id.len(), 2, "{id:?}");
        // Ages read the birth date; aggregates over members read the members' columns.
        let all: Vec<_> = sets.iter().flat_map(|s| &s.rules).flat_map(|r| r.columns()).collect();
        assert!(all.contains(&("persons", "birth_date")));
        assert!(all.contains(&("incomes", "net_per_capita")));
        assert!(all.iter().all(|(t, _)| ["persons", "households", "incomes", "village_years", "pairings"].contains(t)));
    }

    #[test]
    fn templates_fill_known_names_and_keep_unknown_ones() {
        let shown = fill("收入 {income} 元，{year} 年，{x}", |n| match n {
            "income" => Some("3000".into()),
            "year" => Some("2019".into()),
            _ => None,
        });
        assert_eq!(shown, "收入 3000 元，2019 年，{x}");
        assert_eq!(placeholders("a {b} c {d}"), Ok(vec![(2, "b"), (8, "d")]));
        assert_eq!(placeholders("a {b"), Err(2));
    }
}
