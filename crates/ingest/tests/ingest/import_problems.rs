//! The import driver's problems on a real registry: files refused whole with every
//! error at its place, and data-quality faults imported and reported as warnings.
//! Helpers in `import`.

use fupin_domain::schema::TABLES;
use fupin_ingest::{Problem, Severity, write_problems_xlsx};

use crate::common::{listing, write};
use crate::import::{Sheet, applied, at, county, imported, line, refused, registry, run, unchanged, verified};

// ---------------------------------------------------------------------------------
// Refused imports

#[tokio::test]
async fn unreadable_files_are_refused_whole() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let persons_text = std::fs::read_to_string(c.file("persons")).unwrap();

    // Broken quoting: a quote opened on line 5 and never closed.
    let mut lines: Vec<String> = persons_text.lines().map(str::to_owned).collect();
    lines[4] = lines[4].replacen(',', ",\"", 1);
    let errors = refused(&db.store, &[write(d, "persons.csv", lines.join("\n") + "\n")]).await;
    let p = errors.iter().find(|p| p.reason.contains("引号")).unwrap_or_else(|| panic!("{}", listing(&errors)));
    assert_eq!((p.file.as_str(), p.line), ("persons.csv", Some(5)), "{p}");
    assert!(p.to_string().starts_with("persons.csv 第5行"), "{p}");

    // A wrong header: 「名字」 for 「姓名」.
    let wrong = persons_text.replacen("姓名", "名字", 1);
    let errors = refused(&db.store, &[write(d, "persons.csv", &wrong)]).await;
    let p = errors.iter().find(|p| p.reason.contains("名字")).unwrap_or_else(|| panic!("{}", listing(&errors)));
    assert_eq!((p.line, p.column.as_deref()), (Some(1), Some("C")), "{p}");
    assert!(p.to_string().starts_with("persons.csv 第1行 C列「名字」："), "{p}");
    assert!(errors.iter().any(|p| p.reason.contains("缺少必填列「姓名」")), "{}", listing(&errors));

    // Headers of no table at all.
    let errors = refused(&db.store, &[write(d, "x.csv", "foo,bar,baz\n1,2,3\n")]).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().starts_with("x.csv 第1行："), "{}", errors[0]);
    assert!(errors[0].reason.contains("户编号"), "{}", errors[0]);

    // A missing required column, for persons (人编号) and households (户编号).
    for (table, header) in [("persons", "人编号"), ("households", "户编号"), ("persons", "户编号")] {
        let mut sheet = c.sheet(table);
        let col = sheet.col(header);
        sheet.header.remove(col);
        for r in &mut sheet.rows {
            r.remove(col);
        }
        let name = format!("{table}.csv");
        let errors = refused(&db.store, &[sheet.write(d, &name)]).await;
        let want = format!("{name} 第1行「{header}」：缺少必填列「{header}」");
        assert!(errors.iter().any(|p| p.to_string() == want), "{want} not in:\n{}", listing(&errors));
    }

    // Random bytes: no encoding fits.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8 | 0x80
        })
        .collect();
    let errors = refused(&db.store, &[write(d, "persons.csv", garbage)]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    assert!(errors[0].to_string().starts_with("persons.csv：") && errors[0].reason.contains("编码"), "{}", errors[0]);

    // A truncated workbook.
    let mut rows = Vec::new();
    db.store
        .for_each_row::<fupin_store::StoreError>(&fupin_domain::schema::PERSONS, |r| {
            rows.push(r);
            Ok(())
        })
        .await
        .unwrap();
    let full = d.join("full.xlsx");
    fupin_ingest::export(&full, &fupin_domain::schema::PERSONS, &rows).unwrap();
    let bytes = std::fs::read(&full).unwrap();
    let errors = refused(&db.store, &[write(d, "persons.xlsx", &bytes[..bytes.len() / 2])]).await;
    assert!(
        errors.iter().any(|p| p.file == "persons.xlsx" && p.reason.contains("损坏或不完整")),
        "{}",
        listing(&errors)
    );
}

#[tokio::test]
async fn bad_values_are_refused_whole_with_their_place() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let persons = c.sheet("persons");

    // Missing 户编号 and 人编号 values.
    let mut s = persons.clone();
    s.set(3, "户编号", "");
    s.set(7, "人编号", "");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "persons.csv", line(3), "B", "户编号").reason.contains("为空"));
    assert!(at(&errors, "persons.csv", line(7), "A", "人编号").reason.contains("为空"));

    // A code found in no version of its list (民族), by label and by code.
    let mut s = persons.clone();
    s.set(5, "民族", "火星族");
    s.set(6, "民族", "99");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "persons.csv", line(5), "I", "民族").reason.contains("火星族"));
    assert!(at(&errors, "persons.csv", line(6), "I", "民族").reason.contains("99"));

    // An ID number Excel turned into scientific notation.
    let mut s = persons.clone();
    s.set(10, "证件号码", "6.10981E+17");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    let p = at(&errors, "persons.csv", line(10), "G", "证件号码");
    assert!(p.reason.contains("科学计数法"), "{p}");

    // A persons row whose 户编号 is neither in the registry nor in the import.
    let mut s = persons.clone();
    s.set(12, "户编号", "61098199999999999");
    let errors = refused(&db.store, &[s.write(d, "persons.csv")]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    let p = at(&errors, "persons.csv", line(12), "B", "户编号");
    assert!(p.reason.contains("61098199999999999") && p.reason.contains("不存在"), "{p}");

    // A village outside the registry: another county's, and no village at all.
    let mut h = c.sheet("households");
    h.set(2, "行政村代码", "610902100201");
    h.set(4, "行政村代码", "610981999999");
    let errors = refused(&db.store, &[h.write(d, "households.csv")]).await;
    assert_eq!(errors.len(), 2, "{}", listing(&errors));
    assert!(at(&errors, "households.csv", line(2), "B", "行政村代码").reason.contains("不在本县"));
    assert!(at(&errors, "households.csv", line(4), "B", "行政村代码").reason.contains("610981999999"));
}

