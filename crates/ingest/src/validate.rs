//! From a header row and raw rows to typed registry rows: which table a file holds,
//! where each of its columns is, and every problem of every row — not only the first,
//! so that a cadre fixes a file in one pass.
//!
//! ERRORS refuse the file (a missing required value, an unknown code or village, a
//! malformed number or date, an ID number Excel turned into scientific notation, text
//! over its limit, a duplicate key). WARNINGS keep the row and report it (an ID number
//! that fails its checks, cross-row facts that real registries contain). Cross-row
//! checks keep only small per-key state, so a million-row file streams.

use std::collections::HashMap;
use std::sync::Arc;

use fupin_domain::id_number::IdNumber;
use fupin_domain::schema::{Kind, Role, TABLES, Table};
use fupin_domain::{Value, Yuan, date};

use crate::cell::{Context, parse_cell};
use crate::problem::{Problem, Severity, column_letter};
use crate::source::RawRow;

/// Where a file's problems are placed: its name, sheet, table and column letters.
/// Cheap to clone; [`crate::cross::CrossChecks`] keeps one per file it is fed.
#[derive(Debug, Clone)]
pub struct Locator(Arc<LocatorInner>);

#[derive(Debug)]
struct LocatorInner {
    file: String,
    sheet: Option<String>,
    table: &'static Table,
    /// For each schema column, the file column holding it.
    positions: Vec<Option<usize>>,
}

impl Locator {
    /// The file's name.
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// The worksheet, for workbooks.
    pub fn sheet(&self) -> Option<&str> {
        self.0.sheet.as_deref()
    }

    /// The registry table the file holds.
    pub fn table(&self) -> &'static Table {
        self.0.table
    }

    /// For each column of [`Locator::table`], the 0-based file column holding it, or
    /// `None` when the file has no such column (its values are NULL).
    pub fn positions(&self) -> &[Option<usize>] {
        &self.0.positions
    }

    /// A problem at `line`, in the schema column named `column` (or the whole row).
    pub fn problem(&self, line: u64, column: Option<&str>, severity: Severity, reason: impl Into<String>) -> Problem {
        let index = column.and_then(|c| self.0.table.index_of(c));
        Problem {
            file: self.0.file.clone(),
            sheet: self.0.sheet.clone(),
            line: Some(line),
            column: index.and_then(|i| self.0.positions[i]).map(column_letter),
            header: index.map(|i| self.0.table.columns[i].header.to_owned()),
            reason: reason.into(),
            severity,
        }
    }
}

/// One validated row: values in the table's column order, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedRow {
    /// The row's line (CSV) or row number (workbook), as the user sees it.
    pub line: u64,
    /// One value per column of the table; NULL where the file has no such column or
    /// the cell is empty or unreadable.
    pub values: Vec<Value>,
    /// Errors and warnings of this row, in the order found.
    pub problems: Vec<Problem>,
}

impl ValidatedRow {
    /// True when any problem refuses the file.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    /// The value of the column named `name` (English schema name).
    pub fn get(&self, table: &Table, name: &str) -> Option<&Value> {
        table.index_of(name).and_then(|i| self.values.get(i))
    }
}

/// A header text as compared: no spaces, no `*` marks for required columns, and
/// full-width brackets, so `*耕地面积(亩)` matches `耕地面积（亩）`.
pub fn normalize_header(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '＊' | '\u{feff}' | '\u{200b}'))
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

fn matches_of(table: &Table, headers: &[String]) -> (usize, usize) {
    let mut known = 0;
    let mut unknown = 0;
    for h in headers.iter().map(|h| normalize_header(h)).filter(|h| !h.is_empty()) {
        if table.columns.iter().any(|c| normalize_header(c.header) == h) {
            known += 1;
        } else {
            unknown += 1;
        }
    }
    (known, unknown)
}

/// The registry table whose headers best match `headers`: most headers known, then
/// fewest unknown, then the one named by `hint` (a file stem or sheet name). `None`
/// when no header names a column of any table.
pub fn detect_table(headers: &[String], hint: Option<&str>) -> Option<&'static Table> {
    let hint = hint.map(|h| h.trim().to_lowercase());
    TABLES
        .iter()
        .copied()
        .map(|t| {
            let (known, unknown) = matches_of(t, headers);
            let named = hint.as_deref().is_some_and(|h| h == t.name || h == t.title);
            (t, known, unknown, named)
        })
        .filter(|(_, known, _, _)| *known > 0)
        .max_by_key(|(_, known, unknown, named)| (*known as i64 - *unknown as i64, *known, *named))
        .map(|(t, ..)| t)
}

