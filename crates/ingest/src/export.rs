//! Writing registry rows back out in the exchange format: CSV (UTF-8 with BOM, so
//! Excel shows the Chinese) or XLSX (one sheet named by the table's title, written in
//! constant-memory mode).
//!
//! Every value is written as the exact inverse of [`crate::cell::parse_value`], so an
//! exported file imports back to identical values. In XLSX, keys, ID numbers, phones,
//! accounts, codes and dates are TEXT cells (Excel keeps every digit and leading zero)
//! and counts, areas and money are numbers that Excel can sum.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use fupin_domain::schema::{Column, Kind, Table};
use fupin_domain::{Value, Yuan};
use rust_xlsxwriter::{Format, Workbook};

use crate::cell::guard;

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The workbook writer failed (disk full, no temporary directory, …).
    #[error("无法写入 Excel 文件：{0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// The file could not be created or written.
    #[error("无法写入文件：{0}")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed.
    #[error("无法写入 CSV：{0}")]
    Csv(#[from] csv::Error),
    /// A programming error: rows must have one value per column.
    #[error("第 {row} 行有 {found} 个值，「{table}」有 {expected} 列")]
    #[allow(missing_docs)]
    Width { table: &'static str, row: u64, found: usize, expected: usize },
    /// A sheet holds at most 1 048 576 rows, the header included.
    #[error("超过 Excel 一张工作表 1 048 575 行数据的上限；请改用 CSV 导出")]
    TooManyRows,
    /// The file name's extension names no format we write.
    #[error("不支持导出为「{0}」：文件名应以 .csv 或 .xlsx 结尾")]
    Format(String),
}

/// The format of an exported file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 with BOM, comma-separated.
    Csv,
    /// One worksheet named by the table's title.
    Xlsx,
}

impl ExportFormat {
    /// From the file name's extension (`.csv`, `.xlsx`).
    pub fn from_path(path: &Path) -> Result<ExportFormat, ExportError> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        match ext.as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            _ => Err(ExportError::Format(path.display().to_string())),
        }
    }
}

/// A value's text in an exchange file: the inverse of reading it. Money is 元 from
/// fen (`3120.50` → `3120.5`), booleans are 是/否, NULL is empty, all else is the
/// canonical text.
pub fn cell_text(column: &Column, value: &Value) -> String {
    match (column.kind, value) {
        (_, Value::Null) => String::new(),
        (Kind::Money, Value::Int(fen)) => Yuan::from_fen(*fen).to_string(),
        (Kind::Bool, Value::Int(i)) => if *i != 0 { "是" } else { "否" }.to_owned(),
        (_, v) => v.canonical().unwrap_or_default(),
    }
}

/// A file being written row by row.
pub struct Exporter {
    table: &'static Table,
    rows: u64,
    out: Out,
}

enum Out {
    Csv(csv::Writer<Box<dyn Write + Send>>),
    Xlsx { workbook: Box<Workbook>, path: PathBuf, text: Format, money: Format },
}

impl Exporter {
    /// Creates `path` for `table` in the format its extension names.
    pub fn create(path: &Path, table: &'static Table) -> Result<Exporter, ExportError> {
        match ExportFormat::from_path(path)? {
            ExportFormat::Csv => Self::csv(Box::new(BufWriter::new(File::create(path)?)), table),
            ExportFormat::Xlsx => Self::xlsx(path, table),
        }
    }

    /// Writes CSV to any writer (a file, an HTTP body): a UTF-8 BOM, then the header.
    pub fn csv(mut out: Box<dyn Write + Send>, table: &'static Table) -> Result<Exporter, ExportError> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut writer = csv::WriterBuilder::new().from_writer(out);
        writer.write_record(table.columns.iter().map(|c| c.header))?;
        Ok(Exporter { table, rows: 0, out: Out::Csv(writer) })
    }

