//! The interpreter: evaluates a checked expression on in-memory rows with SQL's
//! three-valued logic, so that it agrees with the compiled SQL (`sql.rs`) value for
//! value. A missing value is `Val::Null`; it propagates through comparisons and
//! arithmetic; `&&`/`||` are Kleene's (false && null = false, true || null = true);
//! division by zero is null; aggregates count only members whose condition is true.

use fupin_domain::schema::{self, Storage};
use fupin_domain::{CodeLists, Value, Yuan};

use crate::ast::AggKind;
use std::collections::{HashMap, HashSet};

use crate::ir::{AreaValue, Arith, Cmp, Const, Conv, IdPart, Ir, IrKind, Line, List, Rec, TextTest, Ty, VillageTotal};

/// A value during evaluation. Money is in fen; dates are ISO text.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Money(i64),
    Text(String),
}

impl Val {
    /// The text shown in explanations and stored with findings; the same for a value
    /// computed here and one read back from SQL.
    pub fn shown(&self) -> String {
        match self {
            Val::Null => "（空）".into(),
            Val::Bool(b) => if *b { "是" } else { "否" }.into(),
            Val::Int(i) => i.to_string(),
            Val::Real(r) => fupin_domain::value::format_real(*r),
            Val::Money(f) => Yuan::from_fen(*f).to_string(),
            Val::Text(t) => t.clone(),
        }
    }

    /// A stored cell as a value of the column's type.
    pub fn from_cell(cell: &Value, ty: Ty) -> Val {
        match (cell, ty) {
            (Value::Null, _) => Val::Null,
            (Value::Int(i), Ty::Bool) => Val::Bool(*i != 0),
            (Value::Int(i), Ty::Money) => Val::Money(*i),
            (Value::Int(i), Ty::Real) => Val::Real(*i as f64),
            (Value::Int(i), _) => Val::Int(*i),
            (Value::Real(r), _) => Val::Real(*r),
            (Value::Text(t), Ty::Int | Ty::Money | Ty::Bool) => match t.trim().parse::<i64>() {
                Ok(i) => Val::from_cell(&Value::Int(i), ty),
                Err(_) => Val::Null,
            },
            (Value::Text(t), Ty::Real) => t.trim().parse().map(Val::Real).unwrap_or(Val::Null),
            (Value::Text(t), _) => Val::Text(t.clone()),
        }
    }
}

/// One household with everything a person- or household-level rule reads: rows in
/// schema column order (`fupin_domain::schema`), as the store returns them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdRecord {
    pub household: Vec<Value>,
    pub members: Vec<Vec<Value>>,
    /// The `incomes` row of the policy year, if any.
    pub income: Option<Vec<Value>>,
    /// The `village_years` row of the policy year, if any.
    pub village: Option<Vec<Value>>,
    /// The household's `incomes` rows of the other years (`h.incomes` is `income`
    /// followed by these).
    pub other_incomes: Vec<Vec<Value>>,
    /// The household's `pairings` rows (`h.pairings`).
    pub pairings: Vec<Vec<Value>>,
    /// The `helpers` rows whose 证件号码 is a member's (what `helper_count` reads),
    /// and, in examples, the helpers its pairings name.
    pub helpers: Vec<Vec<Value>>,
}

impl HouseholdRecord {
    pub fn hh_id(&self) -> String {
        self.household.first().and_then(Value::canonical).unwrap_or_default()
    }

    /// The rows of a list an aggregate runs over.
    pub fn list(&self, list: List) -> Vec<&Vec<Value>> {
        match list {
            List::Members => self.members.iter().collect(),
            List::Incomes => self.income.iter().chain(&self.other_incomes).collect(),
            List::Pairings => self.pairings.iter().collect(),
            // Area lists are the county's, not a household's (`Scope::area_agg`).
            List::AreaHouseholds { .. } | List::AreaPersons { .. } | List::AreaVillages => Vec::new(),
        }
    }
}

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
struct Area {
    households: Vec<usize>,
    /// Whether each of `households` is poor in the policy year.
    poor: Vec<bool>,
    /// One household of each village of the area whose record carries the village's
    /// row of the policy year (what `villages` runs over).
    villages: Vec<usize>,
}

