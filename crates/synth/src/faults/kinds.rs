//! The fault kinds with their checks. Conventions of every `check` text:
//!
//! - Fields are written `table.column` with the registry's English names
//!   (`fupin_domain::schema`); codes are the `data/codes/` codes, quoted.
//! - "empty" means the cell is null (not written). Booleans are true for 是.
//! - A comparison with an empty value is false (an empty age, amount or area meets no
//!   bound), except where the check says "0 or empty" or "empty amounts count as 0".
//! - Code ranges ("between '03' and '16'") compare the two-digit codes as numbers.
//! - *age* is the age on 31 December of the policy year: policy year − year of
//!   `persons.birth_date` (the policy year of generated data is its latest
//!   `incomes.year`).
//! - *members* are the `persons` rows with the household's `hh_id`; *member count* is
//!   their number.
//! - An `incomes` check is tested on every income year of the household; its finding
//!   is on the household. *the latest `incomes` row* is the household's row of the
//!   policy year: households and persons are today's snapshot, so a check comparing
//!   them with income reads only that year (earlier years may legitimately differ).
//! - A finding "on the person" is keyed by `persons.person_id`, otherwise by
//!   `households.hh_id` alone.

use super::{FaultKind, Group, Level};

const fn k(
    kind: &'static str,
    description: &'static str,
    level: Level,
    group: Group,
    check: &'static str,
) -> FaultKind {
    FaultKind { kind, description, level, group, check }
}

use Group::{Benefits, Cause, Helpers, Ids, Labour, Logic, Monitoring, Required};
use Level::{Household as H, Person as P};

