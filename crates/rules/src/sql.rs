//! The SQL compiler: one `SELECT` per rule that returns, for every entity of the
//! rule's level, its key, the verdict (1 pass, 0 fail, 2 skipped) and the rule's
//! values, in SQL that SQLite and PostgreSQL both run.
//!
//! It reads the checked form (`ir.rs`) that the interpreter reads, and follows the
//! same semantics: SQL's own three-valued logic, `NULLIF` for division by zero,
//! members as correlated subqueries on `persons`, ages from the ISO `birth_date`
//! text. Text literals from rule files are bound as parameters; the statement text
//! holds only schema identifiers, numbers and our own ISO dates. A rule with a part
//! SQL cannot express ([`Ir::sql_blocker`]) is refused with the reason, never dropped.

use crate::ast::AggKind;
use crate::eval::{Env, storage_of};
use crate::ir::{AreaValue, Arith, Cmp, Const, Conv, IdPart, Ir, IrKind, Line, List, Rec, TextTest, Ty, VillageTotal};
use crate::rule::{Level, Missing, Rule};
use fupin_domain::schema::Storage;

/// Which engine the text is for (they differ only in text ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A compiled rule: statement text, the texts bound to `$1…`, and how to read each
/// value column back. Verdicts: 1 pass, 0 fail, 2 skipped, 3 fail because the result
/// is missing (`never_skip`).
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSql {
    pub sql: String,
    /// The same statement returning only the failing entities (`verdict = 0`): what a
    /// check run keeps. The verdict is also tested in `WHERE`, so the engine computes
    /// the values of failing rows only and passes never leave it.
    pub failures_sql: String,
    pub params: Vec<String>,
    pub value_storages: Vec<Storage>,
}

/// Why a rule has no SQL form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("规则 {rule} 不能编译为 SQL（只用解释器运行）：{reason}")]
pub struct NotCompilable {
    pub rule: String,
    pub reason: String,
}

/// Compiles a rule for the policy year of `env`.
pub fn compile(rule: &Rule, env: &Env, dialect: Dialect) -> Result<CompiledSql, NotCompilable> {
    compile_parts(
        &rule.id,
        rule.level,
        rule.missing,
        &rule.expr,
        &rule.values.iter().map(|(_, v)| v).collect::<Vec<_>>(),
        env,
        dialect,
    )
}

/// Compiles an expression with its values (the rule's, or a `rules try` query's).
pub fn compile_parts(
    id: &str,
    level: Level,
    missing: Missing,
    expr: &Ir,
    values: &[&Ir],
    env: &Env,
    dialect: Dialect,
) -> Result<CompiledSql, NotCompilable> {
    let refuse = |reason: String| NotCompilable { rule: id.to_owned(), reason };
    let mut c = Compiler::new(env, dialect, level);
    let RuleColumns { verdict, values, value_storages } = c.rule_columns(missing, expr, values).map_err(refuse)?;
    let fails = format!("{verdict} IN (0, 3)");
    let columns: Vec<String> = std::iter::once(verdict).chain(values).collect();
    let sql = select(level, env.year, &c.county_joins, &columns, "TRUE").map_err(refuse)?;
    let failures_sql = select(level, env.year, &c.county_joins, &columns, &fails).map_err(refuse)?;
    Ok(CompiledSql { sql, failures_sql, params: c.params, value_storages })
}

/// A rule's columns in a statement: its verdict (1 pass, 0 fail, 2 skipped) and its
/// values, with how to read each value back.
pub(crate) struct RuleColumns {
    pub verdict: String,
    pub values: Vec<String>,
    pub value_storages: Vec<Storage>,
}

/// A person of alias `a` counts in `year`: born by its last day (出生日期 empty:
/// counted), and a member now (人员状态 empty or 1) or one who died or left in or
/// after that year (`db::counted_in` is the interpreter's).
pub(crate) fn counted_in(a: &str, year: i32) -> String {
    format!(
        "((COALESCE({a}.person_status, '1') = '1' OR {a}.left_on >= '{year:04}-01-01') \
         AND ({a}.birth_date IS NULL OR {a}.birth_date = '' OR {a}.birth_date <= '{year:04}-12-31'))"
    )
}

