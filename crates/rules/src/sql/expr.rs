//! The translation of the checked form ([`Ir`]) into SQL text, node by node, with the
//! interpreter's semantics (`eval::scope`): SQL's three-valued logic, `NULLIF` for
//! division by zero, members and lists as correlated subqueries, county-wide lookups
//! as joins shared by the rules of a statement.

use crate::ast::AggKind;
use crate::ir::{AreaValue, Arith, Cmp, Const, Conv, Ir, IrKind, Line, List, Rec, TextTest, Ty, VillageTotal};

use super::arith::{is_int_arith, text_to_int_sql};
use super::id_number::id_part_sql;
use super::{Compiler, Dialect, counted_in, poor_in};

fn alias(rec: Rec) -> String {
    match rec {
        Rec::Person => "p".into(),
        Rec::Household => "h".into(),
        Rec::Income => "i".into(),
        Rec::Village => "v".into(),
        Rec::Member(d) => format!("m{d}"),
        Rec::Item(d, _) => format!("a{d}"),
    }
}

impl Compiler<'_> {
    /// The SQL text of `ir`, or why it has none.
    pub(super) fn expr(&mut self, ir: &Ir) -> Result<String, String> {
        Ok(match &ir.kind {
            IrKind::Const(c) => self.constant(c)?,
            IrKind::Col { rec, column, .. } => {
                let col = format!("{}.{}", alias(*rec), column.name);
                if ir.ty == Ty::Bool { format!("({col} = 1)") } else { col }
            }
            IrKind::Age(rec) => {
                let b = format!("{}.birth_date", alias(*rec));
                let (ry, rmd) = (&self.env.ref_date[0..4], &self.env.ref_date[5..10]);
                format!(
                    "({ry} - CAST(SUBSTR({b}, 1, 4) AS BIGINT) - CASE WHEN '{rmd}'{c} < SUBSTR({b}, 6, 5) THEN 1 ELSE 0 END)",
                    c = self.collate()
                )
            }
            IrKind::Year => format!("({})", self.env.year),
            IrKind::RefDate => format!("'{}'", self.env.ref_date),
            IrKind::Line(l) => {
                let y = match l {
                    Line::Poverty => self.env.poverty_line,
                    Line::Monitoring => self.env.monitoring_line,
                };
                y.map(|y| format!("({})", y.fen())).unwrap_or_else(|| "CAST(NULL AS BIGINT)".into())
            }
            IrKind::Present(a) => format!("({} IS NOT NULL)", self.expr(a)?),
            IrKind::Missing(a) => format!("({} IS NULL)", self.expr(a)?),
            IrKind::Not(a) => format!("(NOT {})", self.expr(a)?),
            IrKind::And(a, b) => format!("({} AND {})", self.expr(a)?, self.expr(b)?),
            IrKind::Or(a, b) => format!("({} OR {})", self.expr(a)?, self.expr(b)?),
            IrKind::Cmp(op, a, b) => {
                let o = match op {
                    Cmp::Eq => "=",
                    Cmp::Ne => "<>",
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                let textual = !a.ty.is_numeric() && a.ty != Ty::Bool && !matches!(op, Cmp::Eq | Cmp::Ne);
                let c = if textual { self.collate() } else { "" };
                format!("({}{c} {o} {}{c})", self.expr(a)?, self.expr(b)?)
            }
            _ if is_int_arith(ir) => {
                let mut steps = Vec::new();
                let (raw, bound) = self.int_raw_bound(ir, &mut steps)?;
                self.guard(&raw, &bound, &steps)
            }
            IrKind::Arith(op, a, b) => {
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                match op {
                    Arith::Add => format!("({x} + {y})"),
                    Arith::Sub => format!("({x} - {y})"),
                    Arith::Mul => format!("({x} * {y})"),
                    Arith::Div => format!("({x} / NULLIF({y}, 0))"),
                    Arith::Rem => format!("({x} % NULLIF({y}, 0))"),
                }
            }
            IrKind::Neg(a) => format!("(- {})", self.expr(a)?),
            IrKind::Conv(c, a) => {
                let x = self.expr(a)?;
                match c {
                    Conv::IntToReal => format!("CAST({x} AS DOUBLE PRECISION)"),
                    Conv::MoneyToReal => format!("(CAST({x} AS DOUBLE PRECISION) / 100)"),
                    Conv::YuanToMoney => format!("({x} * 100)"),
                }
            }
            IrKind::Cond(c, a, b) => {
                format!("(CASE WHEN {} THEN {} ELSE {} END)", self.expr(c)?, self.expr(a)?, self.expr(b)?)
            }
            IrKind::InList(a, items) => {
                let x = self.expr(a)?;
                if items.is_empty() {
                    return Ok(format!("(CASE WHEN {x} IS NULL THEN NULL ELSE FALSE END)"));
                }
                let list = items.iter().map(|i| self.constant(i)).collect::<Result<Vec<_>, _>>()?;
                format!("({x} IN ({}))", list.join(", "))
            }
            IrKind::InCodes(a, items) => {
                let x = self.expr(a)?;
                if items.is_empty() {
                    return Ok(format!("(CASE WHEN {x} IS NULL THEN NULL ELSE FALSE END)"));
                }
                let tests: Vec<String> = items
                    .iter()
                    .map(|code| format!("(';' || {x} || ';') LIKE {}", self.bind(&format!("%;{code};%"))))
                    .collect();
                format!("({})", tests.join(" OR "))
            }
            IrKind::IsCode(a, list) => {
                if matches!(a.ty, Ty::Codes(_)) {
                    return Err("多选代码字段的 is_code() 只在解释器中实现".into());
                }
                let x = self.expr(a)?;
                let codes: Vec<String> = self
                    .env
                    .codes
                    .get(list)
                    .map(|l| l.codes.iter().map(|c| c.code.clone()).collect())
                    .unwrap_or_default();
                if codes.is_empty() {
                    return Ok(format!("(CASE WHEN {x} IS NULL THEN NULL ELSE FALSE END)"));
                }
                let binds: Vec<String> = codes.iter().map(|c| self.bind(c)).collect();
                format!("({x} IN ({}))", binds.join(", "))
            }
            IrKind::Id(part, a) => {
                let x = self.expr(a)?;
                let checksum = self.checksum(a, &x);
                id_part_sql(*part, &x, &checksum)
            }
            IrKind::TextTest(test, a, b) => {
                let (x, y) = (self.expr(a)?, self.expr(b)?);
                match (test, self.dialect) {
                    (TextTest::Contains, Dialect::Sqlite) => format!("(INSTR({x}, {y}) > 0)"),
                    (TextTest::Contains, Dialect::Postgres) => format!("(STRPOS({x}, {y}) > 0)"),
                    (TextTest::StartsWith, _) => format!("(SUBSTR({x}, 1, LENGTH({y})) = {y})"),
                    // A start before the first character (y longer than x) yields at most x,
                    // which cannot equal the longer y.
                    (TextTest::EndsWith, Dialect::Sqlite) => {
                        format!("(SUBSTR({x}, LENGTH({x}) - LENGTH({y}) + 1) = {y})")
                    }
                    (TextTest::EndsWith, Dialect::Postgres) => format!("(RIGHT({x}, LENGTH({y})) = {y})"),
                }
            }
            IrKind::Concat(a, b) => format!("({} || {})", self.expr(a)?, self.expr(b)?),
            IrKind::Matches(..) => {
                return Err(
                    "matches() 的正则表达式只在解释器中实现（SQLite 没有 REGEXP，PostgreSQL 的正则方言与 RE2 不同）"
                        .into(),
                );
            }
            IrKind::ToInt(a) => {
                let x = self.expr(a)?;
                match a.ty {
                    Ty::Real => {
                        // The range test makes NaN (PostgreSQL) and out-of-range values null.
                        let whole = match self.dialect {
                            Dialect::Sqlite => format!("CAST({x} AS INTEGER)"),
                            Dialect::Postgres => format!("CAST(TRUNC({x}) AS BIGINT)"),
                        };
                        format!(
                            "(CASE WHEN {x} > -9223372036854775808.0 AND {x} < 9223372036854775808.0 THEN {whole} END)"
                        )
                    }
                    Ty::Int => x,
                    _ => text_to_int_sql(&x, self.collate()),
                }
            }
            IrKind::ToText(a) => {
                let x = self.expr(a)?;
                match a.ty {
                    Ty::Int => format!("CAST({x} AS TEXT)"),
                    Ty::Bool => format!("(CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END)"),
                    _ => x,
                }
            }
            IrKind::Length(a) => format!("LENGTH({})", self.expr(a)?),
            IrKind::IdChecksum(a) => {
                let x = self.expr(a)?;
                self.checksum(a, &x)
            }
            IrKind::Upper(a) => format!("UPPER({})", self.expr(a)?),
            IrKind::Village(total) => match total {
                VillageTotal::Persons => "va.persons",
                VillageTotal::PoorPersons => "va.poor_persons",
                VillageTotal::Households => "va.households",
                VillageTotal::PoorHouseholds => "va.poor_households",
            }
            .to_owned(),
            IrKind::DaysBetween(a, b) => {
                let (a, b) = (self.expr(a)?, self.expr(b)?);
                match self.dialect {
                    Dialect::Sqlite => format!("CAST(julianday({b}) - julianday({a}) AS INTEGER)"),
                    Dialect::Postgres => format!("(CAST({b} AS DATE) - CAST({a} AS DATE))"),
                }
            }
            IrKind::Area(AreaValue::Code) => "ar.code".into(),
            IrKind::Area(AreaValue::CountyExitYear) => {
                let rows = self.env.county_exits.rows.clone();
                if rows.is_empty() {
                    return Ok("CAST(NULL AS BIGINT)".into());
                }
                let mut case = "(CASE SUBSTR(ar.code, 1, 6)".to_owned();
                for (code, year) in &rows {
                    case.push_str(&format!(" WHEN {} THEN {year}", self.bind(code)));
                }
                case.push_str(" END)");
                case
            }
            IrKind::FirstWithId(Rec::Person) if self.area.is_none() => {
                let join = format!(
                    "LEFT JOIN (SELECT UPPER(id_number) AS id_key, MIN(person_id{}) AS first_id FROM persons fp \
                     WHERE id_number <> '' AND {} GROUP BY UPPER(id_number)) fw ON fw.id_key = UPPER(p.id_number)",
                    self.collate(),
                    counted_in("fp", self.env.year)
                );
                self.county_join(join);
                "fw.first_id".into()
            }
            IrKind::HelperCount(Rec::Person) if self.area.is_none() => {
                self.county_join(
                    "LEFT JOIN (SELECT UPPER(id_number) AS id_key, COUNT(*) AS n FROM helpers \
                     WHERE id_number <> '' GROUP BY UPPER(id_number)) hc ON hc.id_key = UPPER(p.id_number)"
                        .into(),
                );
                "(CASE WHEN p.id_number IS NULL OR p.id_number = '' THEN NULL ELSE COALESCE(hc.n, 0) END)".into()
            }
            IrKind::FirstWithId(rec) => {
                let id = format!("{}.id_number", alias(*rec));
                format!(
                    "(SELECT MIN(c.person_id{}) FROM persons c WHERE {id} <> '' AND UPPER(c.id_number) = UPPER({id}) AND {})",
                    self.collate(),
                    counted_in("c", self.env.year)
                )
            }
            IrKind::HelperCount(rec) => {
                let id = format!("{}.id_number", alias(*rec));
                format!(
                    "(CASE WHEN {id} IS NULL OR {id} = '' THEN NULL ELSE \
                     (SELECT COUNT(*) FROM helpers c WHERE UPPER(c.id_number) = UPPER({id})) END)"
                )
            }
            IrKind::Agg { kind, list, depth, body } => {
                if let Some(grouped) = self.grouped_agg(ir)? {
                    return Ok(grouped);
                }
                let year = self.env.year;
                let n = self.area.unwrap_or(6);
                let household_joins = format!(
                    "LEFT JOIN incomes i ON i.hh_id = h.hh_id AND i.year = {year} \
                     LEFT JOIN village_years v ON v.village_code = h.village_code AND v.year = {year}"
                );
                let in_area = format!("SUBSTR(h.village_code, 1, {n}) = ar.code");
                let poor = |p: bool| if p { format!(" AND {}", poor_in(year)) } else { String::new() };
                let from = match list {
                    List::Members => format!(
                        "FROM persons m{depth} WHERE m{depth}.hh_id = h.hh_id AND {}",
                        counted_in(&format!("m{depth}"), year)
                    ),
                    List::Incomes => format!("FROM incomes a{depth} WHERE a{depth}.hh_id = h.hh_id"),
                    List::Pairings => format!("FROM pairings a{depth} WHERE a{depth}.hh_id = h.hh_id"),
                    List::AreaHouseholds { poor: p } => {
                        format!("FROM households h {household_joins} WHERE {in_area}{}", poor(*p))
                    }
                    List::AreaPersons { poor: p } => format!(
                        "FROM persons p JOIN households h ON h.hh_id = p.hh_id {household_joins} WHERE {in_area} AND {}{}",
                        counted_in("p", year),
                        poor(*p)
                    ),
                    List::AreaVillages => format!(
                        "FROM village_years v WHERE v.year = {year} AND SUBSTR(v.village_code, 1, {n}) = ar.code \
                         AND EXISTS (SELECT 1 FROM households hv WHERE hv.village_code = v.village_code)"
                    ),
                };
                match kind {
                    AggKind::Exists => format!("(EXISTS (SELECT 1 {from} AND {}))", self.expr(body)?),
                    AggKind::All => format!("(NOT EXISTS (SELECT 1 {from} AND NOT {}))", self.expr(body)?),
                    AggKind::Count if body.kind == IrKind::Const(Const::Bool(true)) => {
                        format!("(SELECT COUNT(*) {from})")
                    }
                    AggKind::Count => format!("(SELECT COUNT(*) {from} AND {})", self.expr(body)?),
                    AggKind::Sum => {
                        let e = self.expr(body)?;
                        self.exact_sum(&e, &from)
                    }
                }
            }
        })
    }
}
