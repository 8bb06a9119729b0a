//! Money as whole fen (分), never floating point.

use std::fmt;

/// An amount of money in fen (1 元 = 100 分). Sums of incomes are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Yuan(i64);

/// Why a money text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("金额“{0}”不是数字（应为元，最多两位小数，如 3120.50）")]
pub struct MoneyError(pub String);

impl Yuan {
    pub const ZERO: Yuan = Yuan(0);

    pub fn from_fen(fen: i64) -> Self {
        Yuan(fen)
    }

    pub fn from_yuan(yuan: i64) -> Self {
        Yuan(yuan * 100)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// Parses `3120`, `3120.5`, `3120.50`, `-12.3`, `1,234.00`; at most two decimals.
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        let err = || MoneyError(text.to_owned());
        let t: String = text.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
        let (neg, t) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, t),
        };
        if t.is_empty() {
            return Err(err());
        }
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t.as_str(), ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(err());
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        if frac.len() > 2 || int.len() > 13 {
            return Err(err());
        }
        let i: i64 = if int.is_empty() { 0 } else { int.parse().map_err(|_| err())? };
        let f: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac.parse().map_err(|_| err())?,
        };
        let fen = i * 100 + f;
        Ok(Yuan(if neg { -fen } else { fen }))
    }

    /// Net income per person: (total − costs) ÷ persons, rounded to the fen.
    pub fn per_person(self, persons: i64) -> Option<Yuan> {
        if persons <= 0 {
            return None;
        }
        let q = self.0 as f64 / persons as f64;
        Some(Yuan(q.round() as i64))
    }
}

impl std::ops::Add for Yuan {
    type Output = Yuan;
    fn add(self, o: Yuan) -> Yuan {
        Yuan(self.0 + o.0)
    }
}
impl std::ops::Sub for Yuan {
    type Output = Yuan;
    fn sub(self, o: Yuan) -> Yuan {
        Yuan(self.0 - o.0)
    }
}
impl std::iter::Sum for Yuan {
    fn sum<I: Iterator<Item = Yuan>>(iter: I) -> Yuan {
        Yuan(iter.map(|y| y.0).sum())
    }
}

impl fmt::Display for Yuan {
    /// `3120.50`; whole amounts print without decimals: `3120`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        if a.is_multiple_of(100) {
            write!(f, "{sign}{}", a / 100)
        } else {
            write!(f, "{sign}{}.{:02}", a / 100, a % 100)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_yuan() {
        assert_eq!(Yuan::parse("3120.5").unwrap().fen(), 312050);
        assert_eq!(Yuan::parse("3120").unwrap().to_string(), "3120");
        assert_eq!(Yuan::parse("1,234.05").unwrap().to_string(), "1234.05");
        assert_eq!(Yuan::parse("-0.5").unwrap().to_string(), "-0.50");
        assert!(Yuan::parse("12.345").is_err());
        assert!(Yuan::parse("abc").is_err());
        assert!(Yuan::parse("").is_err());
        assert!(Yuan::parse(".").is_err());
    }

    #[test]
    fn per_person_rounds() {
        assert_eq!(Yuan::from_fen(1000).per_person(3).unwrap().fen(), 333);
        assert_eq!(Yuan::from_fen(1000).per_person(0), None);
    }
}
