//! Lists as XLSX downloads (`?format=xlsx`): the village's household list and search
//! results. Every key and code is written as a text cell (a 户编号 or an ID number
//! must never turn into a number and lose digits), counts as numbers, and personal
//! numbers are masked exactly as on the pages.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{Format, Workbook};

use crate::WebError;

/// One cell of a download.
pub(crate) enum XCell {
    Text(String),
    Number(f64),
}

/// Whether the query asked for a download.
pub(crate) fn wants_xlsx(format: Option<&str>) -> bool {
    format.is_some_and(|f| f.eq_ignore_ascii_case("xlsx"))
}

/// A one-sheet workbook: a bold header row, then the rows.
pub(crate) fn workbook(sheet: &str, headers: &[&str], rows: &[Vec<XCell>]) -> Result<Vec<u8>, WebError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                XCell::Text(s) => ws.write_string_with_format(r, c as u16, s, &text)?,
                XCell::Number(n) => ws.write_number(r, c as u16, *n)?,
            };
        }
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(book.save_to_buffer()?)
}

/// The download answer, named `file` (ASCII).
pub(crate) fn download(file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}
