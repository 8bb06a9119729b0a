//! Department ownership of registry fields, as domain data. 部门数据员: the departments (`data/codes/department.csv`: 教育, 医保, 民政, 住建, 人社,
//! 残联, 公安, 乡村振兴…) and the registry columns each one owns
//! (`data/policy/department_fields.csv`). A department officer sees county-wide
//! households but only their identifying columns ([`IDENTIFYING`]) and their own
//! department's; every other column is left out of pages, downloads and API answers.
//! Both files are compiled in and checked against `fupin_domain::schema` when first
//! read, with errors naming file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use crate::CodeList;
use crate::schema::TABLES;

const CODES_FILE: &str = "data/codes/department.csv";
const CODES: &str = include_str!("../../../data/codes/department.csv");
const FIELDS_FILE: &str = "data/policy/department_fields.csv";
const FIELDS: &str = include_str!("../../../data/policy/department_fields.csv");

/// What identifies a household or person to every department: 户编号, 村, 人编号,
/// 姓名, and an income row's year (`(table, column)`).
pub const IDENTIFYING: &[(&str, &str)] = &[
    ("households", "hh_id"),
    ("households", "village_code"),
    ("persons", "person_id"),
    ("persons", "hh_id"),
    ("persons", "name"),
    ("incomes", "hh_id"),
    ("incomes", "year"),
];

/// The departments and the columns each owns.
#[derive(Debug)]
pub struct Departments {
    pub codes: CodeList,
    owned: BTreeMap<String, BTreeSet<(String, String)>>,
}

impl Departments {
    /// The shipped files; they are checked by a unit test, so this cannot fail in a build.
    pub fn builtin() -> &'static Departments {
        static BUILTIN: LazyLock<Departments> =
            LazyLock::new(|| Departments::parse(CODES, FIELDS).expect("the shipped department files are valid"));
        &BUILTIN
    }

    /// Reads the code list and the field map, refusing an unknown department, table
    /// or column, naming file and line.
    pub fn parse(codes: &str, fields: &str) -> Result<Departments, String> {
        let codes = CodeList::parse("department", CODES_FILE, codes).map_err(|e| e.to_string())?;
        let mut owned: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        let mut lines = fields.lines().enumerate();
        match lines.next() {
            Some((_, header)) if header.trim_start_matches('\u{feff}').starts_with("department,table,column") => {}
            _ => return Err(format!("{FIELDS_FILE} 第 1 行：表头应为 department,table,column,note")),
        }
        for (i, line) in lines {
            let err = |why: String| format!("{FIELDS_FILE} 第 {} 行：{why}", i + 1);
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(4, ',').map(str::trim);
            let (Some(dep), Some(table), Some(column)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(err("应有 department,table,column 三列".to_owned()));
            };
            if codes.get(dep).is_none() {
                return Err(err(format!("部门代码“{dep}”不在 {CODES_FILE} 中")));
            }
            let Some(t) = TABLES.iter().find(|t| t.name == table) else {
                return Err(err(format!("没有名为“{table}”的登记表")));
            };
            if t.column(column).is_none() {
                return Err(err(format!("登记表 {table} 没有“{column}”列")));
            }
            if !owned.entry(dep.to_owned()).or_default().insert((table.to_owned(), column.to_owned())) {
                return Err(err(format!("{table}.{column} 重复")));
            }
        }
        Ok(Departments { codes, owned })
    }

    /// Whether an officer of `department` (`None`: none set) sees `table.column`.
    pub fn sees(&self, department: Option<&str>, table: &str, column: &str) -> bool {
        IDENTIFYING.contains(&(table, column))
            || department
                .and_then(|d| self.owned.get(d))
                .is_some_and(|cols| cols.iter().any(|(t, c)| t == table && c == column))
    }

    /// The department `text` names, by code (`03`) or name (民政); else a refusal
    /// that lists them.
    pub fn find(&self, text: &str) -> Result<&crate::codes::Code, String> {
        let text = text.trim();
        self.codes.get(text).or_else(|| self.codes.by_label(text)).ok_or_else(|| {
            let known: Vec<String> = self.codes.codes.iter().map(|c| format!("{}（{}）", c.code, c.label)).collect();
            format!("未知部门“{text}”：应为 {}", known.join("、"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_files_are_valid_and_every_department_owns_columns() {
        let d = Departments::parse(CODES, FIELDS).unwrap();
        for code in &d.codes.codes {
            assert!(d.owned.get(&code.code).is_some_and(|c| !c.is_empty()), "{} owns no column", code.label);
        }
        let civil = d.find("民政").unwrap().code.clone();
        assert!(d.sees(Some(&civil), "persons", "dibao"));
        assert!(d.sees(Some(&civil), "incomes", "dibao_money"));
        assert!(d.sees(Some(&civil), "persons", "name"));
        assert!(!d.sees(Some(&civil), "persons", "labour"));
        assert!(!d.sees(Some(&civil), "persons", "phone"));
        assert!(!d.sees(None, "persons", "dibao"));
        assert!(d.sees(Some(&d.find("07").unwrap().code.clone()), "persons", "id_number"));
    }

    #[test]
    fn bad_files_are_refused_naming_the_line() {
        let bad_column = "department,table,column,note\n03,persons,dibao,\n03,persons,nope,\n";
        assert!(Departments::parse(CODES, bad_column).unwrap_err().contains("第 3 行"));
        let bad_dep = "department,table,column,note\n99,persons,dibao,\n";
        assert!(Departments::parse(CODES, bad_dep).unwrap_err().contains("99"));
        let bad_table = "department,table,column,note\n03,people,dibao,\n";
        assert!(Departments::parse(CODES, bad_table).unwrap_err().contains("people"));
        assert!(Departments::parse(CODES, "dep\n").is_err());
        let found = Departments::builtin().find("消防").unwrap_err();
        assert!(found.contains("未知部门") && found.contains("民政"), "{found}");
    }
}
