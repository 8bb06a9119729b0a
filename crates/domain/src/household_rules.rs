//! Rules of a household's shape, pure and with no I/O: the everyday registry
//! operations (`fupin_store::operations`) ask them before writing. One edited value
//! is read by [`crate::cell::parse`], as an imported one is.
//!
//! A **structural** problem (a household with members but no 户主, or with two) is
//! refused; a **data-quality** problem (an ID number whose check character fails, an
//! ID number that disagrees with the recorded birth date) is saved and reported.

use crate::date;
use crate::id_number::{self, IdNumber};

/// The 与户主关系 code of the head of household.
pub const HEAD: &str = "01";

/// How far a household's members are from having exactly one 户主: 0 when it has
/// exactly one (or has no members at all), otherwise the distance from one.
pub fn head_defect(relations: &[&str]) -> usize {
    if relations.is_empty() {
        return 0;
    }
    let heads = relations.iter().filter(|r| **r == HEAD).count();
    heads.abs_diff(1)
}

/// What is wrong with a household's heads, in words for a village cadre.
pub fn head_problem(hh_id: &str, relations: &[&str]) -> Option<String> {
    if head_defect(relations) == 0 {
        return None;
    }
    let heads = relations.iter().filter(|r| **r == HEAD).count();
    Some(if heads == 0 {
        format!("户 {hh_id} 还有 {} 名成员，却没有户主：请指定新户主", relations.len())
    } else {
        format!("户 {hh_id} 将有 {heads} 名户主：一户只能有一名户主")
    })
}

/// Refuses a change that leaves a household further from "exactly one 户主 while it
/// has members" than it was. A household that was already wrong (an imported fault)
/// may still take changes that do not make it worse, so a cadre is never blocked from
/// unrelated work; the fault stays visible to the data-quality checks.
pub fn check_heads(hh_id: &str, before: &[&str], after: &[&str]) -> Result<(), String> {
    if head_defect(after) > head_defect(before)
        && let Some(p) = head_problem(hh_id, after)
    {
        return Err(p);
    }
    Ok(())
}

/// A member's relation to a new 户主 who was `head_rel` (02 配偶 or 03/04 a child) of
/// the old one, when it follows from the relations and sexes alone (code 1 男, 2 女);
/// `None` when it does not (the cadre sets it). `sole` says it can be told whose
/// they are: for an in-law, they are the only one of their relation (an only 之儿媳
/// is the new head's 配偶); for a grandchild, the new head is the old head's only
/// child of that line (an only 之子's 之孙子 is his 之子).
pub fn rebased_relation(head_rel: &str, head_sex: &str, rel: &str, sex: &str, sole: bool) -> Option<&'static str> {
    let by_sex = |male: &'static str, female: &'static str| match sex {
        "1" => Some(male),
        "2" => Some(female),
        _ => None,
    };
    let same = |r: &str| -> Option<&'static str> {
        ["03", "04", "05", "06", "07", "08", "09", "10"].into_iter().find(|c| *c == r)
    };
    match head_rel {
        // The spouse takes over: their children stay children; the old head's parents
        // become in-laws of the new head, and the new head's parents their own.
        "02" => match (rel, head_sex) {
            ("11", "2") => Some("15"),
            ("12", "2") => Some("16"),
            ("11", "1") => Some("13"),
            ("12", "1") => Some("14"),
            ("13", "2") | ("15", "1") => Some("11"),
            ("14", "2") | ("16", "1") => Some("12"),
            _ => same(rel),
        },
        // A child takes over: the surviving parent, the siblings, an only spouse.
        "03" | "04" => match rel {
            "02" => by_sex("11", "12"),
            "03" | "04" => Some("21"),
            "05" if head_rel == "03" && sole => Some("02"),
            "06" if head_rel == "04" && sole => Some("02"),
            "07" if head_rel == "03" && sole => Some("03"),
            "08" if head_rel == "03" && sole => Some("04"),
            "09" if head_rel == "04" && sole => Some("03"),
            "10" if head_rel == "04" && sole => Some("04"),
            "11" | "15" => Some("17"),
            "12" | "16" => Some("18"),
            "13" => Some("19"),
            "14" => Some("20"),
            _ => None,
        },
        _ => None,
    }
}

/// Relations a person who marries into a household may have: 配偶, 之儿媳, 之女婿.
pub const MARRIAGE_IN_RELATIONS: [&str; 3] = ["02", "05", "06"];