/// What county-wide built-ins read (`first_with_id`, `helper_count`), indexed once
/// for all the households a rule runs over.
#[derive(Debug, Clone, Default)]
pub struct County {
    /// Upper-cased 证件号码 → the smallest 人编号 holding it.
    first_holder: HashMap<String, String>,
    /// Upper-cased 证件号码 → the 帮扶人编号 of the helpers holding it.
    helpers: HashMap<String, HashSet<String>>,
    /// 行政村代码 → [persons, poor persons, households, poor households] of the
    /// policy year ([`County::with_villages`]); what `v.persons` … read.
    villages: HashMap<String, [i64; 4]>,
    /// Township (9 digits) and county (6 digits) codes → their households.
    areas: HashMap<String, Area>,
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
fn id_key(cell: Option<&Value>) -> Option<String> {
    match cell {
        Some(Value::Text(t)) if !t.is_empty() => Some(t.to_ascii_uppercase()),
        _ => None,
    }
}

/// The policy year's built-ins.
#[derive(Debug, Clone)]
pub struct Env {
    pub year: i32,
    /// 31 December of the policy year ([`fupin_domain::date::year_end`]), ISO text.
    pub ref_date: String,
    pub poverty_line: Option<Yuan>,
    pub monitoring_line: Option<Yuan>,
    /// The prices the year's lines are stated at, and their source (`lines.csv`): a
    /// check run refuses to compare the year's incomes with a line not at current prices.
    pub line_basis: Option<(fupin_domain::PriceBasis, String)>,
    pub codes: CodeLists,
    /// The years counties exited (`area.county_exit_year`).
    pub county_exits: fupin_domain::exit_policy::CountyExits,
}

impl Env {
    /// The built-ins of `year` in `province` (two digits, e.g. "61") from the shipped
    /// policy lines and code lists.
    pub fn builtin(year: i32, province: &str) -> Env {
        let lines = fupin_domain::PolicyLines::builtin();
        let py = lines.for_year(year, province);
        Env {
            year,
            ref_date: fupin_domain::date::iso(fupin_domain::date::year_end(year)),
            poverty_line: py.map(|p| p.poverty_line),
            monitoring_line: py.and_then(|p| p.monitoring_line),
            line_basis: py.map(|p| (p.basis, p.source.clone())),
            codes: CodeLists::builtin(),
            county_exits: fupin_domain::exit_policy::CountyExits::builtin(),
        }
    }
}

/// Where an expression is evaluated: the household, the person (for person-level
/// rules) and the members bound by enclosing aggregates.
pub struct Scope<'a> {
    pub env: &'a Env,
    pub county: &'a County,
    pub record: &'a HouseholdRecord,
    pub person: Option<usize>,
    pub bound: Vec<usize>,
    /// A township or county rule: the area's code and the records the county index
    /// was built from.
    pub area: Option<(&'a str, &'a [HouseholdRecord])>,
}

fn cell(row: Option<&Vec<Value>>, index: usize) -> &Value {
    row.and_then(|r| r.get(index)).unwrap_or(&Value::Null)
}

