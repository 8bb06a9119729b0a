//! Data-quality faults: each one changes a single record of an otherwise clean,
//! unrelocated household so that exactly one national data-quality check (REFERENCE
//! §1.3) fails, and the answer key says which. Monitored households take only the
//! monitoring faults.
//!
//! [`FAULT_KINDS`] lists the kinds with the exact condition a rule must test; the
//! table in `crates/synth/FAULTS.md` is generated from it.

mod household;
mod kinds;
mod person;

pub use kinds::FAULT_KINDS;

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

/// The groups of the national data-quality checks (REFERENCE §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// 证件号码: length, checksum, duplicates, 残疾人证.
    Ids,
    /// Fields that must be filled (by age where the check says so).
    Required,
    /// 致贫原因 against the members.
    Cause,
    /// 贫困户属性 against 低保 / 特困供养 flags and money.
    Benefits,
    /// 劳动技能, 务工 and income.
    Labour,
    /// 帮扶责任人 and 结对帮扶.
    Helpers,
    /// Relations, sexes, bounds on land and distance, schooling against age.
    Logic,
    /// 防返贫监测 risks against the members.
    Monitoring,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::Ids,
        Group::Required,
        Group::Cause,
        Group::Benefits,
        Group::Labour,
        Group::Helpers,
        Group::Logic,
        Group::Monitoring,
    ];

    /// The snake_case name used in FAULTS.md.
    pub fn name(self) -> &'static str {
        match self {
            Group::Ids => "ids",
            Group::Required => "required",
            Group::Cause => "cause",
            Group::Benefits => "benefits",
            Group::Labour => "labour",
            Group::Helpers => "helpers",
            Group::Logic => "logic",
            Group::Monitoring => "monitoring",
        }
    }
}

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultKind {
    /// Stable snake_case name, the `kind` column of `key/faults.csv` and the id of the
    /// data-quality rule that must find it. Plain required-field kinds start `missing_`.
    pub kind: &'static str,
    /// What is wrong, in the words a rule's finding would use.
    pub description: &'static str,
    pub level: Level,
    pub group: Group,
    /// The exact condition a rule must test, with the registry's English field names
    /// (`table.column`, see `fupin_domain::schema`) and thresholds. Clean generated
    /// data never meets it; a fault of this kind meets it for exactly its record.
    pub check: &'static str,
}

/// One row of `key/faults.csv`.
#[derive(Debug, Clone)]
pub struct FaultRow {
    pub kind: &'static str,
    pub hh_id: String,
    pub person_id: String,
    pub detail: String,
}

#[cfg(test)]
fn index(name: &str) -> usize {
    FAULT_KINDS.iter().position(|k| k.kind == name).unwrap_or(usize::MAX)
}

/// The hint a kind needs from the household generator.
pub fn hint(kind: usize) -> Hint {
    match FAULT_KINDS[kind].kind {
        "cause_illness_all_healthy"
        | "cause_school_no_student"
        | "cause_disability_nobody_disabled"
        | "other_cause_repeats_main"
        | "missing_main_cause"
        | "ordinary_household_with_benefit_money"
        | "benefit_amount_zero"
        | "no_helper"
        | "helper_is_poor" => Hint::Registered,
        "dibao_household_without_dibao_member" => Hint::DibaoSingle,
        "tekun_with_able_member" | "dibao_and_tekun" => Hint::Tekun,
        _ => Hint::None,
    }
}

/// Monitoring kinds need monitored households, which exist from 2021 on.
pub fn monitoring_kind(kind: usize) -> bool {
    FAULT_KINDS[kind].group == Group::Monitoring
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
    /// Plans `faults` faults over `households`; monitoring kinds only when `monitoring`.
    pub fn new(rng: &mut Rng8, faults: usize, households: usize, monitoring: bool) -> Planner {
        let mut order: Vec<usize> = (0..FAULT_KINDS.len()).filter(|k| monitoring || !monitoring_kind(*k)).collect();
        let n = order.len();
        // Without faults nothing is drawn, so clean output does not depend on the kinds.
        if faults > 0 {
            for i in (1..n).rev() {
                let j = rnd::int(rng, 0, i as i64) as usize;
                order.swap(i, j);
            }
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
    if hh.missed_poor || hh.missed_monitoring {
        // Its income years are in key/missed.csv as they are.
        return None;
    }
    if hh.relocation.is_some() || hh.monitor.is_some() != monitoring_kind(kind) {
        // Relocation ties members to more rules, and monitoring to the monitoring
        // rules: keep other faults away from them.
        return None;
    }
    let name = FAULT_KINDS[kind].kind;
    let (who, detail) = match person::inject(name, hh, g, donors) {
        Some(done) => done,
        None => household::inject(name, hh, g)?,
    };
    let person = who.map(|no| person_id(hh, no)).unwrap_or_default();
    Some(FaultRow { kind: name, hh_id: hh.id.clone(), person_id: person, detail })
}

/// Index of a random member matching `f`.
fn choose(g: &mut Gen, hh: &Household, f: impl Fn(&crate::model::Person) -> bool) -> Option<usize> {
    let idx: Vec<usize> = (0..hh.persons.len()).filter(|i| f(&hh.persons[*i])).collect();
    if idx.is_empty() { None } else { Some(rnd::pick(&mut g.rng, &idx)) }
}

#[cfg(test)]
mod tests;
