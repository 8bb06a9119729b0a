//! The import driver on a real registry (SQLite, or PostgreSQL when `FUPIN_TEST_DB`
//! names one) with real files from the generator: one transaction over all files,
//! only differences recorded, every problem listed with its place. This module has
//! the shared helpers and the imports that apply; `import_problems` the refused ones
//! and the data-quality warnings.

use std::path::{Path, PathBuf};

use fupin_domain::DivisionTree;
use fupin_domain::schema::{REGISTRY_TABLES, TABLES};
use fupin_ingest::{Exporter, ImportOutcome, Problem, import};
use fupin_store::Store;
use fupin_store::audit::{self, Head};
use fupin_store::testing::{self, TestDb};
use tempfile::TempDir;

use crate::common::{listing, write};

pub(crate) const HOUSEHOLDS: usize = 100;
pub(crate) const SEED: u64 = 20_261_127;

pub(crate) fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 27)
}

// ---------------------------------------------------------------------------------
// Files

/// A generated county's exchange files in a temporary directory.
pub(crate) struct County {
    dir: TempDir,
    pub(crate) files: Vec<PathBuf>,
}

pub(crate) fn county(faults: usize) -> County {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fupin_synth::Config::xunyang(HOUSEHOLDS, SEED, today());
    cfg.faults = faults;
    let s = fupin_synth::generate(&cfg, &DivisionTree::builtin_xunyang(), dir.path(), None).unwrap();
    assert_eq!(s.files.len(), 6);
    County { dir, files: s.files }
}

impl County {
    pub(crate) fn file(&self, table: &str) -> PathBuf {
        self.dir.path().join(format!("{table}.csv"))
    }

    pub(crate) fn sheet(&self, table: &str) -> Sheet {
        Sheet::read(&self.file(table))
    }

    pub(crate) fn key_faults(&self) -> Vec<Vec<String>> {
        Sheet::read(&self.dir.path().join("key/faults.csv")).rows
    }
}

/// A CSV file as cells, to change one thing and write it again. Generated files have
/// no line breaks inside cells, so data row `i` is on line `i + 2`.
#[derive(Clone)]
pub(crate) struct Sheet {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl Sheet {
    pub(crate) fn read(path: &Path) -> Sheet {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
        let mut all: Vec<Vec<String>> =
            r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
        let lines = std::fs::read_to_string(path).unwrap().lines().count();
        assert_eq!(lines, all.len(), "{}: a cell spans lines", path.display());
        let header = all.remove(0);
        Sheet { header, rows: all }
    }

    pub(crate) fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
        path
    }

    pub(crate) fn col(&self, header: &str) -> usize {
        self.header.iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}"))
    }

    /// Index of the first row whose `header` cell is `value`.
    pub(crate) fn find(&self, header: &str, value: &str) -> usize {
        let c = self.col(header);
        self.rows.iter().position(|r| r[c] == value).unwrap_or_else(|| panic!("no row with {header} = {value}"))
    }

    pub(crate) fn set(&mut self, row: usize, header: &str, value: &str) {
        let c = self.col(header);
        self.rows[row][c] = value.to_owned();
    }

    pub(crate) fn get(&self, row: usize, header: &str) -> &str {
        &self.rows[row][self.col(header)]
    }
}

/// The line a data row is on.
pub(crate) fn line(row: usize) -> u64 {
    row as u64 + 2
}

/// Copies the county's files into `dir`, each passed through `f` (bytes in, bytes out).
pub(crate) fn rewrite(c: &County, dir: &Path, f: impl Fn(&str, &[u8]) -> Vec<u8>) -> Vec<PathBuf> {
    c.files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            write(dir, &name, f(&name, &std::fs::read(p).unwrap()))
        })
        .collect()
}

