//! 问题清单: what is wrong with an exchange file, where, in words a village cadre
//! understands, and the `--errors FILE.xlsx` workbook that lists them.

use std::fmt;
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use crate::export::ExportError;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// 错误: the file is refused; nothing of it is applied.
    Error,
    /// 提醒: the row is kept as given and the problem is reported.
    Warning,
}

impl Severity {
    /// `错误` or `提醒`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "错误",
            Severity::Warning => "提醒",
        }
    }
}

/// One problem found in a file, with its place.
///
/// `Display` gives the sentence shown to users, for example
/// `persons.csv 第12行 C列「证件号码」：证件号码校验位错误：应为 X，实为 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file's name as the user knows it (`persons.csv`), without its folder.
    pub file: String,
    /// The worksheet, for workbooks.
    pub sheet: Option<String>,
    /// 1-based line (CSV) or row (workbook) as the user sees it; the header row is 1.
    pub line: Option<u64>,
    /// Column letter as a spreadsheet shows it (`C`).
    pub column: Option<String>,
    /// The column's header (`证件号码`).
    pub header: Option<String>,
    /// What is wrong and, where it helps, how to put it right.
    pub reason: String,
    /// Whether the file is refused or the row kept.
    pub severity: Severity,
}

impl Problem {
    /// A problem with the whole file (no line, no column).
    pub fn file_error(file: impl Into<String>, reason: impl Into<String>) -> Problem {
        Problem {
            file: file.into(),
            sheet: None,
            line: None,
            column: None,
            header: None,
            reason: reason.into(),
            severity: Severity::Error,
        }
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(sheet) = &self.sheet {
            write!(f, " 工作表「{sheet}」")?;
        }
        if let Some(line) = self.line {
            write!(f, " 第{line}行")?;
        }
        match (&self.column, &self.header) {
            (Some(c), Some(h)) => write!(f, " {c}列「{h}」")?,
            (Some(c), None) => write!(f, " {c}列")?,
            (None, Some(h)) if self.line.is_some() => write!(f, "「{h}」")?,
            (None, Some(h)) => write!(f, " 表头「{h}」")?,
            (None, None) => {}
        }
        write!(f, "：{}", self.reason)
    }
}

impl std::error::Error for Problem {}

/// Spreadsheet column letter for a 0-based column index: 0 → `A`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// Writes `problems` as a one-sheet workbook with the columns 文件, 工作表, 行, 列, 表头,
/// 级别, 原因 — what `--errors FILE.xlsx` produces, for a cadre to fix the file row by
/// row. Streams in constant-memory mode, so a million problems do not need a million
/// rows of memory.
pub fn write_problems_xlsx<'a>(
    problems: impl IntoIterator<Item = &'a Problem>,
    path: &Path,
) -> Result<u64, ExportError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    sheet.set_name("问题清单")?;
    let headers = ["文件", "工作表", "行", "列", "表头", "级别", "原因"];
    let widths = [18.0, 12.0, 8.0, 6.0, 18.0, 6.0, 80.0];
    for (i, w) in widths.iter().enumerate() {
        sheet.set_column_width(i as u16, *w)?;
    }
    for (i, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, i as u16, *h, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let mut row: u32 = 0;
    for p in problems {
        row += 1;
        if row > 1_048_575 {
            return Err(ExportError::TooManyRows);
        }
        sheet.write_string_with_format(row, 0, &p.file, &text)?;
        if let Some(s) = &p.sheet {
            sheet.write_string_with_format(row, 1, s, &text)?;
        }
        if let Some(l) = p.line {
            sheet.write_number(row, 2, l as f64)?;
        }
        if let Some(c) = &p.column {
            sheet.write_string_with_format(row, 3, c, &text)?;
        }
        if let Some(h) = &p.header {
            sheet.write_string_with_format(row, 4, h, &text)?;
        }
        sheet.write_string(row, 5, p.severity.label())?;
        sheet.write_string_with_format(row, 6, &p.reason, &text)?;
    }
    workbook.save(path)?;
    Ok(u64::from(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_follow_spreadsheet_columns() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(2), "C");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn display_reads_as_a_sentence() {
        let p = Problem {
            file: "persons.csv".into(),
            sheet: None,
            line: Some(12),
            column: Some("C".into()),
            header: Some("证件号码".into()),
            reason: "证件号码校验位错误：应为 X，实为 1".into(),
            severity: Severity::Warning,
        };
        assert_eq!(p.to_string(), "persons.csv 第12行 C列「证件号码」：证件号码校验位错误：应为 X，实为 1");
        let p = Problem { sheet: Some("家庭成员".into()), column: None, ..p };
        assert_eq!(
            p.to_string(),
            "persons.csv 工作表「家庭成员」 第12行「证件号码」：证件号码校验位错误：应为 X，实为 1"
        );
        let p = Problem { line: None, sheet: None, ..p };
        assert_eq!(p.to_string(), "persons.csv 表头「证件号码」：证件号码校验位错误：应为 X，实为 1");
        assert_eq!(Problem::file_error("a.csv", "无法识别文件编码").to_string(), "a.csv：无法识别文件编码");
    }
}
