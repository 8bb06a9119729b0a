//! Running the binary as an operator would, shared by the CLI test files.

use std::process::Command;

use fupin_store::Target;

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
        .env("FUPIN_LOG", "warn")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `--data DIR` or `--db URL` for a test registry.
pub fn registry_args(target: &Target) -> Vec<String> {
    match target {
        Target::Dir(d) => vec!["--data".into(), d.display().to_string()],
        Target::Url(u) => vec!["--db".into(), u.clone()],
    }
}

pub fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}
