//! Real files in, values and problems out: every encoding and format the counties
//! send, and every way such files go wrong.

use crate::common::*;
use fupin_domain::Value;
use fupin_domain::schema::{HOUSEHOLDS, PERSONS};
use fupin_ingest::{FileReader, Format, Severity, open, write_problems_xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};

fn text(v: &str) -> Value {
    Value::Text(v.to_owned())
}

/// Reads a persons file that must be clean and returns its rows' values.
fn clean_rows(path: &std::path::Path) -> Vec<Vec<Value>> {
    let mut reader = FileReader::open(path, ctx()).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!(reader.table().name, "persons");
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        assert!(row.problems.is_empty(), "{}", listing(&row.problems));
        rows.push(row.values);
    }
    assert_eq!(reader.file_problems().count(), 0);
    assert!(!reader.refused());
    rows
}

fn get<'a>(row: &'a [Value], name: &str) -> &'a Value {
    &row[PERSONS.index_of(name).unwrap()]
}

fn assert_persons(rows: &[Vec<Value>]) {
    assert_eq!(rows.len(), 3);
    assert_eq!(get(&rows[0], "person_id"), &text("P001"));
    assert_eq!(get(&rows[0], "sex"), &text("1"));
    assert_eq!(get(&rows[0], "relation"), &text("01"));
    assert_eq!(get(&rows[1], "birth_date"), &text("1972-08-09"));
    assert_eq!(get(&rows[1], "id_type"), &text("01"));
    assert_eq!(get(&rows[1], "ethnicity"), &text("01"));
    assert_eq!(get(&rows[1], "health"), &text("02"));
    assert_eq!(get(&rows[2], "birth_date"), &text("2005-01-02"));
    assert_eq!(get(&rows[2], "ethnicity"), &text("15"));
    assert_eq!(get(&rows[2], "school_status"), &text("04"));
    // Columns the file does not have are NULL.
    assert_eq!(get(&rows[2], "phone"), &Value::Null);
}

#[test]
fn utf8_csv_with_and_without_bom() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "persons.csv", persons_csv());
    assert_persons(&clean_rows(&plain));
    let bom = write(dir.path(), "bom.csv", format!("\u{feff}{}", persons_csv()));
    assert_persons(&clean_rows(&bom));
    let source = open(&bom).unwrap();
    assert_eq!(source.format(), Format::Csv { encoding: "UTF-8", delimiter: b',' });
}

#[test]
fn gbk_csv_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let text = persons_csv();
    let (bytes, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    let path = write(dir.path(), "成员.csv", &bytes);
    assert_persons(&clean_rows(&path));
    assert!(matches!(open(&path).unwrap().format(), Format::Csv { encoding: "gb18030", .. }));
}

#[test]
fn excel_unicode_text_utf16_tab_separated_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let tsv = persons_csv().replace(',', "\t");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in tsv.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    let path = write(dir.path(), "persons.txt", bytes);
    assert_persons(&clean_rows(&path));
}

#[test]
fn random_bytes_are_refused_as_unknown_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 0x80
        })
        .collect();
    let path = write(dir.path(), "garbage.csv", bytes);
    let err = open(&path).err().expect("refused");
    assert!(err.reason.contains("无法识别文件编码"), "{err}");
    let report = check(&path);
    assert!(report.refused());
    assert_eq!(report.problems.len(), 1);
}

#[test]
fn binary_with_nul_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.csv", b"\x00\x01\x02abc\n");
    assert!(open(&path).err().unwrap().reason.contains("无法识别文件编码"));
}

#[test]
fn empty_and_html_files_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.csv", "");
    assert!(open(&empty).err().unwrap().reason.contains("空"));
    let blank = write(dir.path(), "blank.csv", "\n\n,,,\n");
    assert!(check(&blank).problems[0].reason.contains("表头"));
    let html = write(dir.path(), "导出.xls", "<html><body><table><tr><td>户编号</td></tr></table></body></html>");
    let err = open(&html).err().unwrap();
    assert!(err.reason.contains("网页"), "{err}");
}

