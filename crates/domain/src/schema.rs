//! The registry's tables, column by column: the one description that the database
//! schema, the exchange files (their Chinese headers), the importer's validation, the
//! exporter, the generator and the change history all follow.
//!
//! Column names are English; headers are the Chinese ones the national system's exports
//! use. A change here needs a new migration in `crates/store/migrations/` (a test in the
//! store compares this description with the migrated database).

/// How a column's text is read, checked and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Free text of at most this many characters.
    Text(usize),
    /// An identifier such as 户编号 or 人编号: letters, digits and `-`, at most 40.
    Key,
    /// A 户编号 or 帮扶人编号 that refers to a row of the named table.
    Ref(&'static str),
    /// One code of the named list in `data/codes/`; its label is accepted too.
    Code(&'static str),
    /// Up to the given number of codes of the named list, separated by `;`, `、` or `,`.
    Codes(&'static str, usize),
    /// 证件号码, checked against the row's 证件类型 (a failing number is kept and reported).
    IdNumber,
    /// A calendar date, stored as ISO-8601 text.
    Date,
    /// A year between 1949 and 2100.
    Year,
    /// A whole number.
    Int,
    /// A decimal number (亩, 平方米, 公里).
    Decimal,
    /// Money in 元 with at most two decimals, stored as whole fen.
    Money,
    /// 是/否 (also 1/0, Y/N, true/false), stored as 1/0.
    Bool,
    /// A 12-digit village code that must exist in the registry's division tree.
    Village,
}

/// How the database stores a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Text,
    Integer,
    Real,
}

impl Kind {
    pub fn storage(self) -> Storage {
        match self {
            Kind::Int | Kind::Year | Kind::Bool | Kind::Money => Storage::Integer,
            Kind::Decimal => Storage::Real,
            _ => Storage::Text,
        }
    }
}

/// Which masking a personal column needs on pages, downloads and API answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personal {
    IdNumber,
    Phone,
    Account,
}

/// What a column of 收入情况 is in 人均纯收入 = (Σ income lines − Σ costs) ÷ 家庭人口数
/// (REFERENCE §1.1): the importer's sum check and every other sum read it from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An income line added to the total (工资性收入 … 其他转移性收入).
    Income,
    /// A cost subtracted from it (生产经营性支出).
    Cost,
}

/// One column of a registry table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// English column name in the database.
    pub name: &'static str,
    /// Chinese header in exchange files.
    pub header: &'static str,
    pub kind: Kind,
    /// A row without it cannot be keyed or placed, and the file is refused.
    pub required: bool,
    pub personal: Option<Personal>,
    /// Its part in a sum the schema defines (the income lines of 收入情况), if any.
    pub role: Option<Role>,
}

/// One registry table and its exchange file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// Database table name, also the exchange file's stem (`households.csv`).
    pub name: &'static str,
    /// Chinese title, also the XLSX sheet name.
    pub title: &'static str,
    /// Primary-key columns.
    pub key: &'static [&'static str],
    /// A file is authoritative for the groups (households) it lists: rows of a listed
    /// group that the file does not list are removed. `None`: rows are only upserted.
    pub authoritative_by: Option<&'static str>,
    pub columns: &'static [Column],
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn by_header(&self, header: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.header == header)
    }

    /// The columns with this role, in the table's order.
    pub fn columns_of(&self, role: Role) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(move |c| c.role == Some(role))
    }

    /// Positions of the key columns.
    pub fn key_indices(&self) -> Vec<usize> {
        self.key.iter().map(|k| self.index_of(k).expect("key column exists")).collect()
    }
}

const fn col(name: &'static str, header: &'static str, kind: Kind) -> Column {
    Column { name, header, kind, required: false, personal: None, role: None }
}
const fn req(name: &'static str, header: &'static str, kind: Kind) -> Column {
    Column { name, header, kind, required: true, personal: None, role: None }
}
const fn personal(name: &'static str, header: &'static str, kind: Kind, p: Personal) -> Column {
    Column { name, header, kind, required: false, personal: Some(p), role: None }
}
/// A money column with its role in 人均纯收入.
const fn money(name: &'static str, header: &'static str, role: Role) -> Column {
    Column { name, header, kind: Money, required: false, personal: None, role: Some(role) }
}

use Kind::*;