/// `SELECT key, columns FROM <the level's rows and joins> WHERE filter ORDER BY key`;
/// `county_joins` are the compiler's ([`Compiler::county_joins`]).
pub(crate) fn select(
    level: Level,
    year: i32,
    county_joins: &[String],
    columns: &[String],
    filter: &str,
) -> Result<String, String> {
    let mut joins = format!(
        "LEFT JOIN incomes i ON i.hh_id = h.hh_id AND i.year = {year} \
         LEFT JOIN village_years v ON v.village_code = h.village_code AND v.year = {year}"
    );
    for j in county_joins {
        joins.push(' ');
        joins.push_str(j);
    }
    match level {
        Level::Person => Ok(format!(
            "SELECT p.person_id, {} FROM persons p JOIN households h ON h.hh_id = p.hh_id {joins} \
             WHERE {} AND {filter} ORDER BY p.person_id",
            columns.join(", "),
            counted_in("p", year)
        )),
        Level::Household => Ok(format!(
            "SELECT h.hh_id, {} FROM households h {joins} WHERE {filter} ORDER BY h.hh_id",
            columns.join(", ")
        )),
        Level::Village => {
            let poor = poor_in(year);
            Ok(format!(
                "SELECT v.village_code, {} FROM village_years v JOIN (SELECT h.village_code AS village_code, \
                 COALESCE(SUM(pc.n), 0) AS persons, COALESCE(SUM(CASE WHEN {poor} THEN pc.n ELSE 0 END), 0) AS poor_persons, \
                 COUNT(*) AS households, SUM(CASE WHEN {poor} THEN 1 ELSE 0 END) AS poor_households \
                 FROM households h LEFT JOIN (SELECT hh_id, COUNT(*) AS n FROM persons pp WHERE {counted} GROUP BY hh_id) pc \
                 ON pc.hh_id = h.hh_id \
                 GROUP BY h.village_code) va ON va.village_code = v.village_code WHERE v.year = {year} AND {filter} \
                 ORDER BY v.village_code",
                columns.join(", "),
                counted = counted_in("pp", year),
            ))
        }
        Level::Township | Level::County => {
            let n = level.area_digits().unwrap_or(6);
            Ok(format!(
                "SELECT ar.code, {} FROM (SELECT DISTINCT SUBSTR(village_code, 1, {n}) AS code FROM households \
                 WHERE LENGTH(village_code) >= {n}) ar WHERE {filter} ORDER BY ar.code",
                columns.join(", ")
            ))
        }
    }
}

/// Compiles expressions into one statement's text: parameters are numbered `$1…` in
/// the order they are bound, and county-wide joins are shared by the rules of a statement.
pub(crate) struct Compiler<'a> {
    env: &'a Env,
    dialect: Dialect,
    pub params: Vec<String>,
    /// Joins of county-wide lookups for the checked person `p`: one grouped pass over
    /// the table instead of a subquery per person.
    pub county_joins: Vec<String>,
    /// A township or county rule: the digits of the area code `ar.code`.
    area: Option<usize>,
}

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