#[test]
fn broken_quoting_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    // A quote opened on line 3 and never closed swallows the rest of the file.
    let unclosed = "人编号,户编号,姓名,与户主关系\nP001,H001,张三,户主\nP002,H001,\"李四,配偶\nP003,H001,王五,之子\n";
    let report = check(&write(dir.path(), "a.csv", unclosed));
    assert!(report.refused());
    let p = report
        .problems
        .iter()
        .find(|p| p.reason.contains("引号"))
        .unwrap_or_else(|| panic!("{}", listing(&report.problems)));
    assert_eq!(p.line, Some(3), "{}", listing(&report.problems));
    // A stray quote closed two lines later merges rows: the cell count gives it away.
    let stray = "人编号,户编号,姓名,与户主关系\nP001,H001,\"张三,户主\nP002,H001,李四\",配偶\nP003,H001,王五,之子\n";
    let report = check(&write(dir.path(), "b.csv", stray));
    let p = report
        .problems
        .iter()
        .find(|p| p.reason.contains("引号"))
        .unwrap_or_else(|| panic!("{}", listing(&report.problems)));
    assert_eq!(p.line, Some(2));
    // A quoted cell with a line break inside, closed properly, is fine.
    let multiline = "人编号,户编号,姓名,与户主关系,务工企业名称\nP001,H001,张三,户主,\"某某公司\n第二车间\"\n";
    let report = check(&write(dir.path(), "c.csv", multiline));
    assert!(!report.refused(), "{}", listing(&report.problems));
    // An unquoted comma inside a cell makes one cell too many.
    let comma = "人编号,户编号,姓名,与户主关系\nP001,H001,张,三,户主\n";
    let report = check(&write(dir.path(), "d.csv", comma));
    assert_eq!(report.problems.len(), 2, "{}", listing(&report.problems));
    assert!(report.problems.iter().any(|p| p.reason.contains("多出") && p.column.as_deref() == Some("E")));
}

#[test]
fn headers_that_match_no_table_list_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.csv", "foo,bar,baz\n1,2,3\n");
    let report = check(&path);
    assert!(report.table.is_none());
    let p = &report.problems[0];
    assert_eq!(p.line, Some(1));
    for expected in ["户信息", "家庭成员", "户编号", "人编号", "收入情况"] {
        assert!(p.reason.contains(expected), "{p}");
    }
}

#[test]
fn unknown_and_duplicate_headers_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = persons_csv().replacen("在校生状况", "在校生状况,备注,姓名", 1);
    let report = check(&write(dir.path(), "persons.csv", csv));
    let unknown = report
        .problems
        .iter()
        .find(|p| p.reason.contains("备注"))
        .unwrap_or_else(|| panic!("{}", listing(&report.problems)));
    assert_eq!((unknown.line, unknown.column.as_deref()), (Some(1), Some("L")));
    let twice = report
        .problems
        .iter()
        .find(|p| p.reason.contains("两次"))
        .unwrap_or_else(|| panic!("{}", listing(&report.problems)));
    assert!(twice.reason.contains("C列和M列"), "{twice}");
}

#[test]
fn a_missing_person_id_is_an_error_as_header_and_as_value() {
    let dir = tempfile::tempdir().unwrap();
    let no_header = "户编号,姓名,与户主关系\nH001,张三,户主\n";
    let report = check(&write(dir.path(), "persons.csv", no_header));
    assert_eq!(report.table.unwrap().name, "persons");
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    assert!(report.problems[0].to_string().contains("缺少必填列「人编号」"));
    let no_value = "人编号,户编号,姓名,与户主关系\nP001,H001,张三,户主\n,H001,李四,配偶\n";
    let report = check(&write(dir.path(), "persons2.csv", no_value));
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    let p = &report.problems[0];
    assert_eq!((p.line, p.column.as_deref(), p.header.as_deref()), (Some(3), Some("A"), Some("人编号")));
    assert_eq!(p.to_string(), "persons2.csv 第3行 A列「人编号」：必填的「人编号」为空");
}