/// 户信息: one row per rural household, registered or not.
pub static HOUSEHOLDS: Table = Table {
    name: "households",
    title: "户信息",
    key: &["hh_id"],
    authoritative_by: None,
    columns: &[
        req("hh_id", "户编号", Key),
        req("village_code", "行政村代码", Village),
        col("group_no", "村民小组", Int),
        personal("phone", "联系电话", Text(20), Personal::Phone),
        col("bank_name", "开户银行", Text(60)),
        personal("bank_account", "银行账号", Text(40), Personal::Account),
        req("status", "户类型", Code("household_status")),
        col("standard", "识别标准", Code("standard")),
        col("attribute", "贫困户属性", Code("attribute")),
        col("identified_year", "识别年度", Year),
        col("planned_exit_year", "计划脱贫年度", Year),
        col("exit_year", "脱贫年度", Year),
        col("relapse_year", "返贫年度", Year),
        col("monitor_type", "监测对象类型", Code("monitor_type")),
        col("monitor_since", "纳入监测日期", Date),
        col("risk1", "风险类型1", Code("risk")),
        col("risk1_on", "风险1识别日期", Date),
        col("risk2", "风险类型2", Code("risk")),
        col("risk2_on", "风险2识别日期", Date),
        col("risk3", "风险类型3", Code("risk")),
        col("risk3_on", "风险3识别日期", Date),
        col("risk4", "风险类型4", Code("risk")),
        col("risk4_on", "风险4识别日期", Date),
        col("risk5", "风险类型5", Code("risk")),
        col("risk5_on", "风险5识别日期", Date),
        col("risk_cleared_on", "风险消除日期", Date),
        col("main_cause", "主要致贫原因", Code("cause")),
        col("other_cause1", "其他致贫原因1", Code("cause")),
        col("other_cause2", "其他致贫原因2", Code("cause")),
        col("military_family", "是否军烈属", Bool),
        col("one_child", "是否独生子女户", Bool),
        col("two_daughters", "是否双女户", Bool),
        col("farmland_mu", "耕地面积（亩）", Decimal),
        col("irrigated_mu", "有效灌溉面积（亩）", Decimal),
        col("forest_mu", "林地面积（亩）", Decimal),
        col("returned_forest_mu", "退耕还林面积（亩）", Decimal),
        col("orchard_mu", "林果面积（亩）", Decimal),
        col("pasture_mu", "牧草地面积（亩）", Decimal),
        col("water_surface_mu", "水面面积（亩）", Decimal),
        col("farm_power", "是否通生产用电", Bool),
        col("home_power", "是否通生活用电", Bool),
        col("radio_tv", "是否通广播电视", Bool),
        col("water_difficult", "是否饮水困难", Bool),
        col("water_safe", "是否饮水安全", Bool),
        col("road_km", "与村主干路距离（公里）", Decimal),
        col("path_type", "入户路类型", Code("path_type")),
        col("house_area", "住房面积（平方米）", Decimal),
        col("dangerous_house", "是否危房户", Bool),
        col("danger_grade", "危房等级", Code("danger_grade")),
        col("toilet", "是否有卫生厕所", Bool),
        col("fuel", "主要燃料类型", Code("fuel")),
        col("coop", "是否加入农民专业合作社", Bool),
        col("relocation_type", "易地搬迁类型", Code("relocation_type")),
        col("relocation_mode", "安置方式", Code("relocation_mode")),
        col("relocation_site", "安置地点", Text(100)),
        col("relocation_site_code", "安置点区划代码", Text(12)),
        col("relocation_year", "搬迁年度", Year),
        col("relocation_area", "安置住房面积（平方米）", Decimal),
        col("old_house_demolished", "是否拆除旧房", Bool),
    ],
};