/// True when `row` looks like a header row: at least two cells name columns.
pub(crate) fn looks_like_header(row: &RawRow) -> bool {
    let n = TABLES.iter().map(|t| matches_of(t, &row.cells).0).max().unwrap_or(0);
    n >= 2 || (n == 1 && row.cells.iter().filter(|c| !c.trim().is_empty()).count() == 1)
}

/// The refusal for a header that matches no table, listing what was expected.
pub(crate) fn no_table_reason(headers: &[String]) -> String {
    let found: Vec<&str> = headers.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).take(8).collect();
    let expected: Vec<String> = TABLES
        .iter()
        .map(|t| {
            let req: Vec<&str> = t.columns.iter().filter(|c| c.required).map(|c| c.header).collect();
            format!("「{}」（{} 等 {} 列）", t.title, req.join("、"), t.columns.len())
        })
        .collect();
    format!(
        "表头与任何一种登记表都对不上：第一行应是表头，现为「{}」。应为以下之一：{}",
        found.join("、"),
        expected.join("；")
    )
}

/// How a file's header row maps onto a table, with its problems.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    /// The table the header is read against.
    pub table: &'static Table,
    /// The line of the header row.
    pub line: u64,
    /// For each schema column, the file column holding it.
    pub positions: Vec<Option<usize>>,
    /// Number of columns the header row spans (to its last non-empty cell).
    pub width: usize,
    /// For each file column within `width`, whether its header cell has text.
    pub headed: Vec<bool>,
    /// Unknown, duplicated or missing required headers (all errors).
    pub problems: Vec<Problem>,
}

impl HeaderMap {
    /// Maps `header` onto `table`. Unknown headers and missing required headers are
    /// errors naming them; a missing optional header leaves its column NULL.
    pub fn new(table: &'static Table, file: &str, sheet: Option<&str>, header: &RawRow) -> HeaderMap {
        let mut positions = vec![None; table.columns.len()];
        let mut problems = Vec::new();
        let place = |col: Option<usize>, h: Option<&str>, reason: String| Problem {
            file: file.to_owned(),
            sheet: sheet.map(str::to_owned),
            line: Some(header.line),
            column: col.map(column_letter),
            header: h.map(str::to_owned),
            reason,
            severity: Severity::Error,
        };
        let width = header.cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |p| p + 1);
        let mut unknown = Vec::new();
        for (i, h) in header.cells.iter().enumerate().take(width) {
            let n = normalize_header(h);
            if n.is_empty() {
                continue;
            }
            match table.columns.iter().position(|c| normalize_header(c.header) == n) {
                Some(c) => match positions[c] {
                    Some(first) => problems.push(place(
                        Some(i),
                        Some(table.columns[c].header),
                        format!(
                            "表头「{}」出现了两次（{}列和{}列）",
                            table.columns[c].header,
                            column_letter(first),
                            column_letter(i)
                        ),
                    )),
                    None => positions[c] = Some(i),
                },
                None => unknown.push((i, h.trim().to_owned())),
            }
        }
        for (i, h) in &unknown {
            problems.push(place(
                Some(*i),
                Some(h),
                format!("「{}」表中没有「{h}」这一列；请删除该列或改正表头", table.title),
            ));
        }
        for (c, col) in table.columns.iter().enumerate() {
            if col.required && positions[c].is_none() {
                problems.push(place(None, Some(col.header), format!("缺少必填列「{}」", col.header)));
            }
        }
        let headed = (0..width).map(|i| !header.cells[i].trim().is_empty()).collect();
        HeaderMap { table, line: header.line, positions, width, headed, problems }
    }
}

/// Validates the rows of one file, keeping the per-key state of its cross-row checks.
pub struct RowValidator {
    locator: Locator,
    width: usize,
    headed: Vec<bool>,
    ctx: Arc<Context>,
    /// Fingerprint of each key seen → its line.
    keys: HashMap<u128, u64>,
    persons: PersonState,
}

/// Per-file state of the 家庭成员 checks.
#[derive(Default)]
struct PersonState {
    /// ID number → (户编号, line) of its first holder, as fingerprints.
    ids: HashMap<u128, (u128, u64)>,
    /// 户编号 → the head's and the spouse's (line, sex code).
    couples: HashMap<u128, Couple>,
}

#[derive(Default)]
struct Couple {
    head: Option<(u64, Option<char>)>,
    spouse: Option<(u64, Option<char>)>,
}

impl RowValidator {
    /// A validator for the file described by `header`.
    pub fn new(header: &HeaderMap, file: &str, sheet: Option<&str>, ctx: Arc<Context>) -> RowValidator {
        let locator = Locator(Arc::new(LocatorInner {
            file: file.to_owned(),
            sheet: sheet.map(str::to_owned),
            table: header.table,
            positions: header.positions.clone(),
        }));
        RowValidator {
            locator,
            width: header.width,
            headed: header.headed.clone(),
            ctx,
            keys: HashMap::new(),
            persons: PersonState::default(),
        }
    }

