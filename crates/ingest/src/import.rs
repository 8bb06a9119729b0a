//! The import driver: applies exchange files to the registry in **one transaction over
//! all files**. A file with any error refuses the whole import (nothing is written);
//! warnings keep the data and are reported.
//!
//! Rows stream from [`FileReader`] in batches to the store's writer, which diffs them
//! against what is stored, so memory stays flat apart from the keys a file lists (kept
//! to remove members a listed household no longer has, and to check references).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fupin_domain::schema::{self, Kind, TABLES, Table};
use fupin_domain::{CodeLists, Value};
use fupin_store::writer::{RowIn, WriteStats};
use fupin_store::{Actor, Store, StoreError};

use crate::validate::fingerprint;
use crate::{Context, CrossChecks, FileReader, Problem, Severity};

/// Rows sent to the writer at once.
const BATCH: usize = 2_000;
/// Problems kept in memory for the report; the rest are only counted.
const KEEP_PROBLEMS: usize = 100_000;

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// The file as given.
    pub path: PathBuf,
    /// The table its header names, if it could be read.
    pub table: Option<&'static Table>,
    /// Data rows read.
    pub rows: u64,
    /// What the writer did with them (zero when the import was refused).
    pub stats: WriteStats,
    /// Errors found in this file.
    pub errors: u64,
    /// Warnings found in this file.
    pub warnings: u64,
}

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// One entry per file given.
    pub files: Vec<FileOutcome>,
    /// Errors first, then warnings, each in file order; at most [`KEEP_PROBLEMS`].
    pub problems: Vec<Problem>,
    /// Errors in all files: any refuses the import.
    pub errors: u64,
    /// Warnings in all files: the data is kept.
    pub warnings: u64,
    /// True when the transaction was committed.
    pub applied: bool,
    /// The chain head after the commit.
    pub head: Option<(i64, String)>,
}

/// Why an import could not run at all (not a problem with the data).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The registry could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reports rows read, for a progress bar.
pub trait Progress {
    /// A new file starts.
    fn file(&self, name: &str);
    /// `n` more rows were read.
    fn rows(&self, n: u64);
}

impl Progress for indicatif::ProgressBar {
    fn file(&self, name: &str) {
        self.set_message(name.to_owned());
    }
    fn rows(&self, n: u64) {
        self.inc(n);
    }
}

/// The validation context for a registry: code lists and the villages it holds.
pub async fn context_for(store: &Store) -> Result<Arc<Context>, ImportError> {
    let villages = store.village_codes().await?;
    Ok(Arc::new(Context::new(CodeLists::builtin(), villages)))
}

struct Run<'a> {
    problems: Vec<Problem>,
    warnings_kept: Vec<Problem>,
    errors: u64,
    warnings: u64,
    /// Keys listed in this import's files, by table: references to them are valid
    /// even while the file that lists them is refused (so one error is not reported
    /// again for every row that refers to it).
    listed: HashMap<&'static str, HashSet<u128>>,
    progress: Option<&'a dyn Progress>,
}

impl Run<'_> {
    fn push(&mut self, p: Problem) {
        match p.severity {
            Severity::Error => {
                self.errors += 1;
                if self.problems.len() < KEEP_PROBLEMS {
                    self.problems.push(p);
                }
            }
            Severity::Warning => {
                self.warnings += 1;
                if self.warnings_kept.len() < KEEP_PROBLEMS {
                    self.warnings_kept.push(p);
                }
            }
        }
    }
}