#[test]
fn unknown_codes_and_villages_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let persons = persons_csv().replace("土家族", "火星族");
    let report = check(&write(dir.path(), "persons.csv", persons));
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    let p = &report.problems[0];
    assert_eq!((p.line, p.column.as_deref()), (Some(4), Some("I")));
    assert!(p.reason.contains("火星族"));

    let households = format!("户编号,行政村代码,户类型\nH001,{VILLAGE},2\nH002,610981999999,在册贫困户\n");
    let report = check(&write(dir.path(), "households.csv", households));
    assert_eq!(report.table.unwrap().name, "households");
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    assert!(
        report.problems[0]
            .to_string()
            .starts_with("households.csv 第3行 B列「行政村代码」：行政村代码「610981999999」不在本县")
    );
}

#[test]
fn scientific_notation_id_numbers_are_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let csv = persons_csv().replace(&id(1972, 8, 9, 22, false), "6.10981E+17");
    let report = check(&write(dir.path(), "persons.csv", csv));
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    let p = &report.problems[0];
    assert_eq!((p.line, p.column.as_deref(), p.severity), (Some(3), Some("G"), Severity::Error));
    assert!(p.reason.contains("科学计数法") && p.reason.contains("文本"), "{p}");
}

#[test]
fn every_bad_row_is_listed_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "人编号,户编号,姓名,与户主关系,出生日期\n\
               P001,H001,张三,户主,1970-05-04\n\
               P002,H001,李四,老伴,1972-08-09\n\
               P003,H001,王五,之子,2005-02-30\n\
               P004,,赵六,之女,2007-01-01\n\
               P005,H001,钱七,之女,2009-01-01\n";
    let report = check(&write(dir.path(), "persons.csv", csv));
    assert_eq!(report.rows, 5);
    let lines: Vec<u64> = report.problems.iter().filter(|p| p.is_error()).filter_map(|p| p.line).collect();
    assert_eq!(lines, vec![3, 4, 5], "{}", listing(&report.problems));
}

#[test]
fn duplicate_keys_within_a_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "人编号,户编号,姓名,与户主关系\nP001,H001,张三,户主\nP001,H001,李四,配偶\n";
    let report = check(&write(dir.path(), "persons.csv", csv));
    assert_eq!(report.problems.len(), 1);
    assert!(report.problems[0].reason.contains("与第2行重复"), "{}", report.problems[0]);
}

#[test]
fn bad_id_numbers_are_kept_and_reported_as_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let good = id(1972, 8, 9, 22, false);
    let mut bad = good.clone();
    let last = if bad.ends_with('1') { "2" } else { "1" };
    bad.replace_range(17..18, last);
    let lower = id(1980, 1, 1, 5, true);
    let csv = format!(
        "人编号,户编号,姓名,证件类型,证件号码,与户主关系\n\
         P001,H001,张三,01,{bad},户主\n\
         P002,H002,李四,01,610928850312021,户主\n\
         P003,H003,王五,01,1234,户主\n\
         P004,H004,赵六,,{},户主\n",
        lower.to_lowercase()
    );
    let path = write(dir.path(), "persons.csv", csv);
    let mut reader = FileReader::open(&path, ctx()).unwrap();
    let rows: Vec<_> = reader.by_ref().collect();
    assert!(!reader.refused());
    let idn = |i: usize| get(&rows[i].values, "id_number").clone();
    assert_eq!(idn(0), text(&bad));
    assert!(rows[0].problems[0].reason.contains("校验位"));
    assert_eq!(rows[0].problems[0].severity, Severity::Warning);
    assert_eq!(idn(1).as_text().unwrap().len(), 18, "15 digits are upgraded");
    assert!(rows[1].problems.is_empty());
    assert!(rows[2].problems[0].reason.contains("位数"));
    assert_eq!(idn(3), text(&lower.to_uppercase()));
}

