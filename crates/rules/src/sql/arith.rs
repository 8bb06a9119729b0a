//! 64-bit integer arithmetic in SQL: the interpreter's checked arithmetic makes an
//! overflow null, so the SQL range-checks it (in NUMERIC on PostgreSQL, by `typeof`
//! on SQLite), sums exactly, and reads `int(text)` only within 64 bits.

use crate::ir::{Arith, Conv, Ir, IrKind, Ty};

use super::{Compiler, Dialect};

/// 64-bit integer arithmetic (integers and money): the nodes whose overflow SQL must
/// catch, as the interpreter's checked arithmetic does.
pub(super) fn is_int_arith(ir: &Ir) -> bool {
    matches!(ir.ty, Ty::Int | Ty::Money)
        && matches!(ir.kind, IrKind::Arith(..) | IrKind::Neg(_) | IrKind::Conv(Conv::YuanToMoney, _))
}

/// The bounds of a 64-bit integer in SQL text.
const I64_RANGE: &str = "-9223372036854775808 AND 9223372036854775807";

impl Compiler<'_> {
    /// Integer arithmetic before its overflow guard ([`Compiler::guard`]): PostgreSQL
    /// computes in NUMERIC (exact, never out of range), SQLite in 64-bit integers,
    /// which SQLite turns into REAL on overflow (and a REAL stays REAL through the rest
    /// of the chain). Only the outermost node of a chain is guarded, so the text does
    /// not double with each level; `steps` collects every node's value, which
    /// PostgreSQL tests one by one (`(MAX + 1) - 2` overflows although its result fits).
    ///
    /// For PostgreSQL it also returns a bound no step of the chain exceeds
    /// in absolute value (the sum of the operands' bounds, their product with each at
    /// least 1…): while it is within 64 bits no step can have left them, and the
    /// step-by-step tests are skipped.
    pub(super) fn int_raw_bound(&mut self, ir: &Ir, steps: &mut Vec<String>) -> Result<(String, String), String> {
        let pg = self.dialect == Dialect::Postgres;
        if !is_int_arith(ir) {
            let leaf = self.expr(ir)?;
            return Ok(if pg {
                let n = format!("CAST({leaf} AS NUMERIC)");
                (n.clone(), format!("ABS({n})"))
            } else {
                (leaf, String::new())
            });
        }
        let at_least_one = |b: &str| format!("GREATEST({b}, 1)");
        let (raw, bound) = match &ir.kind {
            IrKind::Arith(Arith::Rem, a, b) => {
                // SQLite's % makes its operands integers (an overflowed REAL would come
                // back wrong): they are guarded first. MIN % -1 is an overflow (CEL), 0 in SQL.
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                let raw = format!(
                    "(CASE WHEN {y} = -1 AND {x} = (-9223372036854775807 - 1) THEN NULL ELSE {x} % NULLIF({y}, 0) END)"
                );
                let bound = if pg { format!("ABS(CAST({raw} AS NUMERIC))") } else { String::new() };
                (raw, bound)
            }
            IrKind::Arith(op, a, b) => {
                let ((x, bx), (y, by)) = (self.int_raw_bound(a, steps)?, self.int_raw_bound(b, steps)?);
                let raw = match (op, self.dialect) {
                    (Arith::Add, _) => format!("({x} + {y})"),
                    (Arith::Sub, _) => format!("({x} - {y})"),
                    (Arith::Mul, _) => format!("({x} * {y})"),
                    // Both truncate toward zero; SQLite's MIN / -1 becomes REAL.
                    (_, Dialect::Sqlite) => format!("({x} / NULLIF({y}, 0))"),
                    (_, Dialect::Postgres) => format!("DIV({x}, NULLIF({y}, 0))"),
                };
                let bound = match op {
                    _ if !pg => String::new(),
                    Arith::Add | Arith::Sub => format!("({bx} + {by})"),
                    Arith::Mul => format!("({} * {})", at_least_one(&bx), at_least_one(&by)),
                    _ => format!("GREATEST({bx}, {by})"),
                };
                (raw, bound)
            }
            IrKind::Neg(a) => {
                let (x, bx) = self.int_raw_bound(a, steps)?;
                (format!("(- {x})"), bx)
            }
            IrKind::Conv(_, a) => {
                let (x, bx) = self.int_raw_bound(a, steps)?;
                (format!("({x} * 100)"), if pg { format!("({bx} * 100)") } else { String::new() })
            }
            _ => return Err("内部错误：不是整数运算".into()),
        };
        steps.push(raw.clone());
        Ok((raw, bound))
    }

    /// The value of unguarded integer arithmetic, or NULL when it (or, in PostgreSQL,
    /// any of its `steps`) left 64 bits; `bound` is [`Compiler::int_raw_bound`]'s.
    pub(super) fn guard(&self, raw: &str, bound: &str, steps: &[String]) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("(CASE WHEN typeof({raw}) = 'integer' THEN {raw} END)"),
            Dialect::Postgres => {
                let tests: Vec<String> = steps.iter().map(|s| format!("{s} BETWEEN {I64_RANGE}")).collect();
                format!(
                    "(CASE WHEN {bound} <= 9223372036854775807 THEN CAST({raw} AS BIGINT) WHEN {} THEN CAST({raw} AS BIGINT) END)",
                    tests.join(" AND ")
                )
            }
        }
    }

    /// `sum(list, x, e)`: the exact sum of the non-null `e` (0 for none), NULL when it
    /// leaves 64 bits. PostgreSQL sums BIGINT into NUMERIC; SQLite's SUM stops the
    /// whole statement on an overflow, so it sums the high and low 32 bits apart and
    /// puts them together only when the total fits.
    pub(super) fn exact_sum(&self, e: &str, from: &str) -> String {
        const K: &str = "4294967296";
        match self.dialect {
            Dialect::Postgres => format!(
                "(SELECT CASE WHEN COALESCE(SUM({e}), 0) BETWEEN {I64_RANGE} THEN CAST(COALESCE(SUM({e}), 0) AS BIGINT) END {from})"
            ),
            Dialect::Sqlite => format!(
                "(SELECT CASE WHEN s2.q BETWEEN -2147483648 AND 2147483647 THEN s2.q * {K} + s2.r END FROM \
                 (SELECT s1.qs + s1.rs / {K} - (CASE WHEN s1.rs % {K} < 0 THEN 1 ELSE 0 END) AS q, \
                 (s1.rs % {K} + {K}) % {K} AS r FROM \
                 (SELECT COALESCE(SUM({e} / {K}), 0) AS qs, COALESCE(SUM({e} % {K}), 0) AS rs {from}) s1) s2)"
            ),
        }
    }
}

/// `int(text)`: an optional sign and decimal digits, within 64 bits (what Rust's
/// `i64::from_str` takes); NULL for anything else, without an error on either engine.
pub(super) fn text_to_int_sql(x: &str, collate: &str) -> String {
    let unsigned = format!("(CASE WHEN SUBSTR({x}, 1, 1) IN ('+', '-') THEN SUBSTR({x}, 2) ELSE {x} END)");
    let mut rest = unsigned.clone();
    for d in 0..10 {
        rest = format!("REPLACE({rest}, '{d}', '')");
    }
    let digits = format!("LTRIM({unsigned}, '0')");
    let limit =
        format!("(CASE WHEN SUBSTR({x}, 1, 1) = '-' THEN '9223372036854775808' ELSE '9223372036854775807' END)");
    format!(
        "(CASE WHEN LENGTH({unsigned}) > 0 AND LENGTH({rest}) = 0 AND (LENGTH({digits}) < 19 \
         OR (LENGTH({digits}) = 19 AND {digits}{collate} <= {limit}{collate})) THEN CAST({x} AS BIGINT) END)"
    )
}
