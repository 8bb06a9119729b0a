//! Registry values as people read them: code labels instead of codes, 是/否, 元,
//! ages — and personal numbers masked. Every cell a page shows passes through
//! [`cell`], so no page can show an ID or phone number unmasked by forgetting to.

use std::collections::BTreeMap;

use fupin_domain::schema::{Column, Kind, Personal, Table};
use fupin_domain::{CodeLists, Value, Yuan, date, mask};
use time::Date;

use crate::i18n::Tr;

/// Masks a personal value according to its kind.
pub(crate) fn masked(p: Personal, text: &str) -> String {
    match p {
        Personal::IdNumber => mask::id_number(text),
        Personal::Phone => mask::phone(text),
        Personal::Account => mask::account(text),
    }
}

/// A stored value (typed, or canonical text from the change history) as shown.
pub(crate) fn cell(col: &Column, value: &Value, codes: &CodeLists) -> String {
    let Some(text) = value.canonical().filter(|t| !t.is_empty()) else {
        return String::new();
    };
    if let Some(p) = col.personal {
        return masked(p, &text);
    }
    match col.kind {
        Kind::Code(list) => codes.label(list, &text).to_owned(),
        Kind::Codes(list, _) => text
            .split([';', '；', '、', ',', '，'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| codes.label(list, c))
            .collect::<Vec<_>>()
            .join("、"),
        Kind::Bool => match text.as_str() {
            "1" => "是".to_owned(),
            "0" => "否".to_owned(),
            _ => text,
        },
        Kind::Money => text.parse::<i64>().map(|fen| Yuan::from_fen(fen).to_string()).unwrap_or(text),
        _ => text,
    }
}

/// The value of column `name` of a row in `table`'s column order, as shown.
pub(crate) fn field(table: &Table, row: &[Value], name: &str, codes: &CodeLists) -> String {
    match (table.index_of(name), table.column(name)) {
        (Some(i), Some(col)) => row.get(i).map(|v| cell(col, v, codes)).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The raw text of column `name` (for keys and links, never for personal columns).
pub(crate) fn raw(table: &Table, row: &[Value], name: &str) -> String {
    table.index_of(name).and_then(|i| row.get(i)).and_then(Value::canonical).unwrap_or_default()
}

/// `1990-03-05（35 岁）`.
pub(crate) fn birth_with_age(t: Tr, birth: &str, today: Date) -> String {
    match date::parse(birth) {
        Some(d) => t.f2("display.birth_age", "date", date::iso(d), "age", date::age_on(d, today)),
        None => birth.to_owned(),
    }
}

pub(crate) use fupin_domain::date::beijing;

pub(crate) use fupin_domain::mask::scrub_ids;

/// Who made a change, from the change log's `actor`.
pub(crate) fn actor(t: Tr, a: &str) -> String {
    match a {
        "import" => t.t("display.actor.import").to_owned(),
        "system" => t.t("display.actor.system").to_owned(),
        _ => a.strip_prefix("user:").unwrap_or(a).to_owned(),
    }
}

/// A whole row as recorded in the history (canonical JSON), as `表头：值` pairs with
/// personal values masked; at most `max` pairs, then how many more.
pub(crate) fn row_summary(t: Tr, table: &Table, json: &str, codes: &CodeLists, max: usize) -> String {
    let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(json) else {
        return t.t("display.unreadable").to_owned();
    };
    let parts: Vec<String> = table
        .columns
        .iter()
        .filter_map(|c| {
            let v = map.get(c.name)?;
            let shown = cell(c, &Value::Text(v.clone()), codes);
            (!shown.is_empty()).then(|| format!("{}：{shown}", c.header))
        })
        .collect();
    let more = parts.len().saturating_sub(max);
    let mut out = parts.into_iter().take(max).collect::<Vec<_>>().join("；");
    if more > 0 {
        out.push_str(&t.f1("display.more", "count", more));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PERSONS};

    fn col<'a>(t: &'a Table, name: &str) -> &'a Column {
        t.column(name).unwrap()
    }

    #[test]
    fn codes_become_labels_and_numbers_are_masked() {
        let codes = CodeLists::builtin();
        assert_eq!(cell(col(&HOUSEHOLDS, "main_cause"), &"01".into(), &codes), "因病");
        assert_eq!(cell(col(&PERSONS, "health"), &"02;04".into(), &codes), "长期慢性病、残疾");
        assert_eq!(cell(col(&PERSONS, "id_number"), &"61098119900101123X".into(), &codes), "610981************");
        assert_eq!(cell(col(&PERSONS, "phone"), &"13812341234".into(), &codes), "138****1234");
        assert_eq!(cell(col(&HOUSEHOLDS, "toilet"), &Value::Int(1), &codes), "是");
        assert_eq!(cell(col(&INCOMES, "wages"), &Value::Int(312_050), &codes), "3120.50");
        assert_eq!(cell(col(&INCOMES, "wages"), &"300000".into(), &codes), "3000");
        assert_eq!(cell(col(&HOUSEHOLDS, "phone"), &Value::Null, &codes), "");
    }

    #[test]
    fn history_rows_are_summarised_masked() {
        let codes = CodeLists::builtin();
        let json = r#"{"person_id":"P1","name":"张三","id_number":"61098119900101123X","relation":"01"}"#;
        let zh = Tr::default();
        let s = row_summary(zh, &PERSONS, json, &codes, 10);
        assert_eq!(s, "人编号：P1；姓名：张三；证件号码：610981************；与户主关系：户主");
        assert_eq!(row_summary(zh, &PERSONS, json, &codes, 2), "人编号：P1；姓名：张三……等 2 项");
        let en = Tr::new(crate::i18n::Lang::En);
        assert_eq!(row_summary(en, &PERSONS, json, &codes, 2), "人编号：P1；姓名：张三 … 2 more");
        assert_eq!(row_summary(en, &PERSONS, "not json", &codes, 2), "(unreadable record)");
    }

    #[test]
    fn times_and_ages_read_naturally() {
        assert_eq!(beijing("2026-11-05T08:30:00Z"), "2026-11-05 16:30");
        assert_eq!(beijing("2026-11-05T20:30:00.123456Z"), "2026-11-06 04:30");
        let today = date::parse("2026-06-01").unwrap();
        let (zh, en) = (Tr::default(), Tr::new(crate::i18n::Lang::En));
        assert_eq!(birth_with_age(zh, "1990-06-02", today), "1990-06-02（35 岁）");
        assert_eq!(birth_with_age(en, "1990-06-02", today), "1990-06-02 (35)");
        assert_eq!(actor(zh, "user:cadre"), "cadre");
        assert_eq!(actor(en, "import"), "file import");
    }

    #[test]
    fn numbers_in_free_text_are_masked() {
        assert_eq!(
            scrub_ids("更正 61098119900101123X 的电话 13812341234"),
            "更正 610981************ 的电话 138****1234"
        );
        assert_eq!(scrub_ids("卡号6228480012345671有误"), "卡号************5671有误");
        assert_eq!(scrub_ids("卡号 6228480012345671 已换"), "卡号 ************5671 已换");
        assert_eq!(scrub_ids("新卡 6228 4800 1234 5671。"), "新卡 ************5671。");
        assert_eq!(scrub_ids("新卡 6228-4800-1234-5671"), "新卡 ************5671");
        assert_eq!(scrub_ids("户 61098100100100001 已核"), "户 61098100100100001 已核", "not a card number");
        assert_eq!(scrub_ids("2019 2020 2021 年"), "2019 2020 2021 年");
        assert_eq!(scrub_ids("persons.csv:12 户 H001"), "persons.csv:12 户 H001");
        // Phones and ID numbers written in groups, as people write them.
        assert_eq!(scrub_ids("电话 139 1234 5678。"), "电话 139****5678。");
        assert_eq!(scrub_ids("电话 139-1234-5678 2 人"), "电话 139****5678 2 人");
        assert_eq!(scrub_ids("证 610981 19900101 123X 号"), "证 610981************ 号");
        assert_eq!(scrub_ids("证 610981-19800101-0016"), "证 610981************");
        assert_eq!(scrub_ids("卡 6228 4800 1234 5671 2 张"), "卡 ************5671 2 张");
        assert_eq!(scrub_ids("2026-06-01 10 20 30"), "2026-06-01 10 20 30");
        assert_eq!(scrub_ids("1 3 5 7 9 11 13 15 17"), "1 3 5 7 9 11 13 15 17");
        // A 残疾证号 is the holder's ID number and two digits (category, grade).
        assert_eq!(scrub_ids("残疾证 6109811980010100161 2 级"), "残疾证 6109811980010100161 2 级");
        assert_eq!(scrub_ids("残疾证号61098119800101001612。"), "残疾证号610981**************。");
        assert_eq!(scrub_ids("证 61098119820305002X43"), "证 610981**************");
    }
}
