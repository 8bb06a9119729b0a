//! `fupin rules`: working with rule expressions. `try` is the dry run a department
//! uses while writing a rule: how many entities an expression matches, and a few.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use fupin_domain::CodeLists;
use fupin_rules::Level;
use fupin_rules::query::{Query, shown_columns};

use crate::RegistryArgs;

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// 试运行一个表达式：统计有多少户/人符合（表达式为 true），并列出前几个
    Try(TryArgs),
    /// 打印规则编译成的 SQL：每条规则一行 JSON（rule、set、level、sql、params），用于基准和排查
    Sql(SqlArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DialectArg {
    Sqlite,
    Postgres,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LevelArg {
    Person,
    Household,
    Village,
    Township,
    County,
}

#[derive(Args, Debug)]
pub struct TryArgs {
    /// CEL 表达式，如 'h.income.net_per_capita < line.poverty'（语法见 data/rules/README.md）
    pub expr: String,
    /// 检查对象：person（逐人，可用 p）、household（逐户）、village（逐村，用 v）、township、county（逐乡镇、全县，用 households、persons、villages 聚合）
    #[arg(long, value_enum, default_value_t = LevelArg::Household)]
    pub level: LevelArg,
    /// 政策年度（默认：登记库中最近的收入年度）
    #[arg(long)]
    pub year: Option<i32>,
    /// 列出的条数
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Args, Debug)]
pub struct SqlArgs {
    /// 规则集（规则文件名，如 dq）；可重复；默认为除示例集 sample（default = false）外的全部内置规则集，与 fupin check 相同
    #[arg(long = "set", value_name = "NAME")]
    pub sets: Vec<String>,
    /// 政策年度（默认：登记库中最近的收入年度）
    #[arg(long)]
    pub year: Option<i32>,
    /// SQL 方言
    #[arg(long, value_enum, default_value_t = DialectArg::Sqlite)]
    pub dialect: DialectArg,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub async fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    match command {
        RulesCommand::Try(a) => try_expr(a).await,
        RulesCommand::Sql(a) => super::rules_sql::print(a).await,
    }
}

async fn try_expr(a: TryArgs) -> anyhow::Result<ExitCode> {
    let level = match a.level {
        LevelArg::Person => Level::Person,
        LevelArg::Household => Level::Household,
        LevelArg::Village => Level::Village,
        LevelArg::Township => Level::Township,
        LevelArg::County => Level::County,
    };
    let codes = CodeLists::builtin();
    let query = Query::parse(&a.expr, level, &codes)?;
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    let env = super::rules_env(&store, &a.registry, a.year).await?;
    let year = env.year;
    let result = fupin_app::check::try_query(&store, &query, &env).await.context("试运行表达式")?;
    let unit = match level {
        Level::Person => "人",
        Level::Household => "户",
        Level::Village => "个村",
        Level::Township => "个乡镇",
        Level::County => "个县",
    };
    println!("{year} 年：{} {unit}中有 {} {unit}符合", result.total, result.matches.len());
    if let Some(reason) = &result.interpreter_reason {
        println!("（{reason}；已用解释器逐条计算）");
    }
    if result.matches.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let key = match level {
        Level::Person => "人编号",
        Level::Household => "户编号",
        _ => "区划代码",
    };
    let headers: Vec<&str> = std::iter::once(key).chain(shown_columns(level).iter().map(|(h, _)| *h)).collect();
    println!("{}", headers.join("\t"));
    for (k, values) in result.matches.iter().take(a.limit) {
        let mut cells = vec![k.clone()];
        for ((h, _), v) in shown_columns(level).iter().zip(values) {
            let shown = v.shown();
            cells.push(if *h == "证件号码" && *v != fupin_rules::Val::Null {
                fupin_domain::mask::id_number(&shown)
            } else {
                shown
            });
        }
        println!("{}", cells.join("\t"));
    }
    if result.matches.len() > a.limit {
        println!("……另有 {} {unit}未列出（--limit 调整）", result.matches.len() - a.limit);
    }
    Ok(ExitCode::SUCCESS)
}
