//! The real `fupin` binary, run as an operator would: init, generate, import, export and
//! audit, against a SQLite data directory (`--data`) or, when `FUPIN_TEST_DB` names a
//! PostgreSQL server, a fresh database on it (`--db`). Accounts (`fupin user`) are
//! tested in `cli/accounts.rs`, the chain key and the heads recorded outside in
//! `cli/chain.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Reader};
use fupin_domain::schema::TABLES;
use fupin_store::{Store, Target, testing};

pub(crate) const TODAY: &str = "2026-11-27";
pub(crate) const PASSWORD: &str = "Cli-Test-Passw0rd!";

/// What one run of the binary did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn ok(self) -> Run {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }
}

pub(crate) fn fupin<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .args(args)
        .env_remove("FUPIN_DB")
        .env_remove("FUPIN_CHAIN_KEY")
        .env_remove("FUPIN_ADMIN_PASSWORD")
        .env("FUPIN_LOG", "warn")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A registry that does not exist yet, on the test engine.
pub(crate) struct Registry {
    pub(crate) target: Target,
    _dir: Option<testing::TempDir>,
}

impl Registry {
    pub(crate) async fn fresh() -> Registry {
        let (target, dir) = testing::fresh_target().await.unwrap();
        Registry { target, _dir: dir }
    }

    /// Runs `fupin <command…> <registry args> <rest…>`.
    pub(crate) fn run(&self, command: &[&str], rest: &[&str]) -> Run {
        let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        match &self.target {
            Target::Dir(d) => args.extend(["--data".to_owned(), d.display().to_string()]),
            Target::Url(u) => args.extend([
                "--db".to_owned(),
                u.clone(),
                "--chain-key".to_owned(),
                testing::key_file(&self.target).display().to_string(),
            ]),
        }
        args.extend(rest.iter().map(|s| s.to_string()));
        fupin(&args)
    }

    pub(crate) fn init(&self) -> Run {
        self.run(&["init"], &["--county", "610981", "--admin-password", PASSWORD])
    }

    pub(crate) fn head(&self) -> String {
        let out = self.run(&["audit", "head"], &[]).ok();
        out.stdout.trim().to_owned()
    }

    pub(crate) fn import(&self, files: &[PathBuf], extra: &[&str]) -> Run {
        let mut rest: Vec<&str> = extra.to_vec();
        rest.extend(files.iter().map(|f| f.to_str().unwrap()));
        self.run(&["import"], &rest)
    }

    pub(crate) async fn store(&self) -> Store {
        testing::open(&self.target).await.unwrap()
    }
}