/// A persons workbook as counties make them: a title row, numbers and dates as Excel
/// cells, and one ID number typed into a number cell.
fn persons_xlsx(path: &std::path::Path) {
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("说明").unwrap().write_string(0, 0, "见下一张表").unwrap();
    let sheet = wb.add_worksheet().set_name("家庭成员").unwrap();
    let date = XFormat::new().set_num_format("yyyy-mm-dd");
    sheet.write_string(0, 0, "2019年家庭成员信息表").unwrap();
    let headers = ["人编号", "户编号", "姓名", "出生日期", "证件号码", "与户主关系", "联系电话", "务工时间（月）"];
    for (i, h) in headers.iter().enumerate() {
        sheet.write_string(1, i as u16, *h).unwrap();
    }
    type Person<'a> = (&'a str, f64, &'a str, (u16, u8, u8), Option<String>, &'a str);
    let rows: [Person; 2] = [
        ("P001", 1001.0, "张三", (1970, 5, 4), Some(id(1970, 5, 4, 11, true)), "户主"),
        ("P002", 1001.0, "李四", (1972, 8, 9), None, "配偶"),
    ];
    for (r, (pid, hh, name, (y, m, d), idn, rel)) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        sheet.write_string(r, 0, *pid).unwrap();
        sheet.write_number(r, 1, *hh).unwrap();
        sheet.write_string(r, 2, *name).unwrap();
        sheet.write_datetime_with_format(r, 3, ExcelDateTime::from_ymd(*y, *m, *d).unwrap(), &date).unwrap();
        match idn {
            Some(s) => sheet.write_string(r, 4, s).unwrap(),
            None => sheet.write_number(r, 4, 610981197208090221.0).unwrap(),
        };
        sheet.write_string(r, 5, *rel).unwrap();
        sheet.write_number(r, 6, 13812341234.0).unwrap();
        sheet.write_number(r, 7, 6.0).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn xlsx_with_title_row_dates_numbers_and_a_number_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2019成员.xlsx");
    persons_xlsx(&path);
    let source = open(&path).unwrap();
    assert_eq!((source.format(), source.sheet()), (Format::Xlsx, Some("家庭成员")));
    let mut reader = FileReader::open(&path, ctx()).unwrap();
    assert_eq!((reader.table().name, reader.header_line()), ("persons", 2));
    let rows: Vec<_> = reader.by_ref().collect();
    assert_eq!(rows.len(), 2);
    let r0 = &rows[0];
    assert!(r0.problems.is_empty(), "{}", listing(&r0.problems));
    assert_eq!(get(&r0.values, "hh_id"), &text("1001"));
    assert_eq!(get(&r0.values, "birth_date"), &text("1970-05-04"));
    assert_eq!(get(&r0.values, "phone"), &text("13812341234"));
    assert_eq!(get(&r0.values, "migrant_months"), &Value::Int(6));
    let p = &rows[1].problems;
    assert_eq!(p.len(), 1, "{}", listing(p));
    assert_eq!((p[0].line, p[0].column.as_deref(), p[0].sheet.as_deref()), (Some(4), Some("E"), Some("家庭成员")));
    assert!(p[0].reason.contains("6.10981197208090E+17") || p[0].reason.contains("科学计数法"), "{}", p[0]);
    assert!(reader.refused());
}

#[test]
fn truncated_xlsx_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.xlsx");
    persons_xlsx(&path);
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 10, 100] {
        let cut_path = write(dir.path(), "cut.xlsx", &bytes[..cut]);
        let report = check(&cut_path);
        assert!(report.refused());
        assert!(report.problems[0].reason.contains("损坏或不完整"), "{}", listing(&report.problems));
    }
}

