//! The first migration, generated from `fupin_domain::schema` so that the database and
//! the schema description cannot drift apart. `migrations/*/0001_registry.sql` are
//! this module's output; the test below fails when they differ (regenerate with
//! `FUPIN_WRITE_MIGRATIONS=1 cargo test -p fupin-store ddl`). Later migrations are
//! written by hand; a column they add ([`ADDED_LATER`]) is appended to its table in the
//! schema and left out of the first migration, which must not change once applied.

use crate::Engine;
use fupin_domain::schema::{REGISTRY_TABLES, Storage, Table};

fn sql_type(engine: Engine, storage: Storage) -> &'static str {
    match (engine, storage) {
        (_, Storage::Text) => "TEXT",
        (Engine::Sqlite, Storage::Integer) => "INTEGER",
        (Engine::Postgres, Storage::Integer) => "BIGINT",
        (Engine::Sqlite, Storage::Real) => "REAL",
        (Engine::Postgres, Storage::Real) => "DOUBLE PRECISION",
    }
}

/// Columns added by a later, hand-written migration: (table, column, migration).
pub const ADDED_LATER: &[(&str, &str, &str)] = &[("persons", "employee_insurance", "0010_employee_insurance")];

fn create_table(engine: Engine, t: &Table) -> String {
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .filter(|c| !ADDED_LATER.iter().any(|(table, column, _)| *table == t.name && *column == c.name))
        .map(|c| {
            let not_null = if c.required { " NOT NULL" } else { "" };
            format!("    {} {}{}", c.name, sql_type(engine, c.kind.storage()), not_null)
        })
        .collect();
    lines.push(format!("    PRIMARY KEY ({})", t.key.join(", ")));
    format!("-- {}\nCREATE TABLE {} (\n{}\n);\n", t.title, t.name, lines.join(",\n"))
}

/// The SQL of the first migration for an engine.
pub fn initial_migration(engine: Engine) -> String {
    let int = sql_type(engine, Storage::Integer);
    let mut out =
        String::from("-- Generated from fupin_domain::schema by crates/store/src/ddl.rs; do not edit by hand.\n\n");
    for t in REGISTRY_TABLES {
        out.push_str(&create_table(engine, t));
        out.push('\n');
    }
    out.push_str(
        "CREATE INDEX households_village ON households (village_code);\n\
         CREATE INDEX persons_household ON persons (hh_id);\n\
         CREATE INDEX persons_id_number ON persons (id_number);\n\
         CREATE INDEX persons_name ON persons (name);\n\
         CREATE INDEX pairings_household ON pairings (hh_id);\n\
         CREATE INDEX divisions_parent ON divisions (parent_code);\n\n",
    );
    out.push_str(&format!(
        "-- 变更记录: the append-only, hash-chained change history.\n\
         CREATE TABLE change_log (\n\
        \x20   seq {int} PRIMARY KEY,\n\
        \x20   at TEXT NOT NULL,\n\
        \x20   actor TEXT NOT NULL,\n\
        \x20   source TEXT,\n\
        \x20   entity TEXT NOT NULL,\n\
        \x20   entity_key TEXT NOT NULL,\n\
        \x20   op TEXT NOT NULL,\n\
        \x20   field TEXT,\n\
        \x20   old_value TEXT,\n\
        \x20   new_value TEXT,\n\
        \x20   reason TEXT,\n\
        \x20   prev_hash TEXT NOT NULL,\n\
        \x20   hash TEXT NOT NULL\n\
         );\n\
         CREATE INDEX change_log_entity ON change_log (entity, entity_key, seq);\n\n\
         -- Settings of this registry (county code, creation date): not registry data.\n\
         CREATE TABLE meta (\n\
        \x20   key TEXT PRIMARY KEY,\n\
        \x20   value TEXT NOT NULL\n\
         );\n\
         INSERT INTO meta (key, value) VALUES ('chain', 'lock');\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_match_the_schema() {
        for (engine, dir) in [(Engine::Sqlite, "sqlite"), (Engine::Postgres, "postgres")] {
            let path = format!("{}/migrations/{dir}/0001_registry.sql", env!("CARGO_MANIFEST_DIR"));
            let want = initial_migration(engine);
            if std::env::var_os("FUPIN_WRITE_MIGRATIONS").is_some() {
                std::fs::write(&path, &want).unwrap();
            }
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(have == want, "{path} differs from the schema; see ddl.rs to regenerate");
        }
    }
}
