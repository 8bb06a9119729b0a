//! Whatever bytes arrive, reading them ends in rows or problems, never a panic.

use crate::common::*;
use fupin_ingest::{FileReader, open};
use proptest::prelude::*;

/// Opens and reads everything, the way both the raw and the validating reader do.
fn read_everything(bytes: &[u8], name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, bytes);
    if let Ok(source) = open(&path) {
        for item in source.take(10_000) {
            let _ = item;
        }
    }
    if let Ok(mut reader) = FileReader::open(&path, ctx()) {
        let mut n = 0;
        while let Some(row) = reader.next_row() {
            assert_eq!(row.values.len(), reader.table().columns.len());
            n += 1;
            if n > 10_000 {
                break;
            }
        }
        let _ = reader.file_problems().count();
    }
}

/// A small valid workbook whose bytes the tests damage.
fn valid_xlsx() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "persons.csv", persons_csv());
    let rows: Vec<_> = FileReader::open(&csv, ctx()).unwrap().map(|r| r.values).collect();
    let path = dir.path().join("persons.xlsx");
    fupin_ingest::export(&path, &fupin_domain::schema::PERSONS, rows).unwrap();
    std::fs::read(path).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        read_everything(&bytes, "x.csv");
    }

    #[test]
    fn arbitrary_bytes_behind_workbook_magic(
        magic in prop_oneof![Just(b"PK\x03\x04".to_vec()), Just(vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])],
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
    ) {
        read_everything(&[magic, bytes].concat(), "x.xlsx");
    }

    #[test]
    fn csv_like_text(text in "[人编号户姓名与主关系,\"\\n\\r;\t 0-9A-Z户主配偶汉族]{0,400}") {
        read_everything(text.as_bytes(), "x.csv");
        read_everything(format!("人编号,户编号,姓名,与户主关系\n{text}").as_bytes(), "y.csv");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_workbooks(cut in 0.0f64..1.0, flips in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..8)) {
        let mut bytes = valid_xlsx();
        for (at, b) in flips {
            let last = bytes.len() - 1;
            let i = ((bytes.len() as f64) * at) as usize;
            bytes[i.min(last)] = b;
        }
        let keep = ((bytes.len() as f64) * cut) as usize;
        read_everything(&bytes, "whole.xlsx");
        read_everything(&bytes[..keep.max(1)], "cut.xlsx");
    }
}
