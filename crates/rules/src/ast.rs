//! Our own expression tree, lowered from the `cel` crate's parse tree.
//!
//! `cel` expands the macros (`exists`, `all`, `filter`, `has`) into generic
//! comprehensions while parsing; we recognise those shapes and turn them back into the
//! aggregates they spell, so that the checker, the interpreter and the SQL compiler
//! each see `Exists { var, list, cond }` and never a fold they would have to guess at.
//! Every node keeps the byte range of its source text for error messages.

use cel::common::ast::{Expr as CelExpr, IdedExpr, LiteralValue, SourceInfo, operators as op};

/// A byte range inside the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

/// One node with its place in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// A literal value written in the expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
}

/// Which aggregate over a list a macro or function spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// `list.exists(x, c)`: some element where `c` is true.
    Exists,
    /// `list.all(x, c)`: no element where `c` is false.
    All,
    /// `list.filter(x, c).size()` or `count(list, x, c)`: elements where `c` is true.
    Count,
    /// `sum(list, x, e)`: the sum of the non-null `e`, 0 for none.
    Sum,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Lit(Lit),
    Ident(String),
    /// `operand.field`
    Field(Box<Node>, String),
    /// `has(operand.field)`
    Has(Box<Node>, String),
    /// An operator or function: `_&&_`, `_<_`, `size`, `in_codes`, … (receiver calls
    /// such as `x.size()` become `size(x)`).
    Call(String, Vec<Node>),
    List(Vec<Node>),
    Agg {
        kind: AggKind,
        var: String,
        list: Box<Node>,
        body: Box<Node>,
    },
    /// `list.filter(x, c)` not followed by `.size()`: only valid as the argument of
    /// `size`, which turns it into [`AggKind::Count`].
    Filter {
        var: String,
        list: Box<Node>,
        cond: Box<Node>,
    },
}

/// Why an expression could not be lowered: a message and the place.
#[derive(Debug, Clone, PartialEq)]
pub struct LowerError {
    pub message: String,
    pub span: Span,
}

/// Parses CEL text into our tree. Errors carry byte offsets inside `text`.
pub fn parse(text: &str) -> Result<Node, Vec<LowerError>> {
    let parsed = std::panic::catch_unwind(|| cel::parser::Parser::new().parse_with_source_info(text));
    let (expr, info) = match parsed {
        Ok(Ok(ok)) => ok,
        Ok(Err(errors)) => {
            return Err(errors
                .errors
                .iter()
                .map(|e| LowerError {
                    message: format!("语法错误：{}", e.msg),
                    span: line_col_to_span(text, e.pos.0, e.pos.1),
                })
                .collect());
        }
        Err(_) => {
            return Err(vec![LowerError {
                message: "语法错误：无法解析表达式".into(), span: Span::default()
            }]);
        }
    };
    let mut errors = Vec::new();
    let node = lower(&expr, &info, &mut errors);
    if errors.is_empty() { Ok(node) } else { Err(errors) }
}

/// The parser reports 1-based line and column (column counted in characters);
/// turn them back into a byte offset.
fn line_col_to_span(text: &str, line: isize, col: isize) -> Span {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i as isize + 1 == line {
            let c = l.char_indices().nth((col.max(1) - 1) as usize).map(|(b, _)| b).unwrap_or(l.len());
            offset += c;
            return Span { start: offset, end: offset };
        }
        offset += l.len();
    }
    Span { start: 0, end: 0 }
}

fn span_of(e: &IdedExpr, info: &SourceInfo) -> Span {
    match info.offset_for(e.id) {
        Some((s, t)) => {
            // The parser counts characters; convert to bytes.
            let to_byte =
                |c: u32| info.source.char_indices().nth(c as usize).map(|(b, _)| b).unwrap_or(info.source.len());
            Span { start: to_byte(s), end: to_byte(t.max(s)) + 1 }
        }
        None => Span::default(),
    }
}