    /// Where this file's problems are placed.
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// Converts one row, listing all its problems.
    pub fn validate(&mut self, row: &RawRow) -> ValidatedRow {
        let table = self.locator.table();
        let loc = self.locator.clone();
        let mut problems = Vec::new();
        let line = row.line;
        self.check_shape(row, &mut problems);
        let cell = |c: usize| -> &str { loc.positions()[c].and_then(|i| row.cells.get(i)).map_or("", String::as_str) };
        let id_type_index = table.index_of("id_type");
        let mut values = Vec::with_capacity(table.columns.len());
        for (c, col) in table.columns.iter().enumerate() {
            let text = cell(c);
            // 证件类型 comes before 证件号码 in the schema, so it is already read.
            let id_type = match col.kind {
                Kind::IdNumber => id_type_index.and_then(|i| values.get(i)).and_then(Value::as_text).unwrap_or(""),
                _ => "",
            };
            let parsed = parse_cell(&self.ctx, col, text, id_type);
            match parsed {
                Ok(p) => {
                    if let Some(w) = p.warning {
                        problems.push(loc.problem(line, Some(col.name), Severity::Warning, w));
                    }
                    if p.value.is_null() && col.required && loc.positions()[c].is_some() {
                        problems.push(loc.problem(
                            line,
                            Some(col.name),
                            Severity::Error,
                            format!("必填的「{}」为空", col.header),
                        ));
                    }
                    values.push(p.value);
                }
                Err(reason) => {
                    problems.push(loc.problem(line, Some(col.name), Severity::Error, reason));
                    values.push(Value::Null);
                }
            }
        }
        self.check_key(line, &values, &mut problems);
        match table.name {
            "persons" => self.check_person(line, &values, &mut problems),
            "incomes" => check_income(&loc, line, &values, &mut problems),
            _ => {}
        }
        ValidatedRow { line, values, problems }
    }

