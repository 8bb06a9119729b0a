//! One cell's text → one [`Value`], by the column's [`Kind`]: the one parser of a typed
//! value, which imports (`fupin_ingest::cell`) and edits (`fupin_store::operations`,
//! the offline corrections) call alike, so a value typed into a form and the same
//! value in an exchange file mean the same thing.
//!
//! The export writes the exact inverse (`fupin_ingest::export::cell_text`), so a
//! value exported from the registry reads back identical (a property test in
//! `crates/ingest/tests/ingest/round_trip.rs`).

use std::collections::HashSet;

use crate::codes::{CodeList, CodeLists};
use crate::division::{DivisionLevel, DivisionTree};
use crate::id_number::{self, IdProblem};
use crate::renamed::Renamed;
use crate::schema::{Column, Kind};
use crate::{Value, Yuan, date};

/// What cells are checked against: the code lists and the registry's villages.
///
/// An import knows the registry's villages and checks a 行政村代码 against them (an old
/// code of a renamed division is read under its new one); an edit leaves that question
/// to the store, which asks the registry in its transaction ([`Context::codes_only`]).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Every code list, by name; a code of any version of a list is accepted.
    pub codes: CodeLists,
    /// The 12-digit village codes a 行政村代码 must be one of; `None`: only its form is
    /// checked.
    villages: Option<HashSet<String>>,
    /// Renamed divisions (`data/divisions/renamed.csv`): an old 行政村代码 is read
    /// under its new code.
    renamed: Vec<Renamed>,
}

impl Context {
    /// A context with these code lists and these 12-digit village codes.
    pub fn new<S: Into<String>>(codes: CodeLists, villages: impl IntoIterator<Item = S>) -> Context {
        Context { codes, villages: Some(villages.into_iter().map(Into::into).collect()), renamed: Renamed::builtin() }
    }

    /// A context that checks codes but not whether a village is the registry's: for
    /// edits, whose store checks the village against the registry itself.
    pub fn codes_only(codes: CodeLists) -> Context {
        Context { codes, villages: None, renamed: Vec::new() }
    }

    /// A context whose villages are those of a division tree.
    pub fn from_tree(codes: CodeLists, tree: &DivisionTree) -> Context {
        Context::new(codes, tree.at_level(DivisionLevel::Village).map(|d| d.code.as_str().to_owned()))
    }

    /// The shipped code lists and the 309 villages of 旬阳市, for tests and the demo.
    pub fn builtin_xunyang() -> Context {
        Context::from_tree(CodeLists::builtin(), &DivisionTree::builtin_xunyang())
    }

    /// True when `code` is a village of the registry (always, when the context does not
    /// know the villages).
    pub fn has_village(&self, code: &str) -> bool {
        self.villages.as_ref().is_none_or(|v| v.contains(code))
    }
}

/// A value read from a cell, with what is worth telling about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The value to store.
    pub value: Value,
    /// Kept as given (or as normalised) but reported, such as a failing ID checksum.
    pub warning: Option<String>,
}

impl Parsed {
    fn ok(value: Value) -> Result<Parsed, String> {
        Ok(Parsed { value, warning: None })
    }
}

const EXCEL_ERRORS: [&str; 8] = ["#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#DATA!"];

/// Spaces, the zero-width characters spreadsheets leave behind, and the marks people
/// use to keep digits as text (`'0123`, `="0123"`, a leading tab) are not part of a
/// code or number.
fn clean(text: &str) -> &str {
    let t = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}');
    let t = t.strip_prefix('\'').unwrap_or(t);
    let t = match t.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => t,
    };
    t.trim()
}

fn scientific_error(header: &str, t: &str) -> String {
    format!(
        "「{t}」是被 Excel 改成科学计数法的数字，{header}末尾的数字已经丢失；请把该列设为“文本”格式，重新录入后再导出"
    )
}

