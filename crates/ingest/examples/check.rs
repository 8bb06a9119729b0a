//! Reads and validates exchange files the way the import driver will, printing the
//! counts and the first problems: `cargo run --release -p fupin-ingest --example check
//! -- FILE... [--errors OUT.xlsx] [--export OUT.csv|OUT.xlsx]`. Useful to time large
//! files; `--export` writes the rows read (of the last file) back out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use fupin_ingest::{Context, CrossChecks, Exporter, FileReader, Problem, write_problems_xlsx};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut files = Vec::new();
    let mut errors_out: Option<PathBuf> = None;
    let mut export_out: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        if a == "--errors" {
            errors_out = args.next().map(PathBuf::from);
        } else if a == "--export" {
            export_out = args.next().map(PathBuf::from);
        } else {
            files.push(PathBuf::from(a));
        }
    }
    let ctx = Arc::new(Context::builtin_xunyang());
    let mut cross = CrossChecks::new(&ctx);
    let mut all: Vec<Problem> = Vec::new();
    for path in &files {
        let start = Instant::now();
        let mut reader = match FileReader::open(path, ctx.clone()) {
            Ok(r) => r,
            Err(p) => {
                println!("{p}");
                all.push(p);
                continue;
            }
        };
        let locator = reader.locator().clone();
        let mut exporter = export_out.as_deref().map(|p| Exporter::create(p, reader.table()).expect("create export"));
        while let Some(row) = reader.next_row() {
            cross.feed(&locator, &row);
            if let Some(e) = exporter.as_mut() {
                e.write_row(&row.values).expect("export row");
            }
            all.extend(row.problems);
        }
        if let Some(e) = exporter {
            let t = Instant::now();
            let n = e.finish().expect("finish export");
            println!("exported {n} rows, finished in {:.1} s", t.elapsed().as_secs_f64());
        }
        all.extend(reader.file_problems().cloned());
        println!(
            "{}: {} rows of {}, {} errors, {} warnings, {:.1} s",
            path.display(),
            reader.rows_read(),
            reader.table().title,
            reader.error_count(),
            reader.warning_count(),
            start.elapsed().as_secs_f64()
        );
    }
    all.extend(cross.finish());
    for p in all.iter().take(20) {
        println!("{p}");
    }
    if let Some(out) = errors_out {
        write_problems_xlsx(&all, &out).expect("write problems");
    }
}
