//! Running the binary as an operator would, shared by the CLI test files.

use std::path::PathBuf;
use std::process::Command;

use fupin_store::{Target, testing};

/// The date every test passes as `--today`.
pub const TODAY: &str = "2026-11-27";

/// What one run of the binary left.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `fupin ARGS…` without a `FUPIN_DB` from the environment.
pub fn fupin(args: &[String]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .args(args)
        .env_remove("FUPIN_DB")
        .env_remove("FUPIN_CHAIN_KEY")
        .env("FUPIN_LOG", "warn")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `--data DIR`, or `--db URL --chain-key FILE`, for a test registry.
pub fn registry_args(target: &Target) -> Vec<String> {
    match target {
        Target::Dir(d) => vec!["--data".into(), d.display().to_string()],
        Target::Url(u) => {
            vec!["--db".into(), u.clone(), "--chain-key".into(), testing::key_file(target).display().to_string()]
        }
    }
}

pub fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A fresh registry (on the engine `FUPIN_TEST_DB` names) with a generated county of
/// `households` households, `faults` of them with planted faults, imported through the
/// CLI. Keep the returned directories alive while the registry is used.
pub async fn generated_county(
    households: &str,
    faults: &str,
    admin_password: &str,
) -> (Target, Option<testing::TempDir>, tempfile::TempDir) {
    let (target, dir) = testing::fresh_target().await.expect("target");
    let mut init = strings(&["init", "--county", "610981", "--admin-password", admin_password]);
    init.extend(registry_args(&target));
    let r = fupin(&init);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let files = tempfile::tempdir().expect("temp dir");
    let out = files.path().to_str().expect("utf-8 path");
    let r = fupin(&strings(&[
        "generate",
        "--households",
        households,
        "--seed",
        "7",
        "--faults",
        faults,
        "--today",
        TODAY,
        "--out",
        out,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut import = strings(&["import"]);
    import.extend(registry_args(&target));
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(files.path())
        .expect("generated")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    csvs.sort();
    import.extend(csvs.iter().map(|p| p.display().to_string()));
    let r = fupin(&import);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (target, dir, files)
}
