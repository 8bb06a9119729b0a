//! Rule files: TOML under `data/rules/` (one file per rule set, set name = file stem),
//! compiled in, or read from a directory of user rules. Every error names file, line
//! and column — inside an expression, the place of the offending node — and all
//! errors of a file are reported together.

use std::collections::BTreeMap;
use std::path::Path;

use fupin_domain::schema::{self, Kind, Table};
use fupin_domain::{CodeLists, Value, Yuan};
use serde::Deserialize;
use toml::Spanned;

use crate::eval::HouseholdRecord;
use crate::rule::{BUILTIN_PLACEHOLDERS, Level, Missing, Rule, Severity, Verdict, Years};

/// The shipped rule files, compiled in: (file name, text).
pub const BUILTIN_FILES: [(&str, &str); 5] = [
    ("dq.toml", include_str!("../../../data/rules/dq.toml")),
    ("eligibility.toml", include_str!("../../../data/rules/eligibility.toml")),
    ("exit.toml", include_str!("../../../data/rules/exit.toml")),
    ("monitoring.toml", include_str!("../../../data/rules/monitoring.toml")),
    ("sample.toml", include_str!("../../../data/rules/sample.toml")),
];

/// An error in a rule file and its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}：{message}")]
pub struct LoadError {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// All errors of one or more files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct LoadErrors(pub Vec<LoadError>);

/// A set of rules from one file.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// The file stem: `sample` for `sample.toml`.
    pub name: String,
    pub file: String,
    /// Whether `fupin check` without `--set` runs it: the file's top-level `default`
    /// (true unless it says `default = false`, as the language showcase `sample` does).
    pub default: bool,
    pub rules: Vec<Rule>,
}

/// A record the rule file gives as an example, with its expected verdict.
#[derive(Debug, Clone)]
pub struct Example {
    pub expect: Verdict,
    pub year: i32,
    pub record: HouseholdRecord,
    /// The person judged (person level): always member 0, the example's `p`.
    pub person: Option<usize>,
    /// `file:line` of the example.
    pub place: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    /// `default = false`: only run when asked for by name (`--set`).
    default: Option<bool>,
    #[serde(default)]
    rule: Vec<Spanned<RuleToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleToml {
    id: Spanned<String>,
    title: Spanned<String>,
    level: Spanned<String>,
    severity: Spanned<String>,
    expr: Spanned<String>,
    missing: Option<Spanned<String>>,
    years: Option<Spanned<String>>,
    explain: Spanned<String>,
    #[serde(default)]
    values: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    example: Vec<Spanned<ExampleToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExampleToml {
    pass: Option<bool>,
    /// `skip = true`: the missing-value policy skips this record.
    skip: Option<bool>,
    year: Option<i32>,
    h: Option<toml::Table>,
    p: Option<toml::Table>,
    #[serde(default)]
    members: Vec<toml::Table>,
    income: Option<toml::Table>,
    /// Income rows of other years (each with its `year`).
    #[serde(default)]
    incomes: Vec<toml::Table>,
    #[serde(default)]
    pairings: Vec<toml::Table>,
    #[serde(default)]
    helpers: Vec<toml::Table>,
    v: Option<toml::Table>,
}

/// The shipped rule sets (a broken shipped file is an error here and fails the tests
/// of this crate).
pub fn builtin(codes: &CodeLists) -> Result<Vec<RuleSet>, LoadErrors> {
    collect(BUILTIN_FILES.iter().map(|(f, t)| parse_file(&format!("data/rules/{f}"), t, codes)))
}

/// Every `*.toml` of a directory of user rules, in name order.
pub fn load_dir(dir: &Path, codes: &CodeLists) -> Result<Vec<RuleSet>, LoadErrors> {
    let io = |e: std::io::Error| {
        LoadErrors(vec![LoadError {
            file: dir.display().to_string(),
            line: 1,
            column: 1,
            message: format!("无法读取：{e}"),
        }])
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut results = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(io)?;
        results.push(parse_file(&f.display().to_string(), &text, codes));
    }
    collect(results.into_iter())
}

fn collect(results: impl Iterator<Item = Result<RuleSet, LoadErrors>>) -> Result<Vec<RuleSet>, LoadErrors> {
    let mut sets = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(s) => sets.push(s),
            Err(LoadErrors(e)) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(sets) } else { Err(LoadErrors(errors)) }
}

/// Line and column (1-based, columns in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Where the value of a TOML string starts inside the file, given its token's span.
fn content_start(text: &str, span: std::ops::Range<usize>) -> usize {
    let raw = &text[span.clone()];
    let skip = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        let after = &raw[3..];
        3 + if after.starts_with("\r\n") {
            2
        } else if after.starts_with('\n') {
            1
        } else {
            0
        }
    } else {
        1
    };
    span.start + skip.min(raw.len())
}