#[test]
fn legacy_xls_is_read() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/persons.xls");
    let source = open(&path).unwrap();
    assert_eq!((source.format(), source.sheet()), (Format::Xls, Some("家庭成员")));
    let mut reader = FileReader::open(&path, ctx()).unwrap();
    let rows: Vec<_> = reader.by_ref().collect();
    assert!(!reader.refused(), "{}", listing(&rows.iter().flat_map(|r| r.problems.clone()).collect::<Vec<_>>()));
    assert_eq!(rows.len(), 2);
    assert_eq!(get(&rows[0].values, "hh_id"), &text("1001"));
    assert_eq!(get(&rows[0].values, "birth_date"), &text("1970-05-04"));
    assert_eq!(get(&rows[1].values, "id_number"), &text("610981197208090221"));
    assert_eq!(get(&rows[1].values, "health"), &text("02"));
    assert_eq!(get(&rows[1].values, "migrant_months"), &Value::Int(10));
}

#[test]
fn problems_are_written_as_a_workbook() {
    let dir = tempfile::tempdir().unwrap();
    let csv = persons_csv().replace("土家族", "火星族").replace("P002", "");
    let report = check(&write(dir.path(), "persons.csv", csv));
    assert_eq!(report.problems.len(), 2);
    let out = dir.path().join("errors.xlsx");
    assert_eq!(write_problems_xlsx(&report.problems, &out).unwrap(), 2);
    let rows: Vec<_> = open(&out).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows[0].cells, ["文件", "工作表", "行", "列", "表头", "级别", "原因"]);
    assert_eq!(rows[1].cells[..6], ["persons.csv", "", "3", "A", "人编号", "错误"]);
    assert_eq!(rows.len(), 3);
}

#[test]
fn households_values_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "户编号,行政村代码,村民小组,户类型,识别年度,耕地面积(亩),是否危房户,纳入监测日期\n\
         H001,{VILLAGE},3组,在册贫困户,2014,2.5,是,2021/6/1\n"
    );
    let path = write(dir.path(), "households.csv", csv);
    let mut reader = FileReader::open(&path, ctx()).unwrap();
    let row = reader.next_row().unwrap();
    assert!(row.problems.is_empty(), "{}", listing(&row.problems));
    let v = |n: &str| row.get(&HOUSEHOLDS, n).unwrap().clone();
    assert_eq!(v("group_no"), Value::Int(3));
    assert_eq!(v("status"), text("2"));
    assert_eq!(v("identified_year"), Value::Int(2014));
    assert_eq!(v("farmland_mu"), Value::Real(2.5));
    assert_eq!(v("dangerous_house"), Value::Int(1));
    assert_eq!(v("monitor_since"), text("2021-06-01"));
    assert_eq!(v("phone"), Value::Null);
    let present = reader.columns_present();
    assert!(present[HOUSEHOLDS.index_of("farmland_mu").unwrap()]);
    assert!(!present[HOUSEHOLDS.index_of("phone").unwrap()]);
}

#[test]
fn gbk_with_crlf_line_endings_reports_the_right_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = persons_csv().replace("土家族", "火星族").replace('\n', "\r\n");
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    let report = check(&write(dir.path(), "persons.csv", &bytes));
    assert_eq!(report.problems.len(), 1, "{}", listing(&report.problems));
    assert_eq!(report.problems[0].line, Some(4), "{}", listing(&report.problems));
}

#[test]
fn a_damaged_byte_deep_in_a_utf8_file_is_not_read_as_gbk() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = persons_csv().into_bytes();
    let at = bytes.len() - 20;
    bytes[at] = 0xFF;
    let err = open(&write(dir.path(), "persons.csv", &bytes)).err().expect("refused");
    assert!(err.reason.contains("UTF-8") && err.reason.contains("第4行"), "{err}");
}
