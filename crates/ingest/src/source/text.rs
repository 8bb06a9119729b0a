//! Delimited text: the encoding found by reading the whole file once, then rows
//! decoded on the fly through the `csv` reader.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use encoding_rs::{DecoderResult, Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};
use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use fupin_domain::schema::TABLES;

use super::{Format, Inner, RawRow, Source, io_reason, read_up_to};
use crate::problem::Problem;
/// What the first pass over a text file found.
struct TextInfo {
    encoding: &'static Encoding,
    delimiter: u8,
}

/// One candidate encoding being tried over the whole file.
struct Candidate {
    encoding: &'static Encoding,
    decoder: encoding_rs::Decoder,
    /// Line (1-based) of the first byte it could not decode.
    failed_at: Option<u64>,
    /// The first decoded text, for sniffing the delimiter.
    start: String,
}

impl Candidate {
    fn new(encoding: &'static Encoding) -> Candidate {
        Candidate { encoding, decoder: encoding.new_decoder_with_bom_removal(), failed_at: None, start: String::new() }
    }

    /// Decodes `chunk`; `lines` is the number of line breaks before it.
    fn feed(&mut self, chunk: &[u8], last: bool, lines: u64, scratch: &mut [u8]) {
        if self.failed_at.is_some() {
            return;
        }
        let mut input = chunk;
        loop {
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(input, scratch, last);
            if self.start.len() < 4096 {
                self.start.push_str(&String::from_utf8_lossy(&scratch[..written]));
            }
            match result {
                DecoderResult::InputEmpty => return,
                DecoderResult::OutputFull => input = &input[read..],
                DecoderResult::Malformed(_, _) => {
                    let consumed = chunk.len() - input.len() + read;
                    let before = chunk[..consumed.min(chunk.len())].iter().filter(|b| **b == b'\n').count();
                    self.failed_at = Some(lines + before as u64 + 1);
                    return;
                }
            }
        }
    }
}

/// Reads the whole file once (streaming, constant memory) to find an encoding that
/// decodes every byte: the BOM's, else UTF-8, else GB18030 (a superset of GBK and
/// GB2312). Guessing from a prefix would let one bad byte at line 900 000 through.
fn sniff_text(path: &Path, file: &str) -> Result<TextInfo, Problem> {
    let refuse = |reason: String| Problem::file_error(file, reason);
    let mut f = BufReader::with_capacity(1 << 16, File::open(path).map_err(|e| refuse(io_reason(&e)))?);
    let mut chunk = vec![0u8; 1 << 16];
    let mut scratch = vec![0u8; 1 << 18];
    let first = read_up_to(&mut f, &mut chunk).map_err(|e| refuse(io_reason(&e)))?;
    let bom = Encoding::for_bom(&chunk[..first]).map(|(e, _)| e);
    let mut candidates: Vec<Candidate> = match bom {
        Some(e) => vec![Candidate::new(e)],
        None => vec![Candidate::new(UTF_8), Candidate::new(GB18030)],
    };
    let utf16 = matches!(bom, Some(e) if e == UTF_16LE || e == UTF_16BE);
    let body_start = bom.map(|e| if e == UTF_8 { 3 } else { 2 }).unwrap_or(0);
    if !utf16 {
        let text = &chunk[body_start..first];
        let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
        let lead: Vec<u8> = text[start..].iter().take(512).map(|b| b.to_ascii_lowercase()).collect();
        let is = |p: &[u8]| lead.windows(p.len()).any(|w| w == p);
        if lead.first() == Some(&b'<') && (is(b"<html") || is(b"<table") || is(b"<?xml") || is(b"<!doctype")) {
            return Err(refuse(
                "这是网页（HTML/XML）格式的表格，不是真正的 Excel 或 CSV 文件；请用 Excel 打开后“另存为”.xlsx 再导入"
                    .into(),
            ));
        }
    }
    let mut lines = 0u64;
    let mut len = first;
    let mut line_with_nul: Option<u64> = None;
    loop {
        let last = len == 0;
        let data = &chunk[..len];
        if let Some(p) = data.iter().position(|b| *b == 0).filter(|_| !utf16 && line_with_nul.is_none()) {
            line_with_nul = Some(lines + data[..p].iter().filter(|b| **b == b'\n').count() as u64 + 1);
        }
        for c in &mut candidates {
            c.feed(data, last, lines, &mut scratch);
        }
        if last || candidates.iter().all(|c| c.failed_at.is_some()) {
            break;
        }
        lines += data.iter().filter(|b| **b == b'\n').count() as u64;
        len = read_up_to(&mut f, &mut chunk).map_err(|e| refuse(io_reason(&e)))?;
    }
    if let Some(line) = line_with_nul {
        return Err(refuse(format!(
            "无法识别文件编码：第{line}行有空字节，这不是文本表格（可能是其他程序的二进制文件）；请用 Excel 另存为 .xlsx 或 CSV 后再导入"
        )));
    }
    let Some(winner) = candidates.iter().find(|c| c.failed_at.is_none()) else {
        let at = candidates.iter().filter_map(|c| c.failed_at).max().unwrap_or(1);
        let reason = match bom {
            Some(e) => format!("无法识别文件编码：文件开头标明是 {}，但第{at}行有无法解码的字节", e.name()),
            None => format!(
                "无法识别文件编码：既不是 UTF-8 也不是 GBK/GB18030（第{at}行起有无法识别的字节）；请用 Excel 另存为“CSV UTF-8”或 .xlsx 后再导入"
            ),
        };
        return Err(refuse(reason));
    };
    // A UTF-8 file damaged far down may still decode as GB18030, into nonsense; when
    // its header reads as UTF-8, say that the file is damaged instead.
    if let Some(utf8) = candidates.iter().find(|c| c.encoding == UTF_8 && c.failed_at.is_some_and(|l| l > 1)) {
        let header = utf8.start.split(['\n', '\r']).next().unwrap_or_default();
        let known = TABLES.iter().flat_map(|t| t.columns).any(|c| header.contains(c.header));
        if winner.encoding != UTF_8 && known {
            let at = utf8.failed_at.unwrap_or(1);
            return Err(refuse(format!(
                "文件是 UTF-8 编码，但第{at}行有无法解码的字节（文件可能已损坏或混入了其他编码的内容）；请检查该行"
            )));
        }
    }
    let first_line = winner.start.split(['\n', '\r']).next().unwrap_or_default();
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') { b'\t' } else { b',' };
    Ok(TextInfo { encoding: winner.encoding, delimiter })
}