impl<'a> Compiler<'a> {
    /// A compiler for rules of `level` (township and county rules read `ar.code`).
    pub fn new(env: &'a Env, dialect: Dialect, level: Level) -> Compiler<'a> {
        Compiler { env, dialect, params: Vec::new(), county_joins: Vec::new(), area: level.area_digits() }
    }

    /// A rule's verdict and value columns. On an error the compiler is left as it was
    /// (no parameter or join of the refused rule stays behind).
    pub fn rule_columns(&mut self, missing: Missing, expr: &Ir, values: &[&Ir]) -> Result<RuleColumns, String> {
        let (params, joins) = (self.params.len(), self.county_joins.len());
        let columns = self.rule_columns_inner(missing, expr, values);
        if columns.is_err() {
            self.params.truncate(params);
            self.county_joins.truncate(joins);
        }
        columns
    }

    fn rule_columns_inner(&mut self, missing: Missing, expr: &Ir, values: &[&Ir]) -> Result<RuleColumns, String> {
        let e = self.expr(expr)?;
        let refs: Vec<String> = expr
            .referenced()
            .into_iter()
            .map(|r| self.expr(r).map(|s| format!("{s} IS NULL")))
            .collect::<Result<_, _>>()?;
        let skip = match missing {
            Missing::SkipIfAnyMissing if !refs.is_empty() => refs.join(" OR "),
            Missing::SkipIfAllMissing if !refs.is_empty() => refs.join(" AND "),
            _ => "FALSE".to_owned(),
        };
        // 3: failing because the result is missing (a missing value, a division by zero,
        // an overflow); the finding says so.
        let on_null = if missing == Missing::NeverSkip { 3 } else { 2 };
        let verdict = format!(
            "CAST(CASE WHEN {skip} THEN 2 ELSE (CASE {e} WHEN TRUE THEN 1 WHEN FALSE THEN 0 ELSE {on_null} END) END AS BIGINT)"
        );
        let mut columns = Vec::new();
        let mut value_storages = Vec::new();
        for v in values {
            let s = self.expr(v)?;
            columns.push(match v.ty {
                Ty::Bool => format!("CAST(CASE {s} WHEN TRUE THEN 1 WHEN FALSE THEN 0 END AS BIGINT)"),
                Ty::Int | Ty::Money => format!("CAST({s} AS BIGINT)"),
                Ty::Real => format!("CAST({s} AS DOUBLE PRECISION)"),
                _ => format!("CAST({s} AS TEXT)"),
            });
            value_storages.push(storage_of(v.ty));
        }
        Ok(RuleColumns { verdict, values: columns, value_storages })
    }

    fn county_join(&mut self, join: String) {
        if !self.county_joins.contains(&join) {
            self.county_joins.push(join);
        }
    }

    fn bind(&mut self, text: &str) -> String {
        self.params.push(text.to_owned());
        format!("CAST(${} AS TEXT)", self.params.len())
    }

    fn constant(&mut self, c: &Const) -> Result<String, String> {
        Ok(match c {
            Const::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            // -2^63 as a literal is the negation of a number out of range.
            Const::Int(i64::MIN) | Const::Money(i64::MIN) => "(-9223372036854775807 - 1)".into(),
            Const::Int(i) | Const::Money(i) => format!("({i})"),
            Const::Real(r) if r.is_finite() => format!("CAST({r:?} AS DOUBLE PRECISION)"),
            Const::Real(_) => return Err("无穷大不能写入 SQL".into()),
            Const::Text(t) => self.bind(t),
        })
    }

    /// Ordered text comparison in byte order on both engines.
    fn collate(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        }
    }

    fn expr(&mut self, ir: &Ir) -> Result<String, String> {
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
                id_part_sql(*part, &x)
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
            IrKind::IdChecksum(a) => id_checksum_sql(&self.expr(a)?),
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

/// 64-bit integer arithmetic (integers and money): the nodes whose overflow SQL must
/// catch, as the interpreter's checked arithmetic does.
fn is_int_arith(ir: &Ir) -> bool {
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
    fn int_raw_bound(&mut self, ir: &Ir, steps: &mut Vec<String>) -> Result<(String, String), String> {
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
    fn guard(&self, raw: &str, bound: &str, steps: &[String]) -> String {
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
    fn exact_sum(&self, e: &str, from: &str) -> String {
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

/// `id_valid`, `id_birth_date`, `id_sex` of `x` ([`IdPart`]): the casts sit inside
/// branches only a valid number reaches.
fn id_part_sql(part: IdPart, x: &str) -> String {
    let valid = format!(
        "(CASE WHEN COALESCE({}, FALSE) THEN CAST(SUBSTR({x}, 7, 4) AS BIGINT) BETWEEN 1880 AND 2100 ELSE FALSE END)",
        id_checksum_sql(x)
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

/// `int(text)`: an optional sign and decimal digits, within 64 bits (what Rust's
/// `i64::from_str` takes); NULL for anything else, without an error on either engine.
fn text_to_int_sql(x: &str, collate: &str) -> String {
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

/// A household `h` is poor in `year`: identified by then and not yet exited, or
/// returned to poverty (返贫年度) after its exit and by then (the interpreter's test in
/// `County::with_villages`).
fn poor_in(year: i32) -> String {
    format!(
        "h.identified_year IS NOT NULL AND h.identified_year <= {year} AND (h.exit_year IS NULL OR h.exit_year > {year} \
         OR (h.relapse_year IS NOT NULL AND h.relapse_year > h.exit_year AND h.relapse_year <= {year}))"
    )
}

/// `id_checksum_ok(x)` in SQL both engines run: digits are found by deleting them
/// (no regular expressions in SQLite), and the casts sit inside `CASE` branches that
/// only digits reach.
fn id_checksum_sql(x: &str) -> String {
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
