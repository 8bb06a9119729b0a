//! Workbooks through calamine: XLSX streamed cell by cell on a worker thread, XLS and
//! ODS read whole. Cells become the text Excel shows.

use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::mpsc::{SyncSender, sync_channel};

use calamine::{Data, DataRef, ExcelDateTime, Ods, Range, Reader, SheetType, Xls, Xlsx};
use fupin_domain::schema::{TABLES, Table};

use super::{Format, Inner, OpenOptions, RawRow, Source};
use crate::problem::Problem;

/// Excel's last column (XFD); a cell further right can only come from a damaged file.
const MAX_COLUMNS: u32 = 16_384;
/// Rows in flight between the XLSX worker and the reader.
const XLSX_CHANNEL_ROWS: usize = 512;
/// Runs calamine, which may panic on a damaged file, turning a panic into a refusal.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err("文件结构损坏".into()))
}

fn damaged(file: &str, kind: &str, cause: &str) -> Problem {
    Problem::file_error(
        file,
        format!("无法作为 {kind} 工作簿打开，文件已损坏或不完整（{cause}）；请在 Excel 中打开确认后重新保存"),
    )
}

/// Picks the sheet: the one asked for; else one named like a registry table (the
/// preferred one first); else the first worksheet.
fn choose_sheet(file: &str, sheets: &[(String, bool)], options: &OpenOptions) -> Result<String, Problem> {
    let names = || sheets.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("、");
    if let Some(want) = &options.sheet {
        return sheets
            .iter()
            .find(|(n, _)| n.trim() == want.trim())
            .map(|(n, _)| n.clone())
            .ok_or_else(|| Problem::file_error(file, format!("没有名为「{want}」的工作表（现有：{}）", names())));
    }
    let named = |t: &Table| sheets.iter().find(|(n, _)| n.trim() == t.title || n.trim() == t.name);
    if let Some((n, _)) = options.table.and_then(named) {
        return Ok(n.clone());
    }
    if let Some((n, _)) = TABLES.iter().find_map(|t| named(t)) {
        return Ok(n.clone());
    }
    sheets
        .iter()
        .find(|(_, worksheet)| *worksheet)
        .map(|(n, _)| n.clone())
        .ok_or_else(|| Problem::file_error(file, "工作簿中没有工作表"))
}

fn sheet_list(meta: &[calamine::Sheet]) -> Vec<(String, bool)> {
    meta.iter().map(|s| (s.name.clone(), s.typ == SheetType::WorkSheet)).collect()
}

pub(super) fn open_zip(path: &Path, file: &str, options: &OpenOptions) -> Result<Source, Problem> {
    let xlsx = guarded(|| calamine::open_workbook::<Xlsx<_>, _>(path).map_err(|e| e.to_string()));
    let workbook = match xlsx {
        Ok(w) => w,
        Err(xlsx_error) => {
            // LibreOffice and WPS users may send .ods, which is a ZIP too.
            return match guarded(|| calamine::open_workbook::<Ods<_>, _>(path).map_err(|e| e.to_string())) {
                Ok(ods) => open_range(ods, file, options, Format::Ods, "ODS"),
                Err(_) => Err(damaged(file, "Excel（.xlsx）", &xlsx_error)),
            };
        }
    };
    let sheet = choose_sheet(file, &sheet_list(workbook.sheets_metadata()), options)?;
    let (tx, rx) = sync_channel(XLSX_CHANNEL_ROWS);
    let (name, thread_file) = (sheet.clone(), file.to_owned());
    std::thread::Builder::new()
        .name("xlsx-rows".into())
        .spawn(move || stream_xlsx(workbook, &name, &thread_file, tx))
        .map_err(|e| Problem::file_error(file, format!("无法启动读取：{e}")))?;
    Ok(Source { file: file.to_owned(), sheet: Some(sheet), format: Format::Xlsx, inner: Inner::Stream(rx) })
}

/// The XLSX worker: reads the sheet cell by cell and sends whole rows. Stops when the
/// reader hangs up (the receiver is dropped).
fn stream_xlsx(mut workbook: Xlsx<BufReader<File>>, sheet: &str, file: &str, tx: SyncSender<Result<RawRow, Problem>>) {
    let mut last_row = 0u32;
    let result = guarded(|| {
        let mut cells = workbook.worksheet_cells_reader(sheet).map_err(|e| e.to_string())?;
        let mut current: Option<(u32, Vec<String>)> = None;
        while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
            let (row, col) = cell.get_position();
            last_row = row;
            if col >= MAX_COLUMNS {
                continue;
            }
            let text = data_ref_text(cell.get_value());
            if text.is_empty() {
                continue;
            }
            if current.as_ref().is_some_and(|(r, _)| *r != row) {
                let (r, cells) = current.take().expect("checked");
                if tx.send(Ok(RawRow { line: u64::from(r) + 1, cells })).is_err() {
                    return Ok(());
                }
            }
            let (_, cells) = current.get_or_insert_with(|| (row, Vec::new()));
            put(cells, col as usize, text);
        }
        if let Some((r, cells)) = current {
            let _ = tx.send(Ok(RawRow { line: u64::from(r) + 1, cells }));
        }
        Ok(())
    });
    if let Err(cause) = result {
        let reason = format!("工作簿在第{}行附近已损坏或不完整，无法继续读取（{cause}）", u64::from(last_row) + 1);
        let problem = Problem { sheet: Some(sheet.to_owned()), ..Problem::file_error(file, reason) };
        let _ = tx.send(Err(problem));
    }
}

