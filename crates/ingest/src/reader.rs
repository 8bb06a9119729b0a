//! The streaming entry point: open a file, find its header and table, and hand out
//! validated rows one at a time. The import driver applies rows inside one
//! transaction and rolls back when [`FileReader::refused`] is true at the end.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use fupin_domain::schema::Table;

use crate::cell::Context;
use crate::problem::{Problem, Severity};
use crate::source::{self, OpenOptions, RawRow, Source};
use crate::validate::{self, HeaderMap, Locator, RowValidator, ValidatedRow};

/// Rows searched for the header: workbooks often carry a title row or two above it.
const HEADER_SEARCH_ROWS: usize = 10;

/// A file being read and validated row by row.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use fupin_ingest::{Context, FileReader};
/// let ctx = Arc::new(Context::builtin_xunyang());
/// let mut reader = FileReader::open("persons.csv".as_ref(), ctx).map_err(|p| p.to_string())?;
/// while let Some(row) = reader.next_row() {
///     // apply row.values unless reader.refused() at the end; report row.problems
/// }
/// for p in reader.file_problems() {
///     eprintln!("{p}");
/// }
/// # Ok::<(), String>(())
/// ```
pub struct FileReader {
    source: Source,
    validator: RowValidator,
    header: HeaderMap,
    /// Rows read while looking for the header, not yet handed out.
    pending: VecDeque<RawRow>,
    file_problems: Vec<Problem>,
    rows: u64,
    errors: u64,
    warnings: u64,
}

impl FileReader {
    /// Opens `path` and detects its table from the header row.
    ///
    /// Refuses (with one [`Problem`]) a file that cannot be read at all: unreadable,
    /// empty, in no known encoding, damaged, or with a header that matches no table.
    pub fn open(path: &Path, ctx: Arc<Context>) -> Result<FileReader, Problem> {
        Self::open_with(path, ctx, &OpenOptions::default())
    }

    /// Opens `path`; `options.table`, when given, is the table the file must hold
    /// (its headers are checked against it instead of detecting one).
    pub fn open_with(path: &Path, ctx: Arc<Context>, options: &OpenOptions) -> Result<FileReader, Problem> {
        let mut source = source::open_with(path, options)?;
        let mut file_problems = Vec::new();
        let mut pending = VecDeque::new();
        let mut header_row: Option<RawRow> = None;
        for item in source.by_ref() {
            match item {
                Ok(row) if row.is_blank() => {}
                Ok(row) if validate::looks_like_header(&row) => {
                    header_row = Some(row);
                    break;
                }
                Ok(row) => {
                    pending.push_back(row);
                    if pending.len() >= HEADER_SEARCH_ROWS {
                        break;
                    }
                }
                Err(p) => file_problems.push(p),
            }
        }
        // Without a recognisable header the first row is taken as one, and judged.
        let header_row = match header_row {
            Some(h) => {
                pending.clear();
                h
            }
            None => match pending.pop_front() {
                Some(first) => first,
                None => {
                    let reason = file_problems
                        .first()
                        .map(|p| p.reason.clone())
                        .unwrap_or_else(|| "文件中没有内容（找不到表头行）".into());
                    return Err(source.problem_at(None, reason));
                }
            },
        };
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let table = match options.table {
            Some(t) => t,
            None => validate::detect_table(&header_row.cells, source.sheet().or(stem.as_deref())).ok_or_else(|| {
                source.problem_at(Some(header_row.line), validate::no_table_reason(&header_row.cells))
            })?,
        };
        let header = HeaderMap::new(table, source.file(), source.sheet(), &header_row);
        let validator = RowValidator::new(&header, source.file(), source.sheet(), ctx);
        let errors = (header.problems.len() + file_problems.len()) as u64;
        Ok(FileReader { source, validator, header, pending, file_problems, rows: 0, errors, warnings: 0 })
    }

    /// The registry table the file holds.
    pub fn table(&self) -> &'static Table {
        self.header.table
    }

    /// Where this file's problems are placed; feed it to [`crate::CrossChecks`].
    pub fn locator(&self) -> &Locator {
        self.validator.locator()
    }

    /// The line of the header row.
    pub fn header_line(&self) -> u64 {
        self.header.line
    }

    /// Unknown, duplicated or missing required headers.
    pub fn header_problems(&self) -> &[Problem] {
        &self.header.problems
    }

    /// Problems with the file rather than a row, so far: the header's, and places the
    /// file could not be read (broken quoting, a damaged workbook). Complete once
    /// [`FileReader::next_row`] has returned `None`.
    pub fn file_problems(&self) -> impl Iterator<Item = &Problem> {
        self.header.problems.iter().chain(&self.file_problems)
    }

    /// For each column of the table, whether the file has it. The driver may leave
    /// absent columns untouched instead of setting them NULL.
    pub fn columns_present(&self) -> Vec<bool> {
        self.header.positions.iter().map(Option::is_some).collect()
    }

    /// The next non-blank row, validated; `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<ValidatedRow> {
        loop {
            let raw = match self.pending.pop_front() {
                Some(r) => r,
                None => match self.source.next()? {
                    Ok(r) => r,
                    Err(p) => {
                        self.errors += u64::from(p.is_error());
                        self.file_problems.push(p);
                        continue;
                    }
                },
            };
            if raw.is_blank() {
                continue;
            }
            let row = self.validator.validate(&raw);
            self.rows += 1;
            for p in &row.problems {
                match p.severity {
                    Severity::Error => self.errors += 1,
                    Severity::Warning => self.warnings += 1,
                }
            }
            return Some(row);
        }
    }

    /// Data rows handed out so far.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// Errors so far (header, file and rows).
    pub fn error_count(&self) -> u64 {
        self.errors
    }

    /// Warnings so far.
    pub fn warning_count(&self) -> u64 {
        self.warnings
    }

    /// True once any error was found: the file must not be applied.
    pub fn refused(&self) -> bool {
        self.errors > 0
    }
}

impl Iterator for FileReader {
    type Item = ValidatedRow;

    fn next(&mut self) -> Option<ValidatedRow> {
        self.next_row()
    }
}

/// The outcome of checking a whole file without importing it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The table the file holds, when one was recognised.
    pub table: Option<&'static Table>,
    /// Data rows read.
    pub rows: u64,
    /// Every problem: the file's, then each row's, in file order.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when the file would be refused.
    pub fn refused(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

/// Reads and validates every row of `path`, collecting all problems (a `fupin check`
/// and the tests use it; the import driver streams with [`FileReader`] instead).
pub fn check_file(path: &Path, ctx: Arc<Context>) -> Report {
    let mut reader = match FileReader::open(path, ctx) {
        Ok(r) => r,
        Err(p) => {
            return Report { table: None, rows: 0, problems: vec![p] };
        }
    };
    let mut row_problems = Vec::new();
    while let Some(row) = reader.next_row() {
        row_problems.extend(row.problems);
    }
    let mut problems: Vec<Problem> = reader.file_problems().cloned().collect();
    problems.extend(row_problems);
    problems.sort_by_key(|p| p.line.unwrap_or(0));
    Report { table: Some(reader.table()), rows: reader.rows_read(), problems }
}
