//! Export → import gives back identical values, in CSV and in XLSX, for every table
//! and every kind of column; and the one cell parser (`fupin_domain::cell`) reads back
//! every value the exporter writes, in an import and in an edit alike.

use crate::common::*;
use fupin_domain::schema::{Column, HELPERS, HOUSEHOLDS, INCOMES, Kind, PAIRINGS, PERSONS, Table, VILLAGES};
use fupin_domain::{CodeLists, DivisionLevel, DivisionTree, Value};
use fupin_ingest::{FileReader, export};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// Reads a file that must be free of errors; returns its rows' values.
fn import(path: &std::path::Path, table: &Table) -> Vec<Vec<Value>> {
    let mut reader = FileReader::open(path, ctx()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(reader.table().name, table.name);
    let rows: Vec<_> = reader.by_ref().collect();
    let problems: Vec<_> =
        reader.file_problems().cloned().chain(rows.iter().flat_map(|r| r.problems.clone())).collect();
    assert!(!reader.refused(), "{}", listing(&problems));
    rows.into_iter().map(|r| r.values).collect()
}

fn round_trip(table: &'static Table, rows: &[Vec<Value>]) {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "xlsx"] {
        let path = dir.path().join(format!("{}.{ext}", table.name));
        assert_eq!(export(&path, table, rows).unwrap(), rows.len() as u64);
        let back = import(&path, table);
        assert_eq!(back.len(), rows.len(), "{ext}");
        for (i, (a, b)) in rows.iter().zip(&back).enumerate() {
            for (c, col) in table.columns.iter().enumerate() {
                assert_eq!(a[c], b[c], "{ext} row {i} column {}", col.name);
            }
        }
    }
}

#[test]
fn a_persons_file_survives_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let rows = import(&write(dir.path(), "persons.csv", persons_csv()), &PERSONS);
    round_trip(&PERSONS, &rows);
}

/// Text a spreadsheet would run as a formula is exported with a leading `'` (CSV
/// injection), and `fupin import` reads the exported file back unchanged.
#[test]
fn formula_text_is_neutralised_in_the_csv_and_imports_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let texts = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "'=1"];
    let rows: Vec<Vec<Value>> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut row = vec![Value::Null; HELPERS.columns.len()];
            row[0] = Value::Text(format!("G{i}"));
            row[HELPERS.index_of("name").unwrap()] = Value::from(*t);
            row[HELPERS.index_of("unit").unwrap()] = Value::from(*t);
            row
        })
        .collect();
    let path = dir.path().join("helpers.csv");
    export(&path, &HELPERS, rows.clone()).unwrap();
    let raw: Vec<_> = fupin_ingest::open(&path).unwrap().map(Result::unwrap).collect();
    let name = HELPERS.index_of("name").unwrap();
    for (i, t) in texts.iter().enumerate() {
        let cell = &raw[i + 1].cells[name];
        assert_eq!(cell, &format!("'{t}"), "the cell a spreadsheet opens starts with '");
    }
    round_trip(&HELPERS, &rows);
}

#[test]
fn xlsx_export_keeps_digits_as_text_and_sums_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let mut row = vec![Value::Null; INCOMES.columns.len()];
    row[0] = Value::from("0012345678901234567890");
    row[1] = Value::Int(2019);
    row[INCOMES.index_of("wages").unwrap()] = Value::Int(312050);
    let path = dir.path().join("incomes.xlsx");
    export(&path, &INCOMES, [row.clone()]).unwrap();
    let raw: Vec<_> = fupin_ingest::open(&path).unwrap().map(Result::unwrap).collect();
    assert_eq!(raw[0].cells[0], "户编号");
    assert_eq!(raw[1].cells[0], "0012345678901234567890");
    assert_eq!(raw[1].cells[INCOMES.index_of("wages").unwrap()], "3120.5");
    round_trip(&INCOMES, &[row]);
}

fn text_strategy(limit: usize, digits: bool) -> BoxedStrategy<String> {
    let max = limit.min(24);
    let pattern = if digits {
        format!("[0-9]{{1,{max}}}")
    } else {
        // With the characters a spreadsheet starts a formula with (= + - @), and `'`.
        format!("[a-zA-Z0-9张三李四王五镇村组，,\"'()（）#=+@ -]{{1,{max}}}")
    };
    proptest::string::string_regex(&pattern)
        .expect("valid pattern")
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("not blank", |s| !s.is_empty())
        .boxed()
}

