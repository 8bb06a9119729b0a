//! The type checker: resolves names against `fupin_domain::schema`, types every node
//! and makes conversions explicit (see `ir.rs`). Errors carry the span of the node.

use fupin_domain::CodeLists;
use fupin_domain::schema::{self, Kind, Table};

use crate::Level;
use crate::ast::{AggKind, Lit, Node, NodeKind, Span};
use crate::ir::{
    AreaValue, Arith, Cmp, Const, Conv, IdPart, Ir, IrKind, Line, List, Pattern, Rec, TextTest, Ty, VillageTotal,
};

/// A type or name error and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckError {
    pub message: String,
    pub span: Span,
}

type R<T> = Result<T, CheckError>;

fn err<T>(span: Span, message: impl Into<String>) -> R<T> {
    Err(CheckError { message: message.into(), span })
}

/// What a name stands for before a field is selected on it.
#[derive(Debug, Clone, Copy)]
enum Thing {
    Value,
    Record(Rec),
    /// A list aggregates run over: `members`, `h.incomes`, `h.pairings`.
    List(List),
    Lines,
    /// `area`: the township or county a township/county rule checks.
    Area,
}

/// Checks an expression for a rule of `level`.
pub fn check(node: &Node, level: Level, codes: &CodeLists) -> R<Ir> {
    let mut c = Checker { level, codes, members: Vec::new() };
    c.expr(node)
}

struct Checker<'a> {
    level: Level,
    codes: &'a CodeLists,
    /// Aggregate variables in scope and their lists, innermost last.
    members: Vec<(String, List)>,
}

pub(crate) fn table_of(rec: Rec) -> &'static Table {
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

fn record_name(rec: Rec) -> &'static str {
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
const AREA_NAMES: &str = "households、poor_households、persons、poor_persons、villages、area、line、year、ref_date";

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

fn b(ir: Ir) -> Box<Ir> {
    Box::new(ir)
}

