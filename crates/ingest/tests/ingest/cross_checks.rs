//! Cross-row facts that real registries contain: kept, and reported with their place.

use crate::common::*;
use fupin_ingest::{CrossChecks, FileReader, Problem, Severity};

fn warnings_of(path: &std::path::Path) -> Vec<Problem> {
    let report = check(path);
    assert!(!report.refused(), "{}", listing(&report.problems));
    assert!(report.problems.iter().all(|p| p.severity == Severity::Warning));
    report.problems
}

#[test]
fn one_id_number_in_two_households() {
    let dir = tempfile::tempdir().unwrap();
    let same = id(1970, 5, 4, 11, true);
    let csv = format!(
        "人编号,户编号,姓名,证件号码,与户主关系\n\
         P001,H001,张三,{same},户主\n\
         P002,H002,张三,{same},户主\n\
         P003,H001,张三,{same},之子\n"
    );
    let w = warnings_of(&write(dir.path(), "persons.csv", csv));
    assert_eq!(w.len(), 2, "{}", listing(&w));
    assert_eq!((w[0].line, w[0].column.as_deref()), (Some(3), Some("D")));
    assert!(w[0].reason.contains("第2行的另一户") && w[0].reason.contains("一人两户"), "{}", w[0]);
    assert_eq!(w[1].line, Some(4));
    assert!(w[1].reason.contains("重复登记"), "{}", w[1]);
}

#[test]
fn head_and_spouse_of_the_same_sex() {
    let dir = tempfile::tempdir().unwrap();
    // The sex comes from the 性别 column, or from the ID number when that is empty.
    let csv = format!(
        "人编号,户编号,姓名,性别,证件号码,与户主关系\n\
         P001,H001,张三,男,,户主\n\
         P002,H001,李四,,{},配偶\n\
         P003,H002,王五,男,,户主\n\
         P004,H002,赵六,女,,配偶\n\
         P005,H002,钱七,女,,户主\n",
        id(1972, 8, 9, 21, true)
    );
    let w = warnings_of(&write(dir.path(), "persons.csv", csv));
    assert_eq!(w.len(), 2, "{}", listing(&w));
    assert_eq!(w[0].line, Some(3));
    assert!(w[0].reason.contains("户主与配偶性别相同（都是男，见第2行）"), "{}", w[0]);
    assert_eq!(w[1].line, Some(6));
    assert!(w[1].reason.contains("两个户主"), "{}", w[1]);
}

#[test]
fn a_head_who_died_is_history_beside_the_new_head() {
    let dir = tempfile::tempdir().unwrap();
    // 张三 died in 2023 and stays as history; his widow 李四 is the head since.
    let csv = "人编号,户编号,姓名,性别,与户主关系,人员状态,减员日期\n\
               P001,H001,张三,男,户主,死亡,2023-04-01\n\
               P002,H001,李四,女,户主,在户,\n\
               P003,H001,张小,男,之子,,\n";
    let w = warnings_of(&write(dir.path(), "persons.csv", csv));
    assert!(w.is_empty(), "a former head is not a second head: {}", listing(&w));
}

#[test]
fn sex_and_birth_date_that_disagree_with_the_id_number() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "人编号,户编号,姓名,性别,出生日期,证件号码,与户主关系\nP001,H001,张三,女,1970-05-05,{},户主\n",
        id(1970, 5, 4, 11, true)
    );
    let w = warnings_of(&write(dir.path(), "persons.csv", csv));
    assert_eq!(w.len(), 2, "{}", listing(&w));
    assert!(w.iter().any(|p| p.header.as_deref() == Some("出生日期") && p.reason.contains("1970-05-04")));
    assert!(w.iter().any(|p| p.header.as_deref() == Some("性别")));
}

#[test]
fn main_causes_need_a_member_who_bears_them_out() {
    let dir = tempfile::tempdir().unwrap();
    let households = write(
        dir.path(),
        "households.csv",
        format!(
            "户编号,行政村代码,户类型,主要致贫原因\n\
             H001,{VILLAGE},2,因病\n\
             H002,{VILLAGE},2,因学\n\
             H003,{VILLAGE},2,02\n\
             H004,{VILLAGE},2,因病\n\
             H005,{VILLAGE},2,因残\n"
        ),
    );
    let persons = write(
        dir.path(),
        "persons.csv",
        "人编号,户编号,姓名,与户主关系,健康状况,在校生状况\n\
         P1,H001,甲,户主,健康,非在校生\n\
         P2,H002,乙,户主,健康,01\n\
         P3,H003,丙,户主,长期慢性病;残疾,\n\
         P4,H004,丁,户主,患有大病,\n\
         P5,H002,戊,之子,健康,\n",
    );
    let ctx = ctx();
    let mut cross = CrossChecks::new(&ctx);
    // Persons first: the order of the files does not matter.
    for path in [&persons, &households] {
        let mut reader = FileReader::open(path, ctx.clone()).unwrap();
        let locator = reader.locator().clone();
        while let Some(row) = reader.next_row() {
            assert!(!row.has_errors(), "{}", listing(&row.problems));
            cross.feed(&locator, &row);
        }
    }
    let w = cross.finish();
    // H001 因病 with nobody sick, H002 因学 with no student; H003 因残 is borne out,
    // H004 因病 too; H005 has no members in the file and is not judged.
    assert_eq!(w.len(), 2, "{}", listing(&w));
    assert_eq!(
        w[0].to_string(),
        "households.csv 第2行 D列「主要致贫原因」：户「H001」主要致贫原因为“因病”，但家庭成员中没有人健康状况为长期慢性病或患有大病"
    );
    assert_eq!(w[1].line, Some(3));
    assert!(w[1].reason.contains("在校生"));
}

#[test]
fn incomes_that_do_not_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "户编号,年度,家庭人口数,工资性收入,种植业收入,生产经营性支出,低保金,人均纯收入\n\
               H001,2019,4,10000,3000,1000,1000,3250\n\
               H002,2019,4,10000,3000,1000,1000,3000\n\
               H003,2019,3,1000,,,,333.33\n";
    let w = warnings_of(&write(dir.path(), "incomes.csv", csv));
    assert_eq!(w.len(), 1, "{}", listing(&w));
    assert_eq!(w[0].line, Some(3));
    assert_eq!(w[0].header.as_deref(), Some("人均纯收入"));
    assert_eq!(
        w[0].reason,
        "人均纯收入 3000 元与各项收入对不上：（收入合计 14000 元 − 生产经营性支出 1000 元）÷ 4 人 = 3250 元，相差 250 元"
    );
}
