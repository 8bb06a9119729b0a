//! The exchange format: one file per registry table, its header row the Chinese
//! headers of [`fupin_domain::schema`], as CSV (UTF-8, UTF-8 with BOM, GBK/GB18030),
//! XLSX, legacy XLS or ODS.
//!
//! - [`source`] opens a file, tells its format and encoding by content, and streams
//!   its rows as text ([`RawRow`]).
//! - [`cell`] reads one cell's text as a [`fupin_domain::Value`] of its column's kind.
//! - [`validate`] finds the table from the header and validates rows, with the
//!   per-file cross-row checks; [`cross`] checks households against persons.
//! - [`reader`] is the streaming entry point the import driver calls: [`FileReader`].
//! - [`export`] writes rows back out so that they import to identical values.
//! - [`problem`] is what all of them report: [`Problem`], with file, line, column and
//!   a reason in Chinese a village cadre understands.
//!
//! - [`import`] is the driver: all files in one registry transaction, or none.
//!
//! Architecture invariant: only [`import`] touches the registry, and only through the
//! store's writer; everything else reads and writes files.

// A `Problem` (file, sheet, line, column, header, reason) is the error users see; it
// is returned by value on purpose, and opening a file is not a hot path.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod cell;
pub mod cross;
pub mod export;
pub mod import;
pub mod problem;
pub mod reader;
pub mod source;
pub mod validate;

pub use cell::{Context, Parsed, parse_cell, parse_id_number, parse_value};
pub use cross::CrossChecks;
pub use export::{ExportError, ExportFormat, Exporter, cell_text, export};
pub use import::{FileOutcome, ImportError, ImportOutcome, import};
pub use problem::{Problem, Severity, column_letter, write_problems_xlsx};
pub use reader::{FileReader, Report, check_file};
pub use source::{Format, OpenOptions, RawRow, Source, open, open_with};
pub use validate::{HeaderMap, Locator, RowValidator, ValidatedRow, detect_table};
