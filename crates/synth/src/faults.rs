//! Data-quality faults: each one changes a single record of an otherwise clean,
//! unmonitored, unrelocated household so that exactly one known problem appears, and
//! the answer key says which.

use crate::household::{Gen, Hint};
use crate::model::Household;
use crate::rnd::{self, Rng8};
use std::collections::VecDeque;

/// Whether a fault's finding is about a household or one of its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 户: the key's 人编号 is empty.
    Household,
    /// 人: the key names the member.
    Person,
}

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultKind {
    /// Stable snake_case name, the `kind` column of `key/faults.csv`.
    pub kind: &'static str,
    /// What is wrong, in the words a rule's finding would use.
    pub description: &'static str,
    pub level: Level,
}

const fn k(kind: &'static str, description: &'static str, level: Level) -> FaultKind {
    FaultKind { kind, description, level }
}

use Level::{Household as H, Person as P};

/// Every fault kind the generator can inject, in a fixed order.
pub const FAULT_KINDS: &[FaultKind] = &[
    k("id_checksum", "证件号码校验位错误", P),
    k("id_length", "证件号码位数错误（17 位或 19 位）", P),
    k("duplicate_id", "证件号码与另一户成员的证件号码重复", P),
    k("head_spouse_same_sex", "户主与配偶性别相同（人编号为配偶）", P),
    k("relation_sex_mismatch", "与户主关系与性别不符（如之子为女性）", P),
    k("cause_illness_all_healthy", "主要致贫原因为因病，但无成员患长期慢性病或大病", H),
    k("cause_school_no_student", "主要致贫原因为因学，但无在校生（小学及以上）", H),
    k("cause_disability_nobody_disabled", "主要致贫原因为因残，但无残疾成员", H),
    k("other_cause_repeats_main", "其他致贫原因与主要致贫原因重复", H),
    k("income_not_adding_up", "人均纯收入不等于（各项收入之和 − 生产经营性支出）÷ 家庭人口数", H),
    k("business_income_without_costs", "有生产经营性收入但生产经营性支出为 0", H),
    k("migrant_months_out_of_range", "务工时间超出 0–12 个月", P),
    k("migrant_place_without_months", "填写了务工区域但务工时间为 0", P),
    k("working_age_healthy_no_labour", "16–65 岁健康成员劳动技能为丧失或无劳动力", P),
    k("missing_ethnicity", "民族为空", P),
    k("missing_education", "非在校成年人文化程度为空", P),
    k("missing_school_status", "6–23 岁成员在校生状况为空", P),
    k("farmland_too_large", "人均耕地面积超过 50 亩", H),
    k("road_too_far", "与村主干路距离超过 50 公里", H),
    k("senior_high_too_young", "14 岁及以下成员在读高中", P),
    k("primary_too_old", "20 岁及以上成员在读小学", P),
    k("dibao_household_without_dibao_member", "低保贫困户没有享受低保的成员", H),
    k("tekun_with_able_member", "特困供养贫困户有 16–65 岁有劳动能力的成员", P),
];

/// One row of `key/faults.csv`.
#[derive(Debug, Clone)]
pub struct FaultRow {
    pub kind: &'static str,
    pub hh_id: String,
    pub person_id: String,
    pub detail: String,
}

/// The hint a kind needs from the household generator.
pub fn hint(kind: usize) -> Hint {
    match FAULT_KINDS[kind].kind {
        "cause_illness_all_healthy"
        | "cause_school_no_student"
        | "cause_disability_nobody_disabled"
        | "other_cause_repeats_main" => Hint::Registered,
        "dibao_household_without_dibao_member" => Hint::DibaoSingle,
        "tekun_with_able_member" => Hint::Tekun,
        _ => Hint::None,
    }
}

/// Decides where the faults go: spread evenly over the households in generation order,
/// kinds interleaved, a kind that a household cannot take waiting for the next one.
pub struct Planner {
    queue: VecDeque<usize>,
    total: usize,
    wanted: usize,
    placed: usize,
}

