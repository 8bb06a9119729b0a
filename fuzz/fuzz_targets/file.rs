//! Whole exchange files: any bytes, under any of the names users give them, end in rows
//! and problems (or one refusal), never a panic.
//!
//! The first byte picks the file name (the format is told by content, the name only
//! hints at the table); the rest is the file.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use fupin_ingest::{Context, FileReader, check_file};
use libfuzzer_sys::fuzz_target;

fn ctx() -> Arc<Context> {
    static CTX: OnceLock<Arc<Context>> = OnceLock::new();
    CTX.get_or_init(|| Arc::new(Context::builtin_xunyang())).clone()
}

/// A folder of this process's own, made once; every input is written to the same
/// few names in it.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("fupin-fuzz-file-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

const NAMES: [&str; 6] = ["persons.csv", "households.xlsx", "data.xls", "收入情况.csv", "x.xlsx", "x.xls"];

/// calamine may panic on a damaged workbook; the reader catches that (`guarded` in
/// `source/workbook.rs`) and refuses the file. libFuzzer's panic hook would abort on
/// it anyway, so the hook lets through panics raised inside `guarded` and aborts on
/// every other one.
fn install_panic_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if inside_guarded(&std::backtrace::Backtrace::force_capture().to_string()) {
                return;
            }
            fuzzer_hook(info);
        }));
    });
}

/// True when a frame of `trace` is `guarded` in `source/workbook.rs` (an inlined frame
/// is printed as `guarded<…>`, its place on the next line).
fn inside_guarded(trace: &str) -> bool {
    let lines: Vec<&str> = trace.lines().map(str::trim).collect();
    lines.windows(2).any(|w| {
        let name = w[0].split_once(": ").map_or("", |(_, n)| n);
        let path = name.split('<').next().unwrap_or(name);
        let named = path == "guarded" || path.ends_with("::guarded") || path.contains("::guarded::");
        named && (w[1].contains("source/workbook.rs") || path.contains("source::workbook::"))
    })
}

fuzz_target!(|data: &[u8]| {
    install_panic_hook();
    let Some((&pick, bytes)) = data.split_first() else { return };
    let path = dir().join(NAMES[usize::from(pick) % NAMES.len()]);
    std::fs::write(&path, bytes).expect("write the input");

    match FileReader::open(&path, ctx()) {
        Ok(mut reader) => {
            let columns = reader.table().columns.len();
            let mut rows = 0u64;
            while let Some(row) = reader.next_row() {
                assert_eq!(row.values.len(), columns);
                rows += 1;
            }
            assert_eq!(rows, reader.rows_read());
            let problems = reader.file_problems().count();
            assert!(!reader.refused() || reader.error_count() > 0);
            let _ = (problems, reader.columns_present(), reader.header_line());
        }
        Err(p) => {
            assert!(!p.reason.is_empty());
            let _ = p.to_string();
        }
    }

    let report = check_file(&path, ctx());
    for p in &report.problems {
        let _ = p.to_string();
    }
    // `FUPIN_FUZZ_VERBOSE=1 cargo fuzz run file INPUT…` shows what each input read as.
    if std::env::var_os("FUPIN_FUZZ_VERBOSE").is_some() {
        let table = report.table.map_or("-", |t| t.name);
        eprintln!("{}: table {table}, {} rows, refused {}", path.display(), report.rows, report.refused());
        for p in report.problems.iter().take(5) {
            eprintln!("  {p}");
        }
    }
    let _ = std::fs::remove_file(&path);
});
