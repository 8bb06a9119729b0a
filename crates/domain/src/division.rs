//! 统计用区划代码: county → township → village, and the tree read from the five-CSV
//! layout of `data/divisions/` (provinces, cities, areas, streets, villages).

use std::collections::BTreeMap;
use std::fmt;

/// The level a division code names, from its length and digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum DivisionLevel {
    Province,
    City,
    County,
    Township,
    Village,
}

impl DivisionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            DivisionLevel::Province => "province",
            DivisionLevel::City => "city",
            DivisionLevel::County => "county",
            DivisionLevel::Township => "township",
            DivisionLevel::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<DivisionLevel> {
        Some(match s {
            "province" => DivisionLevel::Province,
            "city" => DivisionLevel::City,
            "county" => DivisionLevel::County,
            "township" => DivisionLevel::Township,
            "village" => DivisionLevel::Village,
            _ => return None,
        })
    }

    /// Chinese name of the level for pages.
    pub fn label(self) -> &'static str {
        match self {
            DivisionLevel::Province => "省",
            DivisionLevel::City => "市",
            DivisionLevel::County => "县",
            DivisionLevel::Township => "乡镇",
            DivisionLevel::Village => "村",
        }
    }
}

/// A division code of 2, 4, 6, 9 or 12 digits; its level follows from its length.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DivisionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("区划代码“{0}”无效：应为 2、4、6、9 或 12 位数字")]
pub struct DivisionCodeError(pub String);

impl DivisionCode {
    pub fn parse(s: &str) -> Result<Self, DivisionCodeError> {
        let t = s.trim();
        let ok = matches!(t.len(), 2 | 4 | 6 | 9 | 12) && t.bytes().all(|b| b.is_ascii_digit());
        if ok { Ok(DivisionCode(t.to_owned())) } else { Err(DivisionCodeError(s.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> DivisionLevel {
        match self.0.len() {
            2 => DivisionLevel::Province,
            4 => DivisionLevel::City,
            6 => DivisionLevel::County,
            9 => DivisionLevel::Township,
            _ => DivisionLevel::Village,
        }
    }

    /// The enclosing division's code, `None` for a province.
    pub fn parent(&self) -> Option<DivisionCode> {
        let len = match self.0.len() {
            12 => 9,
            9 => 6,
            6 => 4,
            4 => 2,
            _ => return None,
        };
        Some(DivisionCode(self.0[..len].to_owned()))
    }

    /// True when `self` is `other` or lies inside it.
    pub fn within(&self, other: &DivisionCode) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One division with its name and its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub parent: Option<DivisionCode>,
}

impl Division {
    pub fn level(&self) -> DivisionLevel {
        self.code.level()
    }
}

/// Why a division file could not be read; names the file, line and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} 第 {line} 行：{reason}")]
pub struct DivisionFileError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// A county's division tree: the county itself, its province and city, its townships and
/// villages, in code order.
#[derive(Debug, Clone, Default)]
pub struct DivisionTree {
    pub divisions: BTreeMap<DivisionCode, Division>,
}

/// The five files of the division layout, as text, with their names for messages.
pub struct DivisionFiles<'a> {
    pub provinces: (&'a str, &'a str),
    pub cities: (&'a str, &'a str),
    pub areas: (&'a str, &'a str),
    pub streets: (&'a str, &'a str),
    pub villages: (&'a str, &'a str),
}

impl DivisionTree {
    /// 旬阳市 (610981), shipped in `data/divisions/610981/`.
    pub fn builtin_xunyang() -> DivisionTree {
        macro_rules! f {
            ($n:literal) => {
                (concat!("data/divisions/610981/", $n), include_str!(concat!("../../../data/divisions/610981/", $n)))
            };
        }
        let files = DivisionFiles {
            provinces: f!("provinces.csv"),
            cities: f!("cities.csv"),
            areas: f!("areas.csv"),
            streets: f!("streets.csv"),
            villages: f!("villages.csv"),
        };
        DivisionTree::from_files(&files, "610981").expect("the shipped division files are valid")
    }

    /// Reads the five files and keeps the county `county` (6 digits) with its province,
    /// city, townships and villages.
    pub fn from_files(files: &DivisionFiles<'_>, county: &str) -> Result<DivisionTree, DivisionFileError> {
        let county = DivisionCode::parse(county).map_err(|e| DivisionFileError {
            file: "--county".into(),
            line: 0,
            reason: e.to_string(),
        })?;
        if county.level() != DivisionLevel::County {
            return Err(DivisionFileError {
                file: "--county".into(),
                line: 0,
                reason: format!("“{county}”不是县级代码（6 位）"),
            });
        }
        let mut tree = DivisionTree::default();
        let province = &county.as_str()[..2];
        let city = &county.as_str()[..4];
        let wanted = |code: &str| match code.len() {
            2 => code == province,
            4 => code == city,
            _ => code.starts_with(county.as_str()),
        };
        for (name, text) in [files.provinces, files.cities, files.areas, files.streets, files.villages] {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
            for (i, rec) in reader.records().enumerate() {
                let line = i as u64 + 2;
                let err = |reason: String| DivisionFileError { file: name.to_owned(), line, reason };
                let rec = rec.map_err(|e| err(format!("无法解析：{e}")))?;
                let code = rec.get(0).unwrap_or_default();
                if !wanted(code) {
                    continue;
                }
                let code = DivisionCode::parse(code).map_err(|e| err(e.to_string()))?;
                let dname = rec.get(1).unwrap_or_default().trim();
                if dname.is_empty() {
                    return Err(err("名称为空".into()));
                }
                let parent = code.parent();
                tree.divisions.insert(code.clone(), Division { code, name: dname.to_owned(), parent });
            }
        }
        if !tree.divisions.contains_key(&county) {
            return Err(DivisionFileError {
                file: files.areas.0.to_owned(),
                line: 0,
                reason: format!("没有找到县级区划 {county}"),
            });
        }
        Ok(tree)
    }

    pub fn get(&self, code: &str) -> Option<&Division> {
        DivisionCode::parse(code).ok().and_then(|c| self.divisions.get(&c))
    }

    pub fn at_level(&self, level: DivisionLevel) -> impl Iterator<Item = &Division> {
        self.divisions.values().filter(move |d| d.level() == level)
    }

    pub fn children<'a>(&'a self, parent: &'a DivisionCode) -> impl Iterator<Item = &'a Division> + 'a {
        self.divisions.values().filter(move |d| d.parent.as_ref() == Some(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xunyang_has_21_towns_and_309_villages() {
        let t = DivisionTree::builtin_xunyang();
        assert_eq!(t.at_level(DivisionLevel::Township).count(), 21);
        assert_eq!(t.at_level(DivisionLevel::Village).count(), 309);
        assert_eq!(t.get("610981").unwrap().name, "旬阳市");
        let v = t.get("610981105201").unwrap();
        assert_eq!(v.parent.as_ref().unwrap().as_str(), "610981105");
    }

    #[test]
    fn codes_know_their_level() {
        let c = DivisionCode::parse("610981105201").unwrap();
        assert_eq!(c.level(), DivisionLevel::Village);
        assert!(c.within(&DivisionCode::parse("610981").unwrap()));
        assert!(DivisionCode::parse("61098").is_err());
    }
}