fn lower(e: &IdedExpr, info: &SourceInfo, errors: &mut Vec<LowerError>) -> Node {
    let mut node = lower_node(e, info, errors);
    // The parser places a node at its operator (`.`, `==`, `(`); widen it to cover
    // its operands, and a global call's name, so errors point at the start.
    let mut start = node.span.start;
    let mut end = node.span.end;
    for child in children(&node) {
        start = start.min(child.span.start);
        end = end.max(child.span.end);
    }
    if let NodeKind::Call(name, _) = &node.kind
        && let CelExpr::Call(c) = &e.expr
        && c.target.is_none()
        && info.source.get(..node.span.start).is_some_and(|b| b.ends_with(name.as_str()))
    {
        start = start.min(node.span.start - name.len());
    }
    node.span = Span { start, end };
    node
}

fn children(n: &Node) -> Vec<&Node> {
    match &n.kind {
        NodeKind::Lit(_) | NodeKind::Ident(_) => vec![],
        NodeKind::Field(a, _) | NodeKind::Has(a, _) => vec![a],
        NodeKind::Call(_, args) | NodeKind::List(args) => args.iter().collect(),
        NodeKind::Agg { list, body, .. } => vec![list, body],
        NodeKind::Filter { list, cond, .. } => vec![list, cond],
    }
}

fn lower_node(e: &IdedExpr, info: &SourceInfo, errors: &mut Vec<LowerError>) -> Node {
    let span = span_of(e, info);
    let node = |kind| Node { kind, span };
    match &e.expr {
        CelExpr::Literal(l) => node(NodeKind::Lit(match l {
            LiteralValue::Null => Lit::Null,
            LiteralValue::Boolean(b) => Lit::Bool(**b),
            LiteralValue::Int(i) => Lit::Int(**i),
            // CEL's uint is a type of its own (`1u != 1` is an error there); the registry
            // has no unsigned values, and reading one as i64 made `18446744073709551615u == -1`.
            LiteralValue::UInt(_) => {
                errors.push(LowerError {
                    message: "不支持无符号整数（如 1u）：规则中的整数都是有符号 64 位整数，请去掉 u 后缀".into(),
                    span,
                });
                Lit::Null
            }
            LiteralValue::Double(d) => Lit::Real(**d),
            LiteralValue::String(s) => Lit::Text(s.to_string()),
            LiteralValue::Bytes(_) => {
                errors.push(LowerError {
                    message: "不支持字节串（b'…'）：规则只处理文本".into(), span
                });
                Lit::Null
            }
        })),
        CelExpr::Ident(name) => node(NodeKind::Ident(name.clone())),
        CelExpr::Select(s) => {
            let operand = Box::new(lower(&s.operand, info, errors));
            if s.test {
                node(NodeKind::Has(operand, s.field.clone()))
            } else {
                node(NodeKind::Field(operand, s.field.clone()))
            }
        }
        CelExpr::List(l) => node(NodeKind::List(l.elements.iter().map(|x| lower(x, info, errors)).collect())),
        CelExpr::Call(c) => {
            let mut args: Vec<Node> = Vec::new();
            if let Some(t) = &c.target {
                args.push(lower(t, info, errors));
            }
            args.extend(c.args.iter().map(|a| lower(a, info, errors)));
            // `list.filter(x, c).size()` and `size(list.filter(x, c))` count.
            if c.func_name == "size"
                && args.len() == 1
                && let NodeKind::Filter { .. } = &args[0].kind
                && let Some(Node { kind: NodeKind::Filter { var, list, cond }, .. }) = args.pop()
            {
                return node(NodeKind::Agg { kind: AggKind::Count, var, list, body: cond });
            }
            // `count(list, x, c)` and `sum(list, x, e)`: explicit aggregates.
            if (c.func_name == "count" || c.func_name == "sum") && c.target.is_none() && args.len() == 3 {
                if let NodeKind::Ident(var) = &args[1].kind {
                    let var = var.clone();
                    let body = args.pop().expect("three args");
                    args.pop();
                    let list = args.pop().expect("three args");
                    let kind = if c.func_name == "count" { AggKind::Count } else { AggKind::Sum };
                    return node(NodeKind::Agg { kind, var, list: Box::new(list), body: Box::new(body) });
                }
                errors.push(LowerError {
                    message: format!("{} 的第二个参数必须是变量名", c.func_name),
                    span: args[1].span,
                });
            }
            node(NodeKind::Call(c.func_name.clone(), args))
        }
        CelExpr::Comprehension(c) => lower_comprehension(c, span, info, errors),
        CelExpr::Map(_) | CelExpr::Struct(_) => {
            errors.push(LowerError { message: "规则表达式中不支持映射和结构体字面量".into(), span });
            node(NodeKind::Lit(Lit::Null))
        }
        CelExpr::Unspecified => {
            errors.push(LowerError { message: "语法错误：表达式不完整".into(), span });
            node(NodeKind::Lit(Lit::Null))
        }
    }
}

