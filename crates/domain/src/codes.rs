//! Code lists (与户主关系, 文化程度, 致贫原因, …) as data files under `data/codes/`,
//! each code with its Chinese label and the years it was in use.

use std::collections::BTreeMap;

/// One code of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub label: String,
    /// First year the code was in use, if it came later than the list.
    pub since: Option<i32>,
    /// Last year the code was in use, if it was retired.
    pub until: Option<i32>,
    pub note: String,
}

impl Code {
    pub fn valid_in(&self, year: i32) -> bool {
        self.since.is_none_or(|s| s <= year) && self.until.is_none_or(|u| year <= u)
    }
}

/// A named list of codes, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList {
    pub name: String,
    pub codes: Vec<Code>,
    /// Other names files use for a code (`data/codes/labels.csv`): (label, code), e.g.
    /// the 2021+ export's 户类型 “脱贫户” for 已脱贫户 `3`.
    pub aliases: Vec<(String, String)>,
}

impl CodeList {
    /// The code in any version of the list.
    pub fn get(&self, code: &str) -> Option<&Code> {
        self.codes.iter().find(|c| c.code == code)
    }

    pub fn label(&self, code: &str) -> Option<&str> {
        self.get(code).map(|c| c.label.as_str())
    }

    /// Finds a code by its label, so files may carry `汉族` where `01` is meant, or by
    /// another name for it ([`CodeList::aliases`]).
    pub fn by_label(&self, label: &str) -> Option<&Code> {
        self.codes.iter().find(|c| c.label == label).or_else(|| {
            let (_, code) = self.aliases.iter().find(|(l, _)| l == label)?;
            self.get(code)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} 第 {line} 行：{reason}")]
pub struct CodeFileError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Every code list, by name.
#[derive(Debug, Clone, Default)]
pub struct CodeLists {
    pub lists: BTreeMap<String, CodeList>,
}

macro_rules! builtin_lists {
    ($($name:literal),* $(,)?) => {
        /// The names and texts of the shipped lists.
        const BUILTIN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../../data/codes/", $name, ".csv")))),*
        ];
    };
}
/// Other names of codes that files carry (`list,label,code,note`).
const LABELS: &str = include_str!("../../../data/codes/labels.csv");

builtin_lists!(
    "attribute",
    "cause",
    "danger_grade",
    "education",
    "ethnicity",
    "fuel",
    "health",
    "household_status",
    "id_type",
    "labour",
    "migrant_place",
    "monitor_type",
    "path_type",
    "person_status",
    "political",
    "relation",
    "relocation_mode",
    "relocation_type",
    "risk",
    "school_status",
    "sex",
    "standard",
    "unit_level"
);

impl CodeLists {
    /// The lists shipped in `data/codes/`.
    pub fn builtin() -> CodeLists {
        let mut lists = CodeLists::default();
        for (name, text) in BUILTIN {
            let file = format!("data/codes/{name}.csv");
            let list = CodeList::parse(name, &file, text).expect("the shipped code lists are valid");
            lists.lists.insert((*name).to_owned(), list);
        }
        lists.add_labels("data/codes/labels.csv", LABELS).expect("the shipped labels are valid");
        lists
    }

    /// Adds other names of codes from `list,label,code,note` rows: each list must
    /// exist, each code be in it, and a label must not be another code's own label.
    pub fn add_labels(&mut self, file: &str, text: &str) -> Result<(), CodeFileError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (i, rec) in reader.records().enumerate() {
            let err = |reason: String| CodeFileError { file: file.to_owned(), line: i as u64 + 2, reason };
            let rec = rec.map_err(|e| err(e.to_string()))?;
            let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
            let (name, label, code) = (get(0), get(1), get(2));
            let list = self.lists.get_mut(&name).ok_or_else(|| err(format!("没有名为 {name} 的代码表")))?;
            if list.get(&code).is_none() {
                return Err(err(format!("代码 {code} 不在代码表 {name} 中")));
            }
            if list.codes.iter().any(|c| c.label == label) || list.aliases.iter().any(|(l, _)| *l == label) {
                return Err(err(format!("名称“{label}”在代码表 {name} 中已有")));
            }
            list.aliases.push((label, code));
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&CodeList> {
        self.lists.get(name)
    }

    /// Label of `code` in list `name`, or the code itself when unknown.
    pub fn label<'a>(&'a self, name: &str, code: &'a str) -> &'a str {
        self.get(name).and_then(|l| l.label(code)).unwrap_or(code)
    }
}

impl CodeList {
    /// Reads `code,label,since,until,note` rows.
    pub fn parse(name: &str, file: &str, text: &str) -> Result<CodeList, CodeFileError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut codes: Vec<Code> = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let err = |reason: String| CodeFileError { file: file.to_owned(), line, reason };
            let rec = rec.map_err(|e| err(e.to_string()))?;
            let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
            let year = |i: usize| -> Result<Option<i32>, CodeFileError> {
                let t = get(i);
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse().map(Some).map_err(|_| err(format!("年份“{t}”不是数字")))
            };
            let code = Code { code: get(0), label: get(1), since: year(2)?, until: year(3)?, note: get(4) };
            if code.code.is_empty() || code.label.is_empty() {
                return Err(err("代码或名称为空".into()));
            }
            if codes.iter().any(|c| c.code == code.code) {
                return Err(err(format!("代码 {} 重复", code.code)));
            }
            codes.push(code);
        }
        Ok(CodeList { name: name.to_owned(), codes, aliases: Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lists_load_with_labels() {
        let l = CodeLists::builtin();
        assert_eq!(l.label("relation", "02"), "配偶");
        assert_eq!(l.label("ethnicity", "15"), "土家族");
        assert_eq!(l.get("ethnicity").unwrap().codes.len(), 58);
        let labour = l.get("labour").unwrap();
        assert!(!labour.get("05").unwrap().valid_in(2019));
        assert!(labour.get("05").unwrap().valid_in(2021));
        assert_eq!(l.get("cause").unwrap().by_label("因学").unwrap().code, "03");
    }

    #[test]
    fn the_2021_export_household_types_name_registry_codes() {
        let l = CodeLists::builtin();
        let status = l.get("household_status").unwrap();
        assert_eq!(status.by_label("脱贫户").unwrap().code, "3");
        assert_eq!(status.by_label("监测户").unwrap().code, "1");
        assert_eq!(status.by_label("已脱贫户").unwrap().code, "3");
        let mut bad = CodeLists::builtin();
        let e = bad.add_labels("x.csv", "list,label,code,note\nhousehold_status,已脱贫户,2,\n").unwrap_err();
        assert!(e.reason.contains("已有"), "{e}");
        let e = bad.add_labels("x.csv", "list,label,code,note\nhousehold_status,x,9,\n").unwrap_err();
        assert!(e.reason.contains("不在代码表"), "{e}");
    }

    #[test]
    fn duplicate_codes_are_refused_with_the_line() {
        let e = CodeList::parse("x", "x.csv", "code,label,since,until,note\n1,a,,,\n1,b,,,\n").unwrap_err();
        assert_eq!(e.line, 3);
    }
}