impl Checker<'_> {
    fn ident(&self, name: &str, span: Span) -> R<(Thing, Option<Ir>)> {
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

    fn is_area_level(&self) -> bool {
        matches!(self.level, Level::Township | Level::County)
    }

    /// Inside an aggregate over the area's households or persons: `members` is then
    /// that household's members.
    fn in_area_household(&self) -> bool {
        self.members.iter().any(|(_, l)| matches!(l, List::AreaHouseholds { .. } | List::AreaPersons { .. }))
    }

    /// Resolves `x`, `x.f`, `x.f.g` to a record, the member list or a value.
    fn path(&mut self, node: &Node) -> R<(Thing, Option<Ir>)> {
        match &node.kind {
            NodeKind::Ident(name) => self.ident(name, node.span),
            NodeKind::Field(operand, field) => {
                let (thing, _) = self.path(operand)?;
                self.field(thing, field, node.span)
            }
            _ => Ok((Thing::Value, Some(self.expr(node)?))),
        }
    }

    fn field(&self, thing: Thing, field: &str, span: Span) -> R<(Thing, Option<Ir>)> {
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

    fn value(&mut self, node: &Node) -> R<Ir> {
        match self.path(node)? {
            (_, Some(ir)) => Ok(ir),
            (Thing::List(_), None) => err(node.span, "这是一个列表，这里需要一个值（如 members.size()）"),
            (_, None) => err(node.span, "这里需要一个值，而不是整条记录（请写出字段，如 h.status）"),
        }
    }

    fn expr(&mut self, node: &Node) -> R<Ir> {
        let span = node.span;
        match &node.kind {
            NodeKind::Lit(l) => Ok(match l {
                Lit::Null => return err(span, "不能直接使用 null：判断缺失请用 has(x.f) 或 is_null(x)"),
                Lit::Bool(v) => Ir::new(Ty::Bool, IrKind::Const(Const::Bool(*v))),
                Lit::Int(v) => Ir::new(Ty::Int, IrKind::Const(Const::Int(*v))),
                Lit::Real(v) => Ir::new(Ty::Real, IrKind::Const(Const::Real(*v))),
                Lit::Text(v) => Ir::new(Ty::Text, IrKind::Const(Const::Text(v.clone()))),
            }),
            NodeKind::Ident(_) | NodeKind::Field(..) => self.value(node),
            NodeKind::Has(operand, field) => {
                let (thing, _) = self.path(operand)?;
                let (_, ir) = self.field(thing, field, span)?;
                let ir = ir.ok_or_else(|| CheckError { message: "has() 需要一个字段".into(), span })?;
                Ok(Ir::new(Ty::Bool, IrKind::Present(b(ir))))
            }
            NodeKind::List(_) => err(span, "列表只能用在 in、in_codes 的右边"),
            NodeKind::Filter { .. } => err(span, "filter(…) 的结果是列表，请接 .size() 计数"),
            NodeKind::Agg { kind, var, list, body } => self.agg(*kind, var, list, body, span),
            NodeKind::Call(name, args) => self.call(name, args, span),
        }
    }

    fn agg(&mut self, kind: AggKind, var: &str, list: &Node, body: &Node, span: Span) -> R<Ir> {
        let list_kind = match self.path(list)? {
            (Thing::List(l), None) => l,
            _ => {
                return err(
                    list.span,
                    "聚合只能作用于列表：members、h.incomes、h.pairings（township、county 级：households、poor_households、persons、poor_persons、villages）",
                );
            }
        };
        if list_kind.is_area() && self.members.iter().any(|(_, l)| l.is_area()) {
            return err(list.span, "households、persons、villages 的聚合不能互相嵌套");
        }
        self.members.push((var.to_owned(), list_kind));
        let body = self.expr(body);
        let depth = self.members.len() as u8;
        self.members.pop();
        let body = body?;
        let ty = match kind {
            AggKind::Exists | AggKind::All => Ty::Bool,
            AggKind::Count => Ty::Int,
            AggKind::Sum => match body.ty {
                Ty::Int | Ty::Money => body.ty,
                t => return err(span, format!("sum 只能对整数或金额求和，这里是{}", t.name())),
            },
        };
        if kind != AggKind::Sum && body.ty != Ty::Bool {
            return err(span, format!("条件必须是布尔值，这里是{}", body.ty.name()));
        }
        Ok(Ir::new(ty, IrKind::Agg { kind, list: list_kind, depth, body: b(body) }))
    }

    fn bool_arg(&mut self, node: &Node) -> R<Ir> {
        let ir = self.expr(node)?;
        if ir.ty != Ty::Bool {
            return err(node.span, format!("这里需要布尔值（是/否），实为{}", ir.ty.name()));
        }
        Ok(ir)
    }

    fn call(&mut self, name: &str, args: &[Node], span: Span) -> R<Ir> {
        use cel::common::ast::operators as op;
        let arity = |n: usize| -> R<()> {
            if args.len() == n {
                Ok(())
            } else {
                err(span, format!("{name} 需要 {n} 个参数，实有 {} 个", args.len()))
            }
        };
        match name {
            op::LOGICAL_AND | op::LOGICAL_OR => {
                arity(2)?;
                let (a, c) = (self.bool_arg(&args[0])?, self.bool_arg(&args[1])?);
                let kind = if name == op::LOGICAL_AND { IrKind::And(b(a), b(c)) } else { IrKind::Or(b(a), b(c)) };
                Ok(Ir::new(Ty::Bool, kind))
            }
            op::LOGICAL_NOT => {
                arity(1)?;
                Ok(Ir::new(Ty::Bool, IrKind::Not(b(self.bool_arg(&args[0])?))))
            }
            op::EQUALS | op::NOT_EQUALS | op::LESS | op::LESS_EQUALS | op::GREATER | op::GREATER_EQUALS => {
                arity(2)?;
                let cmp = match name {
                    op::EQUALS => Cmp::Eq,
                    op::NOT_EQUALS => Cmp::Ne,
                    op::LESS => Cmp::Lt,
                    op::LESS_EQUALS => Cmp::Le,
                    op::GREATER => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                self.compare(cmp, &args[0], &args[1], span)
            }
            op::ADD | op::SUBSTRACT | op::MULTIPLY | op::DIVIDE | op::MODULO => {
                arity(2)?;
                let a = match name {
                    op::ADD => Arith::Add,
                    op::SUBSTRACT => Arith::Sub,
                    op::MULTIPLY => Arith::Mul,
                    op::DIVIDE => Arith::Div,
                    _ => Arith::Rem,
                };
                self.arith(a, &args[0], &args[1], span)
            }
            op::NEGATE => {
                arity(1)?;
                let a = self.expr(&args[0])?;
                if !a.ty.is_numeric() {
                    return err(span, format!("负号只能用于数值，这里是{}", a.ty.name()));
                }
                Ok(Ir::new(a.ty, IrKind::Neg(b(a))))
            }
            op::CONDITIONAL => {
                arity(3)?;
                let c = self.bool_arg(&args[0])?;
                let (x, y) = (self.expr(&args[1])?, self.expr(&args[2])?);
                let (x, y, ty) = unify(x, y)
                    .ok_or_else(|| CheckError { message: "条件表达式两个分支的类型不同".into(), span })?;
                Ok(Ir::new(ty, IrKind::Cond(b(c), b(x), b(y))))
            }
            op::IN => {
                arity(2)?;
                let x = self.expr(&args[0])?;
                let items = self.const_list(&args[1], x.ty)?;
                Ok(Ir::new(Ty::Bool, IrKind::InList(b(x), items)))
            }
            "in_codes" => {
                arity(2)?;
                let x = self.expr(&args[0])?;
                let list = match x.ty {
                    Ty::Code(l) | Ty::Codes(l) => l,
                    t => return err(args[0].span, format!("in_codes 的第一个参数必须是代码字段，这里是{}", t.name())),
                };
                let items = self.const_list(&args[1], Ty::Code(list))?;
                let codes =
                    items.into_iter().filter_map(|c| if let Const::Text(t) = c { Some(t) } else { None }).collect();
                Ok(Ir::new(Ty::Bool, IrKind::InCodes(b(x), codes)))
            }
            "is_code" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                match x.ty {
                    Ty::Code(l) | Ty::Codes(l) => Ok(Ir::new(Ty::Bool, IrKind::IsCode(b(x), l))),
                    t => err(args[0].span, format!("is_code 需要代码字段，这里是{}", t.name())),
                }
            }
            "id_valid" | "id_birth_date" | "id_sex" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                if x.ty != Ty::Text {
                    return err(args[0].span, format!("{name} 需要文本（证件号码），这里是{}", x.ty.name()));
                }
                let (part, ty) = match name {
                    "id_valid" => (IdPart::Valid, Ty::Bool),
                    "id_birth_date" => (IdPart::BirthDate, Ty::Date),
                    _ => (IdPart::Sex, Ty::Code("sex")),
                };
                Ok(Ir::new(ty, IrKind::Id(part, b(x))))
            }
            "contains" | "startsWith" | "endsWith" => {
                arity(2)?;
                let (x, y) = (self.text_arg(name, &args[0])?, self.text_arg(name, &args[1])?);
                let test = match name {
                    "contains" => TextTest::Contains,
                    "startsWith" => TextTest::StartsWith,
                    _ => TextTest::EndsWith,
                };
                Ok(Ir::new(Ty::Bool, IrKind::TextTest(test, b(x), b(y))))
            }
            "matches" => {
                arity(2)?;
                let x = self.text_arg(name, &args[0])?;
                let NodeKind::Lit(Lit::Text(source)) = &args[1].kind else {
                    return err(args[1].span, "matches 的正则表达式必须直接写成文本，如 matches(x, '^[0-9]+$')");
                };
                let pattern = Pattern::new(source).map_err(|e| CheckError {
                    message: format!("正则表达式“{source}”有误：{e}"),
                    span: args[1].span,
                })?;
                Ok(Ir::new(Ty::Bool, IrKind::Matches(b(x), pattern)))
            }
            "int" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                match x.ty {
                    Ty::Int => Ok(x),
                    Ty::Real | Ty::Text => Ok(Ir::new(Ty::Int, IrKind::ToInt(b(x)))),
                    Ty::Money => err(args[0].span, "int() 不接受金额：金额可直接与整数（元）比较，或用 double(x) 得元"),
                    t => err(args[0].span, format!("int() 需要小数或文本，这里是{}", t.name())),
                }
            }
            "string" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                match x.ty {
                    Ty::Int | Ty::Bool | Ty::Text | Ty::Date | Ty::Code(_) => {
                        Ok(Ir::new(Ty::Text, IrKind::ToText(b(x))))
                    }
                    t => err(
                        args[0].span,
                        format!(
                            "string() 只接受整数、布尔值和文本，这里是{}（小数、金额的写法在两种数据库中不同）",
                            t.name()
                        ),
                    ),
                }
            }
            "id_checksum_ok" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                if x.ty != Ty::Text {
                    return err(args[0].span, format!("id_checksum_ok 需要文本，这里是{}", x.ty.name()));
                }
                Ok(Ir::new(Ty::Bool, IrKind::IdChecksum(b(x))))
            }
            "upper" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                if x.ty != Ty::Text {
                    return err(args[0].span, format!("upper 需要文本，这里是{}", x.ty.name()));
                }
                Ok(Ir::new(Ty::Text, IrKind::Upper(b(x))))
            }
            "days_between" => {
                arity(2)?;
                let a = self.expr(&args[0])?;
                let c = self.expr(&args[1])?;
                for (x, arg) in [(&a, &args[0]), (&c, &args[1])] {
                    if x.ty != Ty::Date {
                        return err(arg.span, format!("days_between 需要两个日期，这里是{}", x.ty.name()));
                    }
                }
                Ok(Ir::new(Ty::Int, IrKind::DaysBetween(b(a), b(c))))
            }
            "is_null" => {
                arity(1)?;
                Ok(Ir::new(Ty::Bool, IrKind::Missing(b(self.expr(&args[0])?))))
            }
            "size" => {
                arity(1)?;
                if let (Thing::List(_), None) = self.path(&args[0])? {
                    return self.agg(
                        AggKind::Count,
                        "@size",
                        &args[0],
                        &Node { kind: NodeKind::Lit(Lit::Bool(true)), span },
                        span,
                    );
                }
                let x = self.expr(&args[0])?;
                if x.ty != Ty::Text {
                    return err(args[0].span, format!("size 需要文本或 members，这里是{}", x.ty.name()));
                }
                Ok(Ir::new(Ty::Int, IrKind::Length(b(x))))
            }
            "date" => {
                arity(1)?;
                match &args[0].kind {
                    NodeKind::Lit(Lit::Text(t)) if fupin_domain::date::parse(t).is_some() => {
                        let iso = fupin_domain::date::iso(fupin_domain::date::parse(t).expect("checked"));
                        Ok(Ir::new(Ty::Date, IrKind::Const(Const::Text(iso))))
                    }
                    _ => err(args[0].span, "date() 需要一个日期文本，如 date('2016-01-01')"),
                }
            }
            "double" => {
                arity(1)?;
                let x = self.expr(&args[0])?;
                to_real(x).ok_or_else(|| CheckError { message: "double() 需要数值".into(), span: args[0].span })
            }
            "count" | "sum" => err(span, format!("{name}(列表, 变量, 表达式) 需要 3 个参数")),
            _ => err(span, format!("未知的函数“{}”", name.trim_matches('_'))),
        }
    }

    /// A text-like argument (text, date, code) of a string function.
    fn text_arg(&mut self, name: &str, node: &Node) -> R<Ir> {
        let x = self.expr(node)?;
        if !x.ty.is_textual() {
            return err(node.span, format!("{name} 需要文本，这里是{}", x.ty.name()));
        }
        Ok(x)
    }

    /// A list of constants for `in` / `in_codes`, each of the element's type; codes
    /// are checked against their list.
    fn const_list(&mut self, node: &Node, ty: Ty) -> R<Vec<Const>> {
        let NodeKind::List(items) = &node.kind else {
            return err(node.span, "in 的右边必须是常量列表，如 ['01', '02']");
        };
        let mut out = Vec::new();
        for item in items {
            let c = match (&item.kind, ty) {
                (NodeKind::Lit(Lit::Text(t)), Ty::Code(l) | Ty::Codes(l)) => {
                    if self.codes.get(l).and_then(|list| list.get(t)).is_none() {
                        return err(item.span, format!("“{t}”不是代码表 {l} 中的代码"));
                    }
                    Const::Text(t.clone())
                }
                (NodeKind::Lit(Lit::Text(t)), Ty::Text | Ty::Date) => Const::Text(t.clone()),
                (NodeKind::Lit(Lit::Int(i)), Ty::Int) => Const::Int(*i),
                _ => return err(item.span, format!("列表元素必须是与左边同类型（{}）的常量", ty.name())),
            };
            out.push(c);
        }
        Ok(out)
    }

    fn compare(&mut self, cmp: Cmp, l: &Node, r: &Node, span: Span) -> R<Ir> {
        let (a, c) = (self.expr(l)?, self.expr(r)?);
        let ordered = !matches!(cmp, Cmp::Eq | Cmp::Ne);
        // Codes compare with text literals; a literal must be a code of the list.
        for (x, other) in [(&a, &c), (&c, &a)] {
            if let (Ty::Code(list), IrKind::Const(Const::Text(t))) = (x.ty, &other.kind)
                && self.codes.get(list).and_then(|cl| cl.get(t)).is_none()
            {
                let at = if std::ptr::eq(other, &c) { r.span } else { l.span };
                return err(at, format!("“{t}”不是代码表 {list} 中的代码"));
            }
        }
        let mismatch =
            || CheckError { message: format!("类型不匹配：不能比较{}和{}", a.ty.name(), c.ty.name()), span };
        let (a2, c2) = match (a.ty, c.ty) {
            (x, y) if x.is_numeric() && y.is_numeric() => {
                let (a2, c2, _) = unify(a.clone(), c.clone()).ok_or_else(mismatch)?;
                (a2, c2)
            }
            (x, y) if x.is_textual() && y.is_textual() => {
                let compatible = x == y || x == Ty::Text || y == Ty::Text;
                if !compatible {
                    return Err(mismatch());
                }
                (a.clone(), c.clone())
            }
            (Ty::Bool, Ty::Bool) if !ordered => (a.clone(), c.clone()),
            _ => return Err(mismatch()),
        };
        if ordered && matches!(a2.ty, Ty::Code(_)) {
            return err(span, "代码不能比较大小，请用 == 或 in");
        }
        Ok(Ir::new(Ty::Bool, IrKind::Cmp(cmp, b(a2), b(c2))))
    }

    fn arith(&mut self, op: Arith, l: &Node, r: &Node, span: Span) -> R<Ir> {
        let (a, c) = (self.expr(l)?, self.expr(r)?);
        let mismatch = || CheckError {
            message: format!("类型不匹配：{}和{}不能做这种运算", a.ty.name(), c.ty.name()),
            span,
        };
        if op == Arith::Add && a.ty.is_textual() && c.ty.is_textual() {
            return Ok(Ir::new(Ty::Text, IrKind::Concat(b(a), b(c))));
        }
        if !a.ty.is_numeric() || !c.ty.is_numeric() {
            return Err(mismatch());
        }
        let (a, c) = (a.clone(), c.clone());
        let ir = |ty, a, c| Ok(Ir::new(ty, IrKind::Arith(op, b(a), b(c))));
        use Ty::*;
        match (op, a.ty, c.ty) {
            (Arith::Rem, Int, Int) => ir(Int, a, c),
            (Arith::Rem, ..) => err(span, "% 只能用于整数"),
            (Arith::Div, Money, Money) => ir(Real, conv(Conv::IntToReal, a), conv(Conv::IntToReal, c)),
            (Arith::Div, Money, _) | (Arith::Div, _, Money) => {
                ir(Real, to_real(a).ok_or_else(mismatch)?, to_real(c).ok_or_else(mismatch)?)
            }
            (Arith::Add | Arith::Sub, Money, Money) => ir(Money, a, c),
            (Arith::Add | Arith::Sub, Money, Int) => ir(Money, a, conv(Conv::YuanToMoney, c)),
            (Arith::Add | Arith::Sub, Int, Money) => ir(Money, conv(Conv::YuanToMoney, a), c),
            (Arith::Mul, Money, Int) | (Arith::Mul, Int, Money) => ir(Money, a, c),
            (Arith::Mul, Money, Money) => err(span, "金额乘金额没有意义"),
            (_, Int, Int) => ir(Int, a, c),
            _ => ir(Real, to_real(a).ok_or_else(mismatch)?, to_real(c).ok_or_else(mismatch)?),
        }
    }
}

