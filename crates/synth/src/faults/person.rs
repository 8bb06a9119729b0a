//! Faults in one member's record. Each returns the member's number and the detail for
//! the key, or `None` when the household has no member it can change cleanly.

use super::{Donors, choose};
use crate::household::Gen;
use crate::model::Household;
use crate::rnd;

type Done = Option<(Option<u8>, String)>;

pub fn inject(name: &str, hh: &mut Household, g: &mut Gen, donors: &mut Donors) -> Done {
    match name {
        "id_checksum" | "id_length" | "duplicate_id" | "disabled_without_cert" | "disability_cert_length" => {
            ids(name, hh, g, donors)
        }
        "id_malformed" | "birth_date_id_mismatch" | "sex_id_mismatch" => id_content(name, hh, g),
        "head_spouse_same_sex" | "relation_sex_mismatch" | "senior_high_too_young" | "primary_too_old" => {
            logic(name, hh, g)
        }
        "missing_ethnicity" | "missing_education" | "missing_school_status" | "missing_labour" => required(name, hh, g),
        _ => labour(name, hh, g),
    }
}

fn ids(name: &str, hh: &mut Household, g: &mut Gen, donors: &mut Donors) -> Done {
    match name {
        "id_checksum" => {
            // Members with a 残疾证 are skipped: their card embeds the number and would
            // fail too.
            let i = choose(g, hh, |p| p.disability_cert.is_empty() && p.id.len() == 18)?;
            let p = &mut hh.persons[i];
            let right = p.id.pop()?;
            let others: Vec<char> = "0123456789X".chars().filter(|c| *c != right).collect();
            let wrong = rnd::pick(&mut g.rng, &others);
            p.id.push(wrong);
            Some((Some(p.no), format!("校验位应为 {right}，改为 {wrong}")))
        }
        "id_length" => {
            let i = choose(g, hh, |p| p.disability_cert.is_empty() && p.id.len() == 18)?;
            let p = &mut hh.persons[i];
            if rnd::chance(&mut g.rng, 0.5) {
                p.id.pop();
            } else {
                p.id.push(char::from(b'0' + rnd::int(&mut g.rng, 0, 9) as u8));
            }
            Some((Some(p.no), format!("证件号码改为 {} 位", p.id.len())))
        }
        "duplicate_id" => {
            let i = choose(g, hh, |p| p.disability_cert.is_empty() && donors.has(p.male, p.birth.year()))?;
            let p = &mut hh.persons[i];
            let d = donors.take(p.male, p.birth.year())?;
            // Same sex and birth date as the donor, so only the duplication is wrong.
            p.id = d.id;
            p.birth = d.birth;
            Some((Some(p.no), format!("与人编号 {} 的证件号码相同", d.person_id)))
        }
        "disabled_without_cert" => {
            let i = choose(g, hh, |p| p.disabled && !p.disability_cert.is_empty())?;
            let p = &mut hh.persons[i];
            p.disability_cert.clear();
            Some((Some(p.no), "残疾成员的残疾证号清空".to_owned()))
        }
        "disability_cert_length" => {
            let i = choose(g, hh, |p| p.disabled && p.disability_cert.len() == 20)?;
            let p = &mut hh.persons[i];
            if rnd::chance(&mut g.rng, 0.5) {
                p.disability_cert.pop();
            } else {
                p.disability_cert.push(char::from(b'1' + rnd::int(&mut g.rng, 0, 8) as u8));
            }
            Some((Some(p.no), format!("残疾证号改为 {} 位", p.disability_cert.len())))
        }
        _ => None,
    }
}