pub(super) fn open_csv(path: &Path, file: &str) -> Result<Source, Problem> {
    let info = sniff_text(path, file)?;
    let f = File::open(path).map_err(|e| Problem::file_error(file, io_reason(&e)))?;
    let decoded = DecodeReaderBytesBuilder::new()
        .encoding(Some(info.encoding))
        .bom_override(true)
        .strip_bom(true)
        .build(BufReader::with_capacity(1 << 16, f));
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(info.delimiter)
        .from_reader(TailReader::new(decoded));
    Ok(Source {
        file: file.to_owned(),
        sheet: None,
        format: Format::Csv { encoding: info.encoding.name(), delimiter: info.delimiter },
        inner: Inner::Csv(Box::new(CsvRows {
            reader,
            delimiter: info.delimiter,
            ahead: None,
            started: false,
            pending_error: None,
        })),
    })
}

/// Turns `\r\n` and a lone `\r` into `\n` (the `csv` crate counts lines by `\n`
/// only, and misplaces every row after a `\r\n` by one line), and remembers the last
/// non-blank byte read, so that a quoted field that ran to the end of the file (a
/// quote never closed) can be told from one closed properly.
struct TailReader<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// The last byte was `\r`: a `\n` right after it belongs to it.
    after_cr: bool,
    last_non_space: Option<u8>,
}

impl<R: Read> TailReader<R> {
    fn new(inner: R) -> TailReader<R> {
        TailReader {
            inner,
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            after_cr: false,
            last_non_space: None,
        }
    }
}

impl<R: Read> Read for TailReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos == self.len {
                if n > 0 {
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    break;
                }
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            self.after_cr = b == b'\r';
            out[n] = if b == b'\r' { b'\n' } else { b };
            n += 1;
        }
        if let Some(b) = out[..n].iter().rev().find(|b| !b.is_ascii_whitespace()) {
            self.last_non_space = Some(*b);
        }
        Ok(n)
    }
}

type CsvReader = csv::Reader<TailReader<DecodeReaderBytes<BufReader<File>, Vec<u8>>>>;

/// CSV rows with one record of look-ahead, to know which record is the last.
pub(super) struct CsvRows {
    reader: CsvReader,
    delimiter: u8,
    ahead: Option<csv::StringRecord>,
    started: bool,
    pending_error: Option<String>,
}

impl CsvRows {
    fn read_one(&mut self) -> Result<Option<csv::StringRecord>, String> {
        let mut record = csv::StringRecord::new();
        match self.reader.read_record(&mut record) {
            Ok(true) => Ok(Some(record)),
            Ok(false) => Ok(None),
            Err(e) => Err(match e.kind() {
                csv::ErrorKind::Io(io) => format!("读取文件出错：{io}"),
                _ => format!("无法解析：{e}"),
            }),
        }
    }

    pub(super) fn next(&mut self, file: &str) -> Option<Result<RawRow, Problem>> {
        if !self.started {
            self.started = true;
            match self.read_one() {
                Ok(r) => self.ahead = r,
                Err(e) => return Some(Err(Problem::file_error(file, e))),
            }
        }
        let Some(record) = self.ahead.take() else {
            return self.pending_error.take().map(|e| Err(Problem::file_error(file, e)));
        };
        match self.read_one() {
            Ok(r) => self.ahead = r,
            Err(e) => self.pending_error = Some(e),
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let is_last = self.ahead.is_none() && self.pending_error.is_none();
        let last_cell_breaks = record.iter().next_back().is_some_and(|c| c.contains(['\n', '\r']));
        if is_last && last_cell_breaks && self.reader.get_ref().last_non_space != Some(b'"') {
            let reason = format!(
                "引号不配对：从第{line}行起的一个引号没有闭合，直到文件末尾都被读成了同一个单元格；请检查该行的英文双引号"
            );
            return Some(Err(Problem { line: Some(line), ..Problem::file_error(file, reason) }));
        }
        // A line break followed by a delimiter inside one cell is rows merged by a
        // stray quote, not a cell someone wrote.
        let delimiter = char::from(self.delimiter);
        let merged =
            record.iter().any(|c| c.split_once(['\n', '\r']).is_some_and(|(_, rest)| rest.contains(delimiter)));
        if merged {
            let reason = format!(
                "引号不配对：从第{line}行起有一个多余的英文双引号，把后面几行读成了同一个单元格；请检查该行的英文双引号"
            );
            return Some(Err(Problem { line: Some(line), ..Problem::file_error(file, reason) }));
        }
        Some(Ok(RawRow { line, cells: record.iter().map(str::to_owned).collect() }))
    }
}