/// Imports `paths` into `store` as one transaction. Files are applied parents first
/// (households before persons) whatever order they are given in.
pub async fn import(
    store: &Store,
    paths: &[PathBuf],
    progress: Option<&dyn Progress>,
) -> Result<ImportOutcome, ImportError> {
    let ctx = context_for(store).await?;
    let mut run = Run {
        problems: Vec::new(),
        warnings_kept: Vec::new(),
        errors: 0,
        warnings: 0,
        listed: HashMap::new(),
        progress,
    };
    let mut outcome = ImportOutcome::default();

    // Open every file first: a file that cannot be opened or keyed is reported with
    // the others, and the rest are still validated so every problem is listed.
    let mut readers = Vec::new();
    for path in paths {
        match FileReader::open(path, ctx.clone()) {
            Ok(r) => readers.push((path.clone(), r)),
            Err(p) => {
                run.push(p);
                outcome.files.push(FileOutcome {
                    path: path.clone(),
                    table: None,
                    rows: 0,
                    stats: WriteStats::default(),
                    errors: 1,
                    warnings: 0,
                });
            }
        }
    }
    readers.sort_by_key(|(_, r)| TABLES.iter().position(|t| t.name == r.table().name).unwrap_or(usize::MAX));

    let mut writer = store.writer(Actor::Import).await?;
    let mut cross = CrossChecks::new(&ctx);
    for (path, reader) in readers {
        let file = apply_file(&mut run, &mut writer, &mut cross, &path, reader).await;
        match file {
            Ok(f) => outcome.files.push(f),
            Err(e) => {
                writer.rollback().await?;
                return Err(e);
            }
        }
    }
    for p in cross.finish() {
        run.push(p);
    }

    outcome.errors = run.errors;
    outcome.warnings = run.warnings;
    if run.errors > 0 {
        writer.rollback().await?;
    } else {
        let (_, seq, hash) = writer.commit().await?;
        outcome.applied = true;
        outcome.head = Some((seq, hash));
    }
    outcome.problems = run.problems;
    let room = KEEP_PROBLEMS.saturating_sub(outcome.problems.len());
    outcome.problems.extend(run.warnings_kept.into_iter().take(room));
    Ok(outcome)
}

async fn apply_file(
    run: &mut Run<'_>,
    writer: &mut fupin_store::Writer,
    cross: &mut CrossChecks,
    path: &Path,
    mut reader: FileReader,
) -> Result<FileOutcome, ImportError> {
    let table = reader.table();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let reason = format!("导入 {name}");
    if let Some(p) = run.progress {
        p.file(&name);
    }
    let errors_before = run.errors;
    let warnings_before = run.warnings;
    let locator = reader.locator().clone();
    let key_idx = table.key_indices();
    let group_idx = table.authoritative_by.and_then(|g| table.index_of(g));
    let track_keys = matches!(table.name, "households" | "helpers");
    // Fingerprints, not the keys themselves: a million persons fit in a few dozen MB.
    let mut seen: HashSet<u128> = HashSet::new();
    let mut groups: HashSet<String> = HashSet::new();
    let mut stats = WriteStats::default();
    let mut batch: Vec<(u64, RowIn)> = Vec::with_capacity(BATCH);
    let mut rows = 0u64;
    // Header problems (an unknown column, a missing required one) refuse the file: they
    // count before any row is written, so that no row lacking a required value (NULL in
    // a NOT NULL column) reaches the database and fails the import instead of refusing it.
    let header_problems = reader.header_problems().to_vec();
    let skip = header_problems.len();
    for p in header_problems {
        run.push(p);
    }

    while let Some(row) = reader.next_row() {
        rows += 1;
        if rows.is_multiple_of(1_000)
            && let Some(p) = run.progress
        {
            p.rows(1_000);
        }
        cross.feed(&locator, &row);
        let has_errors = row.has_errors();
        let line = row.line;
        let values = row.values;
        for p in row.problems {
            run.push(p);
        }
        if has_errors {
            continue;
        }
        let key = key_idx.iter().map(|&i| values[i].canonical().unwrap_or_default()).collect::<Vec<_>>().join("|");
        if track_keys {
            run.listed.entry(table.name).or_default().insert(fingerprint(&[&key]));
        }
        if let Some(g) = group_idx {
            groups.insert(values[g].canonical().unwrap_or_default());
            seen.insert(fingerprint(&[&key]));
        }
        batch.push((line, RowIn { values, source: Some(format!("{name}:{line}")) }));
        if batch.len() >= BATCH {
            flush(run, writer, table, &locator, std::mem::take(&mut batch), &reason, &mut stats).await?;
        }
    }
    if let Some(p) = run.progress {
        p.rows(rows % 1_000);
    }
    flush(run, writer, table, &locator, batch, &reason, &mut stats).await?;
    for p in reader.file_problems().skip(skip).cloned().collect::<Vec<_>>() {
        run.push(p);
    }

    // Authoritative for the households it lists: their members the file leaves out go.
    if run.errors == 0 && group_idx.is_some() {
        let mut groups: Vec<String> = groups.into_iter().collect();
        groups.sort();
        // A chunk of households at a time, so the stored member keys of a whole
        // county are never held at once.
        let mut absent: Vec<String> = Vec::new();
        for chunk in groups.chunks(5_000) {
            let stored = writer.keys_in_groups(table, chunk).await?;
            absent.extend(stored.into_iter().map(|(key, _)| key).filter(|k| !seen.contains(&fingerprint(&[k]))));
        }
        absent.sort();
        // A member who died or left is history, not a member a file lists: kept.
        if let Some(status) = table.index_of("person_status")
            && !absent.is_empty()
        {
            let rows = writer.fetch(table, &absent).await?;
            let former = |k: &String| {
                rows.get(k).and_then(|r| r[status].as_text()).is_some_and(|s| !s.is_empty() && s != schema::PRESENT)
            };
            absent.retain(|k| !former(k));
        }
        if !absent.is_empty() {
            let n = writer.delete(table, &absent, Some(&name), &format!("absent from {name}")).await?;
            stats.deleted += n;
            stats.records += n;
        }
    }
    Ok(FileOutcome {
        path: path.to_path_buf(),
        table: Some(table),
        rows,
        stats,
        errors: run.errors - errors_before,
        warnings: run.warnings - warnings_before,
    })
}