impl<'a> Scope<'a> {
    pub fn new(env: &'a Env, county: &'a County, record: &'a HouseholdRecord, person: Option<usize>) -> Scope<'a> {
        Scope { env, county, record, person, bound: Vec::new(), area: None }
    }

    fn row(&self, rec: Rec) -> Option<&Vec<Value>> {
        match rec {
            Rec::Person => self.person.and_then(|i| self.record.members.get(i)),
            Rec::Household => Some(&self.record.household),
            Rec::Income => self.record.income.as_ref(),
            Rec::Village => self.record.village.as_ref(),
            Rec::Member(d) => self.bound.get(d as usize - 1).and_then(|i| self.record.members.get(*i)),
            Rec::Item(d, list) => self.bound.get(d as usize - 1).and_then(|i| self.record.list(list).get(*i).copied()),
        }
    }

    /// Evaluates a checked expression.
    pub fn eval(&mut self, ir: &Ir) -> Val {
        match &ir.kind {
            IrKind::Const(c) => match c {
                Const::Bool(b) => Val::Bool(*b),
                Const::Int(i) => Val::Int(*i),
                Const::Real(r) => Val::Real(*r),
                Const::Money(m) => Val::Money(*m),
                Const::Text(t) => Val::Text(t.clone()),
            },
            IrKind::Col { rec, index, .. } => Val::from_cell(cell(self.row(*rec), *index), ir.ty),
            IrKind::Age(rec) => {
                let birth = schema::PERSONS.index_of("birth_date").expect("persons.birth_date");
                match cell(self.row(*rec), birth) {
                    Value::Text(b) => age(b, &self.env.ref_date).map(Val::Int).unwrap_or(Val::Null),
                    _ => Val::Null,
                }
            }
            IrKind::Year => Val::Int(self.env.year as i64),
            IrKind::RefDate => Val::Text(self.env.ref_date.clone()),
            IrKind::Line(l) => {
                let y = match l {
                    Line::Poverty => self.env.poverty_line,
                    Line::Monitoring => self.env.monitoring_line,
                };
                y.map(|y| Val::Money(y.fen())).unwrap_or(Val::Null)
            }
            IrKind::Present(a) => Val::Bool(self.eval(a) != Val::Null),
            IrKind::Missing(a) => Val::Bool(self.eval(a) == Val::Null),
            IrKind::Not(a) => match self.eval(a) {
                Val::Bool(b) => Val::Bool(!b),
                _ => Val::Null,
            },
            IrKind::And(a, c) => match (self.eval(a), self.eval(c)) {
                (Val::Bool(false), _) | (_, Val::Bool(false)) => Val::Bool(false),
                (Val::Bool(true), Val::Bool(true)) => Val::Bool(true),
                _ => Val::Null,
            },
            IrKind::Or(a, c) => match (self.eval(a), self.eval(c)) {
                (Val::Bool(true), _) | (_, Val::Bool(true)) => Val::Bool(true),
                (Val::Bool(false), Val::Bool(false)) => Val::Bool(false),
                _ => Val::Null,
            },
            IrKind::Cmp(op, a, c) => compare(*op, &self.eval(a), &self.eval(c)),
            IrKind::Arith(op, a, c) => arith(*op, &self.eval(a), &self.eval(c)),
            IrKind::Neg(a) => match self.eval(a) {
                Val::Int(i) => i.checked_neg().map(Val::Int).unwrap_or(Val::Null),
                Val::Money(i) => i.checked_neg().map(Val::Money).unwrap_or(Val::Null),
                Val::Real(r) => Val::Real(-r),
                _ => Val::Null,
            },
            IrKind::Conv(c, a) => match (c, self.eval(a)) {
                (Conv::IntToReal, Val::Int(i) | Val::Money(i)) => Val::Real(i as f64),
                (Conv::MoneyToReal, Val::Money(f)) => Val::Real(f as f64 / 100.0),
                (Conv::YuanToMoney, Val::Int(i)) => i.checked_mul(100).map(Val::Money).unwrap_or(Val::Null),
                _ => Val::Null,
            },
            IrKind::Cond(c, a, x) => match self.eval(c) {
                Val::Bool(true) => self.eval(a),
                // SQL's CASE takes the ELSE branch for a null condition too.
                _ => self.eval(x),
            },
            IrKind::InList(a, items) => {
                let v = self.eval(a);
                let hit = |c: &Const| match (c, &v) {
                    (Const::Text(t), Val::Text(x)) => t == x,
                    (Const::Int(i), Val::Int(x)) => i == x,
                    _ => false,
                };
                if v == Val::Null { Val::Null } else { Val::Bool(items.iter().any(hit)) }
            }
            IrKind::InCodes(a, items) => match self.eval(a) {
                Val::Text(t) => Val::Bool(t.split(';').any(|c| items.iter().any(|i| i == c))),
                _ => Val::Null,
            },
            IrKind::IsCode(a, list) => match self.eval(a) {
                Val::Text(t) => {
                    let known = |c: &str| self.env.codes.get(list).and_then(|l| l.get(c)).is_some();
                    Val::Bool(t.split(';').all(known))
                }
                _ => Val::Null,
            },
            IrKind::Id(part, a) => match self.eval(a) {
                Val::Text(t) => {
                    let id = valid_id18(&t);
                    match part {
                        IdPart::Valid => Val::Bool(id.is_some()),
                        IdPart::BirthDate => {
                            id.map(|i| Val::Text(fupin_domain::date::iso(i.birth_date()))).unwrap_or(Val::Null)
                        }
                        IdPart::Sex => id.map(|i| Val::Text(i.sex_code().to_owned())).unwrap_or(Val::Null),
                    }
                }
                _ => Val::Null,
            },
            IrKind::TextTest(test, a, c) => match (self.eval(a), self.eval(c)) {
                (Val::Text(x), Val::Text(y)) => Val::Bool(match test {
                    TextTest::Contains => x.contains(&y),
                    TextTest::StartsWith => x.starts_with(&y),
                    TextTest::EndsWith => x.ends_with(&y),
                }),
                _ => Val::Null,
            },
            IrKind::Concat(a, c) => match (self.eval(a), self.eval(c)) {
                (Val::Text(x), Val::Text(y)) => Val::Text(x + &y),
                _ => Val::Null,
            },
            IrKind::Matches(a, pattern) => match self.eval(a) {
                Val::Text(t) => Val::Bool(pattern.is_match(&t)),
                _ => Val::Null,
            },
            IrKind::ToInt(a) => match self.eval(a) {
                Val::Real(r) => real_to_int(r).map(Val::Int).unwrap_or(Val::Null),
                Val::Text(t) => t.parse::<i64>().map(Val::Int).unwrap_or(Val::Null),
                Val::Int(i) => Val::Int(i),
                _ => Val::Null,
            },
            IrKind::ToText(a) => match self.eval(a) {
                Val::Int(i) => Val::Text(i.to_string()),
                Val::Bool(b) => Val::Text(b.to_string()),
                Val::Text(t) => Val::Text(t),
                _ => Val::Null,
            },
            IrKind::Length(a) => match self.eval(a) {
                Val::Text(t) => Val::Int(t.chars().count() as i64),
                _ => Val::Null,
            },
            IrKind::IdChecksum(a) => match self.eval(a) {
                Val::Text(t) => id_checksum_ok(&t).map(Val::Bool).unwrap_or(Val::Null),
                _ => Val::Null,
            },
            IrKind::Upper(a) => match self.eval(a) {
                Val::Text(t) => Val::Text(t.to_ascii_uppercase()),
                _ => Val::Null,
            },
            IrKind::Village(total) => {
                let vc = schema::VILLAGES.index_of("village_code").expect("village_years.village_code");
                let code = self.row(Rec::Village).and_then(|r| r.get(vc)).and_then(Value::canonical);
                let i = match total {
                    VillageTotal::Persons => 0,
                    VillageTotal::PoorPersons => 1,
                    VillageTotal::Households => 2,
                    VillageTotal::PoorHouseholds => 3,
                };
                code.and_then(|c| self.county.villages.get(&c)).map(|t| Val::Int(t[i])).unwrap_or(Val::Null)
            }
            IrKind::Area(AreaValue::Code) => self.area.map(|(c, _)| Val::Text(c.to_owned())).unwrap_or(Val::Null),
            IrKind::Area(AreaValue::CountyExitYear) => self
                .area
                .and_then(|(c, _)| self.env.county_exits.year_of(c))
                .map(|y| Val::Int(y.into()))
                .unwrap_or(Val::Null),
            IrKind::DaysBetween(a, c) => match (self.eval(a), self.eval(c)) {
                (Val::Text(x), Val::Text(y)) => match (fupin_domain::date::parse(&x), fupin_domain::date::parse(&y)) {
                    (Some(x), Some(y)) => Val::Int((y - x).whole_days()),
                    _ => Val::Null,
                },
                _ => Val::Null,
            },
            IrKind::FirstWithId(rec) => match self.id_of(*rec) {
                Some(id) => self.county.first_holder.get(&id).cloned().map(Val::Text).unwrap_or(Val::Null),
                None => Val::Null,
            },
            IrKind::HelperCount(rec) => match self.id_of(*rec) {
                Some(id) => Val::Int(self.county.helpers.get(&id).map_or(0, |s| s.len() as i64)),
                None => Val::Null,
            },
            IrKind::Agg { kind, list, depth, body } => self.agg(*kind, *list, *depth, body),
        }
    }

    fn id_of(&self, rec: Rec) -> Option<String> {
        id_key(self.row(rec).and_then(|r| r.get(schema::PERSONS.index_of("id_number")?)))
    }

    fn agg(&mut self, kind: AggKind, list: List, depth: u8, body: &Ir) -> Val {
        if list.is_area() {
            return self.area_agg(kind, list, body);
        }
        let n = self.record.list(list).len();
        // An aggregate inside another's body (`members.exists(m, h.members_count > 2 …)`)
        // may bind a shallower depth; the enclosing bindings come back afterwards.
        let saved = self.bound.clone();
        self.bound.truncate(depth as usize - 1);
        let mut tally = Tally::default();
        for i in 0..n {
            self.bound.push(i);
            tally.add(self.eval(body));
            self.bound.pop();
        }
        self.bound = saved;
        tally.result(kind, body.ty)
    }

    /// An aggregate over the area's households, persons or villages: the body is
    /// judged in the scope of each element, as a household- or person-level rule
    /// would judge it.
    fn area_agg(&mut self, kind: AggKind, list: List, body: &Ir) -> Val {
        let Some((code, records)) = self.area else { return Val::Null };
        let Some(area) = self.county.areas.get(code) else {
            return Tally::default().result(kind, body.ty);
        };
        let mut tally = Tally::default();
        let mut judge = |record: &HouseholdRecord, person: Option<usize>| {
            let mut scope = Scope::new(self.env, self.county, record, person);
            // Depth 1 is the element itself; member aggregates in the body bind 2….
            scope.bound.push(0);
            tally.add(scope.eval(body));
        };
        match list {
            List::AreaHouseholds { poor } | List::AreaPersons { poor } => {
                for (i, is_poor) in area.households.iter().zip(&area.poor) {
                    let Some(record) = records.get(*i) else { continue };
                    if poor && !is_poor {
                        continue;
                    }
                    if matches!(list, List::AreaPersons { .. }) {
                        (0..record.members.len()).for_each(|m| judge(record, Some(m)));
                    } else {
                        judge(record, None);
                    }
                }
            }
            _ => {
                for i in &area.villages {
                    if let Some(record) = records.get(*i) {
                        judge(record, None);
                    }
                }
            }
        }
        tally.result(kind, body.ty)
    }
}

/// What an aggregate counts of its body's values.
#[derive(Default, Clone, Copy)]
struct Tally {
    trues: i64,
    falses: i64,
    /// Exact: a sum outside 64 bits is an overflow (null), as in SQL.
    sum: i128,
}

impl Tally {
    fn add(&mut self, v: Val) {
        match v {
            Val::Bool(true) => self.trues += 1,
            Val::Bool(false) => self.falses += 1,
            Val::Int(x) | Val::Money(x) => self.sum += i128::from(x),
            _ => {}
        }
    }