impl Planner {
    pub fn new(rng: &mut Rng8, faults: usize, households: usize) -> Planner {
        let n = FAULT_KINDS.len();
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rnd::int(rng, 0, i as i64) as usize;
            order.swap(i, j);
        }
        // Round-robin over a shuffled kind order: K ≥ kinds gives every kind at least once.
        let queue = (0..faults).map(|i| order[i % n]).collect();
        Planner { queue, total: households, wanted: faults, placed: 0 }
    }

    /// The kind to inject into household `h` (0-based, generation order), if any.
    pub fn due(&self, h: usize) -> Option<usize> {
        let next = *self.queue.front()?;
        let target = (2 * self.placed + 1) * self.total / (2 * self.wanted.max(1));
        let behind = self.total - h <= self.queue.len() * 4;
        (h >= target || behind).then_some(next)
    }

    pub fn placed(&mut self) {
        self.queue.pop_front();
        self.placed += 1;
    }

    /// The kind could not be placed here: try the next kind at the next household.
    pub fn postpone(&mut self) {
        if let Some(k) = self.queue.pop_front() {
            self.queue.push_back(k);
        }
    }

    pub fn remaining(&self) -> usize {
        self.queue.len()
    }
}

/// A clean person whose number a duplicate_id fault may copy.
#[derive(Debug, Clone)]
pub struct Donor {
    pub id: String,
    pub birth: time::Date,
    pub person_id: String,
}

/// The latest clean person per sex and birth year.
pub struct Donors {
    slots: Vec<Option<Donor>>,
}

const DONOR_YEARS: i32 = 200;

impl Default for Donors {
    fn default() -> Self {
        Donors { slots: vec![None; 2 * DONOR_YEARS as usize] }
    }
}

impl Donors {
    fn slot(male: bool, year: i32) -> Option<usize> {
        let y = year - 1900;
        (0..DONOR_YEARS).contains(&y).then(|| usize::from(male) * DONOR_YEARS as usize + y as usize)
    }

    /// Remembers the members of an accepted clean household.
    pub fn offer(&mut self, hh: &Household) {
        for p in &hh.persons {
            if let Some(s) = Self::slot(p.male, p.birth.year()) {
                self.slots[s] = Some(Donor { id: p.id.clone(), birth: p.birth, person_id: person_id(hh, p.no) });
            }
        }
    }

    fn take(&mut self, male: bool, year: i32) -> Option<Donor> {
        Self::slot(male, year).and_then(|s| self.slots[s].take())
    }

    fn has(&self, male: bool, year: i32) -> bool {
        Self::slot(male, year).is_some_and(|s| self.slots[s].is_some())
    }
}

pub fn person_id(hh: &Household, no: u8) -> String {
    format!("{}{:02}", hh.id, no)
}

/// Applies fault `kind` to `hh` if the household can take it without a second problem.
pub fn apply(kind: usize, hh: &mut Household, g: &mut Gen, donors: &mut Donors) -> Option<FaultRow> {
    if hh.monitor.is_some() || hh.relocation.is_some() {
        // Monitoring and relocation tie members to more rules; keep faults away from them.
        return None;
    }
    let name = FAULT_KINDS[kind].kind;
    let (who, detail) = inject(name, hh, g, donors)?;
    let person = who.map(|no| person_id(hh, no)).unwrap_or_default();
    Some(FaultRow { kind: name, hh_id: hh.id.clone(), person_id: person, detail })
}

/// Index of a random member matching `f`.
fn choose(g: &mut Gen, hh: &Household, f: impl Fn(&crate::model::Person) -> bool) -> Option<usize> {
    let idx: Vec<usize> = (0..hh.persons.len()).filter(|i| f(&hh.persons[*i])).collect();
    if idx.is_empty() { None } else { Some(rnd::pick(&mut g.rng, &idx)) }
}

