//! The county-wide index built once for all the households a rule runs over: who
//! first holds each 证件号码 and which helpers share it (`first_with_id`,
//! `helper_count`), the village totals of the policy year (`v.persons` …), and the
//! households of each township and county (area aggregates).

use std::collections::{HashMap, HashSet};

use fupin_domain::Value;
use fupin_domain::schema;

use super::HouseholdRecord;

/// The township (9 digits) or county (6) of a household's village; none when the
/// 行政村代码 is shorter.
pub fn area_code(record: &HouseholdRecord, digits: usize) -> Option<String> {
    let vc = schema::HOUSEHOLDS.index_of("village_code")?;
    let code = record.household.get(vc).and_then(Value::canonical)?;
    code.get(0..digits).map(str::to_owned)
}

/// A township's or county's households, as indices into the records the index was
/// built from.
#[derive(Debug, Clone, Default)]
pub(super) struct Area {
    pub(super) households: Vec<usize>,
    /// Whether each of `households` is poor in the policy year.
    pub(super) poor: Vec<bool>,
    /// One household of each village of the area whose record carries the village's
    /// row of the policy year (what `villages` runs over).
    pub(super) villages: Vec<usize>,
}

/// What county-wide built-ins read (`first_with_id`, `helper_count`), indexed once
/// for all the households a rule runs over.
#[derive(Debug, Clone, Default)]
pub struct County {
    /// Upper-cased 证件号码 → the smallest 人编号 holding it.
    pub(super) first_holder: HashMap<String, String>,
    /// Upper-cased 证件号码 → the 帮扶人编号 of the helpers holding it.
    pub(super) helpers: HashMap<String, HashSet<String>>,
    /// 行政村代码 → [persons, poor persons, households, poor households] of the
    /// policy year ([`County::with_villages`]); what `v.persons` … read.
    pub(super) villages: HashMap<String, [i64; 4]>,
    /// Township (9 digits) and county (6 digits) codes → their households.
    pub(super) areas: HashMap<String, Area>,
}

impl County {
    /// The index over `records`: every member, and every helper row they carry.
    pub fn of(records: &[HouseholdRecord]) -> County {
        let pid = schema::PERSONS.index_of("person_id").expect("persons.person_id");
        let pidn = schema::PERSONS.index_of("id_number").expect("persons.id_number");
        let hid = schema::HELPERS.index_of("helper_id").expect("helpers.helper_id");
        let hidn = schema::HELPERS.index_of("id_number").expect("helpers.id_number");
        let mut county = County::default();
        for r in records {
            for m in &r.members {
                let (Some(id), Some(person)) = (id_key(m.get(pidn)), m.get(pid).and_then(Value::canonical)) else {
                    continue;
                };
                let first = county.first_holder.entry(id).or_insert_with(|| person.clone());
                if person < *first {
                    *first = person;
                }
            }
            for h in &r.helpers {
                if let (Some(id), Some(helper)) = (id_key(h.get(hidn)), h.get(hid).and_then(Value::canonical)) {
                    county.helpers.entry(id).or_default().insert(helper);
                }
            }
        }
        county
    }

    /// Adds the village totals of `records` in `year`: a household is poor in `year`
    /// when it was identified in or before `year` and has not exited by then
    /// (脱贫年度 empty or later), or has returned to poverty (返贫年度) after its exit
    /// and in or before `year`; the same test the SQL of village rules makes.
    pub fn with_villages(mut self, records: &[HouseholdRecord], year: i32) -> County {
        let col = |c: &str| schema::HOUSEHOLDS.index_of(c).expect("households column");
        let (vc, ident, exit, relapse) =
            (col("village_code"), col("identified_year"), col("exit_year"), col("relapse_year"));
        let year = i64::from(year);
        let mut village_seen = HashSet::new();
        for (index, r) in records.iter().enumerate() {
            let Some(code) = r.household.get(vc).and_then(Value::canonical) else { continue };
            let int = |i: usize| match r.household.get(i) {
                Some(Value::Int(v)) => Some(*v),
                _ => None,
            };
            let relapsed = matches!((int(exit), int(relapse)), (Some(e), Some(r)) if e < r && r <= year);
            let poor = int(ident).is_some_and(|y| y <= year) && (int(exit).is_none_or(|y| y > year) || relapsed);
            let n = r.members.len() as i64;
            let t = self.villages.entry(code.clone()).or_insert([0; 4]);
            t[0] += n;
            t[2] += 1;
            if poor {
                t[1] += n;
                t[3] += 1;
            }
            let first_of_village = r.village.is_some() && village_seen.insert(code.clone());
            for digits in [9, 6] {
                if let Some(area) = code.get(0..digits) {
                    let a = self.areas.entry(area.to_owned()).or_default();
                    a.households.push(index);
                    a.poor.push(poor);
                    if first_of_village {
                        a.villages.push(index);
                    }
                }
            }
        }
        self
    }

    /// The township or county codes (`digits` = 9 or 6) that have households, sorted.
    pub fn area_codes(&self, digits: usize) -> Vec<String> {
        let mut codes: Vec<String> = self.areas.keys().filter(|c| c.len() == digits).cloned().collect();
        codes.sort();
        codes
    }
}

/// A 证件号码 as the county built-ins compare it: upper-cased; none when empty.
pub(super) fn id_key(cell: Option<&Value>) -> Option<String> {
    match cell {
        Some(Value::Text(t)) if !t.is_empty() => Some(t.to_ascii_uppercase()),
        _ => None,
    }
}
