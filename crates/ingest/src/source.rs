//! Opening an exchange file and streaming its rows as text, whatever it is: CSV in
//! UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030; XLSX; legacy XLS;
//! ODS.
//!
//! The format is told by content, never by the file name: village offices rename
//! files freely, and many county systems export HTML tables named `.xls`.
//!
//! Rows are streamed: a CSV is decoded through a reader, never loaded whole, and an
//! XLSX sheet is read cell by cell on a worker thread that hands rows over a bounded
//! channel. Only XLS and ODS (which calamine reads whole; XLS holds at most 65 536
//! rows) are held in memory.

mod text;
mod workbook;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::Receiver;

use calamine::{Data, Range};
use fupin_domain::schema::Table;

use crate::problem::Problem;
use text::CsvRows;
pub use workbook::number_text;

/// One row of a file as text, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based line (CSV) or row number (workbook) as the user sees it; the first row is 1.
    pub line: u64,
    /// Cell texts from column A on; trailing empty cells may be missing.
    pub cells: Vec<String>,
}

impl RawRow {
    /// True when every cell is empty or blank.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text in the named encoding (`UTF-8`, `gb18030`, `UTF-16LE`, …).
    Csv {
        /// The encoding's WHATWG name.
        encoding: &'static str,
        /// `b','`, or `b'\t'` for Excel's “Unicode text”.
        delimiter: u8,
    },
    /// Office Open XML workbook (Excel 2007 and later, WPS).
    Xlsx,
    /// Excel 97-2003 workbook.
    Xls,
    /// OpenDocument spreadsheet (LibreOffice).
    Ods,
}

/// Choices when opening a file; the default suits the exchange format.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Read this worksheet of a workbook; an error if it does not exist.
    pub sheet: Option<String>,
    /// Prefer the sheet named like this table's title (or name).
    pub table: Option<&'static Table>,
}

/// An open file whose rows can be iterated.
///
/// Iteration yields rows in file order; an `Err` names a place where the file could
/// not be read (broken quoting, a damaged workbook). After an `Err` that ends the
/// file, iteration stops.
pub struct Source {
    file: String,
    sheet: Option<String>,
    format: Format,
    inner: Inner,
}

enum Inner {
    Csv(Box<CsvRows>),
    Stream(Receiver<Result<RawRow, Problem>>),
    Range { range: Range<Data>, next: usize },
    Done,
}

impl Source {
    /// The file's name as shown in problems.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The worksheet being read, for workbooks.
    pub fn sheet(&self) -> Option<&str> {
        self.sheet.as_deref()
    }

    /// The detected format (and encoding, for CSV).
    pub fn format(&self) -> Format {
        self.format
    }

    /// A problem at `line` of this file (and sheet).
    pub fn problem_at(&self, line: Option<u64>, reason: impl Into<String>) -> Problem {
        Problem { sheet: self.sheet.clone(), line, ..Problem::file_error(&self.file, reason) }
    }
}

impl Iterator for Source {
    type Item = Result<RawRow, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = match &mut self.inner {
            Inner::Done => return None,
            Inner::Csv(rows) => rows.next(&self.file),
            Inner::Stream(rx) => rx.recv().ok(),
            Inner::Range { range, next } => workbook::range_row(range, next),
        };
        match item {
            None => {
                self.inner = Inner::Done;
                None
            }
            Some(Err(p)) if matches!(self.inner, Inner::Stream(_) | Inner::Range { .. }) => {
                // A damaged workbook ends the sheet.
                self.inner = Inner::Done;
                Some(Err(p))
            }
            some => some,
        }
    }
}

/// Opens `path` with the default [`OpenOptions`].
pub fn open(path: &Path) -> Result<Source, Problem> {
    open_with(path, &OpenOptions::default())
}

/// Opens `path`, telling its format by content: ZIP → XLSX (or ODS), OLE2 → XLS,
/// anything else → CSV in a detected encoding. Refuses, with a reason a cadre can act
/// on, files that are empty, not tables (HTML saved as `.xls`), in no known encoding,
/// or damaged.
pub fn open_with(path: &Path, options: &OpenOptions) -> Result<Source, Problem> {
    let file = display_name(path);
    let refuse = |reason: String| Problem::file_error(&file, reason);
    let mut f = File::open(path).map_err(|e| refuse(format!("无法打开文件：{}", io_reason(&e))))?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut f, &mut head).map_err(|e| refuse(format!("无法读取文件：{}", io_reason(&e))))?;
    let head = &head[..n];
    if n == 0 {
        return Err(refuse("文件是空的".into()));
    }
    drop(f);
    let source = if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        workbook::open_zip(path, &file, options)?
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        workbook::open_xls(path, &file, options)?
    } else {
        text::open_csv(path, &file)?
    };
    tracing::debug!(file = %source.file, format = ?source.format, sheet = ?source.sheet, "opened");
    Ok(source)
}

fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "文件不存在".into(),
        io::ErrorKind::PermissionDenied => "没有读取权限".into(),
        _ => e.to_string(),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