/// A fixed shuffle (xorshift, Fisher–Yates).
pub(crate) fn shuffle<T>(v: &mut [T], mut state: u64) {
    for i in (1..v.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        v.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

// ---------------------------------------------------------------------------------
// Registry

/// A fresh registry holding 旬阳's division tree, as `fupin init` leaves it.
pub(crate) async fn registry() -> TestDb {
    let db = testing::fresh().await.unwrap();
    db.store.write_divisions(&DivisionTree::builtin_xunyang(), "610981").await.unwrap();
    db
}

/// A registry with the county's files imported.
pub(crate) async fn imported(c: &County) -> TestDb {
    let db = registry().await;
    applied(&db.store, &c.files).await;
    db
}

/// The chain head and every registry table's row count.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Snapshot {
    head: Head,
    counts: Vec<(&'static str, i64)>,
}

pub(crate) async fn snapshot(store: &Store) -> Snapshot {
    let mut counts = Vec::new();
    for t in REGISTRY_TABLES {
        counts.push((t.name, store.count(t.name).await.unwrap()));
    }
    Snapshot { head: audit::head(store).await.unwrap(), counts }
}

pub(crate) async fn run(store: &Store, files: &[PathBuf]) -> ImportOutcome {
    import(store, files, None).await.unwrap_or_else(|e| panic!("import failed instead of reporting: {e}"))
}

pub(crate) async fn applied(store: &Store, files: &[PathBuf]) -> ImportOutcome {
    let o = run(store, files).await;
    assert!(o.applied, "refused:\n{}", listing(&o.problems));
    assert_eq!(o.errors, 0);
    o
}

/// Imports `files` expecting a refusal: the registry unchanged, the errors returned.
pub(crate) async fn refused(store: &Store, files: &[PathBuf]) -> Vec<Problem> {
    let before = snapshot(store).await;
    let o = run(store, files).await;
    assert!(!o.applied, "applied although it should be refused");
    assert!(o.errors > 0);
    assert_eq!(o.head, None);
    assert_eq!(snapshot(store).await, before, "a refused import changed the registry");
    let errors: Vec<Problem> = o.problems.into_iter().filter(Problem::is_error).collect();
    assert_eq!(errors.len() as u64, o.errors);
    errors
}

/// Re-imports `files`, which hold what the registry holds: nothing changes.
pub(crate) async fn unchanged(store: &Store, files: &[PathBuf]) {
    let before = snapshot(store).await;
    let o = applied(store, files).await;
    assert_eq!(snapshot(store).await, before, "re-import changed the registry");
    assert_eq!(o.head, Some((before.head.seq, before.head.hash.clone())));
    for f in &o.files {
        let s = f.stats;
        assert_eq!((s.inserted, s.updated, s.deleted, s.records), (0, 0, 0, 0), "{}", f.path.display());
        assert_eq!(s.unchanged, f.rows, "{}", f.path.display());
    }
}

/// One change record.
#[derive(Debug)]
pub(crate) struct Rec {
    entity: String,
    key: String,
    op: String,
    field: Option<String>,
    old: Option<String>,
    new: Option<String>,
    reason: Option<String>,
    source: Option<String>,
}

type RecRow = (String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

pub(crate) async fn records_after(store: &Store, seq: i64) -> Vec<Rec> {
    let rows: Vec<RecRow> = sqlx::query_as(
        "SELECT entity, entity_key, op, field, old_value, new_value, reason, source FROM change_log \
         WHERE seq > $1 ORDER BY seq",
    )
    .bind(seq)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(entity, key, op, field, old, new, reason, source)| Rec {
            entity,
            key,
            op,
            field,
            old,
            new,
            reason,
            source,
        })
        .collect()
}

pub(crate) async fn verified(store: &Store) {
    let head = audit::head(store).await.unwrap();
    let report = audit::verify(store, Some(&head.to_string()), &[]).await.unwrap();
    assert_eq!(report.mismatch, None);
    assert_eq!(report.head, head);
}

/// Finds the problem at `file` `line` `column`, checks that its sentence names the place,
/// and returns it.
pub(crate) fn at<'a>(problems: &'a [Problem], file: &str, line: u64, column: &str, header: &str) -> &'a Problem {
    let p = problems
        .iter()
        .find(|p| p.file == file && p.line == Some(line) && p.column.as_deref() == Some(column))
        .unwrap_or_else(|| panic!("no problem at {file} 第{line}行 {column}列 in:\n{}", listing(problems)));
    assert_eq!(p.header.as_deref(), Some(header), "{p}");
    let place = format!("{file} 第{line}行 {column}列「{header}」：");
    assert!(p.to_string().starts_with(&place), "{p} does not start with {place}");
    p
}

// ---------------------------------------------------------------------------------
// Applied imports

