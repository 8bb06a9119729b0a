//! Checks across the households and persons files: a 主要致贫原因 that no member
//! bears out (因病 with nobody sick, 因残 with nobody disabled, 因学 with no student).
//!
//! Real registries contain these; they are warnings, found after both files are read.
//! State is a few bytes per household, so a county's files stream through.

use std::collections::HashMap;

use fupin_domain::Value;

use crate::cell::Context;
use crate::problem::{Problem, Severity};
use crate::validate::{Locator, ValidatedRow};

/// What a main cause needs some member to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Sick,
    Disabled,
    Student,
}

const SICK: u8 = 1;
const DISABLED: u8 = 2;
const STUDENT: u8 = 4;
const ANY: u8 = 8;

/// Accumulates rows of a households file and a persons file (in any order) and yields
/// the cross-file warnings at the end.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use fupin_ingest::{Context, CrossChecks, FileReader};
/// # let ctx = Arc::new(Context::builtin_xunyang());
/// let mut cross = CrossChecks::new(&ctx);
/// for path in ["households.csv", "persons.csv"] {
///     let mut reader = FileReader::open(path.as_ref(), ctx.clone()).unwrap();
///     let locator = reader.locator().clone();
///     while let Some(row) = reader.next_row() {
///         cross.feed(&locator, &row);
///     }
/// }
/// let warnings: Vec<_> = cross.finish();
/// ```
pub struct CrossChecks {
    /// Code → need, from the code lists' labels (因病, 因残, 因学).
    causes: Vec<(String, Need)>,
    sick: Vec<String>,
    disabled: Vec<String>,
    not_student: Vec<String>,
    /// 户编号 → (need, where the household's cause is written).
    households: HashMap<Box<str>, (Need, Locator, u64)>,
    /// 户编号 → what its members show (bit set).
    members: HashMap<Box<str>, u8>,
}

impl CrossChecks {
    /// Resolves the codes it needs by label, so that renumbered code lists still work;
    /// a check whose labels are missing from the lists is skipped.
    pub fn new(ctx: &Context) -> CrossChecks {
        let code =
            |list: &str, label: &str| ctx.codes.get(list).and_then(|l| l.by_label(label)).map(|c| c.code.clone());
        let causes = [("因病", Need::Sick), ("因残", Need::Disabled), ("因学", Need::Student)]
            .into_iter()
            .filter_map(|(label, need)| code("cause", label).map(|c| (c, need)))
            .collect();
        CrossChecks {
            causes,
            sick: ["长期慢性病", "患有大病"].iter().filter_map(|l| code("health", l)).collect(),
            disabled: ["残疾"].iter().filter_map(|l| code("health", l)).collect(),
            // 在校生 means primary school or above, as the generator's answer key has it.
            not_student: ["非在校生", "学前教育"].iter().filter_map(|l| code("school_status", l)).collect(),
            households: HashMap::new(),
            members: HashMap::new(),
        }
    }

    /// Takes one validated row of a households or persons file; rows of other tables
    /// are ignored.
    pub fn feed(&mut self, locator: &Locator, row: &ValidatedRow) {
        let table = locator.table();
        let text = |name: &str| row.get(table, name).and_then(Value::as_text);
        let Some(hh) = text("hh_id") else { return };
        match table.name {
            "households" => {
                let need =
                    text("main_cause").and_then(|c| self.causes.iter().find(|(code, _)| code == c)).map(|(_, n)| *n);
                if let Some(need) = need {
                    self.households.insert(hh.into(), (need, locator.clone(), row.line));
                }
            }
            "persons" => {
                let mut bits = ANY;
                if let Some(health) = text("health") {
                    for h in health.split(';') {
                        if self.sick.iter().any(|c| c == h) {
                            bits |= SICK;
                        }
                        if self.disabled.iter().any(|c| c == h) {
                            bits |= DISABLED;
                        }
                    }
                }
                if text("school_status").is_some_and(|s| !self.not_student.iter().any(|c| c == s)) {
                    bits |= STUDENT;
                }
                *self.members.entry(hh.into()).or_default() |= bits;
            }
            _ => {}
        }
    }

    /// The warnings, in file and line order. Households with no member in the persons
    /// file fed are not judged.
    pub fn finish(self) -> Vec<Problem> {
        let mut out: Vec<Problem> = self
            .households
            .iter()
            .filter_map(|(hh, (need, locator, line))| {
                let bits = *self.members.get(hh)?;
                let (bit, reason) = match need {
                    Need::Sick => (SICK, "主要致贫原因为“因病”，但家庭成员中没有人健康状况为长期慢性病或患有大病"),
                    Need::Disabled => (DISABLED, "主要致贫原因为“因残”，但家庭成员中没有人健康状况为残疾"),
                    Need::Student => (STUDENT, "主要致贫原因为“因学”，但家庭成员中没有在校生"),
                };
                (bits & bit == 0).then(|| {
                    locator.problem(*line, Some("main_cause"), Severity::Warning, format!("户「{hh}」{reason}"))
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        out
    }
}