#[tokio::test]
async fn every_bad_row_is_listed() {
    let c = county(0);
    let db = imported(&c).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = c.sheet("persons");
    s.set(1, "与户主关系", "老伴");
    s.set(20, "出生日期", "2005-02-30");
    s.set(40, "户编号", "");
    let errors = refused(&db.store, &[s.write(dir.path(), "persons.csv")]).await;
    assert_eq!(errors.len(), 3, "{}", listing(&errors));
    let lines: Vec<u64> = errors.iter().filter_map(|p| p.line).collect();
    assert_eq!(lines, [line(1), line(20), line(40)]);
    at(&errors, "persons.csv", line(1), "H", "与户主关系");
    at(&errors, "persons.csv", line(20), "E", "出生日期");
    at(&errors, "persons.csv", line(40), "B", "户编号");

    // The same problems as the workbook `--errors` writes, read back with calamine.
    let out = dir.path().join("问题.xlsx");
    assert_eq!(write_problems_xlsx(&errors, &out).unwrap(), 3);
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(&out).unwrap();
    assert_eq!(wb.sheet_names(), ["问题清单"]);
    let range = wb.worksheet_range("问题清单").unwrap();
    let cells: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(cells[0], ["文件", "工作表", "行", "列", "表头", "级别", "原因"]);
    assert_eq!(cells.len(), 4);
    for (row, p) in cells[1..].iter().zip(&errors) {
        let want = [
            p.file.clone(),
            String::new(),
            p.line.unwrap().to_string(),
            p.column.clone().unwrap(),
            p.header.clone().unwrap(),
            "错误".into(),
            p.reason.clone(),
        ];
        assert_eq!(row[..], want[..]);
    }
}

#[tokio::test]
async fn one_bad_file_refuses_every_file_of_the_import() {
    let c = county(0);
    let dir = tempfile::tempdir().unwrap();
    let mut bad = c.sheet("persons");
    bad.set(30, "证件号码", "6.10981E+17");
    let bad = bad.write(dir.path(), "persons.csv");

    // Into an empty registry: the good households file is not applied either.
    let db = registry().await;
    let errors = refused(&db.store, &[c.file("households"), bad.clone()]).await;
    assert_eq!(errors.len(), 1, "{}", listing(&errors));
    at(&errors, "persons.csv", line(30), "G", "证件号码");
    assert_eq!(db.store.count("households").await.unwrap(), 0);

    // Into a full registry: a changed household is not applied while persons is bad.
    let db = imported(&c).await;
    let mut h = c.sheet("households");
    h.set(0, "联系电话", "13900000000");
    let good = h.write(dir.path(), "households.csv");
    refused(&db.store, &[good.clone(), bad]).await;
    let (phone,): (Option<String>,) = sqlx::query_as("SELECT phone FROM households WHERE hh_id = $1")
        .bind(h.get(0, "户编号"))
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_ne!(phone.as_deref(), Some("13900000000"));
    // Alone it applies.
    applied(&db.store, &[good]).await;
}

// ---------------------------------------------------------------------------------
// Data-quality problems: kept, and reported with their place

