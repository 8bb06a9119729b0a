//! The evaluation of a checked expression on one household's record (and one of its
//! members for person-level rules), with SQL's three-valued logic.

use fupin_domain::Value;
use fupin_domain::schema;

use crate::ast::AggKind;
use crate::ir::{AreaValue, Arith, Cmp, Const, Conv, IdPart, Ir, IrKind, Line, List, Rec, TextTest, Ty, VillageTotal};

use super::county::id_key;
use super::functions::{age, id_checksum_ok, real_to_int, valid_id18};
use super::{County, Env, HouseholdRecord, Val};

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
