//! The import driver on a real registry (SQLite, or PostgreSQL when `FUPIN_TEST_DB`
//! names one) with real files from the generator: one transaction over all files,
//! only differences recorded, every problem listed with its place.

use std::path::{Path, PathBuf};

use fupin_domain::DivisionTree;
use fupin_domain::schema::{REGISTRY_TABLES, TABLES};
use fupin_ingest::{Exporter, ImportOutcome, Problem, Severity, import, write_problems_xlsx};
use fupin_store::Store;
use fupin_store::audit::{self, Head};
use fupin_store::testing::{self, TestDb};
use tempfile::TempDir;

use crate::common::{listing, write};

const HOUSEHOLDS: usize = 100;
const SEED: u64 = 20_261_127;

fn today() -> time::Date {
    time::macros::date!(2026 - 11 - 27)
}

// ---------------------------------------------------------------------------------
// Files

/// A generated county's exchange files in a temporary directory.
struct County {
    dir: TempDir,
    files: Vec<PathBuf>,
}

fn county(faults: usize) -> County {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fupin_synth::Config::xunyang(HOUSEHOLDS, SEED, today());
    cfg.faults = faults;
    let s = fupin_synth::generate(&cfg, &DivisionTree::builtin_xunyang(), dir.path(), None).unwrap();
    assert_eq!(s.files.len(), 6);
    County { dir, files: s.files }
}

impl County {
    fn file(&self, table: &str) -> PathBuf {
        self.dir.path().join(format!("{table}.csv"))
    }

    fn sheet(&self, table: &str) -> Sheet {
        Sheet::read(&self.file(table))
    }

    fn key_faults(&self) -> Vec<Vec<String>> {
        Sheet::read(&self.dir.path().join("key/faults.csv")).rows
    }
}

/// A CSV file as cells, to change one thing and write it again. Generated files have
/// no line breaks inside cells, so data row `i` is on line `i + 2`.
#[derive(Clone)]
struct Sheet {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Sheet {
    fn read(path: &Path) -> Sheet {
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
        let mut all: Vec<Vec<String>> =
            r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect();
        let lines = std::fs::read_to_string(path).unwrap().lines().count();
        assert_eq!(lines, all.len(), "{}: a cell spans lines", path.display());
        let header = all.remove(0);
        Sheet { header, rows: all }
    }

    fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        let mut w = csv::Writer::from_path(&path).unwrap();
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
        path
    }

    fn col(&self, header: &str) -> usize {
        self.header.iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}"))
    }

    /// Index of the first row whose `header` cell is `value`.
    fn find(&self, header: &str, value: &str) -> usize {
        let c = self.col(header);
        self.rows.iter().position(|r| r[c] == value).unwrap_or_else(|| panic!("no row with {header} = {value}"))
    }

    fn set(&mut self, row: usize, header: &str, value: &str) {
        let c = self.col(header);
        self.rows[row][c] = value.to_owned();
    }

    fn get(&self, row: usize, header: &str) -> &str {
        &self.rows[row][self.col(header)]
    }
}

/// The line a data row is on.
fn line(row: usize) -> u64 {
    row as u64 + 2
}

/// Copies the county's files into `dir`, each passed through `f` (bytes in, bytes out).
fn rewrite(c: &County, dir: &Path, f: impl Fn(&str, &[u8]) -> Vec<u8>) -> Vec<PathBuf> {
    c.files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            write(dir, &name, f(&name, &std::fs::read(p).unwrap()))
        })
        .collect()
}