/// 家庭成员: one row per person, keyed by a stable 人编号.
pub static PERSONS: Table = Table {
    name: "persons",
    title: "家庭成员",
    key: &["person_id"],
    authoritative_by: Some("hh_id"),
    columns: &[
        req("person_id", "人编号", Key),
        req("hh_id", "户编号", Ref("households")),
        req("name", "姓名", Text(50)),
        col("sex", "性别", Code("sex")),
        col("birth_date", "出生日期", Date),
        col("id_type", "证件类型", Code("id_type")),
        personal("id_number", "证件号码", IdNumber, Personal::IdNumber),
        req("relation", "与户主关系", Code("relation")),
        col("ethnicity", "民族", Code("ethnicity")),
        col("political", "政治面貌", Code("political")),
        col("education", "文化程度", Code("education")),
        col("school_status", "在校生状况", Code("school_status")),
        col("health", "健康状况", Codes("health", 3)),
        col("disease", "患病名称", Text(100)),
        personal("disability_cert", "残疾证号", Text(30), Personal::IdNumber),
        col("labour", "劳动技能", Code("labour")),
        col("skills", "掌握实用技术", Text(100)),
        col("trained", "是否参加技能培训", Bool),
        col("migrant_place", "务工区域", Code("migrant_place")),
        col("migrant_months", "务工时间（月）", Int),
        col("employer", "务工企业名称", Text(100)),
        col("medical_insurance", "是否参加城乡居民基本医疗保险", Bool),
        col("critical_insurance", "是否参加大病保险", Bool),
        col("pension_insurance", "是否参加城乡居民基本养老保险", Bool),
        col("dibao", "是否享受低保", Bool),
        col("tekun", "是否特困供养", Bool),
        col("active_soldier", "是否现役军人", Bool),
        personal("phone", "联系电话", Text(20), Personal::Phone),
        // Added by migration 0011: a person who died or left keeps the row as history.
        col("person_status", "人员状态", Code("person_status")),
        col("left_on", "减员日期", Date),
        // Added by migration 0012 (after 0011's two, so it comes last).
        col("employee_insurance", "是否参加职工基本医疗保险", Bool),
    ],
};

/// 收入情况: one row per household and year, the component lines of REFERENCE §1.1.
pub static INCOMES: Table = Table {
    name: "incomes",
    title: "收入情况",
    key: &["hh_id", "year"],
    authoritative_by: None,
    columns: &[
        req("hh_id", "户编号", Ref("households")),
        req("year", "年度", Year),
        col("members", "家庭人口数", Int),
        money("wages", "工资性收入", Role::Income),
        money("planting", "种植业收入", Role::Income),
        money("breeding", "养殖业收入", Role::Income),
        money("other_business", "其他生产经营性收入", Role::Income),
        money("business_costs", "生产经营性支出", Role::Cost),
        money("dividend", "资产收益扶贫分红收入", Role::Income),
        money("other_property", "其他财产性收入", Role::Income),
        money("family_planning", "计划生育金", Role::Income),
        money("dibao_money", "低保金", Role::Income),
        money("tekun_money", "特困供养金", Role::Income),
        money("pension_money", "养老保险金", Role::Income),
        money("eco_money", "生态补偿金", Role::Income),
        money("other_transfer", "其他转移性收入", Role::Income),
        col("medical_spending", "医疗刚性支出", Money),
        col("school_spending", "教育刚性支出", Money),
        col("net_per_capita", "人均纯收入", Money),
    ],
};

/// 村基本情况: one row per village and year, the attributes the exit criteria need.
pub static VILLAGES: Table = Table {
    name: "village_years",
    title: "村基本情况",
    key: &["village_code", "year"],
    authoritative_by: None,
    columns: &[
        req("village_code", "行政村代码", Village),
        req("year", "年度", Year),
        col("poor_village", "是否贫困村", Bool),
        col("village_exit_year", "贫困村退出年度", Year),
        col("paved_road", "是否通硬化路", Bool),
        col("bus", "是否通客车", Bool),
        col("clinic", "是否有标准化卫生室", Bool),
        col("collective_economy", "是否有村集体经济", Bool),
        col("collective_income", "村集体经济收入", Money),
        col("power_all", "是否全部通生活用电", Bool),
        col("safe_water", "是否通安全饮水", Bool),
    ],
};

/// 帮扶责任人: helper cadres.
pub static HELPERS: Table = Table {
    name: "helpers",
    title: "帮扶责任人",
    key: &["helper_id"],
    authoritative_by: None,
    columns: &[
        req("helper_id", "帮扶人编号", Key),
        req("name", "姓名", Text(50)),
        personal("id_number", "证件号码", IdNumber, Personal::IdNumber),
        col("unit", "工作单位", Text(100)),
        col("unit_level", "单位级别", Code("unit_level")),
        personal("phone", "联系电话", Text(20), Personal::Phone),
    ],
};

