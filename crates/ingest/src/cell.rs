//! One cell of an exchange file: the guard the export puts before text a spreadsheet
//! would run as a formula, taken off again on import, and then the one reading of a
//! typed value that imports and edits share ([`fupin_domain::cell::parse`]).
//!
//! The export writes the exact inverse ([`crate::export::cell_text`] and [`guard`]), so
//! a file exported from the registry imports back to identical values.

use fupin_domain::schema::Column;

pub use fupin_domain::cell::{Context, Parsed, parse_code, parse_id_number};

/// Reads one cell of a file as a value of `column` (see [`fupin_domain::cell::parse`]):
/// the export's guard taken off, a 证件号码 read for the row's 证件类型 `id_type`.
pub fn parse_cell(ctx: &Context, column: &Column, text: &str, id_type: &str) -> Result<Parsed, String> {
    fupin_domain::cell::parse(ctx, column, unguard(text.trim()), id_type)
}

/// Reads one cell of a file as a value of `column`; a 证件号码 is read as a 居民身份证
/// number (use [`parse_cell`] when the row names another 证件类型).
pub fn parse_value(ctx: &Context, column: &Column, text: &str) -> Result<Parsed, String> {
    parse_cell(ctx, column, text, "")
}

/// The characters a spreadsheet takes as the start of a formula when it opens a CSV
/// file (CSV injection): `= + - @`, tab and carriage return.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether an exported cell must be kept from being read as a formula: it starts, after
/// any apostrophes, with a formula character, and is not a plain number (`-12.5` is
/// harmless and stays a number). Counting the apostrophes makes [`guard`] and
/// [`unguard`] exact inverses, also for text that itself begins with `'=`.
fn needs_guard(t: &str) -> bool {
    let rest = t.trim_start_matches('\'');
    rest.starts_with(FORMULA_START) && !plain_number(rest)
}

/// `-12`, `+3.50`: digits with an optional sign and decimals.
fn plain_number(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
    !whole.is_empty()
        && !frac.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A cell as exported: `'` before text a spreadsheet would run as a formula
/// (`=HYPERLINK(…)` → `'=HYPERLINK(…)`), as spreadsheets themselves mark text.
pub fn guard(text: String) -> String {
    if needs_guard(&text) { format!("'{text}") } else { text }
}

/// A cell as read: the `'` that [`guard`] put before it taken off again, so an exported
/// file imports unchanged.
pub fn unguard(t: &str) -> &str {
    match t.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_text_is_guarded_on_export_and_unguarded_on_import() {
        for (stored, exported) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("-12.5", "-12.5"),
            ("+86", "+86"),
            ("'0123", "'0123"),
            ("张三", "张三"),
            ("", ""),
        ] {
            assert_eq!(guard(stored.to_owned()), exported, "{stored:?}");
            assert_eq!(unguard(exported), stored, "{exported:?}");
        }
    }
}