/// Parses and checks one rule file.
pub fn parse_file(file: &str, text: &str, codes: &CodeLists) -> Result<RuleSet, LoadErrors> {
    let name = Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let at = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        LoadError { file: file.to_owned(), line, column, message }
    };
    let parsed: FileToml = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        LoadErrors(vec![at(offset, format!("TOML 格式错误：{}", e.message().trim()))])
    })?;
    let default = parsed.default.unwrap_or(true);
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for r in parsed.rule {
        let start = r.span().start;
        let r = r.into_inner();
        let before = errors.len();
        let id = r.id.get_ref().clone();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            errors.push(at(r.id.span().start, format!("规则编号“{id}”应为小写字母、数字和下划线（snake_case）")));
        }
        if let Some(first) = ids.insert(id.clone(), start) {
            let (line, _) = position(text, first);
            errors.push(at(r.id.span().start, format!("规则编号“{id}”重复（第 {line} 行已有）")));
        }
        let level = Level::parse(r.level.get_ref());
        if level.is_none() {
            errors.push(at(
                r.level.span().start,
                format!("level“{}”无效（person、household、village、township、county）", r.level.get_ref()),
            ));
        }
        let severity = Severity::parse(r.severity.get_ref());
        if severity.is_none() {
            errors.push(at(
                r.severity.span().start,
                format!("severity“{}”无效（error、warning、info）", r.severity.get_ref()),
            ));
        }
        let missing = match &r.missing {
            None => Some(Missing::SkipIfAnyMissing),
            Some(m) => {
                let v = Missing::parse(m.get_ref());
                if v.is_none() {
                    errors.push(at(
                        m.span().start,
                        format!("missing“{}”无效（skip_if_any_missing、skip_if_all_missing、never_skip）", m.get_ref()),
                    ));
                }
                v
            }
        };
        let years = match &r.years {
            None => Some(Years::default()),
            Some(y) => {
                let v = Years::parse(y.get_ref());
                if v.is_none() {
                    errors
                        .push(at(y.span().start, format!("years“{}”无效（如 \"2014-2020\"、\"2016-\"）", y.get_ref())));
                }
                v
            }
        };
        if r.title.get_ref().trim().is_empty() {
            errors.push(at(r.title.span().start, "title 不能为空".into()));
        }
        let check = |source: &Spanned<String>, level: Level, errors: &mut Vec<LoadError>| {
            let base = content_start(text, source.span());
            let node = crate::ast::parse(source.get_ref()).map_err(|es| {
                for e in es {
                    errors.push(at(base + e.span.start, e.message));
                }
            });
            let node = node.ok()?;
            crate::check::check(&node, level, codes).map_err(|e| errors.push(at(base + e.span.start, e.message))).ok()
        };
        let expr = level.and_then(|l| check(&r.expr, l, &mut errors));
        if let Some(e) = &expr
            && e.ty != crate::ir::Ty::Bool
        {
            errors.push(at(
                content_start(text, r.expr.span()),
                format!("expr 必须是布尔值（true 为通过），实为{}", e.ty.name()),
            ));
        }
        let mut values = Vec::new();
        for (vname, vsrc) in &r.values {
            if let Some(ir) = level.and_then(|l| check(vsrc, l, &mut errors)) {
                values.push((vname.clone(), ir));
            }
        }
        match crate::rule::placeholders(r.explain.get_ref()) {
            Err(o) => errors.push(at(content_start(text, r.explain.span()) + o, "explain 中的 { 没有配对的 }".into())),
            Ok(ps) => {
                for (o, p) in ps {
                    if !r.values.contains_key(p) && !BUILTIN_PLACEHOLDERS.contains(&p) {
                        errors.push(at(
                            content_start(text, r.explain.span()) + o,
                            format!("explain 中的 {{{p}}} 既不是 [rule.values] 中的名称，也不是内置值（year、ref_date、line、monitoring_line）"),
                        ));
                    }
                }
            }
        }
        let mut examples = Vec::new();
        for ex in &r.example {
            match example(ex.get_ref(), level, years.unwrap_or_default()) {
                Ok(mut e) => {
                    e.place = format!("{file}:{}", position(text, ex.span().start).0);
                    examples.push(e);
                }
                Err(m) => errors.push(at(ex.span().start, m)),
            }
        }
        if r.example.is_empty() {
            errors.push(at(start, format!("规则 {id} 缺少示例：至少要有一个通过和一个不通过的 [[rule.example]]")));
        } else if examples.len() == r.example.len() {
            for (expect, word) in [(Verdict::Pass, "通过（pass = true）"), (Verdict::Fail, "不通过（pass = false）")]
            {
                if !examples.iter().any(|e| e.expect == expect) {
                    errors.push(at(start, format!("规则 {id} 缺少{word}的示例")));
                }
            }
        }
        if errors.len() > before {
            continue;
        }
        let (Some(level), Some(severity), Some(missing), Some(years), Some(expr)) =
            (level, severity, missing, years, expr)
        else {
            continue;
        };
        let sql_blocker = expr.sql_blocker().or_else(|| values.iter().find_map(|(_, v)| v.sql_blocker()));
        rules.push(Rule {
            id,
            title: r.title.into_inner(),
            level,
            severity,
            missing,
            years,
            explain: r.explain.into_inner(),
            source: r.expr.into_inner(),
            expr,
            values,
            examples,
            place: format!("{file}:{}", position(text, start).0),
            sql_blocker,
        });
    }
    if errors.is_empty() {
        Ok(RuleSet { name, file: file.to_owned(), default, rules })
    } else {
        Err(LoadErrors(errors))
    }
}

