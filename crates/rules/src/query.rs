//! Ad-hoc expressions: the dry run of `fupin rules try` while a rule is being written.

use fupin_domain::CodeLists;

use crate::ir::{Ir, Ty};
use crate::load::LoadError;
use crate::rule::Level;

/// A checked ad-hoc expression: entities for which it is true "match".
#[derive(Debug, Clone)]
pub struct Query {
    pub level: Level,
    pub expr: Ir,
}

impl Query {
    /// Parses and checks `text`; errors name the place as `<表达式>:1:column`.
    pub fn parse(text: &str, level: Level, codes: &CodeLists) -> Result<Query, LoadError> {
        let at = |offset: usize, message: String| {
            let before = &text[..offset.min(text.len())];
            LoadError {
                file: "<表达式>".into(),
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
                message,
            }
        };
        let node = crate::ast::parse(text).map_err(|e| at(e[0].span.start, e[0].message.clone()))?;
        let expr = crate::check::check(&node, level, codes).map_err(|e| at(e.span.start, e.message))?;
        if expr.ty != Ty::Bool {
            return Err(at(0, format!("表达式必须是布尔值，实为{}", expr.ty.name())));
        }
        Ok(Query { level, expr })
    }
}