#[tokio::test]
async fn a_clean_county_imports_whole_and_verifies() {
    let c = county(0);
    let db = registry().await;
    // Children first on the command line: the driver applies parents first anyway.
    let mut files = c.files.clone();
    files.reverse();
    let o = applied(&db.store, &files).await;
    assert_eq!(o.files.len(), 6);
    assert_eq!(o.warnings, 0, "{}", listing(&o.problems));
    for f in &o.files {
        let table = f.table.unwrap();
        let rows = Sheet::read(&f.path).rows.len() as u64;
        assert_eq!(f.rows, rows, "{}", table.name);
        assert_eq!(f.stats.inserted, rows, "{}", table.name);
        assert_eq!(db.store.count(table.name).await.unwrap(), rows as i64, "{}", table.name);
    }
    let head = audit::head(&db.store).await.unwrap();
    assert_eq!(o.head, Some((head.seq, head.hash.clone())));
    verified(&db.store).await;
    // Every row inserted is one record, with its file and line as source.
    let recs = records_after(&db.store, 0).await;
    let pid = c.sheet("persons").rows[4][0].clone();
    let r = recs.iter().find(|r| r.entity == "persons" && r.key == pid).unwrap();
    assert_eq!((r.op.as_str(), r.source.as_deref()), ("I", Some("persons.csv:6")));
}

#[tokio::test]
async fn importing_the_same_files_again_changes_nothing() {
    let c = county(0);
    let db = imported(&c).await;
    unchanged(&db.store, &c.files).await;
    verified(&db.store).await;
}

#[tokio::test]
async fn reordered_rows_change_nothing() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let files = rewrite(&c, dir.path(), |name, bytes| {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let data = &mut lines[1..];
        let before = data.to_vec();
        shuffle(data, 0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
        assert!(data.len() < 3 || before != data, "{name} was not reordered");
        (lines.join("\n") + "\n").into_bytes()
    });
    unchanged(&db.store, &files).await;
}

#[tokio::test]
async fn gbk_files_change_nothing() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let files = rewrite(&c, dir.path(), |name, bytes| {
        let text = std::str::from_utf8(bytes).unwrap();
        let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
        assert!(!lossy, "{name} has characters GBK lacks");
        assert_ne!(&gbk[..], bytes, "{name} has Chinese text");
        gbk.into_owned()
    });
    let o = run(&db.store, &files).await;
    assert!(o.applied, "{}", listing(&o.problems));
    unchanged(&db.store, &files).await;
}

#[tokio::test]
async fn the_registry_exported_as_xlsx_imports_unchanged() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for table in TABLES {
        let mut rows = Vec::new();
        db.store
            .for_each_row::<fupin_store::StoreError>(table, |r| {
                rows.push(r);
                Ok(())
            })
            .await
            .unwrap();
        let path = dir.path().join(format!("{}.xlsx", table.name));
        let mut ex = Exporter::create(&path, table).unwrap();
        for r in &rows {
            ex.write_row(r).unwrap();
        }
        assert_eq!(ex.finish().unwrap(), rows.len() as u64);
        files.push(path);
    }
    unchanged(&db.store, &files).await;
    verified(&db.store).await;
}

#[tokio::test]
async fn one_changed_field_is_one_change_record() {
    let c = county(0);
    let db = imported(&c).await;
    let before = audit::head(&db.store).await.unwrap();
    let mut persons = c.sheet("persons");
    let old = persons.get(9, "姓名").to_owned();
    let pid = persons.get(9, "人编号").to_owned();
    persons.set(9, "姓名", "欧阳改名");
    let dir = tempfile::tempdir().unwrap();
    let o = applied(&db.store, &[persons.write(dir.path(), "persons.csv")]).await;
    assert_eq!(o.files[0].stats.updated, 1);
    let recs = records_after(&db.store, before.seq).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    let r = &recs[0];
    assert_eq!((r.entity.as_str(), r.key.as_str(), r.op.as_str()), ("persons", pid.as_str(), "U"));
    assert_eq!(r.field.as_deref(), Some("name"));
    assert_eq!((r.old.as_deref(), r.new.as_deref()), (Some(old.as_str()), Some("欧阳改名")));
    assert_eq!(r.source.as_deref(), Some("persons.csv:11"));
    assert_eq!(r.reason.as_deref(), Some("导入 persons.csv"));
    verified(&db.store).await;
}