pub(crate) fn generate(out: &Path, households: &str, seed: &str, faults: &str) -> Run {
    fupin(&[
        "generate",
        "--households",
        households,
        "--seed",
        seed,
        "--faults",
        faults,
        "--today",
        TODAY,
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Every file under `dir`, as (relative path, bytes), sorted.
pub(crate) fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

pub(crate) fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    TABLES.iter().map(|t| dir.join(format!("{}.{ext}", t.name))).collect()
}

/// The cells of a workbook's sheet as text, and the 证件号码 column's raw cells.
pub(crate) fn sheet(path: &Path, name: &str) -> Vec<Vec<Data>> {
    let mut wb = calamine::open_workbook_auto(path).unwrap();
    wb.worksheet_range(name).unwrap().rows().map(<[Data]>::to_vec).collect()
}

#[path = "cli/accounts.rs"]
mod accounts;
#[path = "cli/chain.rs"]
mod chain;

#[test]
fn help_lists_every_subcommand() {
    let out = fupin(&["--help"]).ok();
    for sub in ["init", "generate", "import", "export", "audit", "serve", "demo"] {
        assert!(out.stdout.lines().any(|l| l.trim_start().starts_with(sub)), "{sub} missing:\n{}", out.stdout);
    }
    let out = fupin(&["audit", "--help"]).ok();
    for sub in ["verify", "head"] {
        assert!(out.stdout.contains(sub), "{}", out.stdout);
    }
    assert_ne!(fupin(&["no-such-command"]).code, 0);
}

#[tokio::test]
async fn init_writes_the_county_once() {
    let r = Registry::fresh().await;
    let out = r.init().ok();
    assert!(out.stdout.contains("旬阳市（610981），21 个乡镇，309 个村/社区"), "{}", out.stdout);
    assert!(!out.stdout.contains(PASSWORD), "a given password is not printed");
    let head = r.head();

    let again = r.init();
    assert_eq!(again.code, 1, "{again:#?}");
    assert!(again.stderr.contains("已经初始化"), "{}", again.stderr);
    assert_eq!(r.head(), head, "a second init changed the history");
    let store = r.store().await;
    assert_eq!(store.village_codes().await.unwrap().len(), 309);
    store.close().await;

    // Commands other than init refuse a registry that has none.
    let empty = Registry::fresh().await;
    let out = empty.run(&["export"], &["--out", "/nonexistent/never-written"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("fupin init"), "{}", out.stderr);
}

#[tokio::test]
async fn init_reads_a_divisions_directory() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/divisions/610981");
    let dir = tempfile::tempdir().unwrap();
    let custom = dir.path().join("区划");
    std::fs::create_dir(&custom).unwrap();
    for f in ["provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"] {
        std::fs::copy(shipped.join(f), custom.join(f)).unwrap();
    }
    let r = Registry::fresh().await;
    let out = r
        .run(&["init"], &["--county", "610981", "--divisions", custom.to_str().unwrap(), "--admin-password", PASSWORD])
        .ok();
    assert!(out.stdout.contains("21 个乡镇，309 个村/社区"), "{}", out.stdout);
    let store = r.store().await;
    assert_eq!(store.village_codes().await.unwrap().len(), 309);
    store.close().await;
    r.run(&["audit", "verify"], &[]).ok();

    // A directory without the files: refused, with the file named.
    let r = Registry::fresh().await;
    let out = r.run(&["init"], &["--divisions", dir.path().to_str().unwrap(), "--admin-password", PASSWORD]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("provinces.csv"), "{}", out.stderr);
}

#[test]
fn commands_other_than_init_never_create_a_registry() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("无此目录");
    let files = dir.path().join("files");
    generate(&files, "10", "1", "0");
    for args in [
        vec![
            "import".into(),
            "--data".into(),
            missing.display().to_string(),
            files.join("households.csv").display().to_string(),
        ],
        vec![
            "export".into(),
            "--data".into(),
            missing.display().to_string(),
            "--out".into(),
            dir.path().join("out").display().to_string(),
        ],
        vec!["audit".into(), "verify".into(), "--data".into(), missing.display().to_string()],
    ] {
        let run = fupin(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("没有登记库"), "{}", run.stderr);
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
}

#[test]
fn generate_is_deterministic_and_keeps_the_key_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
    generate(&a, "80", "5", "10").ok();
    generate(&b, "80", "5", "10").ok();
    generate(&c, "80", "6", "10").ok();
    let (ta, tb, tc) = (tree(&a), tree(&b), tree(&c));
    assert_eq!(ta, tb, "same seed, same bytes");
    assert_ne!(ta, tc, "another seed, other data");
    let names: Vec<&str> = ta.iter().map(|(n, _)| n.as_str()).collect();
    let mut want: Vec<String> = TABLES.iter().map(|t| format!("{}.csv", t.name)).collect();
    want.extend(["key/faults.csv".into(), "key/missed.csv".into(), "key/monitoring.csv".into()]);
    want.sort();
    assert_eq!(names, want);
    let faults = String::from_utf8(ta.iter().find(|(n, _)| n == "key/faults.csv").unwrap().1.clone()).unwrap();
    assert_eq!(faults.lines().count(), 11, "{faults}");
}

#[tokio::test]
async fn import_export_and_audit_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gen_dir = d.join("generated");
    generate(&gen_dir, "80", "5", "0").ok();
    let r = Registry::fresh().await;
    r.init().ok();

    // Import: exit 0, and the head it prints is the one `audit head` gives.
    let out = r.import(&files(&gen_dir, "csv"), &[]).ok();
    assert!(out.stdout.contains("导入完成"), "{}", out.stdout);
    let head = r.head();
    let (seq, hash) = head.split_once(':').unwrap_or_else(|| panic!("not SEQ:HASH: {head}"));
    assert!(seq.parse::<u64>().unwrap() > 5_000, "{head}");
    assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{head}");
    assert!(out.stdout.contains(&head), "{}", out.stdout);
    let out = r.run(&["audit", "verify"], &[]).ok();
    assert!(out.stdout.contains("核对通过"), "{}", out.stdout);
    r.run(&["audit", "verify"], &["--expect", &head]).ok();
    r.run(&["audit", "verify"], &["--expect", hash]).ok();
    let wrong = format!("{seq}:{}", "0".repeat(64));
    assert_eq!(r.run(&["audit", "verify"], &["--expect", &wrong]).code, 2);

    // A bad file: exit 2, the place listed, the workbook written, nothing changed.
    let text = std::fs::read_to_string(gen_dir.join("persons.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(!lines[2].contains('"'));
    let mut cells: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(cells[6].len(), 18, "证件号码 is column G");
    cells[6] = "6.10981E+17";
    lines[2] = cells.join(",");
    let bad_dir = d.join("bad");
    std::fs::create_dir(&bad_dir).unwrap();
    let bad = bad_dir.join("persons.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let errors = d.join("问题.xlsx");
    let out = r.import(&[gen_dir.join("households.csv"), bad], &["--errors", errors.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.contains("persons.csv 第3行 G列「证件号码」"), "{}", out.stdout);
    assert!(out.stdout.contains("登记库没有任何改动"), "{}", out.stdout);
    let rows = sheet(&errors, "问题清单");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1][0], Data::String("persons.csv".into()));
    assert_eq!(rows[1][2].to_string(), "3");
    assert_eq!(rows[1][3], Data::String("G".into()));
    assert!(rows[1][6].to_string().contains("科学计数法"), "{rows:?}");
    assert_eq!(r.head(), head);

    // Export as CSV, import it back: nothing changes.
    let csv_dir = d.join("export-csv");
    let out = r.run(&["export"], &["--out", csv_dir.to_str().unwrap()]).ok();
    assert_eq!(out.stdout.lines().count(), 6, "{}", out.stdout);
    r.import(&files(&csv_dir, "csv"), &[]).ok();
    assert_eq!(r.head(), head, "re-importing the CSV export changed the registry");

    // And as XLSX: ID numbers stay text with all 18 characters.
    let xlsx_dir = d.join("export-xlsx");
    r.run(&["export"], &["--out", xlsx_dir.to_str().unwrap(), "--format", "xlsx"]).ok();
    let persons = sheet(&xlsx_dir.join("persons.xlsx"), "家庭成员");
    let g = persons[0].iter().position(|c| matches!(c, Data::String(s) if s == "证件号码")).unwrap();
    let ids: Vec<&Data> = persons[1..].iter().map(|r| &r[g]).filter(|c| !matches!(c, Data::Empty)).collect();
    assert!(ids.len() > 200, "{}", ids.len());
    for id in ids {
        match id {
            Data::String(s) => assert!(s.len() == 18 && s[..17].bytes().all(|b| b.is_ascii_digit()), "{s}"),
            other => panic!("证件号码 written as {other:?}, not as text"),
        }
    }
    r.import(&files(&xlsx_dir, "xlsx"), &[]).ok();
    assert_eq!(r.head(), head, "re-importing the XLSX export changed the registry");
    r.run(&["audit", "verify"], &["--expect", &head]).ok();

    // An income changed with plain SQL, behind the history's back.
    let store = r.store().await;
    let (hh, year): (String, i64) = sqlx::query_as("SELECT hh_id, year FROM incomes ORDER BY hh_id, year LIMIT 1")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let changed = sqlx::query("UPDATE incomes SET wages = COALESCE(wages, 0) + 100000 WHERE hh_id = $1 AND year = $2")
        .bind(&hh)
        .bind(year)
        .execute(store.pool())
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    store.close().await;
    let out = r.run(&["audit", "verify"], &[]);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.contains("incomes") && out.stdout.contains(&hh), "{}", out.stdout);
    assert_eq!(r.head(), head, "the history itself is intact");
}

/// `fupin demo` runs the default checks after generating, so 问题清单 has findings on
/// its first start (a demo always keeps its registry in a data directory).
#[tokio::test]
async fn the_demo_has_findings_to_show() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .args(["demo", "--households", "60", "--listen", "127.0.0.1:0", "--today", TODAY, "--data"])
        .arg(&data)
        .env_remove("FUPIN_DB")
        .env("FUPIN_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the demo starts");
    let stdout = child.stdout.take().unwrap();
    let mut said = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        let started = line.contains("fupin 已启动");
        said.push(line);
        if started {
            break;
        }
    }
    child.kill().expect("the demo stops");
    let _ = child.wait();
    assert!(said.iter().any(|l| l.contains("已运行检查")), "{said:?}");
    let store = Store::open(&Target::Dir(data)).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM findings").fetch_one(store.pool()).await.unwrap();
    assert!(n > 0, "the demo's worklist has findings");
}
