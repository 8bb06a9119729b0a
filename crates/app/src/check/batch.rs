//! Runs the statements of several rules of one level that the rules compiler builds
//! (`fupin_rules::sql::batch`): the store executes each one
//! (`fupin_store::rules_sql::run_rules_select`), and the rows come back here as each
//! rule's failing entities, typed as the interpreter types them.

use fupin_rules::Val;
use fupin_rules::rule::{Outcome, Verdict};
use fupin_rules::sql::batch::Batch;
use fupin_store::Store;
use fupin_store::rules_sql::{RulePart, WideRow, run_rules_select};

use super::statements::RunError;

/// Runs a batch: for each of its rules (in [`Batch::rules`] order) the entities it
/// fails, as (key, outcome) sorted by key, values typed as the interpreter types them.
pub async fn run(store: &Store, batch: &Batch) -> Result<Vec<Vec<(String, Outcome)>>, RunError> {
    let rows = run_rules_select(store, &batch.sql, &batch.params, &batch.layout).await?;
    let mut out: Vec<Vec<(String, Outcome)>> = vec![Vec::new(); batch.rules.len()];
    for WideRow { key, rules } in rows {
        for ((RulePart { verdict, values }, types), failing) in rules.into_iter().zip(&batch.types).zip(&mut out) {
            match verdict {
                0 | 3 => {
                    let values = values.iter().zip(types).map(|(v, t)| Val::from_cell(v, *t)).collect();
                    failing.push((key.clone(), Outcome { verdict: Verdict::Fail, values, undetermined: verdict == 3 }));
                }
                1 | 2 => {}
                v => return Err(RunError::BadVerdict(v)),
            }
        }
    }
    for failing in &mut out {
        failing.sort_by(|a, b| a.0.cmp(&b.0));
    }
    Ok(out)
}
