//! Exit criteria (贫困退出标准) from `data/policy/exit.csv`: the poverty incidence
//! (贫困发生率) below which a village may exit, by year and province. Policy is data:
//! the western provinces' 3 % and the others' 2 % are rows of the file, not constants.

use crate::policy::{PolicyError, read_rows};

/// The exit criteria in force from a year on (in one province, where the file says so).
#[derive(Debug, Clone, PartialEq)]
pub struct ExitCriteria {
    pub from_year: i32,
    /// Two-digit province code, or `None` for the national figure.
    pub province: Option<String>,
    /// A village's poverty incidence must be below this, in percent.
    pub village_incidence_max_percent: f64,
    pub note: String,
}

/// All rows of the exit criteria file.
#[derive(Debug, Clone, Default)]
pub struct ExitPolicy {
    pub rows: Vec<ExitCriteria>,
}

impl ExitPolicy {
    pub fn builtin() -> ExitPolicy {
        Self::parse("data/policy/exit.csv", include_str!("../../../data/policy/exit.csv"))
            .expect("the shipped exit criteria file is valid")
    }

    pub fn parse(file: &str, text: &str) -> Result<ExitPolicy, PolicyError> {
        let rows = read_rows(file, text, |r| {
            let from_year: i32 = r.get(0).parse().map_err(|_| r.err("from_year", format!("“{}”不是年份", r.get(0))))?;
            let province = Some(r.get(1).to_owned()).filter(|p| !p.is_empty());
            let max: f64 =
                r.get(2).parse().ok().filter(|p: &f64| p.is_finite() && (0.0..=100.0).contains(p)).ok_or_else(
                    || r.err("village_incidence_max_percent", format!("“{}”不是 0 到 100 的百分数", r.get(2))),
                )?;
            Ok(ExitCriteria { from_year, province, village_incidence_max_percent: max, note: r.get(3).to_owned() })
        })?;
        Ok(ExitPolicy { rows })
    }

    /// The criteria for `year` in `province`: the latest row from that year or before,
    /// a province's own row winning over the national one of the same or an earlier year.
    pub fn for_year(&self, year: i32, province: &str) -> Option<&ExitCriteria> {
        let applies = |r: &&ExitCriteria| {
            r.from_year <= year && (r.province.is_none() || r.province.as_deref() == Some(province))
        };
        self.rows.iter().filter(applies).max_by_key(|r| (r.province.is_some(), r.from_year))
    }
}

/// The years counties exited the poverty-county list (贫困县退出), from
/// `data/policy/county_exit.csv`: what county exit rules are checked in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountyExits {
    /// (6-digit county code, exit year), in file order.
    pub rows: Vec<(String, i32)>,
}

impl CountyExits {
    pub fn builtin() -> CountyExits {
        Self::parse("data/policy/county_exit.csv", include_str!("../../../data/policy/county_exit.csv"))
            .expect("the shipped county exit file is valid")
    }

    pub fn parse(file: &str, text: &str) -> Result<CountyExits, PolicyError> {
        let mut rows: Vec<(String, i32)> = Vec::new();
        read_rows(file, text, |r| {
            let code = r.get(0);
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(r.err("county_code", format!("“{code}”不是 6 位县级代码")));
            }
            let year: i32 = r
                .get(1)
                .parse()
                .ok()
                .filter(|y| (1980..=2100).contains(y))
                .ok_or_else(|| r.err("exit_year", format!("“{}”不是年份", r.get(1))))?;
            if rows.iter().any(|(c, _)| c == code) {
                return Err(r.err("county_code", format!("县级代码 {code} 重复")));
            }
            rows.push((code.to_owned(), year));
            Ok(())
        })?;
        Ok(CountyExits { rows })
    }

    /// The exit year of the county `code` (its first 6 digits are read).
    pub fn year_of(&self, code: &str) -> Option<i32> {
        let county = code.get(0..6)?;
        self.rows.iter().find(|(c, _)| c == county).map(|(_, y)| *y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn county_exits_load_and_refuse_bad_rows() {
        let c = CountyExits::builtin();
        assert_eq!(c.year_of("610981"), Some(2019));
        assert_eq!(c.year_of("610981100"), Some(2019));
        assert_eq!(c.year_of("610902"), None);
        assert_eq!(c.year_of("61"), None);
        let e = CountyExits::parse("f.csv", "county_code,exit_year\n6109,2019\n").unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (2, "county_code"));
        let e = CountyExits::parse("f.csv", "county_code,exit_year\n610981,20x9\n").unwrap_err();
        assert_eq!(e.column, "exit_year");
        assert!(CountyExits::parse("f.csv", "county_code,exit_year\n610981,2019\n610981,2018\n").is_err());
    }

    #[test]
    fn shipped_criteria_load() {
        let p = ExitPolicy::builtin();
        assert_eq!(p.for_year(2016, "61").unwrap().village_incidence_max_percent, 3.0);
        assert_eq!(p.for_year(2016, "42").unwrap().village_incidence_max_percent, 2.0);
        assert!(p.for_year(2000, "61").is_none());
    }

    #[test]
    fn bad_files_name_the_place() {
        let e =
            ExitPolicy::parse("x.csv", "from_year,province,village_incidence_max_percent\n2014,,abc\n").unwrap_err();
        assert_eq!((e.line, e.column.as_str()), (2, "village_incidence_max_percent"));
    }
}
