//! The built-in functions of the rule language (`size`, `has`, `in`, `in_codes`,
//! `is_code`, the text and ID-number functions, conversions …): arity, argument
//! types and the checked node each one becomes.

use super::names::Thing;
use super::{CheckError, Checker, R, b, err, to_real, unify};
use crate::ast::{AggKind, Lit, Node, NodeKind, Span};
use crate::ir::{Arith, Cmp, Const, IdPart, Ir, IrKind, Pattern, TextTest, Ty};

impl Checker<'_> {
    pub(super) fn call(&mut self, name: &str, args: &[Node], span: Span) -> R<Ir> {
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
    pub(super) fn text_arg(&mut self, name: &str, node: &Node) -> R<Ir> {
        let x = self.expr(node)?;
        if !x.ty.is_textual() {
            return err(node.span, format!("{name} 需要文本，这里是{}", x.ty.name()));
        }
        Ok(x)
    }

    /// A list of constants for `in` / `in_codes`, each of the element's type; codes
    /// are checked against their list.
    pub(super) fn const_list(&mut self, node: &Node, ty: Ty) -> R<Vec<Const>> {
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
}