#[tokio::test]
async fn data_quality_faults_are_imported_and_reported_as_warnings() {
    let c = county(fupin_synth::FAULT_KINDS.len());
    let db = registry().await;
    let o = applied(&db.store, &c.files).await;
    let warnings: Vec<Problem> = o.problems.iter().filter(|p| p.severity == Severity::Warning).cloned().collect();
    assert_eq!(warnings.len() as u64, o.warnings);
    let persons = c.sheet("persons");
    let households = c.sheet("households");
    let incomes = c.sheet("incomes");
    let mut seen = Vec::new();
    for f in c.key_faults() {
        let (kind, hh, pid, detail) = (f[0].as_str(), f[1].as_str(), f[2].as_str(), f[3].as_str());
        let person_line = || line(persons.find("人编号", pid));
        let p = match kind {
            "id_checksum" => at(&warnings, "persons.csv", person_line(), "G", "证件号码"),
            "id_length" => at(&warnings, "persons.csv", person_line(), "G", "证件号码"),
            "duplicate_id" => {
                let other = detail.split("人编号 ").nth(1).unwrap().split(' ').next().unwrap();
                let later = person_line().max(line(persons.find("人编号", other)));
                at(&warnings, "persons.csv", later, "G", "证件号码")
            }
            "head_spouse_same_sex" => {
                let head = (0..persons.rows.len())
                    .find(|&i| persons.get(i, "户编号") == hh && persons.get(i, "与户主关系") == "01")
                    .unwrap();
                at(&warnings, "persons.csv", person_line().max(line(head)), "H", "与户主关系")
            }
            "cause_illness_all_healthy" | "cause_school_no_student" | "cause_disability_nobody_disabled" => {
                at(&warnings, "households.csv", line(households.find("户编号", hh)), "AA", "主要致贫原因")
            }
            "income_not_adding_up" => {
                let year = &detail[..4];
                let row = (0..incomes.rows.len())
                    .find(|&i| incomes.get(i, "户编号") == hh && incomes.get(i, "年度") == year)
                    .unwrap();
                at(&warnings, "incomes.csv", line(row), "S", "人均纯收入")
            }
            _ => continue,
        };
        let expected = match kind {
            "id_checksum" => "校验位",
            "id_length" => "位数",
            "duplicate_id" => "一人两户",
            "head_spouse_same_sex" => "性别相同",
            "cause_illness_all_healthy" => "因病",
            "cause_school_no_student" => "因学",
            "cause_disability_nobody_disabled" => "因残",
            _ => "对不上",
        };
        assert_eq!(p.severity, Severity::Warning);
        assert!(p.reason.contains(expected), "{kind}: {p}");
        seen.push(kind.to_owned());
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "cause_disability_nobody_disabled",
            "cause_illness_all_healthy",
            "cause_school_no_student",
            "duplicate_id",
            "head_spouse_same_sex",
            "id_checksum",
            "id_length",
            "income_not_adding_up"
        ]
    );

    // The data is kept as given: the faulty ID numbers are stored.
    for kind in ["id_checksum", "id_length"] {
        let f = c.key_faults().into_iter().find(|f| f[0] == kind).unwrap();
        let in_file = persons.get(persons.find("人编号", &f[2]), "证件号码").to_owned();
        let (stored,): (Option<String>,) = sqlx::query_as("SELECT id_number FROM persons WHERE person_id = $1")
            .bind(&f[2])
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        assert_eq!(stored.as_deref(), Some(in_file.as_str()), "{kind}");
    }
    for t in TABLES {
        let rows = Sheet::read(&c.file(t.name)).rows.len() as i64;
        assert_eq!(db.store.count(t.name).await.unwrap(), rows, "{}", t.name);
    }
    verified(&db.store).await;
    // Importing them again changes nothing and reports the same warnings.
    let again = run(&db.store, &c.files).await;
    assert_eq!(again.problems, o.problems);
    unchanged(&db.store, &c.files).await;

    // The warnings as a workbook.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("提醒.xlsx");
    assert_eq!(write_problems_xlsx(&warnings, &out).unwrap(), warnings.len() as u64);
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto(&out).unwrap();
    let range = wb.worksheet_range("问题清单").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows.len(), warnings.len() + 1);
    assert!(rows[1..].iter().all(|r| r[5] == "提醒"));
    assert!(rows[1..].iter().any(|r| r[0] == "persons.csv" && r[3] == "G" && r[6].contains("校验位")));
}

#[tokio::test]
async fn the_2021_export_household_types_and_the_old_county_code_import() {
    // The 2021+ national export writes 户类型 as 脱贫户 / 监测户 and files from before
    // 2021 carry 旬阳县's 610928 in every 行政村代码: both read as the registry's codes.
    let c = county(0);
    let db = imported(&c).await;
    let mut households = c.sheet("households");
    let exited = households.find("户类型", "3");
    let ordinary = households.find("户类型", "1");
    households.set(exited, "户类型", "脱贫户");
    households.set(ordinary, "户类型", "监测户");
    let code = households.get(0, "行政村代码").to_owned();
    assert!(code.starts_with("610981"), "{code}");
    households.set(0, "行政村代码", &format!("610928{}", &code[6..]));
    let dir = tempfile::tempdir().unwrap();
    let file = households.write(dir.path(), "households.csv");
    unchanged(&db.store, std::slice::from_ref(&file)).await;
    let o = applied(&db.store, &[file]).await;
    let w = at(&o.problems, "households.csv", line(0), "B", "行政村代码");
    assert_eq!(w.severity, Severity::Warning);
    assert!(w.reason.contains("610928") && w.reason.contains(&code), "{}", w.reason);
    // A code of no county at all is still refused.
    households.set(0, "行政村代码", &format!("610999{}", &code[6..]));
    let bad = households.write(dir.path(), "households.csv");
    let errors = refused(&db.store, &[bad]).await;
    assert!(errors.iter().any(|e| e.reason.contains("不在本县")), "{}", listing(&errors));
}