/// 结对帮扶: a helper cadre paired with a household from one date to another.
pub static PAIRINGS: Table = Table {
    name: "pairings",
    title: "结对帮扶",
    key: &["helper_id", "hh_id", "from_date"],
    authoritative_by: Some("hh_id"),
    columns: &[
        req("helper_id", "帮扶人编号", Ref("helpers")),
        req("hh_id", "户编号", Ref("households")),
        req("from_date", "开始日期", Date),
        col("to_date", "结束日期", Date),
    ],
};

/// 区划: the county's division tree (written by `fupin init`, not by exchange files).
pub static DIVISIONS: Table = Table {
    name: "divisions",
    title: "行政区划",
    key: &["code"],
    authoritative_by: None,
    columns: &[
        req("code", "区划代码", Key),
        req("name", "名称", Text(100)),
        req("level", "级别", Text(10)),
        col("parent_code", "上级区划代码", Text(12)),
    ],
};

/// Columns added to a table after the first migration, each by a later migration of
/// its own (`ddl.rs` leaves them out of the generated first one). Appended at the end
/// of the table, so the database's column order stays the schema's.
pub static ADDED_COLUMNS: [(&str, &str); 3] =
    [("persons", "person_status"), ("persons", "left_on"), ("persons", "employee_insurance")];

/// The columns of 家庭成员 that only the operations a person leaves by (死亡, 婚出, 迁出)
/// set, with the departure: a correction cannot change them.
pub const DEPARTURE_COLUMNS: [&str; 2] = ["person_status", "left_on"];

/// `persons.person_status` of a person who is a member now (also an empty cell).
pub const PRESENT: &str = "1";

/// Every exchange table, parents before children (the order files are applied in).
pub static TABLES: [&Table; 6] = [&HOUSEHOLDS, &HELPERS, &PERSONS, &INCOMES, &VILLAGES, &PAIRINGS];

/// Every table whose rows the change history covers.
pub static REGISTRY_TABLES: [&Table; 7] = [&DIVISIONS, &HOUSEHOLDS, &HELPERS, &PERSONS, &INCOMES, &VILLAGES, &PAIRINGS];

/// An exchange table by name.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().copied().find(|t| t.name == name)
}

/// A registry table (exchange tables and divisions) by name.
pub fn registry_table(name: &str) -> Option<&'static Table> {
    REGISTRY_TABLES.iter().copied().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::CodeLists;

    #[test]
    fn the_departure_columns_are_persons_columns() {
        for c in DEPARTURE_COLUMNS {
            assert!(PERSONS.column(c).is_some(), "{c}");
        }
    }

    #[test]
    fn the_income_lines_are_twelve_and_one_cost() {
        let lines: Vec<&str> = INCOMES.columns_of(Role::Income).map(|c| c.name).collect();
        assert_eq!(lines.len(), 12, "{lines:?}");
        assert_eq!((lines[0], lines[11]), ("wages", "other_transfer"));
        let costs: Vec<&str> = INCOMES.columns_of(Role::Cost).map(|c| c.name).collect();
        assert_eq!(costs, ["business_costs"]);
    }

    #[test]
    fn every_table_is_consistent() {
        let codes = CodeLists::builtin();
        for t in TABLES {
            for k in t.key {
                assert!(t.column(k).unwrap().required, "{}.{k} is a key and must be required", t.name);
            }
            if let Some(g) = t.authoritative_by {
                assert!(t.column(g).is_some());
            }
            let mut names = std::collections::HashSet::new();
            let mut headers = std::collections::HashSet::new();
            for c in t.columns {
                assert!(names.insert(c.name), "{}.{} twice", t.name, c.name);
                assert!(headers.insert(c.header), "{}: header {} twice", t.name, c.header);
                if let Code(l) | Codes(l, _) = c.kind {
                    assert!(codes.get(l).is_some(), "{}.{}: no code list {l}", t.name, c.name);
                }
                if let Ref(r) = c.kind {
                    assert!(table(r).is_some());
                }
                if c.role.is_some() {
                    assert_eq!((t.name, c.kind), ("incomes", Money), "{}: only income lines have a role", c.name);
                }
            }
        }
    }
}