/// Recognises the expansions of `exists`, `all`, `filter` (see `cel`'s
/// `parser/macros.rs`); `exists_one` and `map` are refused with a clear message.
fn lower_comprehension(
    c: &cel::common::ast::ComprehensionExpr,
    span: Span,
    info: &SourceInfo,
    errors: &mut Vec<LowerError>,
) -> Node {
    let list = Box::new(lower(&c.iter_range, info, errors));
    let var = c.iter_var.clone();
    let step_call = match &c.loop_step.expr {
        CelExpr::Call(call) => Some(call),
        _ => None,
    };
    let init = &c.accu_init.expr;
    let body_of = |call: &cel::common::ast::CallExpr, errors: &mut Vec<LowerError>| {
        Box::new(lower(&call.args[call.args.len() - 1], info, errors))
    };
    match (init, step_call) {
        (CelExpr::Literal(LiteralValue::Boolean(b)), Some(call)) if !**b && call.func_name == op::LOGICAL_OR => {
            let body = body_of(call, errors);
            Node { kind: NodeKind::Agg { kind: AggKind::Exists, var, list, body }, span }
        }
        (CelExpr::Literal(LiteralValue::Boolean(b)), Some(call)) if **b && call.func_name == op::LOGICAL_AND => {
            let body = body_of(call, errors);
            Node { kind: NodeKind::Agg { kind: AggKind::All, var, list, body }, span }
        }
        (CelExpr::List(_), Some(call))
            if call.func_name == op::CONDITIONAL && is_append_of_var(&call.args[1], &c.iter_var) =>
        {
            let cond = Box::new(lower(&call.args[0], info, errors));
            Node { kind: NodeKind::Filter { var, list, cond }, span }
        }
        _ => {
            errors.push(LowerError {
                message: "不支持这个宏（可用 exists、all、filter(…).size()、count、sum）".into(),
                span,
            });
            Node { kind: NodeKind::Lit(Lit::Null), span }
        }
    }
}

/// `@result + [var]`: the step of `filter`.
fn is_append_of_var(e: &IdedExpr, var: &str) -> bool {
    let CelExpr::Call(add) = &e.expr else { return false };
    add.func_name == op::ADD
        && add.args.len() == 2
        && matches!(&add.args[1].expr, CelExpr::List(l) if l.elements.len() == 1
            && matches!(&l.elements[0].expr, CelExpr::Ident(n) if n == var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_become_aggregates() {
        let n = parse("members.exists(m, m.age >= 60)").unwrap();
        assert!(matches!(n.kind, NodeKind::Agg { kind: AggKind::Exists, .. }));
        let n = parse("members.all(m, m.age >= 60)").unwrap();
        assert!(matches!(n.kind, NodeKind::Agg { kind: AggKind::All, .. }));
        let n = parse("members.filter(m, m.age >= 60).size() > 1").unwrap();
        let NodeKind::Call(_, args) = n.kind else { panic!("a comparison") };
        assert!(matches!(args[0].kind, NodeKind::Agg { kind: AggKind::Count, .. }));
        let n = parse("sum(members, m, m.age)").unwrap();
        assert!(matches!(n.kind, NodeKind::Agg { kind: AggKind::Sum, .. }));
        assert!(matches!(parse("has(p.name)").unwrap().kind, NodeKind::Has(..)));
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = "p.age > 'x'";
        let n = parse(text).unwrap();
        let NodeKind::Call(_, args) = n.kind else { panic!("a comparison") };
        assert_eq!(&text[args[1].span.start..args[1].span.end], "'x'");
        let e = parse("p.age >").unwrap_err();
        assert!(e[0].message.starts_with("语法错误"), "{e:?}");
    }
}