/// Builds an example's records. Unspecified fields are null; keys and required
/// fields get placeholders (`H1`, `P1`, …).
fn example(ex: &ExampleToml, level: Option<Level>, years: Years) -> Result<Example, String> {
    let expect = match (ex.pass, ex.skip) {
        (Some(true), None | Some(false)) => Verdict::Pass,
        (Some(false), None | Some(false)) => Verdict::Fail,
        (None, Some(true)) => Verdict::Skip,
        _ => return Err("示例需要 pass = true 或 pass = false（或 skip = true，表示按缺失值策略跳过）".into()),
    };
    let year = ex.year.or(years.from).unwrap_or(2020);
    if !years.contains(year) {
        return Err(format!("示例年度 {year} 不在规则适用年度内"));
    }
    let empty = toml::Table::new();
    let mut household = row(&schema::HOUSEHOLDS, ex.h.as_ref().unwrap_or(&empty), "h")?;
    fill(&mut household, &schema::HOUSEHOLDS, "hh_id", Value::Text("H1".into()));
    fill(&mut household, &schema::HOUSEHOLDS, "village_code", Value::Text("610981100201".into()));
    fill(&mut household, &schema::HOUSEHOLDS, "status", Value::Text("2".into()));
    let hh = household[0].clone();
    let person_level = level == Some(Level::Person);
    if person_level && ex.p.is_none() {
        return Err("person 级规则的示例需要 p = { … }".into());
    }
    if !person_level && ex.p.is_some() {
        return Err("household 级规则的示例没有 p；成员请写在 members = [ … ] 中".into());
    }
    let mut members = Vec::new();
    for (i, t) in ex.p.iter().chain(ex.members.iter()).enumerate() {
        let mut m = row(&schema::PERSONS, t, if i == 0 && person_level { "p" } else { "members" })?;
        fill(&mut m, &schema::PERSONS, "person_id", Value::Text(format!("P{}", i + 1)));
        fill(&mut m, &schema::PERSONS, "name", Value::Text("示例".into()));
        fill(&mut m, &schema::PERSONS, "relation", Value::Text(if i == 0 { "01" } else { "03" }.into()));
        set(&mut m, &schema::PERSONS, "hh_id", hh.clone());
        members.push(m);
    }
    let keyed = |t: &Option<toml::Table>, table: &Table, name: &str, key: &str, kv: &Value| -> Result<_, String> {
        t.as_ref()
            .map(|t| {
                let mut r = row(table, t, name)?;
                set(&mut r, table, key, kv.clone());
                set(&mut r, table, "year", Value::Int(year.into()));
                Ok(r)
            })
            .transpose()
    };
    let income = keyed(&ex.income, &schema::INCOMES, "income", "hh_id", &hh)?;
    let village_code = household[schema::HOUSEHOLDS.index_of("village_code").expect("column")].clone();
    let village = keyed(&ex.v, &schema::VILLAGES, "v", "village_code", &village_code)?;
    let mut other_incomes = Vec::new();
    for t in &ex.incomes {
        let mut r = row(&schema::INCOMES, t, "incomes")?;
        set(&mut r, &schema::INCOMES, "hh_id", hh.clone());
        match &r[schema::INCOMES.index_of("year").expect("column")] {
            Value::Int(y) if *y != i64::from(year) => other_incomes.push(r),
            _ => {
                return Err(format!(
                    "示例 incomes 中每一行都要写 year，且不同于示例年度 {year}（当年的写在 income 中）"
                ));
            }
        }
    }
    let mut helpers = Vec::new();
    for (i, t) in ex.helpers.iter().enumerate() {
        let mut r = row(&schema::HELPERS, t, "helpers")?;
        fill(&mut r, &schema::HELPERS, "helper_id", Value::Text(format!("B{}", i + 1)));
        fill(&mut r, &schema::HELPERS, "name", Value::Text("帮扶人".into()));
        helpers.push(r);
    }
    let mut pairings = Vec::new();
    for t in &ex.pairings {
        let mut r = row(&schema::PAIRINGS, t, "pairings")?;
        fill(&mut r, &schema::PAIRINGS, "helper_id", Value::Text("B1".into()));
        fill(&mut r, &schema::PAIRINGS, "from_date", Value::Text("2016-01-01".into()));
        set(&mut r, &schema::PAIRINGS, "hh_id", hh.clone());
        let helper = r[0].clone();
        if !helpers.iter().any(|h| h[0] == helper) {
            let mut h = vec![Value::Null; schema::HELPERS.columns.len()];
            set(&mut h, &schema::HELPERS, "helper_id", helper);
            set(&mut h, &schema::HELPERS, "name", Value::Text("帮扶人".into()));
            helpers.push(h);
        }
        pairings.push(r);
    }
    let record = HouseholdRecord { household, members, income, village, other_incomes, pairings, helpers };
    Ok(Example { expect, year, record, person: person_level.then_some(0), place: String::new() })
}