fn put(cells: &mut Vec<String>, col: usize, text: String) {
    if cells.len() <= col {
        cells.resize(col + 1, String::new());
    }
    cells[col] = text;
}

pub(super) fn open_xls(path: &Path, file: &str, options: &OpenOptions) -> Result<Source, Problem> {
    if let Some(sector) = std::fs::read(path).ok().and_then(|bytes| sector_loop(&bytes)) {
        return Err(damaged(file, "Excel 97-2003（.xls）", &format!("扇区链在第 {sector} 扇区处循环")));
    }
    let workbook = guarded(|| calamine::open_workbook::<Xls<_>, _>(path).map_err(|e| e.to_string()))
        .map_err(|e| damaged(file, "Excel 97-2003（.xls）", &format!("{e}；若文件设有密码请先取消")))?;
    open_range(workbook, file, options, Format::Xls, "Excel 97-2003（.xls）")
}

/// The first sector on a loop in the sector allocation table (FAT) of an XLS file, an
/// OLE2 compound file. calamine follows a chain until it ends and, on a damaged file
/// whose chain comes back on itself, allocates until memory runs out: an abort that
/// [`guarded`] cannot catch (a 5 KB file did it; found by `fuzz/`, target `file`). A
/// sound file has no loop, so one is refused before calamine sees it. `None` also for
/// files too broken to have a FAT: calamine refuses those itself.
fn sector_loop(bytes: &[u8]) -> Option<u32> {
    /// Sector ids from here on are markers (end of chain, free, FAT, DIFAT), not sectors.
    const MARKERS: u32 = 0xFFFF_FFFA;
    const DIFSECT: u32 = 0xFFFF_FFFC;
    let header = bytes.get(..512)?;
    let size: usize = match u16::from_le_bytes([header[30], header[31]]) {
        0x09 => 512,
        0x0C => 4096,
        _ => return None,
    };
    // Sector `id` follows the header, which fills sector-sized space; one cut short by the
    // end of the file is read as far as it goes, as calamine does.
    let sector = |id: u32| {
        let start = (id as usize + 1).saturating_mul(size);
        bytes.get(start..).map_or(&[][..], |s| &s[..s.len().min(size)])
    };
    let words = |s: &[u8]| s.chunks_exact(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect::<Vec<_>>();
    // The DIFAT lists the FAT's sectors: 109 ids in the header, then a chain of DIFAT
    // sectors, each ending in the id of the next.
    let mut difat = words(&header[76..512]);
    let mut next = u32::from_le_bytes([header[68], header[69], header[70], header[71]]);
    let mut hops = 0;
    while next < MARKERS {
        hops += 1;
        if hops > bytes.len() / size + 1 {
            return None;
        }
        difat.extend(words(sector(next)));
        next = difat.pop()?;
    }
    let fat: Vec<u32> = difat.iter().filter(|id| **id < DIFSECT).flat_map(|id| words(sector(*id))).collect();
    // Each sector has one successor: walk from every sector not yet cleared; meeting the
    // walk's own path again is a loop.
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const CLEAR: u8 = 2;
    let mut state = vec![NEW; fat.len()];
    let mut path = Vec::new();
    for start in 0..fat.len() {
        let mut at = start;
        while state.get(at) == Some(&NEW) {
            state[at] = ON_PATH;
            path.push(at);
            at = fat[at] as usize;
        }
        if state.get(at) == Some(&ON_PATH) {
            return Some(at as u32);
        }
        for p in path.drain(..) {
            state[p] = CLEAR;
        }
    }
    None
}

/// Reads a whole sheet of a format calamine only reads whole (XLS, ODS).
fn open_range<R>(
    mut workbook: R,
    file: &str,
    options: &OpenOptions,
    format: Format,
    kind: &str,
) -> Result<Source, Problem>
where
    R: Reader<BufReader<File>>,
    R::Error: std::fmt::Display,
{
    let sheet = choose_sheet(file, &sheet_list(workbook.sheets_metadata()), options)?;
    let range = guarded(|| workbook.worksheet_range(&sheet).map_err(|e| e.to_string()))
        .map_err(|e| Problem { sheet: Some(sheet.clone()), ..damaged(file, kind, &e) })?;
    Ok(Source { file: file.to_owned(), sheet: Some(sheet), format, inner: Inner::Range { range, next: 0 } })
}

pub(super) fn range_row(range: &Range<Data>, next: &mut usize) -> Option<Result<RawRow, Problem>> {
    let (start_row, start_col) = range.start()?;
    let (height, width) = range.get_size();
    while *next < height {
        let r = *next;
        *next += 1;
        let mut cells = Vec::new();
        for c in 0..width.min(MAX_COLUMNS as usize) {
            let text = range.get((r, c)).map(data_text).unwrap_or_default();
            if !text.is_empty() {
                put(&mut cells, start_col as usize + c, text);
            }
        }
        if !cells.is_empty() {
            return Some(Ok(RawRow { line: u64::from(start_row) + r as u64 + 1, cells }));
        }
    }
    None
}

/// A cell's text as the user sees it in Excel's “General” format.
fn data_text(d: &Data) -> String {
    match d {
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(dt) => datetime_text(dt),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
        Data::Empty => String::new(),
    }
}

fn data_ref_text(d: &DataRef<'_>) -> String {
    match d {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        DataRef::DateTime(dt) => datetime_text(dt),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}

/// A number cell as text, to Excel's 15 significant digits: whole numbers without
/// `.0`; from 10¹⁵ on in scientific notation (`6.10981199001011E+17`), as Excel shows
/// an ID number typed into a number cell — the digits past the fifteenth are gone,
/// and validation says so instead of storing a wrong number.
pub fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if rounded.abs() >= 1e15 {
        let s = format!("{rounded:E}");
        let (mantissa, exp) = s.split_once('E').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
        let exp = exp.strip_prefix('-').map(|e| format!("-{e}")).unwrap_or_else(|| format!("+{exp}"));
        return format!("{mantissa}E{exp}");
    }
    if rounded.fract() == 0.0 {
        return format!("{}", rounded as i64);
    }
    format!("{rounded}")
}

/// `2019-03-05`, or `2019-03-05 08:30:00` when the cell holds a time of day too.
fn datetime_text(dt: &ExcelDateTime) -> String {
    if dt.is_duration() {
        return number_text(dt.as_f64());
    }
    let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
    if (h, mi, s) == (0, 0, 0) {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_excel_shows_them() {
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(3120.5), "3120.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(13812341234.0), "13812341234");
        assert_eq!(number_text(610981199001011234.0), "6.10981199001011E+17");
        assert_eq!(number_text(6e17), "6.0E+17");
        assert_eq!(number_text(-2.5), "-2.5");
        assert!(fupin_domain::id_number::looks_like_scientific(&number_text(610981199001011234.0)));
    }

    /// An OLE2 file of a header and one FAT sector (sector 0) with these entries; the
    /// directory chain starts at sector 1.
    fn compound_file(fat: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; 512 * 3];
        b[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
        b[26..28].copy_from_slice(&3u16.to_le_bytes());
        b[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
        b[30..32].copy_from_slice(&9u16.to_le_bytes());
        b[32..34].copy_from_slice(&6u16.to_le_bytes());
        b[44..48].copy_from_slice(&1u32.to_le_bytes());
        b[48..52].copy_from_slice(&1u32.to_le_bytes());
        b[60..64].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        b[68..72].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes());
        b[76..512].fill(0xFF);
        b[76..80].copy_from_slice(&0u32.to_le_bytes());
        for (i, e) in fat.iter().chain(std::iter::repeat(&0xFFFF_FFFF)).take(128).enumerate() {
            b[512 + 4 * i..516 + 4 * i].copy_from_slice(&e.to_le_bytes());
        }
        b
    }

    /// Found by `fuzz/` (target `file`): a sector chain that loops made calamine
    /// allocate until the process was killed for want of memory.
    #[test]
    fn xls_whose_sector_chain_loops_is_refused_before_calamine() {
        const FATSECT: u32 = 0xFFFF_FFFD;
        assert_eq!(sector_loop(&compound_file(&[FATSECT, 1])), Some(1));
        assert_eq!(sector_loop(&compound_file(&[FATSECT, 2, 3, 1])), Some(1));
        assert_eq!(sector_loop(&compound_file(&[FATSECT, 0xFFFF_FFFE])), None);
        assert_eq!(sector_loop(include_bytes!("../../tests/fixtures/persons.xls")), None);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loop.xls");
        std::fs::write(&path, compound_file(&[FATSECT, 1])).unwrap();
        let Err(problem) = super::super::open(&path) else { panic!("a looping file was opened") };
        assert!(problem.reason.contains("循环"), "{}", problem.reason);
    }

    #[test]
    fn sheets_are_chosen_by_table_title() {
        let sheets = vec![("说明".to_owned(), true), ("家庭成员".to_owned(), true)];
        assert_eq!(choose_sheet("f", &sheets, &OpenOptions::default()).unwrap(), "家庭成员");
        let sheets = vec![("Chart1".to_owned(), false), ("Sheet1".to_owned(), true)];
        assert_eq!(choose_sheet("f", &sheets, &OpenOptions::default()).unwrap(), "Sheet1");
        let opts = OpenOptions { sheet: Some("无".into()), table: None };
        assert!(choose_sheet("f", &sheets, &opts).unwrap_err().reason.contains("Sheet1"));
    }
}