    /// Starts an XLSX workbook that [`Exporter::finish`] saves at `path`.
    pub fn xlsx(path: &Path, table: &'static Table) -> Result<Exporter, ExportError> {
        let mut workbook = Box::new(Workbook::new());
        let text = Format::new().set_num_format("@");
        let money = Format::new().set_num_format("0.00");
        let bold = Format::new().set_bold().set_num_format("@");
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(table.title)?;
        for (i, col) in table.columns.iter().enumerate() {
            let i = i as u16;
            let chars = col.header.chars().count() as f64;
            let width: f64 = match col.kind {
                Kind::IdNumber => 21.0,
                Kind::Key | Kind::Ref(_) | Kind::Village => 18.0,
                Kind::Text(n) if n > 40 => 24.0,
                _ => 8.0,
            };
            sheet.set_column_width(i, width.max(chars * 2.2))?;
            if !is_numeric(col.kind) {
                sheet.set_column_format(i, &text)?;
            }
            sheet.write_string_with_format(0, i, col.header, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Exporter { table, rows: 0, out: Out::Xlsx { workbook, path: path.to_owned(), text, money } })
    }

    /// Writes one row, values in the table's column order.
    pub fn write_row(&mut self, values: &[Value]) -> Result<(), ExportError> {
        let table = self.table;
        if values.len() != table.columns.len() {
            return Err(ExportError::Width {
                table: table.name,
                row: self.rows + 1,
                found: values.len(),
                expected: table.columns.len(),
            });
        }
        self.rows += 1;
        match &mut self.out {
            // Text a spreadsheet would run as a formula gets a leading `'` (the import
            // takes it off again: `cell::unguard`).
            Out::Csv(w) => w.write_record(table.columns.iter().zip(values).map(|(c, v)| guard(cell_text(c, v))))?,
            Out::Xlsx { workbook, text, money, .. } => {
                if self.rows > 1_048_575 {
                    return Err(ExportError::TooManyRows);
                }
                let row = self.rows as u32;
                let sheet = workbook.worksheet_from_index(0)?;
                for (i, (col, v)) in table.columns.iter().zip(values).enumerate() {
                    let i = i as u16;
                    match (col.kind, v) {
                        (_, Value::Null) => {}
                        (Kind::Money, Value::Int(fen)) => {
                            sheet.write_number_with_format(row, i, *fen as f64 / 100.0, money)?;
                        }
                        (Kind::Int | Kind::Year, Value::Int(n)) if n.unsigned_abs() < 1_000_000_000_000_000 => {
                            sheet.write_number(row, i, *n as f64)?;
                        }
                        (Kind::Decimal, Value::Real(r)) if r.is_finite() => {
                            sheet.write_number(row, i, *r)?;
                        }
                        _ => {
                            // A string cell is no formula, but the same text as in CSV
                            // keeps the two formats one format.
                            sheet.write_string_with_format(row, i, guard(cell_text(col, v)), text)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes (CSV) or saves (XLSX) the file; returns the number of data rows.
    pub fn finish(self) -> Result<u64, ExportError> {
        match self.out {
            Out::Csv(mut w) => w.flush()?,
            Out::Xlsx { mut workbook, path, .. } => workbook.save(&path)?,
        }
        Ok(self.rows)
    }
}

fn is_numeric(kind: Kind) -> bool {
    matches!(kind, Kind::Int | Kind::Year | Kind::Decimal | Kind::Money)
}

/// Writes `rows` of `table` to `path` (`.csv` or `.xlsx`); returns the row count.
pub fn export<I>(path: &Path, table: &'static Table, rows: I) -> Result<u64, ExportError>
where
    I: IntoIterator,
    I::Item: AsRef<[Value]>,
{
    let mut exporter = Exporter::create(path, table)?;
    for row in rows {
        exporter.write_row(row.as_ref())?;
    }
    exporter.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fupin_domain::schema::{HOUSEHOLDS, INCOMES};

    #[test]
    fn text_is_the_inverse_of_reading() {
        let col = |t: &Table, n: &str| *t.column(n).unwrap();
        assert_eq!(cell_text(&col(&INCOMES, "wages"), &Value::Int(312050)), "3120.50");
        assert_eq!(cell_text(&col(&INCOMES, "wages"), &Value::Int(300000)), "3000");
        assert_eq!(cell_text(&col(&HOUSEHOLDS, "toilet"), &Value::Int(1)), "是");
        assert_eq!(cell_text(&col(&HOUSEHOLDS, "toilet"), &Value::Int(0)), "否");
        assert_eq!(cell_text(&col(&HOUSEHOLDS, "farmland_mu"), &Value::Real(2.5)), "2.5");
        assert_eq!(cell_text(&col(&HOUSEHOLDS, "phone"), &Value::Null), "");
    }

    #[test]
    fn unknown_extensions_are_refused() {
        assert!(ExportFormat::from_path(Path::new("a.txt")).is_err());
        assert_eq!(ExportFormat::from_path(Path::new("A.XLSX")).unwrap(), ExportFormat::Xlsx);
    }
}