/// A fixed shuffle (xorshift, Fisher–Yates).
fn shuffle<T>(v: &mut [T], mut state: u64) {
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
async fn registry() -> TestDb {
    let db = testing::fresh().await.unwrap();
    db.store.write_divisions(&DivisionTree::builtin_xunyang(), "610981").await.unwrap();
    db
}

/// A registry with the county's files imported.
async fn imported(c: &County) -> TestDb {
    let db = registry().await;
    applied(&db.store, &c.files).await;
    db
}

/// The chain head and every registry table's row count.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    head: Head,
    counts: Vec<(&'static str, i64)>,
}

async fn snapshot(store: &Store) -> Snapshot {
    let mut counts = Vec::new();
    for t in REGISTRY_TABLES {
        counts.push((t.name, store.count(t.name).await.unwrap()));
    }
    Snapshot { head: audit::head(store).await.unwrap(), counts }
}

async fn run(store: &Store, files: &[PathBuf]) -> ImportOutcome {
    import(store, files, None).await.unwrap_or_else(|e| panic!("import failed instead of reporting: {e}"))
}

async fn applied(store: &Store, files: &[PathBuf]) -> ImportOutcome {
    let o = run(store, files).await;
    assert!(o.applied, "refused:\n{}", listing(&o.problems));
    assert_eq!(o.errors, 0);
    o
}

/// Imports `files` expecting a refusal: the registry unchanged, the errors returned.
async fn refused(store: &Store, files: &[PathBuf]) -> Vec<Problem> {
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
async fn unchanged(store: &Store, files: &[PathBuf]) {
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
struct Rec {
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

async fn records_after(store: &Store, seq: i64) -> Vec<Rec> {
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

async fn verified(store: &Store) {
    let head = audit::head(store).await.unwrap();
    let report = audit::verify(store, Some(&head.to_string()), &[]).await.unwrap();
    assert_eq!(report.mismatch, None);
    assert_eq!(report.head, head);
}

/// Finds the problem at `file` `line` `column`, checks that its sentence names the place,
/// and returns it.
fn at<'a>(problems: &'a [Problem], file: &str, line: u64, column: &str, header: &str) -> &'a Problem {
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

// ---------------------------------------------------------------------------------
// Refused imports

#[tokio::test]
async fn unreadable_files_are_refused_whole() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let persons_text = std::fs::read_to_string(c.file("persons")).unwrap();

    // Broken quoting: a quote opened on line 5 and never closed.
    let mut lines: Vec<String> = persons_text.lines().map(str::to_owned).collect();
    lines[4] = lines[4].replacen(',', ",\"", 1);
    let errors = refused(&db.store, &[write(d, "persons.csv", lines.join("\n") + "\n")]).await;
    let p = errors.iter().find(|p| p.reason.contains("引号")).unwrap_or_else(|| panic!("{}", listing(&errors)));
    assert_eq!((p.file.as_str(), p.line), ("persons.csv", Some(5)), "{p}");
    assert!(p.to_string().starts_with("persons.csv 第5行"), "{p}");

    // A wrong header: 「名字」 for 「姓名」.
    let wrong = persons_text.replacen("姓名", "名字", 1);
    let errors = refused(&db.store, &[write(d, "persons.csv", &wrong)]).await;
    let p = errors.iter().find(|p| p.reason.contains("名字")).unwrap_or_else(|| panic!("{}", listing(&errors)));
    assert_eq!((p.line, p.column.as_deref()), (Some(1), Some("C")), "{p}");
    assert!(p.to_string().starts_with("persons.csv 第1行 C列「名字」："), "{p}");
    assert!(errors.iter().any(|p| p.reason.contains("缺少必填列「姓名」")), "{}", listing(&errors));

    // Headers of no table at all.
    let errors = refused(&db.store, &[write(d, "x.csv", "foo,bar,baz\n1,2,3\n")]).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().starts_with("x.csv 第1行："), "{}", errors[0]);
    assert!(errors[0].reason.contains("户编号"), "{}", errors[0]);

    // A missing required column, for persons (人编号) and households (户编号).
    for (table, header) in [("persons", "人编号"), ("households", "户编号"), ("persons", "户编号")] {
        let mut sheet = c.sheet(table);
        let col = sheet.col(header);
        sheet.header.remove(col);
        for r in &mut sheet.rows {
            r.remove(col);
        }
        let name = format!("{table}.csv");
        let errors = refused(&db.store, &[sheet.write(d, &name)]).await;
        let want = format!("{name} 第1行「{header}」：缺少必填列「{header}」");
        assert!(errors.iter().any(|p| p.to_string() == want), "{want} not in:\n{}", listing(&errors));
    }

    // Random bytes: no encoding fits.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 0x80
        })
        .collect();
    let errors = refused(&db.store, &[write(d, "persons.csv", garbage)]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    assert!(errors[0].to_string().starts_with("persons.csv：") && errors[0].reason.contains("编码"), "{}", errors[0]);

    // A truncated workbook.
    let mut rows = Vec::new();
    db.store
        .for_each_row::<fupin_store::StoreError>(&fupin_domain::schema::PERSONS, |r| {
            rows.push(r);
            Ok(())
        })
        .await
        .unwrap();
    let full = d.join("full.xlsx");
    fupin_ingest::export(&full, &fupin_domain::schema::PERSONS, &rows).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let errors = refused(&db.store, &[write(d, "persons.xlsx", &bytes[..bytes.len() / 2])]).await;
    assert!(
        errors.iter().any(|p| p.file == "persons.xlsx" && p.reason.contains("损坏或不完整")),
        "{}",
        listing(&errors)
    );
}

#[tokio::test]
async fn bad_values_are_refused_whole_with_their_place() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let persons = c.sheet("persons");

    // Missing 户编号 and 人编号 values.
    let mut s = persons.clone();
    s.set(3, "户编号", "");
    s.set(7, "人编号", "");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "persons.csv", line(3), "B", "户编号").reason.contains("为空"));
    assert!(at(&errors, "persons.csv", line(7), "A", "人编号").reason.contains("为空"));

    // A code found in no version of its list (民族), by label and by code.
    let mut s = persons.clone();
    s.set(5, "民族", "火星族");
    s.set(6, "民族", "99");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "persons.csv", line(5), "I", "民族").reason.contains("火星族"));
    assert!(at(&errors, "persons.csv", line(6), "I", "民族").reason.contains("99"));

    // An ID number Excel turned into scientific notation.
    let mut s = persons.clone();
    s.set(10, "证件号码", "6.10981E+17");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    let p = at(&errors, "persons.csv", line(10), "G", "证件号码");
    assert!(p.reason.contains("科学计数法"), "{p}");

    // A persons row whose 户编号 is neither in the registry nor in the import.
    let mut s = persons.clone();
    s.set(12, "户编号", "61098199999999999");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    let p = at(&errors, "persons.csv", line(12), "B", "户编号");
    assert!(p.reason.contains("61098199999999999") && p.reason.contains("不存在"), "{p}");

    // A village outside the registry: another county's, and no village at all.
    let mut h = c.sheet("households");
    h.set(2, "行政村代码", "610902100201");
    h.set(4, "行政村代码", "610981999999");
    let errors = refused(&db.store, &[h.write(d, "households.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "households.csv", line(2), "B", "行政村代码").reason.contains("不在本县"));
    assert!(at(&errors, "households.csv", line(4), "B", "行政村代码").reason.contains("610981999999"));
}

#[tokio::test]
async fn every_bad_row_is_listed() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = c.sheet("persons");
    s.set(1, "与户主关系", "老伴");
    s.set(20, "出生日期", "2005-02-30");
    s.set(40, "户编号", "");
    let errors = refused(&db.store, &[s.write(dir.path(), "persons.csv")]).await;
    assert_eq!(errors.len(), 3, "{}", listing(&errors));
    let lines: Vec<u64> = errors.iter().filter_map(|p| p.line).collect();
    assert_eq!(lines, [line(1), line(20), line(40)]);
    at(&errors, "persons.csv", line(1), "H", "与户主关系");
    at(&errors, "persons.csv", line(20), "E", "出生日期");
    at(&errors, "persons.csv", line(40), "B", "户编号");

    // The same problems as the workbook `--errors` writes, read back with calamine.
    let out = dir.path().join("问题.xlsx");
    assert_eq!(write_problems_xlsx(&errors, &out).unwrap(), 3);
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(&out).unwrap();
    assert_eq!(wb.sheet_names(), ["问题清单"]);
    let range = wb.worksheet_range("问题清单").unwrap();
    let cells: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(cells[0], ["文件", "工作表", "行", "列", "表头", "级别", "原因"]);
    assert_eq!(cells.len(), 4);
    for (row, p) in cells[1..].iter().zip(&errors) {
        let want = [
            p.file.clone(),
            String::new(),
            p.line.unwrap().to_string(),
            p.column.clone().unwrap(),
            p.header.clone().unwrap(),
            "错误".into(),
            p.reason.clone(),
        ];
        assert_eq!(row[..], want[..]);
    }
}

#[tokio::test]
async fn one_bad_file_refuses_every_file_of_the_import() {
    let c = county(0);
    let dir = tempfile::tempdir().unwrap();
    let mut bad = c.sheet("persons");
    bad.set(30, "证件号码", "6.10981E+17");
    let bad = bad.write(dir.path(), "persons.csv");

    // Into an empty registry: the good households file is not applied either.
    let db = registry().await;
    let errors = refused(&db.store, &[c.file("households"), bad.clone()]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    at(&errors, "persons.csv", line(30), "G", "证件号码");
    assert_eq!(db.store.count("households").await.unwrap(), 0);

    // Into a full registry: a changed household is not applied while persons is bad.
    let db = imported(&c).await;
    let mut h = c.sheet("households");
    h.set(0, "联系电话", "13900000000");
    let good = h.write(dir.path(), "households.csv");
    refused(&db.store, &[good.clone(), bad]).await;
    let (phone,): (Option<String>,) = sqlx::query_as("SELECT phone FROM households WHERE hh_id = $1")
        .bind(h.get(0, "户编号"))
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_ne!(phone.as_deref(), Some("13900000000"));
    // Alone it applies.
    applied(&db.store, &[good]).await;
}

// ---------------------------------------------------------------------------------
// Data-quality problems: kept, and reported with their place

#[tokio::test]
async fn data_quality_faults_are_imported_and_reported_as_warnings() {
    let c = county(fupin_synth::FAULT_KINDS.len());
    let db = registry().await;
    let o = applied(&db.store, &c.files).await;
    let warnings: Vec<Problem> = o.problems.iter().filter(|p| p.severity == Severity::Warning).cloned().collect();
    assert_eq!(warnings.len() as u64, o.warnings);
    let persons = c.sheet("persons");
    let households = c.sheet("households");
    let incomes = c.sheet("incomes");
    let mut seen = Vec::new();
    for f in c.key_faults() {
        let (kind, hh, pid, detail) = (f[0].as_str(), f[1].as_str(), f[2].as_str(), f[3].as_str());
        let person_line = || line(persons.find("人编号", pid));
        let p = match kind {
            "id_checksum" => at(&warnings, "persons.csv", person_line(), "G", "证件号码"),
            "id_length" => at(&warnings, "persons.csv", person_line(), "G", "证件号码"),
            "duplicate_id" => {
                let other = detail.split("人编号 ").nth(1).unwrap().split(' ').next().unwrap();
                let later = person_line().max(line(persons.find("人编号", other)));
                at(&warnings, "persons.csv", later, "G", "证件号码")
            }
            "head_spouse_same_sex" => {
                let head = (0..persons.rows.len())
                    .find(|&i| persons.get(i, "户编号") == hh && persons.get(i, "与户主关系") == "01")
                    .unwrap();
                at(&warnings, "persons.csv", person_line().max(line(head)), "H", "与户主关系")
            }
            "cause_illness_all_healthy" | "cause_school_no_student" | "cause_disability_nobody_disabled" => {
                at(&warnings, "households.csv", line(households.find("户编号", hh)), "AA", "主要致贫原因")
            }
            "income_not_adding_up" => {
                let year = &detail[..4];
                let row = (0..incomes.rows.len())
                    .find(|&i| incomes.get(i, "户编号") == hh && incomes.get(i, "年度") == year)
                    .unwrap();
                at(&warnings, "incomes.csv", line(row), "S", "人均纯收入")
            }
            _ => continue,
        };
        let expected = match kind {
            "id_checksum" => "校验位",
            "id_length" => "位数",
            "duplicate_id" => "一人两户",
            "head_spouse_same_sex" => "性别相同",
            "cause_illness_all_healthy" => "因病",
            "cause_school_no_student" => "因学",
            "cause_disability_nobody_disabled" => "因残",
            _ => "对不上",
        };
        assert_eq!(p.severity, Severity::Warning);
        assert!(p.reason.contains(expected), "{kind}: {p}");
        seen.push(kind.to_owned());
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "cause_disability_nobody_disabled",
            "cause_illness_all_healthy",
            "cause_school_no_student",
            "duplicate_id",
            "head_spouse_same_sex",
            "id_checksum",
            "id_length",
            "income_not_adding_up"
        ]
    );

    // The data is kept as given: the faulty ID numbers are stored.
    for kind in ["id_checksum", "id_length"] {
        let f = c.key_faults().into_iter().find(|f| f[0] == kind).unwrap();
        let in_file = persons.get(persons.find("人编号", &f[2]), "证件号码").to_owned();
        let (stored,): (Option<String>,) = sqlx::query_as("SELECT id_number FROM persons WHERE person_id = $1")
            .bind(&f[2])
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(stored.as_deref(), Some(in_file.as_str()), "{kind}");
    }
    for t in TABLES {
        let rows = Sheet::read(&c.file(t.name)).rows.len() as i64;
        assert_eq!(db.store.count(t.name).await.unwrap(), rows, "{}", t.name);
    }
    verified(&db.store).await;
    // Importing them again changes nothing and reports the same warnings.
    let again = run(&db.store, &c.files).await;
    assert_eq!(again.problems, o.problems);
    unchanged(&db.store, &c.files).await;

    // The warnings as a workbook.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("提醒.xlsx");
    assert_eq!(write_problems_xlsx(&warnings, &out).unwrap(), warnings.len() as u64);
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(&out).unwrap();
    let range = wb.worksheet_range("问题清单").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), warnings.len() + 1);
    assert!(rows[1..].iter().all(|r| r[5] == "提醒"));
    assert!(rows[1..].iter().any(|r| r[0] == "persons.csv" && r[3] == "G" && r[6].contains("校验位")));
}

