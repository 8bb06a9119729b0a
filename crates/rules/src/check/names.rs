//! Names and fields: what `p`, `h`, `v`, `members`, `line`, `area` … and each field
//! selected on them stand for in a rule of a given level, resolved against
//! `fupin_domain::schema`.

use fupin_domain::schema::{self, Kind, Table};

use super::{Checker, R, b, err};
use crate::Level;
use crate::ast::{AggKind, Node, NodeKind, Span};
use crate::ir::{AreaValue, Const, Ir, IrKind, Line, List, Rec, Ty, VillageTotal};

/// What a name stands for before a field is selected on it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Thing {
    Value,
    Record(Rec),
    /// A list aggregates run over: `members`, `h.incomes`, `h.pairings`.
    List(List),
    Lines,
    /// `area`: the township or county a township/county rule checks.
    Area,
}

pub fn table_of(rec: Rec) -> &'static Table {
    match rec {
        Rec::Person | Rec::Member(_) => &schema::PERSONS,
        Rec::Household => &schema::HOUSEHOLDS,
        Rec::Income => &schema::INCOMES,
        Rec::Village => &schema::VILLAGES,
        Rec::Item(_, List::Members | List::AreaPersons { .. }) => &schema::PERSONS,
        Rec::Item(_, List::Incomes) => &schema::INCOMES,
        Rec::Item(_, List::Pairings) => &schema::PAIRINGS,
        Rec::Item(_, List::AreaHouseholds { .. }) => &schema::HOUSEHOLDS,
        Rec::Item(_, List::AreaVillages) => &schema::VILLAGES,
    }
}

pub(super) fn record_name(rec: Rec) -> &'static str {
    match rec {
        Rec::Person | Rec::Member(_) => "人（家庭成员）",
        Rec::Household => "户",
        Rec::Income => "户的当年收入 h.income",
        Rec::Village => "村的当年情况 v",
        Rec::Item(_, List::Members | List::AreaPersons { .. }) => "人（家庭成员）",
        Rec::Item(_, List::Incomes) => "户的收入行（h.incomes 中的一年）",
        Rec::Item(_, List::Pairings) => "结对帮扶行（h.pairings 中的一行）",
        Rec::Item(_, List::AreaHouseholds { .. }) => "户",
        Rec::Item(_, List::AreaVillages) => "村的当年情况",
    }
}

/// What a township or county rule may name.
pub(super) const AREA_NAMES: &str =
    "households、poor_households、persons、poor_persons、villages、area、line、year、ref_date";

/// The type of a stored column.
pub fn ty_of(kind: Kind) -> Ty {
    match kind {
        Kind::Text(_) | Kind::Key | Kind::Ref(_) | Kind::IdNumber | Kind::Village => Ty::Text,
        Kind::Code(l) => Ty::Code(l),
        Kind::Codes(l, _) => Ty::Codes(l),
        Kind::Date => Ty::Date,
        Kind::Year | Kind::Int => Ty::Int,
        Kind::Decimal => Ty::Real,
        Kind::Money => Ty::Money,
        Kind::Bool => Ty::Bool,
    }
}