/// Values as the registry holds them: what an import of some file could have stored.
fn value_strategy(col: &'static Column, codes: &CodeLists, villages: &[String]) -> BoxedStrategy<Value> {
    let list = |name: &str| codes.get(name).unwrap().codes.iter().map(|c| c.code.clone()).collect::<Vec<_>>();
    let present: BoxedStrategy<Value> = match col.kind {
        Kind::Text(limit) => text_strategy(limit, col.personal.is_some()).prop_map(Value::Text).boxed(),
        Kind::Key | Kind::Ref(_) => "[A-Za-z0-9-]{1,40}".prop_map(Value::Text).boxed(),
        Kind::Code(name) => select(list(name)).prop_map(Value::Text).boxed(),
        Kind::Codes(name, max) => {
            let all = list(name);
            subsequence(all.clone(), 1..=max.min(all.len())).prop_map(|c| Value::Text(c.join(";"))).boxed()
        }
        Kind::IdNumber => prop_oneof![
            (1900i32..2020, 1u8..=12, 1u8..=28, 0u16..1000, any::<bool>())
                .prop_map(|(y, m, d, s, male)| id(y, m, d, s, male)),
            "[0-9]{10,14}|[0-9]{16,17}|[0-9]{19,20}",
        ]
        .prop_map(Value::Text)
        .boxed(),
        Kind::Date => (1900i32..2100, 1u8..=12, 1u8..=28)
            .prop_map(|(y, m, d)| Value::Text(format!("{y:04}-{m:02}-{d:02}")))
            .boxed(),
        Kind::Year => (1949i64..=2100).prop_map(Value::Int).boxed(),
        Kind::Int => (-1_000_000_000_000i64..1_000_000_000_000).prop_map(Value::Int).boxed(),
        Kind::Decimal => prop_oneof![(-10_000_000i64..10_000_000).prop_map(|c| c as f64 / 100.0), -1e7f64..1e7]
            .prop_map(|f| Value::Real(format!("{f:.14e}").parse().unwrap()))
            .boxed(),
        Kind::Money => (-1_000_000_000_000i64..1_000_000_000_000).prop_map(Value::Int).boxed(),
        Kind::Bool => (0i64..=1).prop_map(Value::Int).boxed(),
        Kind::Village => select(villages.to_vec()).prop_map(Value::Text).boxed(),
    };
    if col.required { present } else { prop_oneof![1 => Just(Value::Null), 3 => present].boxed() }
}

fn rows_strategy(table: &'static Table) -> impl Strategy<Value = Vec<Vec<Value>>> {
    let codes = CodeLists::builtin();
    let villages: Vec<String> =
        DivisionTree::builtin_xunyang().at_level(DivisionLevel::Village).map(|d| d.code.as_str().to_owned()).collect();
    let row: Vec<BoxedStrategy<Value>> = table.columns.iter().map(|c| value_strategy(c, &codes, &villages)).collect();
    prop::collection::vec(row, 1..6).prop_map(move |mut rows| {
        // Keys made unique per row, so that no row duplicates another.
        for (i, row) in rows.iter_mut().enumerate() {
            for k in table.key_indices() {
                if matches!(table.columns[k].kind, Kind::Key | Kind::Ref(_)) {
                    row[k] = Value::Text(format!("K{i}-{}", table.columns[k].name.len()));
                }
            }
        }
        rows
    })
}

/// Every cell of `rows` as the exporter writes it reads back to the same value: in a
/// file (guarded, against the registry's villages) and typed into a form (codes only).
fn cells_round_trip(table: &'static Table, rows: &[Vec<Value>]) {
    let import = ctx();
    let edit = fupin_domain::cell::Context::codes_only(CodeLists::builtin());
    let id_type = table.index_of("id_type");
    for row in rows {
        let id_type = id_type.and_then(|i| row[i].as_text()).unwrap_or("");
        for (col, v) in table.columns.iter().zip(row) {
            let text = export::cell_text(col, v);
            let id_type = if col.kind == Kind::IdNumber { id_type } else { "" };
            let read = fupin_ingest::parse_cell(&import, col, &fupin_ingest::cell::guard(text.clone()), id_type);
            assert_eq!(read.map(|p| p.value).as_ref(), Ok(v), "import, column {}, {text:?}", col.name);
            let typed = fupin_domain::cell::parse(&edit, col, &text, id_type);
            assert_eq!(typed.map(|p| p.value).as_ref(), Ok(v), "edit, column {}, {text:?}", col.name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_cell_the_exporter_writes_reads_back(
        households in rows_strategy(&HOUSEHOLDS),
        persons in rows_strategy(&PERSONS),
        incomes in rows_strategy(&INCOMES),
        villages in rows_strategy(&VILLAGES),
        helpers in rows_strategy(&HELPERS),
        pairings in rows_strategy(&PAIRINGS),
    ) {
        cells_round_trip(&HOUSEHOLDS, &households);
        cells_round_trip(&PERSONS, &persons);
        cells_round_trip(&INCOMES, &incomes);
        cells_round_trip(&VILLAGES, &villages);
        cells_round_trip(&HELPERS, &helpers);
        cells_round_trip(&PAIRINGS, &pairings);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn households_round_trip(rows in rows_strategy(&HOUSEHOLDS)) { round_trip(&HOUSEHOLDS, &rows); }

    #[test]
    fn persons_round_trip(rows in rows_strategy(&PERSONS)) { round_trip(&PERSONS, &rows); }

    #[test]
    fn incomes_round_trip(rows in rows_strategy(&INCOMES)) { round_trip(&INCOMES, &rows); }

    #[test]
    fn villages_round_trip(rows in rows_strategy(&VILLAGES)) { round_trip(&VILLAGES, &rows); }

    #[test]
    fn helpers_round_trip(rows in rows_strategy(&HELPERS)) { round_trip(&HELPERS, &rows); }

    #[test]
    fn pairings_round_trip(rows in rows_strategy(&PAIRINGS)) { round_trip(&PAIRINGS, &rows); }
}
