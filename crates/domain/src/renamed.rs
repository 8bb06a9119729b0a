//! Division codes that changed (撤县设市 and the like), `data/divisions/renamed.csv`:
//! files exported before the change carry the old prefix in every 行政村代码, and the
//! import reads them under the new one, with a warning.

use crate::codes::CodeFileError;

/// One renamed division: codes beginning with `old` now begin with `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renamed {
    pub old: String,
    pub new: String,
    /// The year the new code took effect.
    pub year: i32,
    pub note: String,
}

const BUILTIN: &str = include_str!("../../../data/divisions/renamed.csv");

impl Renamed {
    /// The shipped renamings.
    pub fn builtin() -> Vec<Renamed> {
        Renamed::parse("data/divisions/renamed.csv", BUILTIN).expect("the shipped renamings are valid")
    }

    /// Reads `old_prefix,new_prefix,year,note` rows: prefixes of digits, equally long.
    pub fn parse(file: &str, text: &str) -> Result<Vec<Renamed>, CodeFileError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut out = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let err = |reason: String| CodeFileError { file: file.to_owned(), line: i as u64 + 2, reason };
            let rec = rec.map_err(|e| err(e.to_string()))?;
            let get = |i: usize| rec.get(i).unwrap_or_default().trim().to_owned();
            let (old, new) = (get(0), get(1));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !digits(&old) || !digits(&new) || old.len() != new.len() {
                return Err(err(format!("旧代码“{old}”和新代码“{new}”应为等长的数字")));
            }
            let year = get(2).parse().map_err(|_| err(format!("年份“{}”不是数字", get(2))))?;
            out.push(Renamed { old, new, year, note: get(3) });
        }
        Ok(out)
    }

    /// `code` under the new prefix, when it begins with the old one.
    pub fn apply(&self, code: &str) -> Option<String> {
        code.strip_prefix(self.old.as_str()).map(|rest| format!("{}{rest}", self.new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xunyang_county_became_a_city() {
        let r = Renamed::builtin();
        let x = r.iter().find(|r| r.old == "610928").expect("旬阳县");
        assert_eq!(x.apply("610928100201").as_deref(), Some("610981100201"));
        assert_eq!(x.apply("610981100201"), None);
        assert!(Renamed::parse("x.csv", "old_prefix,new_prefix,year,note\n6109,610981,2021,\n").is_err());
    }
}