/// Every fault kind the generator can inject, in a fixed order. The first 23 names are
/// those of earlier versions and stay as they are.
pub const FAULT_KINDS: &[FaultKind] = &[
    k(
        "id_checksum",
        "证件号码校验位错误",
        P,
        Ids,
        "person: `persons.id_type` is '01' or empty; `persons.id_number` has 18 characters, the first 17 are digits whose \
         characters 7–14 are a valid date, and the 18th is not the GB 11643 check character of the first 17 \
         (Σ digit×weight with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, the sum mod 11 = 0…10 giving \
         1 0 X 9 8 7 6 5 4 3 2; a lower-case x counts as X) → finding on the person",
    ),
    k(
        "id_length",
        "证件号码位数错误（17 位或 19 位）",
        P,
        Ids,
        "person: `persons.id_type` is '01' or empty, `persons.id_number` is not empty and its length is neither 15 nor 18 \
         → finding on the person",
    ),
    k(
        "duplicate_id",
        "证件号码与另一户成员的证件号码重复",
        P,
        Ids,
        "person: `persons.id_number` is not empty and equals (X and x alike) the `persons.id_number` of another person \
         with a smaller `persons.person_id` → finding on the person with the larger `persons.person_id`",
    ),
    k(
        "head_spouse_same_sex",
        "户主与配偶性别相同（人编号为配偶）",
        P,
        Logic,
        "person: `persons.relation` = '02' and `persons.sex` equals the `persons.sex` of the member with \
         `persons.relation` = '01' → finding on the spouse",
    ),
    k(
        "relation_sex_mismatch",
        "与户主关系与性别不符（如之子为女性）",
        P,
        Logic,
        "person: `persons.relation` in ('03','06','07','09','11','13','15','17','19') and `persons.sex` = '2', or \
         `persons.relation` in ('04','05','08','10','12','14','16','18','20') and `persons.sex` = '1' → finding on the person",
    ),
    k(
        "cause_illness_all_healthy",
        "主要致贫原因为因病，但无成员患长期慢性病或大病",
        H,
        Cause,
        "household: `households.main_cause` = '01' and no member's `persons.health` contains '02' or '03' (codes are \
         ';'-separated)",
    ),
    k(
        "cause_school_no_student",
        "主要致贫原因为因学，但无在校生（小学及以上）",
        H,
        Cause,
        "household: `households.main_cause` = '03' and no member has `persons.school_status` between '03' and '16'",
    ),
    k(
        "cause_disability_nobody_disabled",
        "主要致贫原因为因残，但无残疾成员",
        H,
        Cause,
        "household: `households.main_cause` = '02' and no member's `persons.health` contains '04'",
    ),
    k(
        "other_cause_repeats_main",
        "其他致贫原因与主要致贫原因重复",
        H,
        Cause,
        "household: `households.main_cause` is not empty and equals `households.other_cause1` or \
         `households.other_cause2`",
    ),
    k(
        "income_not_adding_up",
        "人均纯收入不等于（各项收入之和 − 生产经营性支出）÷ 家庭人口数",
        H,
        Labour,
        "incomes: `incomes.members` > 0 and |(`incomes.wages` + `incomes.planting` + `incomes.breeding` + \
         `incomes.other_business` + `incomes.dividend` + `incomes.other_property` + `incomes.family_planning` + \
         `incomes.dibao_money` + `incomes.tekun_money` + `incomes.pension_money` + `incomes.eco_money` + \
         `incomes.other_transfer` − `incomes.business_costs`) ÷ `incomes.members` − `incomes.net_per_capita`| > 1 元 \
         (empty amounts count as 0)",
    ),
    k(
        "business_income_without_costs",
        "有生产经营性收入但生产经营性支出为 0",
        H,
        Labour,
        "incomes: `incomes.planting` + `incomes.breeding` + `incomes.other_business` > 0 and `incomes.business_costs` \
         is 0 or empty",
    ),
    k(
        "migrant_months_out_of_range",
        "务工时间超出 0–12 个月",
        P,
        Labour,
        "person: `persons.migrant_months` < 0 or > 12",
    ),
    k(
        "migrant_place_without_months",
        "填写了务工区域但务工时间为 0",
        P,
        Labour,
        "person: `persons.migrant_place` is not empty and `persons.migrant_months` is 0 or empty",
    ),
    k(
        "working_age_healthy_no_labour",
        "16–65 岁健康成员劳动技能为丧失或无劳动力",
        P,
        Labour,
        "person: age between 16 and 65, `persons.health` is exactly '01' (no other code), `persons.labour` in ('03','04')",
    ),
    k("missing_ethnicity", "民族为空", P, Required, "person: `persons.ethnicity` is empty"),
    k(
        "missing_education",
        "非在校成年人文化程度为空",
        P,
        Required,
        "person: age ≥ 16, `persons.school_status` is empty or '01', `persons.education` is empty",
    ),
    k(
        "missing_school_status",
        "6–23 岁成员在校生状况为空",
        P,
        Required,
        "person: age between 6 and 23, `persons.school_status` is empty",
    ),
    k(
        "farmland_too_large",
        "人均耕地面积超过 50 亩",
        H,
        Logic,
        "household: `households.farmland_mu` > 50 × member count",
    ),
    k("road_too_far", "与村主干路距离超过 50 公里", H, Logic, "household: `households.road_km` > 50"),
    k(
        "senior_high_too_young",
        "14 岁及以下成员在读高中",
        P,
        Logic,
        "person: age ≤ 14 and (`persons.school_status` between '07' and '16' or `persons.education` in ('04','05'))",
    ),
    k(
        "primary_too_old",
        "20 岁及以上成员在校生状况为学前或小学",
        P,
        Logic,
        "person: age ≥ 20 and `persons.school_status` in ('02','03')",
    ),
    k(
        "dibao_household_without_dibao_member",
        "低保贫困户没有享受低保的成员",
        H,
        Benefits,
        "household: `households.attribute` = '2' and no member has `persons.dibao` = true",
    ),
    k(
        "tekun_with_able_member",
        "特困供养贫困户有 16–65 岁有劳动能力的成员",
        P,
        Benefits,
        "person: the household's `households.attribute` = '3', age between 16 and 65, `persons.labour` in ('01','02') \
         → finding on the person",
    ),
    // ---- added for the national checks of REFERENCE §1.3
    k(
        "missing_labour",
        "16–65 岁成员劳动技能为空",
        P,
        Required,
        "person: age between 16 and 65, `persons.labour` is empty",
    ),
    k(
        "missing_main_cause",
        "贫困户主要致贫原因为空",
        H,
        Required,
        "household: `households.status` in ('2','3') and `households.main_cause` is empty",
    ),
    k("missing_home_power", "是否通生活用电为空", H, Required, "household: `households.home_power` is empty"),
    k("missing_house_area", "住房面积为空", H, Required, "household: `households.house_area` is empty"),
    k("missing_water_safe", "是否饮水安全为空", H, Required, "household: `households.water_safe` is empty"),
    k("missing_fuel", "主要燃料类型为空", H, Required, "household: `households.fuel` is empty"),
    k("missing_path_type", "入户路类型为空", H, Required, "household: `households.path_type` is empty"),
    k(
        "disabled_without_cert",
        "残疾成员没有残疾证号",
        P,
        Required,
        "person: `persons.health` contains '04' and `persons.disability_cert` is empty",
    ),
    k(
        "disability_cert_length",
        "残疾证号位数错误（应为 20 或 22 位）",
        P,
        Ids,
        "person: `persons.disability_cert` is not empty and its length is neither 20 nor 22",
    ),
    k(
        "ordinary_household_with_benefit_money",
        "一般贫困户有低保金或特困供养金",
        H,
        Benefits,
        "household: `households.attribute` = '1' and the latest `incomes` row of it has `incomes.dibao_money` > 0 or \
         `incomes.tekun_money` > 0",
    ),
    k(
        "dibao_and_tekun",
        "同一成员既享受低保又特困供养",
        P,
        Benefits,
        "person: `persons.dibao` = true and `persons.tekun` = true",
    ),
    k(
        "benefit_amount_zero",
        "低保或特困供养贫困户的低保金或特困供养金为 0",
        H,
        Benefits,
        "household: `households.attribute` = '2' and the latest `incomes` row of it has `incomes.dibao_money` 0 or \
         empty, or `households.attribute` = '3' and the latest `incomes` row of it has `incomes.tekun_money` 0 or empty",
    ),
    k(
        "net_income_out_of_range",
        "人均纯收入不大于 0 或超过 10 万元",
        H,
        Labour,
        "incomes: `incomes.net_per_capita` ≤ 0 or > 100000 元",
    ),
    k(
        "wages_without_worker",
        "有工资性收入但没有成员务工",
        H,
        Labour,
        "household: the latest `incomes` row of it has `incomes.wages` > 0 and no member has \
         `persons.migrant_months` > 0",
    ),
    k(
        "worker_without_wages",
        "有成员务工但工资性收入为 0",
        H,
        Labour,
        "household: the latest `incomes` row of it has `incomes.wages` 0 or empty and some member has \
         `persons.migrant_months` > 0",
    ),
    k(
        "migrant_months_without_place",
        "有务工时间但务工区域为空",
        P,
        Labour,
        "person: `persons.migrant_months` > 0 and `persons.migrant_place` is empty",
    ),
    k(
        "non_able_working",
        "丧失或无劳动力的成员在务工",
        P,
        Labour,
        "person: `persons.migrant_months` > 0 and `persons.labour` in ('03','04')",
    ),
    k(
        "no_helper",
        "贫困户或监测户没有在帮的帮扶责任人",
        H,
        Helpers,
        "household: (`households.status` in ('2','3') or `households.monitor_type` is not empty) and no `pairings` row \
         has its `pairings.hh_id` and an empty `pairings.to_date`",
    ),
    k(
        "helper_is_poor",
        "贫困户成员同时是帮扶责任人",
        P,
        Helpers,
        "person: the household's `households.status` in ('2','3') and `persons.id_number` is not empty and equals (X and x alike) the \
         `helpers.id_number` of some helper → finding on the person",
    ),
    k("forest_too_large", "人均林地面积超过 70 亩", H, Logic, "household: `households.forest_mu` > 70 × member count"),
    k(
        "monitor_unstable_work_nobody_able",
        "监测户风险为务工就业不稳，但无成员有劳动能力",
        H,
        Monitoring,
        "household: `households.monitor_type` is not empty, one of `households.risk1` … `households.risk5` is '07', and \
         no member has `persons.labour` in ('01','02','05') (弱劳动力 can work too)",
    ),
    k(
        "monitor_unstable_work_no_work_records",
        "监测户风险为务工就业不稳，但无成员有务工记录",
        H,
        Monitoring,
        "household: `households.monitor_type` is not empty, one of `households.risk1` … `households.risk5` is '07', \
         some member has `persons.labour` in ('01','02','05'), and no member has `persons.migrant_months` > 0",
    ),
    // ID numbers whose content is wrong (issue 9): checked by dq rules, not only by
    // import warnings.
    k(
        "id_malformed",
        "证件号码含字母或出生日期不存在",
        P,
        Ids,
        "person: `persons.id_type` is '01' or empty; `persons.id_number` has 18 characters and either one of the \
         first 17 is not a digit, or characters 7–14 are not a real date (YYYYMMDD) → finding on the person",
    ),
    k(
        "birth_date_id_mismatch",
        "出生日期与证件号码不一致",
        P,
        Ids,
        "person: `persons.id_type` is '01' or empty; `persons.id_number` is a valid 18-character number (17 digits, \
         characters 7–14 a real date from 1880 to 2100, the right check character) and `persons.birth_date` is not \
         empty and differs from the date in characters 7–14 → finding on the person",
    ),
    k(
        "sex_id_mismatch",
        "性别与证件号码不一致",
        P,
        Ids,
        "person: `persons.id_type` is '01' or empty; `persons.id_number` is a valid 18-character number (as in the \
         birth date check above) and `persons.sex` is '1' or '2' and is not '1' when the 17th character is odd, \
         '2' when it is even → finding on the person",
    ),
];
