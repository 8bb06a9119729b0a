//! Shared helpers: the 旬阳 context, valid ID numbers, and files written at test time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fupin_domain::id_number::compose;
use fupin_ingest::{Context, Problem, Report, check_file};
use time::{Date, Month};

pub const VILLAGE: &str = "610981105201";

pub fn ctx() -> Arc<Context> {
    Arc::new(Context::builtin_xunyang())
}

/// A valid 18-character ID number born on `y-m-d`.
pub fn id(y: i32, m: u8, d: u8, seq: u16, male: bool) -> String {
    let birth = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap();
    compose("610981", birth, seq, male).to_string()
}

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn check(path: &Path) -> Report {
    check_file(path, ctx())
}

/// Problems as the user reads them, one a line, for readable assertion messages.
pub fn listing(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("{:?}: {p}", p.severity)).collect::<Vec<_>>().join("\n")
}

/// A small valid persons file (header + 3 rows) as text.
pub fn persons_csv() -> String {
    let head = id(1970, 5, 4, 11, true);
    let wife = id(1972, 8, 9, 22, false);
    let son = id(2005, 1, 2, 33, true);
    format!(
        "人编号,户编号,姓名,性别,出生日期,证件类型,证件号码,与户主关系,民族,健康状况,在校生状况\n\
         P001,H001,张三,男,1970-05-04,01,{head},户主,汉族,健康,非在校生\n\
         P002,H001,李四,女,1972/8/9,居民身份证,{wife},配偶,01,长期慢性病,01\n\
         P003,H001,张小,1,20050102,01,{son},之子,土家族,01,七年级\n"
    )
}