#[tokio::test]
async fn the_2021_export_household_types_and_the_old_county_code_import() {
    // The 2021+ national export writes 户类型 as 脱贫户 / 监测户 and files from before
    // 2021 carry 旬阳县's 610928 in every 行政村代码: both read as the registry's codes.
    let c = county(0);
    let db = imported(&c).await;
    let mut households = c.sheet("households");
    let exited = households.find("户类型", "3");
    let ordinary = households.find("户类型", "1");
    households.set(exited, "户类型", "脱贫户");
    households.set(ordinary, "户类型", "监测户");
    let code = households.get(0, "行政村代码").to_owned();
    assert!(code.starts_with("610981"), "{code}");
    households.set(0, "行政村代码", &format!("610928{}", &code[6..]));
    let dir = tempfile::tempdir().unwrap();
    let file = households.write(dir.path(), "households.csv");
    unchanged(&db.store, std::slice::from_ref(&file)).await;
    let o = applied(&db.store, &[file]).await;
    let w = at(&o.problems, "households.csv", line(0), "B", "行政村代码");
    assert_eq!(w.severity, Severity::Warning);
    assert!(w.reason.contains("610928") && w.reason.contains(&code), "{}", w.reason);
    // A code of no county at all is still refused.
    households.set(0, "行政村代码", &format!("610999{}", &code[6..]));
    let bad = households.write(dir.path(), "households.csv");
    let errors = refused(&db.store, &[bad]).await;
    assert!(errors.iter().any(|e| e.reason.contains("不在本县")), "{}", listing(&errors));
}