/// Reads the text of one cell as a value of `column`: the one reading of a typed
/// value, for imports (after `fupin_ingest::cell::unguard`) and edits alike. Empty text is
/// NULL (a missing required value is the row's or the form's business, not the
/// cell's). `id_type` is the row's 证件类型 code, read for a 证件号码 (`""` or `01`
/// 身份证); other columns ignore it. Errors are the reason to show, in Chinese, without
/// the field's name; a value kept but worth telling about carries a warning.
///
/// What is accepted: codes by code, by label, or with the leading zeros a spreadsheet
/// dropped; dates as `2019-03-05`, `2019/3/5`, `2019年3月5日` (a time of day ignored,
/// an Excel date serial read with a warning); money fen-exact (`3,120.50元`, `￥12`);
/// whole numbers with a unit (`3组`, `第3`); numbers rounded to Excel's 15 digits;
/// 是/否 and the like; ID numbers normalised (`x` → `X`, 15 digits upgraded), a
/// failing one kept with a warning. Refused: Excel's error values (`#N/A`), numbers a
/// spreadsheet turned into scientific notation where digits matter, text over its
/// limit.
pub fn parse(ctx: &Context, column: &Column, text: &str, id_type: &str) -> Result<Parsed, String> {
    let raw = text.trim();
    if raw.is_empty() {
        return Parsed::ok(Value::Null);
    }
    if EXCEL_ERRORS.contains(&raw) {
        return Err(format!("单元格是 Excel 公式错误值 {raw}，请改为实际内容"));
    }
    match column.kind {
        Kind::Text(limit) => {
            if column.personal.is_some() && id_number::looks_like_scientific(raw) {
                return Err(scientific_error(column.header, raw));
            }
            let t = if column.personal.is_some() { clean(raw) } else { raw };
            let n = t.chars().count();
            if n > limit {
                return Err(format!("内容有 {n} 个字，超过了 {limit} 个字的上限"));
            }
            Parsed::ok(text_value(t))
        }
        Kind::Key | Kind::Ref(_) => parse_key(column.header, raw),
        Kind::Code(list) => {
            parse_code(ctx, column.header, list, clean(raw)).map(|c| Parsed { value: c.into(), warning: None })
        }
        Kind::Codes(list, max) => parse_codes(ctx, column.header, list, max, raw),
        Kind::IdNumber => parse_id_number(id_type, raw),
        Kind::Date => parse_date(clean(raw)),
        Kind::Year => {
            let y = parse_int(raw.trim_end_matches('年'))
                .ok_or_else(|| format!("「{raw}」不是年份（应为 4 位数字，如 2019）"))?;
            if !(1949..=2100).contains(&y) {
                return Err(format!("年份 {y} 不在 1949–2100 之间"));
            }
            Parsed::ok(Value::Int(y))
        }
        Kind::Int => {
            let t = raw.strip_prefix('第').unwrap_or(raw);
            parse_int(strip_unit(t))
                .map(Value::Int)
                .map(|v| Parsed { value: v, warning: None })
                .ok_or_else(|| format!("「{raw}」不是整数"))
        }
        Kind::Decimal => {
            let t: String = strip_unit(raw).chars().filter(|c| *c != ',' && *c != '，').collect();
            let f: f64 = t
                .parse()
                .ok()
                .filter(|f: &f64| f.is_finite() && !t.contains(['e', 'E', 'i', 'n', 'N']))
                .ok_or_else(|| format!("「{raw}」不是数字"))?;
            Parsed::ok(Value::Real(round15(f)))
        }
        Kind::Money => {
            let t = strip_unit(raw).trim_start_matches(['¥', '￥']);
            let y = Yuan::parse(t).map_err(|e| e.to_string())?;
            Parsed::ok(Value::Int(y.fen()))
        }
        Kind::Bool => match raw.to_ascii_lowercase().as_str() {
            "是" | "1" | "y" | "yes" | "true" => Parsed::ok(Value::Int(1)),
            "否" | "0" | "n" | "no" | "false" => Parsed::ok(Value::Int(0)),
            _ => Err(format!("「{raw}」应为“是”或“否”")),
        },
        Kind::Village => {
            let t = clean(raw);
            if id_number::looks_like_scientific(t) {
                return Err(scientific_error(column.header, t));
            }
            if t.len() != 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("行政村代码「{t}」应为 12 位数字"));
            }
            if !ctx.has_village(t) {
                let renamed =
                    ctx.renamed.iter().find_map(|r| r.apply(t).filter(|n| ctx.has_village(n)).map(|n| (r, n)));
                if let Some((r, new)) = renamed {
                    return Ok(Parsed {
                        value: Value::Text(new.clone()),
                        warning: Some(format!(
                            "行政村代码「{t}」是 {} 年改代码前的旧代码（{} → {}），按新代码 {new} 导入",
                            r.year, r.old, r.new
                        )),
                    });
                }
                return Err(format!("行政村代码「{t}」不在本县的区划中，请核对是否写错"));
            }
            Parsed::ok(Value::Text(t.to_owned()))
        }
    }
}