/// Faults in what a valid-looking ID number says: a letter or an impossible date in
/// it, or (with the check character recomputed, so the number stays valid) a birth
/// date or sex other than the person's. Only the number changes: ages, sexes and
/// relations stay as they were, so no other check is touched.
fn id_content(name: &str, hh: &mut Household, g: &mut Gen) -> Done {
    let i = choose(g, hh, |p| {
        p.disability_cert.is_empty() && p.id.len() == 18 && p.id.bytes().take(17).all(|b| b.is_ascii_digit())
    })?;
    let p = &mut hh.persons[i];
    let mut b = p.id.as_bytes()[..17].to_vec();
    let male = (b[16] - b'0') % 2 == 1;
    let detail = match name {
        "id_malformed" => {
            if rnd::chance(&mut g.rng, 0.5) {
                // A letter read for a digit (O for 0, I for 1, Z for 2…).
                let at = rnd::int(&mut g.rng, 0, 16) as usize;
                let letter = rnd::pick(&mut g.rng, b"OIZSB");
                b[at] = letter;
                format!("证件号码第 {} 位改为字母 {}", at + 1, letter as char)
            } else {
                // Month 13: no such date.
                b[10] = b'1';
                b[11] = b'3';
                "证件号码中的出生月份改为 13".to_owned()
            }
        }
        "birth_date_id_mismatch" => {
            // Another day of the same month: every month has days 1–28.
            let day = p.birth.day();
            let other = if day > 1 { day - 1 } else { 2 }.min(28);
            b[12] = b'0' + other / 10;
            b[13] = b'0' + other % 10;
            set_unused_sequence(&mut b, male);
            format!("证件号码中的出生日改为 {other} 日")
        }
        _ => {
            set_unused_sequence(&mut b, !male);
            "证件号码第 15–17 位改为另一性别的顺序码".to_owned()
        }
    };
    let check =
        if name == "id_malformed" { p.id.as_bytes()[17] as char } else { fupin_domain::id_number::check_char(&b) };
    p.id = String::from_utf8(b).ok()? + &check.to_string();
    Some((Some(p.no), detail))
}

/// Sets the 顺序码 (characters 15–17) to one of `male`'s sex that the generator hands
/// out only to the 500th person of one address, birth day and sex (`ids.rs`), so the
/// changed number is nobody else's.
fn set_unused_sequence(b: &mut [u8], male: bool) {
    let seq = (499u32 * 263 + 101) % 500 * 2 + u32::from(male);
    b[14] = b'0' + (seq / 100) as u8;
    b[15] = b'0' + (seq / 10 % 10) as u8;
    b[16] = b'0' + (seq % 10) as u8;
}

fn logic(name: &str, hh: &mut Household, g: &mut Gen) -> Done {
    match name {
        "head_spouse_same_sex" => {
            let i = choose(g, hh, |p| p.relation == "02" && p.disability_cert.is_empty())?;
            let p = &mut hh.persons[i];
            p.male = !p.male;
            // A new number with the matching sex digit, so the number stays valid.
            let (id, birth) = g.ids.allocate(p.address, p.birth, p.male);
            p.id = id;
            p.birth = birth;
            Some((Some(p.no), format!("配偶性别改为{}，与户主相同", if p.male { "男" } else { "女" })))
        }
        "relation_sex_mismatch" => {
            // Only where no in-law or grandchild hangs on the changed child.
            if hh.two_daughters
                || hh.persons.iter().any(|p| matches!(p.relation, "05" | "06" | "07" | "08" | "09" | "10"))
            {
                return None;
            }
            let i = choose(g, hh, |p| matches!(p.relation, "03" | "04"))?;
            let p = &mut hh.persons[i];
            let (from, to) = if p.relation == "03" { ("之子", "04") } else { ("之女", "03") };
            p.relation = to;
            Some((
                Some(p.no),
                format!(
                    "与户主关系由{from}改为{}，性别{}",
                    if to == "03" { "之子" } else { "之女" },
                    if p.male { "男" } else { "女" }
                ),
            ))
        }
        "senior_high_too_young" => {
            let i = choose(g, hh, |p| (12..=14).contains(&p.age) && matches!(p.school, "04" | "05" | "06"))?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.school, "07");
            p.education = "04";
            Some((Some(p.no), format!("{} 岁成员在校生状况由 {old} 改为 07 高中一年级（文化程度 04）", p.age)))
        }
        "primary_too_old" => {
            let i = choose(g, hh, |p| (20..=30).contains(&p.age) && p.school == "01" && !p.migrant())?;
            let p = &mut hh.persons[i];
            p.school = "03";
            p.education = "02";
            Some((Some(p.no), format!("{} 岁成员在校生状况由 01 改为 03 小学（文化程度 02）", p.age)))
        }
        _ => None,
    }
}

