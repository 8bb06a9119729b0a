//! Every cell of every table: any text ends in a value or a reason, never a panic.
#![no_main]

use std::sync::OnceLock;

use fupin_domain::schema::{Kind, TABLES};
use fupin_domain::{Value, Yuan, date};
use fupin_ingest::{Context, parse_id_number, parse_value};
use libfuzzer_sys::fuzz_target;

fn ctx() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(Context::builtin_xunyang)
}

fuzz_target!(|text: &str| {
    let ctx = ctx();
    for table in TABLES {
        for column in table.columns {
            let Ok(parsed) = parse_value(ctx, column, text) else { continue };
            match (&parsed.value, column.kind) {
                (Value::Null, _) => {}
                (Value::Text(t), Kind::Date) => {
                    let d = date::parse(t).unwrap_or_else(|| panic!("{t:?} from {text:?} is not a date"));
                    assert_eq!(&date::iso(d), t);
                }
                (Value::Text(t), Kind::Text(limit)) => assert!(t.chars().count() <= limit),
                (Value::Real(f), Kind::Decimal) => assert!(f.is_finite()),
                _ => {}
            }
        }
    }
    for id_type in ["", "01", "09", "02"] {
        let _ = parse_id_number(id_type, text);
    }

    if let Some(d) = date::parse(text) {
        // The stored form reads back as the same day.
        assert_eq!(date::parse(&date::iso(d)), Some(d));
    }

    if let Ok(y) = Yuan::parse(text) {
        // What is printed reads back as the same amount.
        let shown = y.to_string();
        assert_eq!(Yuan::parse(&shown), Ok(y), "{text:?} → {shown:?}");
        let _ = y.per_person(3);
    }
});