fn conv(c: Conv, ir: Ir) -> Ir {
    let ty = match c {
        Conv::IntToReal | Conv::MoneyToReal => Ty::Real,
        Conv::YuanToMoney => Ty::Money,
    };
    // Fold conversions of constants so that SQL and the interpreter see one literal.
    match (&ir.kind, c) {
        (IrKind::Const(Const::Int(i)), Conv::YuanToMoney) if i.checked_mul(100).is_some() => {
            Ir::new(ty, IrKind::Const(Const::Money(i * 100)))
        }
        _ => Ir::new(ty, IrKind::Conv(c, b(ir))),
    }
}

fn to_real(ir: Ir) -> Option<Ir> {
    match ir.ty {
        Ty::Real => Some(ir),
        Ty::Int => Some(conv(Conv::IntToReal, ir)),
        Ty::Money => Some(conv(Conv::MoneyToReal, ir)),
        _ => None,
    }
}

/// Brings two values to one type: Int and Money meet as Money (the Int is 元), any
/// other numeric mix meets as Real; equal types stay.
fn unify(a: Ir, c: Ir) -> Option<(Ir, Ir, Ty)> {
    use Ty::*;
    match (a.ty, c.ty) {
        (x, y) if x == y => Some((a, c, x)),
        (Money, Int) => Some((a, conv(Conv::YuanToMoney, c), Money)),
        (Int, Money) => Some((conv(Conv::YuanToMoney, a), c, Money)),
        (Money, Real) | (Real, Money) | (Int, Real) | (Real, Int) => Some((to_real(a)?, to_real(c)?, Real)),
        (Text, Date | Code(_)) | (Date | Code(_), Text) => {
            let ty = if a.ty == Text { c.ty } else { a.ty };
            Some((a, c, ty))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(text: &str) -> Result<Ir, String> {
        let node = crate::ast::parse(text).map_err(|e| e[0].message.clone())?;
        check(&node, Level::Person, &CodeLists::builtin()).map_err(|e| e.message)
    }

    #[test]
    fn integers_beside_money_are_yuan() {
        let ir = checked("h.income.wages > 3000").expect("checks");
        let IrKind::Cmp(_, _, right) = ir.kind else { panic!("a comparison") };
        assert_eq!(right.kind, IrKind::Const(Const::Money(300_000)));
        assert_eq!(checked("h.income.wages / h.income.planting").expect("checks").ty, Ty::Real);
        assert_eq!(checked("h.income.wages * 2 - 1").expect("checks").ty, Ty::Money);
    }

    #[test]
    fn names_codes_and_nulls_are_checked() {
        assert!(checked("p.relation == '99x'").unwrap_err().contains("不是代码表 relation 中的代码"));
        assert!(checked("p.relation < '02'").unwrap_err().contains("不能比较大小"));
        assert!(checked("p.name == null").unwrap_err().contains("has("));
        assert!(checked("members.exists(m, m.nope)").unwrap_err().contains("nope"));
        assert!(checked("members.exists(m, m.age)").unwrap_err().contains("布尔"));
        assert!(checked("q.age > 1").unwrap_err().contains("未知的名称"));
        assert_eq!(checked("members.exists(m, members.all(n, n.sex == m.sex))").expect("nests").ty, Ty::Bool);
    }
}
