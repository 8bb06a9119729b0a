//! A registry cell, typed just enough to be stored, compared and replayed.

use std::fmt;

/// One cell of a registry row. Every table is described by [`crate::schema::Table`],
/// and every row is a `Vec<Value>` in the order of its columns.
///
/// The canonical text form ([`Value::canonical`]) is what the change history stores,
/// so a row read back from either database engine and a row replayed from history
/// compare equal exactly when their canonical forms do.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    /// The text the change history stores; `None` for NULL.
    pub fn canonical(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(i.to_string()),
            Value::Real(r) => Some(format_real(*r)),
            Value::Text(s) => Some(s.clone()),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_real(&self) -> Option<f64> {
        match self {
            Value::Real(r) => Some(*r),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

/// Shortest round-trip form, with no trailing `.0` so that `2` and `2.0` agree.
pub fn format_real(r: f64) -> String {
    if r.fract() == 0.0 && r.abs() < 1e15 { format!("{}", r as i64) } else { format!("{r}") }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical() {
            Some(s) => f.write_str(&s),
            None => Ok(()),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map(Into::into).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reals_compare_by_canonical_text() {
        assert_eq!(Value::Real(2.0).canonical().unwrap(), "2");
        assert_eq!(Value::Real(2.5).canonical().unwrap(), "2.5");
        assert_eq!(Value::Real(0.1 + 0.2).canonical().unwrap(), "0.30000000000000004");
        assert_eq!(Value::Null.canonical(), None);
    }
}