/// Checks the batch's references, then writes it unless the import already failed.
async fn flush(
    run: &mut Run<'_>,
    writer: &mut fupin_store::Writer,
    table: &'static Table,
    locator: &crate::Locator,
    batch: Vec<(u64, RowIn)>,
    reason: &str,
    stats: &mut WriteStats,
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    for (i, column) in table.columns.iter().enumerate() {
        let Kind::Ref(target) = column.kind else { continue };
        let Some(target_table) = fupin_domain::schema::table(target) else { continue };
        let mut wanted: Vec<String> = batch.iter().filter_map(|(_, r)| r.values[i].canonical()).collect();
        wanted.sort();
        wanted.dedup();
        let listed = run.listed.get(target);
        wanted.retain(|k| !listed.is_some_and(|l| l.contains(&fingerprint(&[k]))));
        if wanted.is_empty() {
            continue;
        }
        let existing = writer.existing_keys(target_table, &wanted).await?;
        let missing: HashSet<&String> = wanted.iter().filter(|k| !existing.contains(*k)).collect();
        for (line, r) in &batch {
            if let Some(Value::Text(k)) = r.values.get(i)
                && missing.contains(k)
            {
                let reason =
                    format!("{}“{k}”在登记库中不存在，本次导入的{}文件里也没有", column.header, target_table.title);
                run.push(locator.problem(*line, Some(column.name), Severity::Error, reason));
            }
        }
    }
    if run.errors > 0 {
        // The import will be refused; keep validating, stop writing.
        return Ok(());
    }
    let rows: Vec<RowIn> = batch.into_iter().map(|(_, r)| r).collect();
    let s = writer.upsert(table, rows, reason).await?;
    stats.inserted += s.inserted;
    stats.updated += s.updated;
    stats.unchanged += s.unchanged;
    stats.records += s.records;
    Ok(())
}