impl Checker<'_> {
    pub(super) fn ident(&self, name: &str, span: Span) -> R<(Thing, Option<Ir>)> {
        if let Some(pos) = self.members.iter().rposition(|(m, _)| m == name) {
            let depth = pos as u8 + 1;
            // The element of an area list is the household, person or village itself,
            // read through the same names (`h`, `p`, `v` in SQL) as at the lower levels.
            let rec = match self.members[pos].1 {
                List::Members => Rec::Member(depth),
                List::AreaHouseholds { .. } => Rec::Household,
                List::AreaPersons { .. } => Rec::Person,
                List::AreaVillages => Rec::Village,
                list => Rec::Item(depth, list),
            };
            return Ok((Thing::Record(rec), None));
        }
        let person = self.level == Level::Person;
        if self.level == Level::Village && matches!(name, "h" | "members" | "p") {
            return err(
                span,
                format!(
                    "村级规则中没有 {name}（用 v 的字段和全村合计 v.persons、v.poor_persons、v.households、v.poor_households）"
                ),
            );
        }
        if self.is_area_level() {
            let list = |l: List| Ok((Thing::List(l), None));
            return match name {
                "households" => list(List::AreaHouseholds { poor: false }),
                "poor_households" => list(List::AreaHouseholds { poor: true }),
                "persons" => list(List::AreaPersons { poor: false }),
                "poor_persons" => list(List::AreaPersons { poor: true }),
                "villages" => list(List::AreaVillages),
                "area" => Ok((Thing::Area, None)),
                "members" if self.in_area_household() => list(List::Members),
                "line" => Ok((Thing::Lines, None)),
                "year" => Ok((Thing::Value, Some(Ir::new(Ty::Int, IrKind::Year)))),
                "ref_date" => Ok((Thing::Value, Some(Ir::new(Ty::Date, IrKind::RefDate)))),
                "h" | "p" | "v" | "members" => err(
                    span,
                    format!(
                        "{}级规则中没有 {name}：户、人、村要通过列表聚合来读，如 households.filter(x, x.water_safe).size()（可用：{AREA_NAMES}）",
                        self.level.label()
                    ),
                ),
                _ => err(span, format!("未知的名称“{name}”（可用：{AREA_NAMES}）")),
            };
        }
        Ok(match name {
            "p" if person => (Thing::Record(Rec::Person), None),
            "h" => (Thing::Record(Rec::Household), None),
            "v" => (Thing::Record(Rec::Village), None),
            "members" => (Thing::List(List::Members), None),
            "line" => (Thing::Lines, None),
            "year" => (Thing::Value, Some(Ir::new(Ty::Int, IrKind::Year))),
            "ref_date" => (Thing::Value, Some(Ir::new(Ty::Date, IrKind::RefDate))),
            "p" => return err(span, "户级规则中没有 p（逐人检查请用 level = \"person\"，或用 members 聚合）"),
            "households" | "poor_households" | "persons" | "poor_persons" | "villages" | "area" => {
                return err(span, format!("{name} 只能用于 township、county 级规则"));
            }
            _ => {
                return err(span, format!("未知的名称“{name}”（可用：p、h、v、members、line、year、ref_date）"));
            }
        })
    }

    pub(super) fn is_area_level(&self) -> bool {
        matches!(self.level, Level::Township | Level::County)
    }

    /// Inside an aggregate over the area's households or persons: `members` is then
    /// that household's members.
    pub(super) fn in_area_household(&self) -> bool {
        self.members.iter().any(|(_, l)| matches!(l, List::AreaHouseholds { .. } | List::AreaPersons { .. }))
    }

    /// Resolves `x`, `x.f`, `x.f.g` to a record, the member list or a value.
    pub(super) fn path(&mut self, node: &Node) -> R<(Thing, Option<Ir>)> {
        match &node.kind {
            NodeKind::Ident(name) => self.ident(name, node.span),
            NodeKind::Field(operand, field) => {
                let (thing, _) = self.path(operand)?;
                self.field(thing, field, node.span)
            }
            _ => Ok((Thing::Value, Some(self.expr(node)?))),
        }
    }

    pub(super) fn field(&self, thing: Thing, field: &str, span: Span) -> R<(Thing, Option<Ir>)> {
        match thing {
            Thing::Record(Rec::Household) if field == "income" => Ok((Thing::Record(Rec::Income), None)),
            Thing::Record(Rec::Household) if field == "incomes" => Ok((Thing::List(List::Incomes), None)),
            Thing::Record(Rec::Household) if field == "pairings" => Ok((Thing::List(List::Pairings), None)),
            Thing::Record(Rec::Household) if field == "members_count" => Ok((
                Thing::Value,
                Some(Ir::new(
                    Ty::Int,
                    IrKind::Agg {
                        kind: AggKind::Count,
                        list: List::Members,
                        depth: 1,
                        body: b(Ir::new(Ty::Bool, IrKind::Const(Const::Bool(true)))),
                    },
                )),
            )),
            Thing::Record(Rec::Village)
                if self.level == Level::Village
                    && matches!(field, "persons" | "poor_persons" | "households" | "poor_households") =>
            {
                let total = match field {
                    "persons" => VillageTotal::Persons,
                    "poor_persons" => VillageTotal::PoorPersons,
                    "households" => VillageTotal::Households,
                    _ => VillageTotal::PoorHouseholds,
                };
                Ok((Thing::Value, Some(Ir::new(Ty::Int, IrKind::Village(total)))))
            }
            Thing::Record(Rec::Person) if field == "household" => Ok((Thing::Record(Rec::Household), None)),
            Thing::Record(Rec::Household) if field == "village" => Ok((Thing::Record(Rec::Village), None)),
            Thing::Area => match field {
                "code" => Ok((Thing::Value, Some(Ir::new(Ty::Text, IrKind::Area(AreaValue::Code))))),
                "county_exit_year" => {
                    Ok((Thing::Value, Some(Ir::new(Ty::Int, IrKind::Area(AreaValue::CountyExitYear)))))
                }
                _ => err(span, format!("area 没有“{field}”（可用：area.code、area.county_exit_year）")),
            },
            Thing::Record(rec @ (Rec::Person | Rec::Member(_))) if field == "age" => {
                Ok((Thing::Value, Some(Ir::new(Ty::Int, IrKind::Age(rec)))))
            }
            Thing::Record(rec @ (Rec::Person | Rec::Member(_))) if field == "first_with_id" => {
                Ok((Thing::Value, Some(Ir::new(Ty::Text, IrKind::FirstWithId(rec)))))
            }
            Thing::Record(rec @ (Rec::Person | Rec::Member(_))) if field == "helper_count" => {
                Ok((Thing::Value, Some(Ir::new(Ty::Int, IrKind::HelperCount(rec)))))
            }
            Thing::Record(rec) => {
                let table = table_of(rec);
                match table.index_of(field) {
                    Some(index) => {
                        let column = &table.columns[index];
                        Ok((Thing::Value, Some(Ir::new(ty_of(column.kind), IrKind::Col { rec, column, index }))))
                    }
                    None => err(span, format!("{}没有字段“{field}”", record_name(rec))),
                }
            }
            Thing::Lines => match field {
                "poverty" => Ok((Thing::Value, Some(Ir::new(Ty::Money, IrKind::Line(Line::Poverty))))),
                "monitoring" => Ok((Thing::Value, Some(Ir::new(Ty::Money, IrKind::Line(Line::Monitoring))))),
                _ => err(span, format!("line 没有“{field}”（可用：line.poverty、line.monitoring）")),
            },
            Thing::List(_) => {
                err(span, format!("这是一个列表，没有字段“{field}”（用聚合，如 members.exists(m, m.{field} …)）"))
            }
            Thing::Value => err(span, format!("这个值不是记录，没有字段“{field}”")),
        }
    }
}
