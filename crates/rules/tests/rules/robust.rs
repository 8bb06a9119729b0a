//! Bad rule files and expressions never panic: a property test mutates the shipped
//! rule files and writes random expressions at every level. Each mutated file either
//! loads or is refused with errors that name a real place in it (file:line:column);
//! each expression that checks also compiles for both engines and evaluates on a
//! record without panicking. (Coverage-guided fuzzing of the same entry points:
//! `fuzz/fuzz_targets/rules.rs`.)

use fupin_domain::CodeLists;
use fupin_rules::load::{BUILTIN_FILES, parse_file};
use fupin_rules::query::Query;
use fupin_rules::sql::{Dialect, compile_parts};
use fupin_rules::{Env, HouseholdRecord, Level, Missing, Rule, Severity, Years};
use proptest::prelude::*;

/// Pieces of the language and of TOML, so that mutations reach deep into both.
const PIECES: &[&str] = &[
    "h.",
    "p.",
    "v.",
    "m.",
    "x.",
    "members",
    "households",
    "persons",
    "villages",
    "poor_persons",
    "area.code",
    ".exists(m, ",
    ".all(x, ",
    ".filter(m, ",
    ").size()",
    "count(",
    "sum(",
    "size(",
    "has(",
    "in_codes(",
    "is_code(",
    "id_valid(",
    "days_between(",
    ".contains('1')",
    ".startsWith(",
    ".matches('^[0-9]+$')",
    ".matches('(')",
    "int(",
    "string(",
    "id_birth_date(",
    "id_sex(",
    "1u",
    "b'x'",
    " + 'x'",
    "date('2016-01-01')",
    "line.poverty",
    "year",
    "ref_date",
    " && ",
    " || ",
    "!",
    " == ",
    " != ",
    " < ",
    " >= ",
    " + ",
    " - ",
    " * ",
    " / ",
    " % ",
    " ? ",
    " : ",
    " in ['01', '02']",
    "'",
    "\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    "0",
    "3000",
    "1.5",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "null",
    "age",
    "income",
    "net_per_capita",
    "status",
    "exit_year",
    "\n",
    "=",
    "[[rule]]",
    "[[rule.example]]",
    "level = \"county\"",
    "level = \"township\"",
    "missing = \"never_skip\"",
    "years = \"2019\"",
    "pass = ",
    "expr = \"",
    "values.x = \"",
    "explain = \"{x} {year}\"",
    "日",
    "\u{0}",
    "\\",
    "#",
];

fn mutation() -> impl Strategy<Value = (usize, usize, Vec<usize>)> {
    (any::<usize>(), 0..40usize, prop::collection::vec(0..PIECES.len(), 0..6))
}

/// `text` with `cut` characters removed at `at` (a char boundary) and `pieces` put there.
fn mutate(text: &str, (at, cut, pieces): &(usize, usize, Vec<usize>)) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + cut).min(chars.len());
    let mut out: String = chars[..at].iter().collect();
    for p in pieces {
        out.push_str(PIECES[*p]);
    }
    out.extend(&chars[end..]);
    out
}

fn record() -> HouseholdRecord {
    let files = BUILTIN_FILES;
    let codes = CodeLists::builtin();
    let set = parse_file(files[0].0, files[0].1, &codes).expect("shipped");
    set.rules[0].examples[0].record.clone()
}

fn exercise(rule: &Rule, record: &HouseholdRecord) {
    let env = Env::builtin(2019, "61");
    let _ = rule.evaluate(&env, record, Some(0));
    let values: Vec<_> = rule.values.iter().map(|(_, v)| v).collect();
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let _ = compile_parts(&rule.id, rule.level, rule.missing, &rule.expr, &values, &env, dialect);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn mutated_rule_files_load_or_name_the_place(file in 0..BUILTIN_FILES.len(), edits in prop::collection::vec(mutation(), 1..4)) {
        let codes = CodeLists::builtin();
        let (name, text) = BUILTIN_FILES[file];
        let mut mutated = text.to_owned();
        for e in &edits {
            mutated = mutate(&mutated, e);
        }
        let lines = mutated.split('\n').count();
        match parse_file(name, &mutated, &codes) {
            Ok(set) => {
                let record = record();
                for rule in &set.rules {
                    exercise(rule, &record);
                }
            }
            Err(errors) => {
                prop_assert!(!errors.0.is_empty());
                for e in &errors.0 {
                    prop_assert_eq!(&e.file, name);
                    prop_assert!(e.line >= 1 && e.line <= lines + 1, "line {} of {}: {}", e.line, lines, e.message);
                    prop_assert!(e.column >= 1, "{}", e.message);
                    prop_assert!(!e.message.trim().is_empty());
                }
            }
        }
    }

    #[test]
    fn random_expressions_check_or_are_refused_at_every_level(pieces in prop::collection::vec(0..PIECES.len(), 1..12), level in 0..5usize) {
        let level = [Level::Person, Level::Household, Level::Village, Level::Township, Level::County][level];
        let text: String = pieces.iter().map(|p| PIECES[*p]).collect();
        let codes = CodeLists::builtin();
        if let Ok(q) = Query::parse(&text, level, &codes) {
            let rule = Rule {
                id: "fuzz".into(),
                title: String::new(),
                level,
                severity: Severity::Info,
                missing: Missing::NeverSkip,
                years: Years::default(),
                explain: String::new(),
                source: text.clone(),
                expr: q.expr,
                values: Vec::new(),
                examples: Vec::new(),
                place: String::new(),
                sql_blocker: None,
            };
            exercise(&rule, &record());
        }
    }
}