fn required(name: &str, hh: &mut Household, g: &mut Gen) -> Done {
    match name {
        "missing_ethnicity" => {
            let i = choose(g, hh, |p| !p.ethnicity.is_empty())?;
            let p = &mut hh.persons[i];
            let old = std::mem::take(&mut p.ethnicity);
            Some((Some(p.no), format!("民族（原为 {old}）清空")))
        }
        "missing_education" => {
            let i = choose(g, hh, |p| p.age >= 18 && p.school == "01" && !p.education.is_empty())?;
            let p = &mut hh.persons[i];
            let old = std::mem::take(&mut p.education);
            Some((Some(p.no), format!("{} 岁非在校生文化程度（原为 {old}）清空", p.age)))
        }
        "missing_school_status" => {
            let i = choose(g, hh, |p| (16..=23).contains(&p.age) && p.school == "01")?;
            let p = &mut hh.persons[i];
            p.school = "";
            Some((Some(p.no), format!("{} 岁成员在校生状况（原为 01）清空", p.age)))
        }
        "missing_labour" => {
            // Not a migrant: a worker without 劳动技能 would also be a non-able worker.
            let i = choose(g, hh, |p| p.working_age() && !p.migrant() && !p.labour.is_empty())?;
            let p = &mut hh.persons[i];
            let old = std::mem::take(&mut p.labour);
            Some((Some(p.no), format!("{} 岁成员劳动技能（原为 {old}）清空", p.age)))
        }
        _ => None,
    }
}

fn labour(name: &str, hh: &mut Household, g: &mut Gen) -> Done {
    match name {
        "migrant_months_out_of_range" => {
            let i = choose(g, hh, |p| p.migrant())?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.migrant_months, 13);
            Some((Some(p.no), format!("务工时间由 {old} 改为 13 个月")))
        }
        "migrant_place_without_months" => {
            // Another member keeps working, so wages still have a worker.
            if hh.persons.iter().filter(|p| p.migrant()).count() < 2 {
                return None;
            }
            let i = choose(g, hh, |p| p.migrant())?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.migrant_months, 0);
            Some((Some(p.no), format!("务工区域 {} 保留，务工时间由 {old} 改为 0", p.migrant_place)))
        }
        "migrant_months_without_place" => {
            let i = choose(g, hh, |p| p.migrant() && !p.migrant_place.is_empty())?;
            let p = &mut hh.persons[i];
            let old = std::mem::take(&mut p.migrant_place);
            Some((Some(p.no), format!("务工时间 {} 个月保留，务工区域（原为 {old}）清空", p.migrant_months)))
        }
        "working_age_healthy_no_labour" => {
            let i = choose(g, hh, |p| p.healthy() && p.working_age() && p.able() && !p.migrant() && !p.student())?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.labour, "04");
            Some((Some(p.no), format!("{} 岁健康成员劳动技能由 {old} 改为 04 无劳动力", p.age)))
        }
        "non_able_working" => {
            // A chronically ill worker: a healthy one without labour would also be
            // working_age_healthy_no_labour.
            let i = choose(g, hh, |p| p.migrant() && p.able() && !p.healthy())?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.labour, "03");
            Some((Some(p.no), format!("务工 {} 个月的成员劳动技能由 {old} 改为 03 丧失劳动力", p.migrant_months)))
        }
        "tekun_with_able_member" => {
            if hh.attribute != "3" {
                return None;
            }
            let i = choose(g, hh, |p| p.working_age() && p.labour == "03" && p.chronic && !p.serious && !p.disabled)?;
            let p = &mut hh.persons[i];
            p.labour = "01";
            Some((Some(p.no), format!("{} 岁特困供养成员劳动技能由 03 改为 01 普通劳动力", p.age)))
        }
        "dibao_and_tekun" => {
            if hh.attribute != "3" {
                return None;
            }
            let i = choose(g, hh, |p| p.tekun && !p.dibao)?;
            let p = &mut hh.persons[i];
            p.dibao = true;
            Some((Some(p.no), "特困供养成员同时标为享受低保".to_owned()))
        }
        "helper_is_poor" => {
            if !hh.registered {
                return None;
            }
            let i = choose(g, hh, |p| (22..=60).contains(&p.age) && p.able() && p.disability_cert.is_empty())?;
            let no = hh.persons[i].no;
            hh.helper_member = Some(no);
            Some((Some(no), "该成员同时登记为帮扶责任人（证件号码相同）".to_owned()))
        }
        _ => None,
    }
}
