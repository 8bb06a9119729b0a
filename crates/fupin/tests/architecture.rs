//! The architecture's rules, checked on the sources (ARCHITECTURE.md, "Invariants"):
//! which crate may depend on which, no crate but the binary's `serve` reaches into the
//! web crate, SQL is written only in the store (and generated only by the rules
//! compiler), and no module grows past ~600 lines without saying why at its top.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The workspace's crates by directory name.
fn crates() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The `fupin-*` crates (without the prefix) and other names a crate's manifest
/// lists in `section`.
fn dependencies(krate: &str, section: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    manifest.get(section).and_then(|d| d.as_table()).map(|d| d.keys().cloned().collect()).unwrap_or_default()
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Which workspace crates each crate may depend on (normal dependencies). The data
/// flows one way: sources → registry → rules → use cases → pages.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("store", &["domain"]),
    ("rules", &["domain"]),
    ("synth", &["domain"]),
    ("ingest", &["domain", "store"]),
    ("app", &["domain", "store", "rules", "ingest"]),
    ("web", &["domain", "store", "rules", "app"]),
    ("fupin", &["domain", "store", "rules", "ingest", "synth", "app", "web"]),
];

#[test]
fn crates_depend_only_downstream_and_nothing_but_the_binary_on_web() {
    for krate in crates() {
        let Some((_, allowed)) = ALLOWED.iter().find(|(c, _)| *c == krate) else {
            panic!("crate {krate} is not in this test's table of allowed dependencies: add it with its place");
        };
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            for dep in dependencies(&krate, section) {
                let Some(inner) = dep.strip_prefix("fupin-") else { continue };
                if section == "dependencies" {
                    assert!(
                        allowed.contains(&inner),
                        "crate {krate} depends on fupin-{inner}: not allowed (ARCHITECTURE.md)"
                    );
                }
                assert!(
                    inner != "web" || krate == "fupin",
                    "crate {krate} lists fupin-web in [{section}]: only the binary may (to serve)"
                );
            }
        }
    }
}

#[test]
fn the_binary_reaches_into_web_only_to_serve() {
    for file in rust_files(&root().join("crates/fupin/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        if file.ends_with("cmd/serve.rs") {
            continue;
        }
        assert!(!text.contains("fupin_web::"), "{} uses fupin_web: only cmd/serve.rs may", file.display());
    }
}

/// Statements a string literal may begin with that make it SQL.
const SQL_STARTS: &[&str] = &[
    "SELECT ",
    "INSERT INTO",
    "UPDATE ",
    "DELETE FROM",
    "CREATE TABLE",
    "CREATE INDEX",
    "CREATE UNIQUE",
    "ALTER TABLE",
    "DROP TABLE",
    "WITH ",
    "PRAGMA ",
];

/// Where SQL text may be written outside the store: the rules compiler, whose output
/// is SQL the store runs (`fupin_store::rules_sql`); a path ending in `/` allows the
/// files under it.
const SQL_ALLOWED: &[&str] = &["crates/rules/src/sql/"];

/// The lines (1-based, trimmed) of `text` that use sqlx or hold a string literal
/// beginning a SQL statement; comments are skipped.
fn sql_lines(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let literal = line.match_indices('"').any(|(at, _)| {
            let rest = line[at + 1..].trim_start();
            SQL_STARTS.iter().any(|s| rest.starts_with(s))
        });
        if code.contains("sqlx::") || literal {
            found.push((i + 1, code.to_owned()));
        }
    }
    found
}

#[test]
fn the_sql_scan_finds_statements_and_skips_comments_and_prose() {
    let text = "let q = \"SELECT a FROM b\";\n// \"DELETE FROM x\"\nlet m = \"选择\";\nsqlx::query(q);\nlet u = \" UPDATE t SET a = 1\";";
    let lines: Vec<usize> = sql_lines(text).into_iter().map(|(n, _)| n).collect();
    assert_eq!(lines, vec![1, 4, 5]);
}

#[test]
fn sql_is_written_only_in_the_store() {
    let mut found = Vec::new();
    for krate in crates().into_iter().filter(|c| c != "store") {
        assert!(
            !dependencies(&krate, "dependencies").contains("sqlx"),
            "crate {krate} depends on sqlx: only the store speaks SQL"
        );
        for file in rust_files(&root().join("crates").join(&krate).join("src")) {
            let rel = file.strip_prefix(root()).unwrap_or(&file).to_string_lossy().replace("/../..", "");
            let rel = rel.trim_start_matches("../../").to_owned();
            if SQL_ALLOWED.iter().any(|a| rel.ends_with(a) || (a.ends_with('/') && rel.contains(a))) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            found.extend(sql_lines(&text).into_iter().map(|(n, l)| format!("{rel}:{n}: {l}")));
        }
    }
    assert!(found.is_empty(), "SQL outside the store:\n{}", found.join("\n"));
}

/// Lines a module may have before it must say at its top why it is longer.
const MAX_LINES: usize = 650;

#[test]
fn no_module_is_over_600_lines_without_a_reason_at_its_top() {
    let mut long = Vec::new();
    for krate in crates() {
        for dir in ["src", "tests"] {
            for file in rust_files(&root().join("crates").join(&krate).join(dir)) {
                let text = std::fs::read_to_string(&file).unwrap();
                let lines = text.lines().count();
                let head: String = text.lines().take(30).collect::<Vec<_>>().join("\n");
                if lines > MAX_LINES && !head.contains("Longer than 600 lines because") {
                    long.push(format!("{} ({lines} lines)", file.display()));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "modules over ~600 lines without \"Longer than 600 lines because …\" in their first 30 lines:\n{}",
        long.join("\n")
    );
}