    fn result(&self, kind: AggKind, ty: Ty) -> Val {
        let Tally { trues, falses, sum } = *self;
        match kind {
            AggKind::Exists => Val::Bool(trues > 0),
            AggKind::All => Val::Bool(falses == 0),
            AggKind::Count => Val::Int(trues),
            AggKind::Sum => match i64::try_from(sum) {
                Ok(s) if ty == Ty::Money => Val::Money(s),
                Ok(s) => Val::Int(s),
                Err(_) => Val::Null,
            },
        }
    }
}

/// GB 11643 weights of the first 17 digits and the check characters by sum mod 11.
pub const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
pub const ID_CHECK_CHARS: &str = "10X98765432";

/// `id_checksum_ok`: `None` unless 18 characters, the first 17 digits and
/// characters 7–14 a valid date; else whether the 18th is the check character.
pub fn id_checksum_ok(id: &str) -> Option<bool> {
    let b = id.as_bytes();
    if id.chars().count() != 18 || b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| id[r].parse::<u32>().ok();
    let (y, m, d) = (num(6..10)?, num(10..12)?, num(12..14)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days).contains(&d) {
        return None;
    }
    let sum: u32 = b[..17].iter().zip(ID_WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    let check = ID_CHECK_CHARS.as_bytes()[(sum % 11) as usize];
    Some(b[17].to_ascii_uppercase() == check)
}

/// The number `id_valid` accepts: exactly 18 characters that
/// [`fupin_domain::IdNumber::parse`] takes (a 15-digit number is not upgraded here).
pub fn valid_id18(text: &str) -> Option<fupin_domain::IdNumber> {
    if text.chars().count() != 18 {
        return None;
    }
    fupin_domain::IdNumber::parse(text).ok()
}

/// `int(x)` of a decimal: toward zero; none outside 64 bits (and for NaN).
pub fn real_to_int(r: f64) -> Option<i64> {
    // Both bounds excluded, as CEL's conformance cases say (`int(-9223372036854775808.0)`
    // is an error); every double in between truncates into range.
    (r > -9_223_372_036_854_775_808.0 && r < 9_223_372_036_854_775_808.0).then(|| r.trunc() as i64)
}

/// Whole years from an ISO birth date to an ISO reference date, as SQL computes it.
pub fn age(birth: &str, on: &str) -> Option<i64> {
    let y = |s: &str| s.get(0..4)?.parse::<i64>().ok();
    let md = |s: &str| s.get(5..10).map(str::to_owned);
    let (by, oy, bmd, omd) = (y(birth)?, y(on)?, md(birth)?, md(on)?);
    Some(oy - by - i64::from(omd < bmd))
}

fn compare(op: Cmp, a: &Val, c: &Val) -> Val {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (a, c) {
        (Val::Int(x), Val::Int(y)) | (Val::Money(x), Val::Money(y)) => Some(x.cmp(y)),
        (Val::Real(x), Val::Real(y)) => x.partial_cmp(y),
        (Val::Text(x), Val::Text(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match ord {
        None => Val::Null,
        Some(o) => Val::Bool(match op {
            Cmp::Eq => o == Ordering::Equal,
            Cmp::Ne => o != Ordering::Equal,
            Cmp::Lt => o == Ordering::Less,
            Cmp::Le => o != Ordering::Greater,
            Cmp::Gt => o == Ordering::Greater,
            Cmp::Ge => o != Ordering::Less,
        }),
    }
}

fn arith(op: Arith, a: &Val, c: &Val) -> Val {
    let ints = |x: i64, y: i64| match op {
        Arith::Add => x.checked_add(y),
        Arith::Sub => x.checked_sub(y),
        Arith::Mul => x.checked_mul(y),
        Arith::Div => x.checked_div(y),
        Arith::Rem => x.checked_rem(y),
    };
    match (a, c) {
        (Val::Int(x), Val::Int(y)) => ints(*x, *y).map(Val::Int).unwrap_or(Val::Null),
        (Val::Money(x), Val::Money(y) | Val::Int(y)) | (Val::Int(x), Val::Money(y)) => {
            ints(*x, *y).map(Val::Money).unwrap_or(Val::Null)
        }
        (Val::Real(x), Val::Real(y)) => match op {
            Arith::Add => Val::Real(x + y),
            Arith::Sub => Val::Real(x - y),
            Arith::Mul => Val::Real(x * y),
            Arith::Div if *y == 0.0 => Val::Null,
            Arith::Div => Val::Real(x / y),
            Arith::Rem => Val::Null,
        },
        _ => Val::Null,
    }
}

/// The storage a value of this type is read back from SQL as.
pub fn storage_of(ty: Ty) -> Storage {
    match ty {
        Ty::Bool | Ty::Int | Ty::Money => Storage::Integer,
        Ty::Real => Storage::Real,
        _ => Storage::Text,
    }
}
