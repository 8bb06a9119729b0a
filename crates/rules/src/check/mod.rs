//! The type checker: resolves names against `fupin_domain::schema`, types every node
//! and makes conversions explicit (see `ir.rs`). Errors carry the span of the node.
//!
//! One module each: this one the expression's operators, aggregates and conversions;
//! [`names`] what a name or a field stands for (records, lists, columns, derived
//! values); [`calls`] the built-in functions and their arguments.

mod calls;
mod names;

use names::Thing;
pub use names::{table_of, ty_of};

use fupin_domain::CodeLists;

use crate::Level;
use crate::ast::{AggKind, Lit, Node, NodeKind, Span};
use crate::ir::{Arith, Cmp, Const, Conv, Ir, IrKind, List, Ty};

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

fn b(ir: Ir) -> Box<Ir> {
    Box::new(ir)
}
impl Checker<'_> {
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
