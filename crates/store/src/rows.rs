//! Registry rows as `Vec<Value>` in schema column order: keys, binding, reading, and
//! the canonical JSON form the change history stores.

use std::collections::BTreeMap;

use fupin_domain::Value;
use fupin_domain::schema::{Storage, Table};
use sqlx::Any;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;

/// The canonical key of a row: its key columns' canonical texts joined by `|`.
pub fn key_of(table: &Table, values: &[Value]) -> String {
    table
        .key_indices()
        .into_iter()
        .map(|i| values.get(i).and_then(Value::canonical).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("|")
}

/// Splits a canonical key back into its typed values.
pub fn key_values(table: &Table, key: &str) -> Vec<Value> {
    let mut parts = key.splitn(table.key.len(), '|');
    table
        .key
        .iter()
        .map(|k| {
            let text = Value::Text(parts.next().unwrap_or_default().to_owned());
            let storage = table.column(k).map(|c| c.kind.storage()).unwrap_or(Storage::Text);
            coerce(&text, storage)
        })
        .collect()
}

/// The SQL expression that yields [`key_of`] for stored rows.
pub fn key_sql(table: &Table) -> String {
    table
        .key
        .iter()
        .map(|k| match table.column(k).map(|c| c.kind.storage()) {
            Some(Storage::Text) => k.to_string(),
            _ => format!("CAST({k} AS TEXT)"),
        })
        .collect::<Vec<_>>()
        .join(" || '|' || ")
}

/// The row's non-null cells as `{column: canonical text}`.
pub fn canonical_map(table: &Table, values: &[Value]) -> BTreeMap<String, String> {
    table.columns.iter().zip(values).filter_map(|(c, v)| v.canonical().map(|s| (c.name.to_owned(), s))).collect()
}

/// The canonical JSON of a whole row (insert and delete records).
pub fn row_json(table: &Table, values: &[Value]) -> String {
    use serde::ser::{SerializeMap, Serializer};
    // Written straight from the cells, in schema order; replay reads it into a map.
    let mut out = Vec::with_capacity(512);
    let mut ser = serde_json::Serializer::new(&mut out);
    let result = (|| {
        let mut map = ser.serialize_map(None)?;
        for (c, v) in table.columns.iter().zip(values) {
            match v {
                Value::Null => {}
                Value::Text(s) => map.serialize_entry(c.name, s)?,
                other => map.serialize_entry(c.name, &other.canonical().unwrap_or_default())?,
            }
        }
        map.end()
    })();
    result.expect("strings serialise");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Coerces a value to the column's storage (an integer given for a text column becomes
/// its text, and so on) so that both engines receive the type their column has.
pub fn coerce(value: &Value, storage: Storage) -> Value {
    match (value, storage) {
        (Value::Null, _) => Value::Null,
        (Value::Text(_), Storage::Text) | (Value::Int(_), Storage::Integer) | (Value::Real(_), Storage::Real) => {
            value.clone()
        }
        (Value::Int(i), Storage::Real) => Value::Real(*i as f64),
        (v, Storage::Text) => Value::Text(v.canonical().unwrap_or_default()),
        (Value::Text(t), Storage::Integer) => t.trim().parse().map(Value::Int).unwrap_or(Value::Null),
        (Value::Real(r), Storage::Integer) => Value::Int(r.round() as i64),
        (Value::Text(t), Storage::Real) => t.trim().parse().map(Value::Real).unwrap_or(Value::Null),
    }
}

/// Binds one value as the column's storage type (a NULL is bound with that type too,
/// which PostgreSQL needs).
pub fn bind<'q>(q: Query<'q, Any, AnyArguments>, value: &Value, storage: Storage) -> Query<'q, Any, AnyArguments> {
    match (coerce(value, storage), storage) {
        (Value::Text(s), _) => q.bind(s),
        (Value::Int(i), _) => q.bind(i),
        (Value::Real(r), _) => q.bind(r),
        (Value::Null, Storage::Text) => q.bind(None::<String>),
        (Value::Null, Storage::Integer) => q.bind(None::<i64>),
        (Value::Null, Storage::Real) => q.bind(None::<f64>),
    }
}

/// [`bind`], taking the value: a text of the right storage moves into the query.
pub fn bind_owned<'q>(q: Query<'q, Any, AnyArguments>, value: Value, storage: Storage) -> Query<'q, Any, AnyArguments> {
    match (value, storage) {
        (Value::Text(s), Storage::Text) => q.bind(s),
        (value, storage) => bind(q, &value, storage),
    }
}

/// Reads a whole row selected as `SELECT <all columns in schema order>`.
pub fn read_row(table: &Table, row: &AnyRow) -> Result<Vec<Value>, sqlx::Error> {
    table.columns.iter().enumerate().map(|(i, c)| crate::get_value(row, i, c.kind.storage())).collect()
}

/// `col1, col2, …` in schema order.
pub fn column_list(table: &Table) -> String {
    table.columns.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// Marks SQL that this crate assembled from schema identifiers and `$n` placeholders
/// only: no user text is ever formatted into it (values are always bound).
pub fn safe(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fupin_domain::schema::INCOMES;

    #[test]
    fn keys_join_canonical_values() {
        let mut row = vec![Value::Null; INCOMES.columns.len()];
        row[0] = Value::Text("H1".into());
        row[1] = Value::Int(2019);
        assert_eq!(key_of(&INCOMES, &row), "H1|2019");
        assert_eq!(key_sql(&INCOMES), "hh_id || '|' || CAST(year AS TEXT)");
    }
}