/// Text as stored: trimmed; empty is NULL.
fn text_value(t: &str) -> Value {
    let t = t.trim();
    if t.is_empty() { Value::Null } else { Value::Text(t.to_owned()) }
}

/// Units people type after numbers (`3.5亩`, `4人`, `3组`, `3120元`).
fn strip_unit(t: &str) -> &str {
    t.trim_end_matches(|c: char| !c.is_ascii()).trim()
}

/// A whole number; `3.0` and `3.00` count as 3.
fn parse_int(t: &str) -> Option<i64> {
    let t = t.trim();
    let t = match t.split_once('.') {
        Some((i, f)) if !f.is_empty() && f.bytes().all(|b| b == b'0') => i,
        Some(_) => return None,
        None => t,
    };
    if t.is_empty() || !t.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Rounds to 15 significant digits, Excel's precision: what a workbook shows is what
/// is stored, and values survive an XLSX round trip unchanged.
fn round15(f: f64) -> f64 {
    if f == 0.0 || !f.is_finite() {
        return f;
    }
    format!("{f:.14e}").parse().unwrap_or(f)
}

fn parse_key(header: &str, raw: &str) -> Result<Parsed, String> {
    let t = clean(raw);
    if id_number::looks_like_scientific(t) {
        return Err(scientific_error(header, t));
    }
    if let Some(c) = t.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(format!("编号「{t}」中有不允许的字符“{c}”（只能是字母、数字和 -）"));
    }
    if t.len() > 40 {
        return Err(format!("编号「{t}」超过 40 个字符"));
    }
    Parsed::ok(text_value(t))
}

/// The code a text means in `list`: a code of any version of the list, its label
/// (`汉族` → `01`), or a code whose leading zeros a spreadsheet dropped (`1` → `01`).
pub fn parse_code(ctx: &Context, header: &str, list: &str, t: &str) -> Result<String, String> {
    let Some(codes) = ctx.codes.get(list) else {
        return Err(format!("没有名为 {list} 的代码表"));
    };
    if let Some(c) = codes.get(t).or_else(|| codes.by_label(t)) {
        return Ok(c.code.clone());
    }
    let digits = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let unpadded =
        |c: &&crate::codes::Code| c.code.len() > t.len() && c.code.trim_start_matches('0') == t.trim_start_matches('0');
    if let Some(c) = codes.codes.iter().find(unpadded).filter(|_| digits) {
        return Ok(c.code.clone());
    }
    Err(format!("「{t}」不是「{header}」的有效代码或名称（{}）", code_hint(codes)))
}

fn code_hint(list: &CodeList) -> String {
    let shown: Vec<String> = list.codes.iter().take(12).map(|c| format!("{} {}", c.code, c.label)).collect();
    let more = if list.codes.len() > 12 { format!(" 等 {} 项", list.codes.len()) } else { String::new() };
    format!("可填：{}{more}", shown.join("、"))
}

fn parse_codes(ctx: &Context, header: &str, list: &str, max: usize, raw: &str) -> Result<Parsed, String> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([';', '；', '、', ',', '，']).map(clean).filter(|p| !p.is_empty()) {
        let code = parse_code(ctx, header, list, part)?;
        if !out.contains(&code) {
            out.push(code);
        }
    }
    if out.len() > max {
        return Err(format!("最多填 {max} 项，实有 {} 项", out.len()));
    }
    Parsed::ok(if out.is_empty() { Value::Null } else { Value::Text(out.join(";")) })
}

/// A 证件号码 for the row's 证件类型 code (`""` or `01` 身份证, `09` 残疾人证, …).
///
/// A number turned into scientific notation is an error: its digits are gone. Any
/// other problem (length, checksum, birth date) is a warning and the number is kept:
/// registries hold such numbers, and dropping them would lose the person. A number
/// that converts is stored in its normalised 18-character form (`x` → `X`, 15 digits
/// upgraded).
pub fn parse_id_number(id_type: &str, raw: &str) -> Result<Parsed, String> {
    let t = clean(raw);
    if t.is_empty() {
        return Parsed::ok(Value::Null);
    }
    if id_number::looks_like_scientific(t) {
        return Err(IdProblem::ScientificNotation(t.to_owned()).to_string());
    }
    let n = id_number::normalize(id_type, t);
    Ok(Parsed { value: Value::Text(n.stored), warning: n.problem.map(|p| p.to_string()) })
}