    /// Cells outside the header's columns: text in a column without a header, or cells
    /// split or merged by commas and quotes.
    fn check_shape(&self, row: &RawRow, problems: &mut Vec<Problem>) {
        let loc = &self.locator;
        let used = row.cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |p| p + 1);
        let breaks = row.cells.iter().any(|c| c.contains(['\n', '\r']));
        if breaks && used != self.width && row.cells.len() != self.width {
            problems.push(loc.problem(
                row.line,
                None,
                Severity::Error,
                format!(
                    "引号不配对：这一行有 {} 个单元格，表头有 {} 列，且有单元格跨行；请检查该行及下一行的英文双引号",
                    row.cells.len(),
                    self.width
                ),
            ));
            return;
        }
        let header_less: Vec<usize> = (0..used)
            .filter(|i| !row.cells[*i].trim().is_empty())
            .filter(|i| !self.headed.get(*i).copied().unwrap_or(false))
            .collect();
        let Some(&first) = header_less.first() else {
            return;
        };
        let mut p = loc.problem(
            row.line,
            None,
            Severity::Error,
            if first >= self.width {
                format!(
                    "这一行比表头多出内容（{}列起，表头只有 {} 列）；单元格中的英文逗号需要整格加英文双引号",
                    column_letter(first),
                    self.width
                )
            } else {
                format!("{}列有内容，但该列没有表头", column_letter(first))
            },
        );
        p.column = Some(column_letter(first));
        problems.push(p);
    }

    fn check_key(&mut self, line: u64, values: &[Value], problems: &mut Vec<Problem>) {
        let table = self.locator.table();
        let parts: Option<Vec<String>> = table.key_indices().iter().map(|i| values[*i].canonical()).collect();
        let Some(parts) = parts else { return };
        let key = fingerprint(&parts);
        if let Some(first) = self.keys.get(&key) {
            let names: Vec<String> = table
                .key
                .iter()
                .zip(&parts)
                .map(|(k, v)| format!("{}「{v}」", table.column(k).map_or(*k, |c| c.header)))
                .collect();
            problems.push(self.locator.problem(
                line,
                Some(table.key[0]),
                Severity::Error,
                format!("与第{first}行重复：{}在文件中出现了两次", names.join("、")),
            ));
        } else {
            self.keys.insert(key, line);
        }
    }

    fn check_person(&mut self, line: u64, values: &[Value], problems: &mut Vec<Problem>) {
        let t = self.locator.table();
        let text = |name: &str| t.index_of(name).and_then(|i| values[i].as_text());
        let warn = |problems: &mut Vec<Problem>, column: &str, reason: String| {
            problems.push(self.locator.problem(line, Some(column), Severity::Warning, reason));
        };
        let id = text("id_number").and_then(|s| IdNumber::parse(s).ok());
        let id_type = text("id_type").unwrap_or("01");
        let id = id.filter(|_| id_type == "01");
        if let Some(id) = &id {
            if let Some(b) = text("birth_date").filter(|b| *b != date::iso(id.birth_date())) {
                warn(
                    problems,
                    "birth_date",
                    format!("出生日期 {b} 与证件号码中的 {} 不一致", date::iso(id.birth_date())),
                );
            }
            if let Some(s) = text("sex").filter(|s| matches!(*s, "1" | "2") && *s != id.sex_code()) {
                let label = |c: &str| if c == "1" { "男" } else { "女" };
                warn(problems, "sex", format!("性别“{}”与证件号码显示的“{}”不一致", label(s), label(id.sex_code())));
            }
        }
        let Some(hh) = text("hh_id") else { return };
        if let Some(number) = text("id_number") {
            match self.persons.ids.get(&fingerprint(&[number])) {
                Some((other_hh, first)) if *other_hh != fingerprint(&[hh]) => {
                    warn(problems, "id_number", format!("同一证件号码也登记在第{first}行的另一户中（一人两户）"))
                }
                Some((_, first)) => {
                    warn(problems, "id_number", format!("同一证件号码在本户第{first}行已登记过（重复登记）"))
                }
                None => {
                    self.persons.ids.insert(fingerprint(&[number]), (fingerprint(&[hh]), line));
                }
            }
        }
        let relation = text("relation");
        // A former member (died, married out, moved out) was the head or spouse before
        // the present one; only present members make the couple.
        let former = text("person_status").is_some_and(|s| s != fupin_domain::schema::PRESENT);
        if former || !matches!(relation, Some("01" | "02")) {
            return;
        }
        let sex = match text("sex") {
            Some("1") => Some('1'),
            Some("2") => Some('2'),
            _ => id.as_ref().and_then(|i| i.sex_code().chars().next()),
        };
        let couple = self.persons.couples.entry(fingerprint(&[hh])).or_default();
        let (mine, other, role) = if relation == Some("01") {
            (&mut couple.head, &couple.spouse, "户主")
        } else {
            (&mut couple.spouse, &couple.head, "配偶")
        };
        if let Some((first, _)) = mine {
            let first = *first;
            warn(problems, "relation", format!("户「{hh}」有两个{role}（第{first}行和本行）"));
            return;
        }
        *mine = Some((line, sex));
        if let (Some(s), Some((other_line, Some(os)))) = (sex, other)
            && s == *os
        {
            let label = if s == '1' { "男" } else { "女" };
            warn(problems, "relation", format!("户主与配偶性别相同（都是{label}，见第{other_line}行）"));
        }
    }
}

/// A 128-bit fingerprint of key parts: per-key state of a few bytes instead of the
/// key's text, with a chance of two different keys colliding far below one in 10¹⁸ for
/// a nation's rows.
pub(crate) fn fingerprint<S: AsRef<str>>(parts: &[S]) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u64| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        for p in parts {
            p.as_ref().hash(&mut h);
        }
        h.finish()
    };
    (u128::from(half(0x6675_7069_6e00_0001)) << 64) | u128::from(half(0x6675_7069_6e00_0002))
}

/// 人均纯收入 against its parts: (Σ incomes − 生产经营性支出) ÷ 家庭人口数, more than
/// 1 元 apart is reported with the formula, so the number explains itself.
fn check_income(loc: &Locator, line: u64, values: &[Value], problems: &mut Vec<Problem>) {
    let t = loc.table();
    let int = |name: &str| t.index_of(name).and_then(|i| values[i].as_int());
    let (Some(members), Some(stated)) = (int("members"), int("net_per_capita")) else {
        return;
    };
    // The income lines that add up to the total, and the costs subtracted from it.
    let parts = || t.columns_of(Role::Income).map(|c| c.name);
    if members <= 0 || parts().all(|p| int(p).is_none()) {
        return;
    }
    let total = Yuan::from_fen(parts().filter_map(int).sum());
    let costs = Yuan::from_fen(t.columns_of(Role::Cost).filter_map(|c| int(c.name)).sum());
    let Some(computed) = (total - costs).per_person(members) else {
        return;
    };
    let diff = (computed.fen() - stated).abs();
    if diff > 100 {
        problems.push(loc.problem(
            line,
            Some("net_per_capita"),
            Severity::Warning,
            format!(
                "人均纯收入 {} 元与各项收入对不上：（收入合计 {total} 元 − 生产经营性支出 {costs} 元）÷ {members} 人 = {computed} 元，相差 {} 元",
                Yuan::from_fen(stated),
                Yuan::from_fen(diff)
            ),
        ));
    }
}