fn inject(name: &str, hh: &mut Household, g: &mut Gen, donors: &mut Donors) -> Option<(Option<u8>, String)> {
    let registered = hh.registered;
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
        "cause_illness_all_healthy" => {
            if !registered || hh.main_cause == "01" || hh.persons.iter().any(|p| p.sick()) {
                return None;
            }
            let old = std::mem::replace(&mut hh.main_cause, "01");
            Some((None, format!("主要致贫原因由 {old} 改为 01 因病")))
        }
        "cause_school_no_student" => {
            if !registered || hh.main_cause == "03" || hh.persons.iter().any(|p| p.student()) {
                return None;
            }
            let old = std::mem::replace(&mut hh.main_cause, "03");
            Some((None, format!("主要致贫原因由 {old} 改为 03 因学")))
        }
        "cause_disability_nobody_disabled" => {
            if !registered || hh.main_cause == "02" || hh.persons.iter().any(|p| p.disabled) {
                return None;
            }
            let old = std::mem::replace(&mut hh.main_cause, "02");
            Some((None, format!("主要致贫原因由 {old} 改为 02 因残")))
        }
        "other_cause_repeats_main" => {
            if !registered || hh.main_cause.is_empty() {
                return None;
            }
            let slot = if hh.other_causes[0].is_empty() { 0 } else { 1 };
            hh.other_causes[slot] = hh.main_cause;
            Some((None, format!("其他致贫原因{} 改为与主要致贫原因相同的 {}", slot + 1, hh.main_cause)))
        }
        "income_not_adding_up" => {
            let year = hh.incomes.last()?.year;
            let line = g.lines.poverty(year);
            let inc = hh.incomes.last_mut()?;
            let old = inc.net_per_capita;
            // Stay on the same side of the lines, so no exit or monitoring rule changes
            // its answer.
            let delta = if old < line {
                -(rnd::int(&mut g.rng, 50, 200) * 100).min(old / 10)
            } else {
                rnd::int(&mut g.rng, 50, 500) * 100
            };
            if delta.abs() < 100 {
                return None;
            }
            inc.net_per_capita = old + delta;
            Some((
                None,
                format!(
                    "{year} 年人均纯收入填为 {}，按各项收入计算应为 {}",
                    fupin_domain::Yuan::from_fen(old + delta),
                    fupin_domain::Yuan::from_fen(old)
                ),
            ))
        }
        "business_income_without_costs" => {
            if hh.relocation.is_some() {
                return None;
            }
            let inc = hh.incomes.last_mut()?;
            if inc.costs <= 0 || inc.business() <= inc.costs {
                return None;
            }
            // Take the costs out of the business income as well, so 人均纯收入 still adds up.
            let mut left = inc.costs;
            let mut parts = [&mut inc.planting, &mut inc.breeding, &mut inc.other_business];
            parts.sort_by_key(|x| std::cmp::Reverse(**x));
            for part in parts {
                let take = left.min((*part - 100).max(0));
                *part -= take;
                left -= take;
            }
            if left > 0 {
                return None;
            }
            let year = inc.year;
            let costs = std::mem::take(&mut inc.costs);
            Some((
                None,
                format!("{year} 年生产经营性支出由 {} 改为 0，经营收入相应减少", fupin_domain::Yuan::from_fen(costs)),
            ))
        }
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
        "working_age_healthy_no_labour" => {
            let i = choose(g, hh, |p| p.healthy() && p.working_age() && p.able() && !p.migrant() && !p.student())?;
            let p = &mut hh.persons[i];
            let old = std::mem::replace(&mut p.labour, "04");
            Some((Some(p.no), format!("{} 岁健康成员劳动技能由 {old} 改为 04 无劳动力", p.age)))
        }
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
        "farmland_too_large" => {
            if hh.causes().any(|c| c == "05") {
                return None;
            }
            let n = hh.persons.len() as i64;
            let old = hh.farmland;
            hh.farmland = n * rnd::int(&mut g.rng, 510, 800);
            Some((
                None,
                format!(
                    "耕地面积由 {} 亩改为 {} 亩（{n} 人）",
                    crate::write::tenths(old),
                    crate::write::tenths(hh.farmland)
                ),
            ))
        }
        "road_too_far" => {
            let old = hh.road;
            hh.road = rnd::int(&mut g.rng, 510, 900);
            Some((
                None,
                format!(
                    "与村主干路距离由 {} 公里改为 {} 公里",
                    crate::write::tenths(old),
                    crate::write::tenths(hh.road)
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
        "dibao_household_without_dibao_member" => {
            if hh.attribute != "2" || hh.persons.iter().filter(|p| p.dibao).count() != 1 {
                return None;
            }
            let p = hh.persons.iter_mut().find(|p| p.dibao)?;
            p.dibao = false;
            Some((None, format!("唯一享受低保的成员 {:02} 改为不享受低保", p.no)))
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
        _ => None,
    }
}
