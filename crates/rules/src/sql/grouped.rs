//! Aggregates over a household's own lists (`members`, `h.incomes`, `h.pairings`)
//! that a statement evaluates for every row more than once — the snapshot-year guard
//! `h.incomes.exists(i, i.year > year) || …` that many rules of a batch begin with —
//! are one grouped pass over the table per statement, joined on `h.hh_id`, instead of
//! a correlated subquery per rule and row. Only those: an aggregate that a rule
//! reaches on some rows only (the right of `&&`, `||`, a branch of `?:`) stays a
//! correlated subquery, which the engine evaluates only where it is reached, and one
//! evaluated once per row costs less as a subquery than as a pass over its whole
//! table. The condition may read only the list's row (and constants, `year`,
//! `ref_date`, `line`). The value is the correlated subquery's: `exists` counts the
//! rows whose condition is true, `all` those whose condition is false, and a household
//! without rows counts 0 (`COALESCE`).

use crate::ast::AggKind;
use crate::ir::{Const, Ir, IrKind, List, Rec};
use crate::rule::Level;

use super::{Compiler, counted_in};

/// The aggregates that `exprs` evaluate for every row (not only on some rows) at
/// least twice in all, and that a grouped join can compute.
pub(super) fn shared_aggregates(exprs: &[&Ir]) -> Vec<Ir> {
    let mut seen: Vec<(&Ir, usize)> = Vec::new();
    for e in exprs {
        eager_aggregates(e, &mut seen);
    }
    seen.into_iter().filter(|(_, n)| *n >= 2).map(|(ir, _)| ir.clone()).collect()
}

/// Counts the groupable aggregates `ir` evaluates whenever it is evaluated: both
/// operands of a comparison or arithmetic, the left of `&&` and `||` (the right is
/// reached only on some rows), the condition of `?:`.
fn eager_aggregates<'a>(ir: &'a Ir, seen: &mut Vec<(&'a Ir, usize)>) {
    match &ir.kind {
        IrKind::Agg { kind, list, depth, body }
            if *kind != AggKind::Sum
                && matches!(list, List::Members | List::Incomes | List::Pairings)
                && reads_only_its_row(body, *depth) =>
        {
            match seen.iter_mut().find(|(s, _)| *s == ir) {
                Some((_, n)) => *n += 1,
                None => seen.push((ir, 1)),
            }
        }
        IrKind::And(a, _) | IrKind::Or(a, _) | IrKind::Cond(a, _, _) => eager_aggregates(a, seen),
        IrKind::Not(a)
        | IrKind::Present(a)
        | IrKind::Missing(a)
        | IrKind::Neg(a)
        | IrKind::Conv(_, a)
        | IrKind::InList(a, _)
        | IrKind::InCodes(a, _)
        | IrKind::IsCode(a, _) => eager_aggregates(a, seen),
        IrKind::Cmp(_, a, b) | IrKind::Arith(_, a, b) => {
            eager_aggregates(a, seen);
            eager_aggregates(b, seen);
        }
        _ => {}
    }
}

/// Whether `body`, the condition of an aggregate binding depth `depth`, reads no row
/// but the one bound: no outer person or household, no nested aggregate, no
/// county-wide lookup.
fn reads_only_its_row(body: &Ir, depth: u8) -> bool {
    let own = |rec: &Rec| match rec {
        Rec::Member(d) | Rec::Item(d, _) => *d == depth,
        _ => false,
    };
    let mut ok = true;
    body.walk(&mut |n| {
        ok &= match &n.kind {
            IrKind::Col { rec, .. } | IrKind::Age(rec) => own(rec),
            IrKind::FirstWithId(_)
            | IrKind::HelperCount(_)
            | IrKind::Village(_)
            | IrKind::Area(_)
            | IrKind::Agg { .. } => false,
            _ => true,
        };
        ok
    });
    ok
}

impl Compiler<'_> {
    /// The aggregate `ir` as a column of a grouped join, or `None` when it is not one
    /// the statement shares ([`Compiler::prepare`]) or the statement's rows have no
    /// household: it is then a correlated subquery.
    pub(super) fn grouped_agg(&mut self, ir: &Ir) -> Result<Option<String>, String> {
        let IrKind::Agg { kind, list, depth, body } = &ir.kind else { return Ok(None) };
        let (kind, list, depth) = (*kind, *list, *depth);
        // Only person and household rows have their household `h` at the top.
        let households = matches!(self.level, Level::Person | Level::Household);
        if !households || kind == AggKind::Sum || !self.shared.contains(ir) {
            return Ok(None);
        }
        let (table, alias) = match list {
            List::Members => ("persons", format!("m{depth}")),
            List::Incomes => ("incomes", format!("a{depth}")),
            List::Pairings => ("pairings", format!("a{depth}")),
            _ => return Ok(None),
        };
        let filter = match list {
            List::Members => format!(" WHERE {}", counted_in(&alias, self.env.year)),
            _ => String::new(),
        };
        let n = match kind {
            AggKind::Count if body.kind == IrKind::Const(Const::Bool(true)) => "COUNT(*)".to_owned(),
            AggKind::All => format!("SUM(CASE WHEN NOT {} THEN 1 ELSE 0 END)", self.expr(body)?),
            _ => format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", self.expr(body)?),
        };
        let inner =
            format!("SELECT {alias}.hh_id AS hh_id, {n} AS n FROM {table} {alias}{filter} GROUP BY {alias}.hh_id");
        let g = match self.grouped.iter().position(|s| *s == inner) {
            Some(i) => format!("g{i}"),
            None => {
                let g = format!("g{}", self.grouped.len());
                self.county_joins.push(format!("LEFT JOIN ({inner}) {g} ON {g}.hh_id = h.hh_id"));
                self.grouped.push(inner);
                g
            }
        };
        Ok(Some(match kind {
            AggKind::Exists => format!("(COALESCE({g}.n, 0) > 0)"),
            AggKind::All => format!("(COALESCE({g}.n, 0) = 0)"),
            _ => format!("COALESCE({g}.n, 0)"),
        }))
    }
}
