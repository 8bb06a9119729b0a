//! The ID-number functions in SQL both engines run (GB 11643: `id_valid`,
//! `id_birth_date`, `id_sex`, `id_checksum_ok`), without regular expressions.
//!
//! The checksum is the costly part (some sixty string functions per number). A person
//! statement whose rules test the checksum of the person's number more than once (the
//! data-quality set's `id_checksum`, `id_malformed`, `birth_date_id_mismatch`,
//! `sex_id_mismatch` in one batch) computes it once per person, in a join on
//! `p.person_id`; the `GROUP BY` on the key keeps both engines from inlining the
//! subquery (which would compute it again at every use).

use crate::ir::{IdPart, Ir, IrKind, Rec};
use crate::rule::Level;

use super::Compiler;

/// The person columns whose checksum `exprs` test at least twice in all.
pub(super) fn repeated_checksums(exprs: &[&Ir]) -> Vec<&'static str> {
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    for e in exprs {
        e.walk(&mut |n| {
            if let IrKind::IdChecksum(a) | IrKind::Id(_, a) = &n.kind
                && let Some(column) = person_column(a)
            {
                match seen.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, k)) => *k += 1,
                    None => seen.push((column, 1)),
                }
            }
            true
        });
    }
    seen.into_iter().filter(|(_, k)| *k >= 2).map(|(c, _)| c).collect()
}

/// The column of `p` that `ir` reads directly, if it does.
fn person_column(ir: &Ir) -> Option<&'static str> {
    match &ir.kind {
        IrKind::Col { rec: Rec::Person, column, .. } => Some(column.name),
        _ => None,
    }
}

impl Compiler<'_> {
    /// `id_checksum_ok` of `a` (whose SQL is `x`): a column of the person's join when
    /// the statement's person rules test it more than once, else computed in place.
    pub(super) fn checksum(&mut self, a: &Ir, x: &str) -> String {
        let Some(column) = person_column(a).filter(|c| self.level == Level::Person && self.checksums.contains(c))
        else {
            return id_checksum_sql(x);
        };
        let alias = format!("ck_{column}");
        let join = format!(
            "LEFT JOIN (SELECT pc.person_id AS person_id, {} AS ok FROM persons pc GROUP BY pc.person_id) {alias} \
             ON {alias}.person_id = p.person_id",
            id_checksum_sql(&format!("pc.{column}"))
        );
        self.county_join(join);
        format!("{alias}.ok")
    }
}

/// `id_valid`, `id_birth_date`, `id_sex` of `x` ([`IdPart`]), `checksum` being
/// `id_checksum_ok(x)`: the casts sit inside branches only a valid number reaches.
pub(super) fn id_part_sql(part: IdPart, x: &str, checksum: &str) -> String {
    let valid = format!(
        "(CASE WHEN COALESCE({checksum}, FALSE) THEN CAST(SUBSTR({x}, 7, 4) AS BIGINT) BETWEEN 1880 AND 2100 ELSE FALSE END)"
    );
    match part {
        IdPart::Valid => format!("(CASE WHEN {x} IS NULL THEN NULL ELSE {valid} END)"),
        IdPart::BirthDate => format!(
            "(CASE WHEN {valid} THEN SUBSTR({x}, 7, 4) || '-' || SUBSTR({x}, 11, 2) || '-' || SUBSTR({x}, 13, 2) END)"
        ),
        IdPart::Sex => format!(
            "(CASE WHEN {valid} THEN (CASE WHEN CAST(SUBSTR({x}, 17, 1) AS BIGINT) % 2 = 1 THEN '1' ELSE '2' END) END)"
        ),
    }
}

/// `id_checksum_ok(x)` in SQL both engines run: digits are found by deleting them
/// (no regular expressions in SQLite), and the casts sit inside `CASE` branches that
/// only digits reach.
pub(super) fn id_checksum_sql(x: &str) -> String {
    let mut digits = format!("SUBSTR({x}, 1, 17)");
    for d in 0..10 {
        digits = format!("REPLACE({digits}, '{d}', '')");
    }
    let n = |from: usize, len: usize| format!("CAST(SUBSTR({x}, {from}, {len}) AS BIGINT)");
    let (y, m, d) = (n(7, 4), n(11, 2), n(13, 2));
    let days = format!(
        "CASE WHEN {m} = 2 THEN (CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 THEN 29 ELSE 28 END) \
         WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    );
    let sum: Vec<String> =
        crate::eval::ID_WEIGHTS.iter().enumerate().map(|(i, w)| format!("{} * {w}", n(i + 1, 1))).collect();
    let check = format!(
        "SUBSTR(CAST('{}' AS TEXT), CAST(({}) % 11 + 1 AS INTEGER), 1)",
        crate::eval::ID_CHECK_CHARS,
        sum.join(" + ")
    );
    format!(
        "(CASE WHEN LENGTH({x}) = 18 AND LENGTH({digits}) = 0 THEN \
         (CASE WHEN {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND ({days}) \
         THEN UPPER(SUBSTR({x}, 18, 1)) = {check} END) END)"
    )
}