/// A household with at least `n` members: its 户编号 and its rows.
fn household_with(persons: &Sheet, n: usize) -> (String, Vec<usize>) {
    let hh = persons.col("户编号");
    let mut ids: Vec<&str> = persons.rows.iter().map(|r| r[hh].as_str()).collect();
    ids.dedup();
    for id in ids {
        let rows: Vec<usize> = (0..persons.rows.len()).filter(|&i| persons.rows[i][hh] == id).collect();
        if rows.len() >= n {
            return (id.to_owned(), rows);
        }
    }
    panic!("no household with {n} members");
}

#[tokio::test]
async fn a_member_absent_from_a_listed_household_is_removed_others_untouched() {
    let c = county(0);
    let db = imported(&c).await;
    let before = snapshot(&db.store).await;
    let all = c.sheet("persons");
    let (_, rows) = household_with(&all, 3);
    let gone = all.rows[rows[1]][0].clone();
    // Only this household is listed, without one of its members.
    let mut file = all.clone();
    file.rows = rows.iter().filter(|&&i| i != rows[1]).map(|&i| all.rows[i].clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let o = applied(&db.store, &[file.write(dir.path(), "persons.csv")]).await;
    assert_eq!(o.files[0].stats.deleted, 1);
    let recs = records_after(&db.store, before.head.seq).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!((recs[0].entity.as_str(), recs[0].key.as_str(), recs[0].op.as_str()), ("persons", gone.as_str(), "D"));
    let reason = recs[0].reason.as_deref().unwrap();
    assert!(reason.contains("absent from persons.csv"), "{reason}");
    // The 59 households the file does not list keep all their members.
    assert_eq!(db.store.count("persons").await.unwrap(), all.rows.len() as i64 - 1);
    verified(&db.store).await;
}

#[tokio::test]
async fn a_member_who_died_is_kept_when_a_file_leaves_them_out() {
    let c = county(0);
    let db = imported(&c).await;
    let all = c.sheet("persons");
    let (_, rows) = household_with(&all, 3);
    let dead = all.rows[rows[2]][0].clone();
    let edit = fupin_store::operations::Edit::new("village", "病故");
    fupin_store::operations::record_death(&db.store, &edit, &dead, "2024-03-01", None).await.unwrap();
    // The national system's file lists the household without the dead member.
    let mut file = all.clone();
    file.rows = rows.iter().filter(|&&i| i != rows[2]).map(|&i| all.rows[i].clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let o = applied(&db.store, &[file.write(dir.path(), "persons.csv")]).await;
    assert_eq!(o.files[0].stats.deleted, 0, "history is not deleted");
    assert_eq!(db.store.count("persons").await.unwrap(), all.rows.len() as i64);
    verified(&db.store).await;
}

#[tokio::test]
async fn a_person_listed_under_another_household_is_a_move() {
    let c = county(0);
    let db = imported(&c).await;
    let before = snapshot(&db.store).await;
    let mut persons = c.sheet("persons");
    let (from, rows) = household_with(&persons, 3);
    // A member who is neither head nor spouse, so no other check is touched.
    let who = *rows.iter().find(|&&i| !matches!(persons.get(i, "与户主关系"), "01" | "02")).unwrap();
    let pid = persons.get(who, "人编号").to_owned();
    let to = persons.rows.iter().map(|r| r[1].clone()).find(|h| *h != from).unwrap();
    persons.set(who, "户编号", &to);
    let dir = tempfile::tempdir().unwrap();
    applied(&db.store, &[persons.write(dir.path(), "persons.csv")]).await;
    let recs = records_after(&db.store, before.head.seq).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    let r = &recs[0];
    assert_eq!((r.key.as_str(), r.op.as_str(), r.field.as_deref()), (pid.as_str(), "U", Some("hh_id")));
    assert_eq!((r.old.as_deref(), r.new.as_deref()), (Some(from.as_str()), Some(to.as_str())));
    assert!(r.reason.as_deref().unwrap().contains("迁移"), "{r:?}");
    assert_eq!(snapshot(&db.store).await.counts, before.counts, "a move keeps the person count");
    let (hh,): (String,) = sqlx::query_as("SELECT hh_id FROM persons WHERE person_id = $1")
        .bind(&pid)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(hh, to);
    verified(&db.store).await;
}