fn fill(row: &mut [Value], table: &Table, column: &str, v: Value) {
    let i = table.index_of(column).expect("schema column");
    if row[i].is_null() {
        row[i] = v;
    }
}

fn set(row: &mut [Value], table: &Table, column: &str, v: Value) {
    row[table.index_of(column).expect("schema column")] = v;
}

/// A TOML table as a row of `table`, each value read as its column's kind.
fn row(table: &Table, t: &toml::Table, name: &str) -> Result<Vec<Value>, String> {
    let mut out = vec![Value::Null; table.columns.len()];
    for (k, v) in t {
        let i = table.index_of(k).ok_or_else(|| format!("示例 {name} 中的字段“{k}”不存在于{}", table.title))?;
        let c = &table.columns[i];
        let bad = || format!("示例 {name}.{k} 的值 {v} 不是{}", kind_name(c.kind));
        out[i] = match (c.kind, v) {
            (Kind::Bool, toml::Value::Boolean(b)) => Value::Int(i64::from(*b)),
            (Kind::Int | Kind::Year, toml::Value::Integer(n)) => Value::Int(*n),
            (Kind::Decimal, toml::Value::Integer(n)) => Value::Real(*n as f64),
            (Kind::Decimal, toml::Value::Float(f)) => Value::Real(*f),
            (Kind::Money, toml::Value::Integer(n)) => Value::Int(n.checked_mul(100).ok_or_else(bad)?),
            (Kind::Money, toml::Value::Float(f)) => Value::Int(Yuan::parse(&f.to_string()).map_err(|_| bad())?.fen()),
            (Kind::Money, toml::Value::String(s)) => Value::Int(Yuan::parse(s).map_err(|_| bad())?.fen()),
            (Kind::Date, toml::Value::String(s)) => {
                Value::Text(fupin_domain::date::parse(s).map(fupin_domain::date::iso).ok_or_else(bad)?)
            }
            (Kind::Codes(..), toml::Value::Array(a)) => {
                let parts: Option<Vec<&str>> = a.iter().map(|x| x.as_str()).collect();
                Value::Text(parts.ok_or_else(bad)?.join(";"))
            }
            (Kind::Code(_) | Kind::Codes(..), toml::Value::String(s)) => Value::Text(s.clone()),
            (Kind::Text(_) | Kind::Key | Kind::Ref(_) | Kind::IdNumber | Kind::Village, toml::Value::String(s)) => {
                Value::Text(s.clone())
            }
            _ => return Err(bad()),
        };
    }
    Ok(out)
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Bool => "true/false",
        Kind::Int | Kind::Year => "整数",
        Kind::Decimal => "数值",
        Kind::Money => "金额（元）",
        Kind::Date => "日期文本",
        Kind::Codes(..) => "代码文本或代码数组",
        _ => "文本",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_showcase_is_left_out_of_a_check_without_set() {
        let codes = CodeLists::builtin();
        let sets = builtin(&codes).expect("the shipped rules load");
        let left_out: Vec<&str> = sets.iter().filter(|s| !s.default).map(|s| s.name.as_str()).collect();
        assert_eq!(left_out, ["sample"]);
        assert!(sets.len() > 1);
    }

    #[test]
    fn a_default_that_is_not_a_boolean_is_an_error_with_its_place() {
        let codes = CodeLists::builtin();
        let errors = parse_file("x.toml", "# 说明\ndefault = \"no\"\n", &codes).expect_err("refused");
        assert_eq!((errors.0[0].file.as_str(), errors.0[0].line), ("x.toml", 2), "{errors}");
        let set = parse_file("y.toml", "default = false\n", &codes).expect("an empty set loads");
        assert!(!set.default);
        assert!(parse_file("z.toml", "", &codes).expect("loads").default, "true unless it says otherwise");
    }
}
