//! Policy years: the poverty line and monitoring line for each year and province, read
//! from `data/policy/lines.csv`. Values the reference marks unconfirmed are marked so;
//! every row names its source and its price basis (incomes are recorded at the year's
//! prices, so only a line at current prices can be compared with them).

use crate::money::Yuan;

/// The prices a line is stated at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceBasis {
    /// The year's own prices (现价/当年价): comparable with the year's incomes.
    Current,
    /// 2010 constant prices (2010 年不变价), as the 2300 元 standard is written: not
    /// comparable with incomes until converted.
    Constant2010,
}

impl PriceBasis {
    pub fn parse(s: &str) -> Option<PriceBasis> {
        match s {
            "current" => Some(PriceBasis::Current),
            "constant_2010" => Some(PriceBasis::Constant2010),
            _ => None,
        }
    }

    /// The Chinese name used in messages.
    pub fn label(self) -> &'static str {
        match self {
            PriceBasis::Current => "当年价",
            PriceBasis::Constant2010 => "2010 年不变价",
        }
    }
}

/// The lines in force for one year (and one province, where the file says so).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyYear {
    pub year: i32,
    /// Two-digit province code, or `None` for the national figure.
    pub province: Option<String>,
    pub poverty_line: Yuan,
    pub monitoring_line: Option<Yuan>,
    pub poverty_line_confirmed: bool,
    pub monitoring_line_confirmed: bool,
    /// The prices both lines are stated at (`basis`: `current` or `constant_2010`).
    pub basis: PriceBasis,
    /// The document the figures come from (`source`).
    pub source: String,
    pub note: String,
}

/// All policy years.
#[derive(Debug, Clone, Default)]
pub struct PolicyLines {
    pub years: Vec<PolicyYear>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} 第 {line} 行，{column}：{reason}")]
pub struct PolicyError {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// One data row of a policy CSV file (`data/policy/*.csv`): its trimmed cells, and
/// errors that name the file, line and column.
pub(crate) struct PolicyRow<'a> {
    file: &'a str,
    pub line: u64,
    record: csv::StringRecord,
}

impl PolicyRow<'_> {
    /// The trimmed cell `i`; empty when the row is shorter.
    pub fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or_default().trim()
    }

    pub fn err(&self, column: &str, reason: String) -> PolicyError {
        PolicyError { file: self.file.to_owned(), line: self.line, column: column.to_owned(), reason }
    }
}

/// Reads every data row of a policy CSV file (header first) with `row`; the first error
/// stops the reading.
pub(crate) fn read_rows<T>(
    file: &str,
    text: &str,
    mut row: impl FnMut(&PolicyRow) -> Result<T, PolicyError>,
) -> Result<Vec<T>, PolicyError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record =
            rec.map_err(|e| PolicyError { file: file.to_owned(), line, column: String::new(), reason: e.to_string() })?;
        out.push(row(&PolicyRow { file, line, record })?);
    }
    Ok(out)
}

impl PolicyLines {
    pub fn builtin() -> PolicyLines {
        Self::parse("data/policy/lines.csv", include_str!("../../../data/policy/lines.csv"))
            .expect("the shipped policy file is valid")
    }

    pub fn parse(file: &str, text: &str) -> Result<PolicyLines, PolicyError> {
        let years = read_rows(file, text, |r| {
            let year: i32 = r.get(0).parse().map_err(|_| r.err("year", format!("“{}”不是年份", r.get(0))))?;
            let province = Some(r.get(1).to_owned()).filter(|p| !p.is_empty());
            let poverty_line = Yuan::parse(r.get(2)).map_err(|e| r.err("poverty_line", e.to_string()))?;
            let monitoring_line = match r.get(3) {
                "" => None,
                t => Some(Yuan::parse(t).map_err(|e| r.err("monitoring_line", e.to_string()))?),
            };
            let basis = PriceBasis::parse(r.get(6)).ok_or_else(|| {
                r.err("basis", format!("“{}”不是价格口径（current 当年价，或 constant_2010 2010 年不变价）", r.get(6)))
            })?;
            if r.get(7).is_empty() {
                return Err(r.err("source", "没有写明标准的出处（哪个文件或统计口径）".into()));
            }
            Ok(PolicyYear {
                year,
                province,
                poverty_line,
                monitoring_line,
                poverty_line_confirmed: r.get(4) == "yes",
                monitoring_line_confirmed: r.get(5) == "yes",
                basis,
                source: r.get(7).to_owned(),
                note: r.get(8).to_owned(),
            })
        })?;
        Ok(PolicyLines { years })
    }

    /// The lines for `year` in `province`: a province's own row wins over the national
    /// one; a year after the last row uses the last row.
    pub fn for_year(&self, year: i32, province: &str) -> Option<&PolicyYear> {
        let exact = |p: &PolicyYear| p.year == year && p.province.as_deref() == Some(province);
        let national = |p: &PolicyYear| p.year == year && p.province.is_none();
        self.years.iter().find(|p| exact(p)).or_else(|| self.years.iter().find(|p| national(p))).or_else(|| {
            self.years
                .iter()
                .filter(|p| p.year <= year && (p.province.is_none() || p.province.as_deref() == Some(province)))
                .max_by_key(|p| p.year)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_lines_load() {
        let p = PolicyLines::builtin();
        assert_eq!(p.for_year(2015, "61").unwrap().poverty_line, Yuan::from_yuan(2855));
        assert_eq!(p.for_year(2021, "61").unwrap().monitoring_line, Some(Yuan::from_yuan(6000)));
        assert!(!p.for_year(2019, "61").unwrap().poverty_line_confirmed);
        assert!(p.for_year(2040, "61").is_some());
        assert!(p.for_year(2000, "61").is_none());
    }

    #[test]
    fn every_year_states_its_source_and_price_basis() {
        let p = PolicyLines::builtin();
        for y in &p.years {
            assert!(!y.source.is_empty(), "{}", y.year);
            assert_eq!(y.basis, PriceBasis::Current, "{}: incomes are at the year's prices", y.year);
        }
        let head = "year,province,poverty_line,monitoring_line,poverty_line_confirmed,monitoring_line_confirmed,basis,source,note\n";
        let e = PolicyLines::parse("x.csv", &format!("{head}2016,,2952,,yes,,current,,\n")).unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (2, "source"));
        let e = PolicyLines::parse("x.csv", &format!("{head}2016,,2300,,yes,,2010,国务院,\n")).unwrap_err();
        assert_eq!(e.column, "basis");
        let p = PolicyLines::parse("x.csv", &format!("{head}2016,,2300,,yes,,constant_2010,2011 年标准,\n")).unwrap();
        assert_eq!(p.years[0].basis, PriceBasis::Constant2010);
    }

    #[test]
    fn bad_files_name_the_place() {
        let e = PolicyLines::parse("x.csv", "year,province,poverty_line\n20x,,1\n").unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (2, "year"));
    }
}