/// A date in any of the forms people write (see [`date::parse`]),
/// with a time of day ignored; a five-digit number is read as an Excel date serial
/// (a date column formatted as a number) and reported.
fn parse_date(t: &str) -> Result<Parsed, String> {
    let day = t.split([' ', 'T']).next().unwrap_or(t);
    if let Some(d) = date::parse(day) {
        return Parsed::ok(Value::Text(date::iso(d)));
    }
    if t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit()) {
        let serial: i64 = t.parse().map_err(|_| format!("「{t}」不是日期"))?;
        // Excel's day 1 is 1900-01-01 and it counts a 29 February 1900 that never was,
        // so from day 61 on the epoch is 1899-12-30.
        let epoch = time::Date::from_calendar_date(1899, time::Month::December, 30).expect("valid");
        if let Some(d) = epoch.checked_add(time::Duration::days(serial)) {
            let iso = date::iso(d);
            return Ok(Parsed {
                value: Value::Text(iso.clone()),
                warning: Some(format!("「{t}」按 Excel 日期序号读作 {iso}；请把该列设为日期格式")),
            });
        }
    }
    Err(format!("「{t}」不是日期（应写作 2019-03-05、2019/3/5 或 2019年3月5日）"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{HOUSEHOLDS, INCOMES, PERSONS};
    use crate::{CodeLists, Table};

    /// An import's context: the code lists and 旬阳's villages.
    fn read(table: &Table, name: &str, text: &str) -> Result<Parsed, String> {
        parse(&Context::builtin_xunyang(), table.column(name).unwrap(), text, "")
    }

    fn value(table: &Table, name: &str, text: &str) -> Value {
        read(table, name, text).unwrap().value
    }

    /// An edit's context: the code lists only; the 证件类型 of the row.
    fn edit(table: &Table, name: &str, text: &str) -> Result<Parsed, String> {
        parse(&Context::codes_only(CodeLists::builtin()), table.column(name).unwrap(), text, "01")
    }

    #[test]
    fn codes_accept_labels_and_lost_zeros() {
        assert_eq!(value(&PERSONS, "ethnicity", "汉族"), Value::from("01"));
        assert_eq!(value(&PERSONS, "ethnicity", "01"), Value::from("01"));
        assert_eq!(value(&PERSONS, "ethnicity", "1"), Value::from("01"));
        assert_eq!(value(&PERSONS, "health", "长期慢性病、04"), Value::from("02;04"));
        let e = read(&PERSONS, "ethnicity", "火星族").unwrap_err();
        assert!(e.contains("01 汉族"), "{e}");
    }

    #[test]
    fn numbers_money_bools_and_dates() {
        assert_eq!(value(&HOUSEHOLDS, "group_no", "3组"), Value::Int(3));
        assert_eq!(value(&HOUSEHOLDS, "group_no", "3"), Value::Int(3));
        assert_eq!(value(&INCOMES, "wages", "3,120.5"), Value::Int(312050));
        assert_eq!(value(&HOUSEHOLDS, "farmland_mu", "2.5亩"), Value::Real(2.5));
        assert_eq!(value(&HOUSEHOLDS, "toilet", "是"), Value::Int(1));
        assert_eq!(value(&HOUSEHOLDS, "toilet", "N"), Value::Int(0));
        assert_eq!(value(&HOUSEHOLDS, "monitor_since", "2019/3/5"), Value::from("2019-03-05"));
        assert_eq!(value(&HOUSEHOLDS, "monitor_since", "2019-03-05 00:00:00"), Value::from("2019-03-05"));
        let serial = read(&HOUSEHOLDS, "monitor_since", "43529").unwrap();
        assert_eq!(serial.value, Value::from("2019-03-05"));
        assert!(serial.warning.is_some());
        assert!(read(&HOUSEHOLDS, "identified_year", "1900").is_err());
        assert!(read(&HOUSEHOLDS, "toilet", "也许").is_err());
        assert!(read(&HOUSEHOLDS, "farmland_mu", "NaN").is_err());
        assert!(read(&INCOMES, "wages", "#DIV/0!").is_err());
    }

    #[test]
    fn id_numbers_are_normalised_or_kept_with_a_warning() {
        let p = parse_id_number("01", "11010519491231002x").unwrap();
        assert_eq!((p.value, p.warning), (Value::from("11010519491231002X"), None));
        let p = parse_id_number("01", "110105194912310021").unwrap();
        assert_eq!(p.value, Value::from("110105194912310021"));
        assert!(p.warning.unwrap().contains("校验位"));
        assert!(parse_id_number("01", "6.10981E+17").unwrap_err().contains("文本"));
        let p = parse_id_number("01", "'11010519491231002X").unwrap();
        assert_eq!(p.warning, None);
    }

    #[test]
    fn keys_and_villages() {
        assert!(read(&PERSONS, "person_id", "P 1").is_err());
        assert!(read(&PERSONS, "person_id", "6.10981E+17").unwrap_err().contains("科学计数法"));
        assert_eq!(value(&HOUSEHOLDS, "village_code", "610981105201"), Value::from("610981105201"));
        assert!(read(&HOUSEHOLDS, "village_code", "610981999999").unwrap_err().contains("不在本县"));
        assert!(read(&HOUSEHOLDS, "village_code", "6109811").is_err());
        let old = read(&HOUSEHOLDS, "village_code", "610928105201").unwrap();
        assert_eq!(old.value, Value::from("610981105201"), "an old code of a renamed county");
        assert!(old.warning.unwrap().contains("旧代码"));
    }

    #[test]
    fn text_limits_count_characters() {
        assert_eq!(value(&PERSONS, "name", " 张三 "), Value::from("张三"));
        assert!(read(&PERSONS, "name", &"张".repeat(51)).is_err());
        assert!(read(&PERSONS, "phone", "1.38123E+10").is_err());
    }

    #[test]
    fn fields_typed_into_a_form_read_by_kind() {
        assert_eq!(edit(&PERSONS, "relation", "配偶").unwrap().value, Value::from("02"));
        assert!(edit(&PERSONS, "relation", "邻居").unwrap_err().contains("01 户主"));
        assert_eq!(edit(&PERSONS, "health", "长期慢性病、04").unwrap().value, Value::from("02;04"));
        assert_eq!(edit(&HOUSEHOLDS, "group_no", "3组").unwrap().value, Value::Int(3));
        assert_eq!(edit(&HOUSEHOLDS, "farmland_mu", "2.5亩").unwrap().value, Value::Real(2.5));
        assert!(edit(&HOUSEHOLDS, "farmland_mu", "NaN").is_err());
        assert_eq!(edit(&INCOMES, "wages", "3,120.5").unwrap().value, Value::Int(312050));
        assert_eq!(edit(&HOUSEHOLDS, "toilet", "否").unwrap().value, Value::Int(0));
        assert_eq!(edit(&PERSONS, "birth_date", "2019年3月5日").unwrap().value, Value::from("2019-03-05"));
        assert!(edit(&PERSONS, "birth_date", "2019-02-30").is_err());
        assert!(edit(&HOUSEHOLDS, "exit_year", "1900").is_err());
        assert!(edit(&PERSONS, "name", &"张".repeat(51)).is_err());
        assert_eq!(edit(&PERSONS, "name", "").unwrap().value, Value::Null);
        let bad = edit(&PERSONS, "id_number", "110105194912310021").unwrap();
        assert_eq!(bad.value, Value::from("110105194912310021"));
        assert!(bad.warning.unwrap().contains("校验位"));
        assert_eq!(edit(&PERSONS, "id_number", "11010519491231002x").unwrap().warning, None);
        assert!(edit(&HOUSEHOLDS, "village_code", "61098").is_err());
        // Whether the registry has the village is the store's question in an edit.
        assert_eq!(edit(&HOUSEHOLDS, "village_code", "610981999999").unwrap().value, Value::from("610981999999"));
    }

    /// What only imports accepted before the two readings became one, now accepted in a
    /// form too; and what only imports refused, now refused in a form too.
    #[test]
    fn forms_read_what_files_read() {
        assert_eq!(edit(&PERSONS, "ethnicity", "1").unwrap().value, Value::from("01"), "lost zeros");
        assert_eq!(edit(&HOUSEHOLDS, "group_no", "第3").unwrap().value, Value::Int(3));
        assert_eq!(edit(&HOUSEHOLDS, "farmland_mu", "+2.5").unwrap().value, Value::Real(2.5));
        assert_eq!(edit(&PERSONS, "birth_date", "2019-03-05 08:00").unwrap().value, Value::from("2019-03-05"));
        assert_eq!(edit(&HOUSEHOLDS, "phone", "'0916123456").unwrap().value, Value::from("0916123456"));
        assert!(edit(&PERSONS, "name", "#N/A").unwrap_err().contains("错误值"));
        assert!(edit(&PERSONS, "person_id", "6.10981E+17").unwrap_err().contains("科学计数法"));
    }
}