/// Relations a newborn cannot have: 户主, 配偶, in-laws, parents and grandparents.
pub fn birth_relation_allowed(relation: &str) -> bool {
    !matches!(relation, "01" | "02" | "05" | "06" | "11" | "12" | "13" | "14" | "15" | "16" | "17" | "18" | "19" | "20")
}

/// The person columns [`person_warnings`] reads: a change to any of them asks it again.
pub const IDENTITY_COLUMNS: [&str; 4] = ["id_type", "id_number", "birth_date", "sex"];

/// Data-quality notes on a person's identity fields, kept and shown, never refused:
/// an ID number that fails its checks, or one that disagrees with the recorded birth
/// date or sex.
pub fn person_warnings(
    id_type: &str,
    id_number: Option<&str>,
    birth_date: Option<&str>,
    sex: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    let Some(number) = id_number.map(str::trim).filter(|n| !n.is_empty()) else { return out };
    let n = id_number::normalize(id_type, number);
    if let Some(p) = n.problem {
        out.push(format!("证件号码：{p}"));
    }
    let id: Option<&IdNumber> = n.id.as_ref();
    if let Some(id) = id {
        let from_id = date::iso(id.birth_date());
        if let Some(b) = birth_date.and_then(date::parse).map(date::iso)
            && b != from_id
        {
            out.push(format!("出生日期 {b} 与证件号码中的 {from_id} 不一致"));
        }
        if let Some(s) = sex.filter(|s| *s == "1" || *s == "2")
            && s != id.sex_code()
        {
            out.push("性别与证件号码第 17 位不一致".to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_household_keeps_one_head() {
        assert_eq!(head_defect(&[]), 0);
        assert_eq!(head_defect(&["01", "02"]), 0);
        assert_eq!(head_defect(&["02", "03"]), 1);
        assert_eq!(head_defect(&["01", "01"]), 1);
        assert!(check_heads("H1", &["01", "02"], &["02"]).unwrap_err().contains("没有户主"));
        assert!(check_heads("H1", &["01"], &["01", "01"]).unwrap_err().contains("2 名户主"));
        assert!(check_heads("H1", &["01", "02"], &[]).is_ok(), "an emptied household has no head to keep");
        assert!(check_heads("H1", &["01", "02"], &["01"]).is_ok());
        // An imported fault does not block unrelated work, but is not made worse.
        assert!(check_heads("H1", &["02"], &["02", "03"]).is_ok(), "a birth in a headless household");
        assert!(check_heads("H1", &["01", "01"], &["01", "01"]).is_ok(), "a correction elsewhere");
        assert!(check_heads("H1", &["01", "01"], &["01", "01", "01"]).is_err());
        assert!(check_heads("H1", &["01", "01"], &["01"]).is_ok(), "a repair");
    }

    #[test]
    fn identity_warnings() {
        for c in IDENTITY_COLUMNS {
            assert!(crate::schema::PERSONS.column(c).is_some(), "{c}");
        }
        assert!(person_warnings("01", Some("11010519491231002X"), Some("1949-12-31"), Some("2")).is_empty());
        let w = person_warnings("01", Some("11010519491231002X"), Some("1950-01-01"), Some("1"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(person_warnings("01", Some("110105194912310021"), None, None)[0].contains("校验位"));
        assert!(birth_relation_allowed("03") && !birth_relation_allowed("02"));
    }

    #[test]
    fn relations_follow_a_new_head() {
        // The widow takes over: the children stay, her husband's father is her 公公.
        assert_eq!(rebased_relation("02", "2", "03", "1", false), Some("03"));
        assert_eq!(rebased_relation("02", "2", "11", "1", true), Some("15"));
        // The son takes over: his mother, his sister, his only wife and their son.
        assert_eq!(rebased_relation("03", "1", "02", "2", true), Some("12"));
        assert_eq!(rebased_relation("03", "1", "04", "2", true), Some("21"));
        assert_eq!(rebased_relation("03", "1", "05", "2", true), Some("02"));
        assert_eq!(rebased_relation("03", "1", "07", "1", true), Some("03"));
        // Two sons' wives: which one is his cannot be told.
        assert_eq!(rebased_relation("03", "1", "05", "2", false), None);
        assert_eq!(rebased_relation("03", "1", "99", "2", true), None);
    }
}
