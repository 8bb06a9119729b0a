//! `fupin`: the one binary. It parses the command line and wires the crates together;
//! the work itself lives in the library crates.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// fupin：县级扶贫与防返贫监测数据一体化平台。一次录入，处处生成。
#[derive(Parser, Debug)]
#[command(name = "fupin", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the registry is: `--data DIR` (embedded SQLite) or `--db URL` (PostgreSQL).
#[derive(Args, Debug, Clone)]
pub struct RegistryArgs {
    /// 数据目录（内嵌 SQLite 数据库所在目录）
    #[arg(long, default_value = "./fupin-data", value_name = "DIR")]
    pub data: PathBuf,
    /// PostgreSQL 连接地址，如 postgres://user@host/db（优先于 --data）
    #[arg(long, env = "FUPIN_DB", value_name = "URL")]
    pub db: Option<String>,
    /// 变更链密钥文件（默认为数据目录中的 chain.key；PostgreSQL 须给出）。请放在数据库及其备份之外
    #[arg(long, env = "FUPIN_CHAIN_KEY", value_name = "FILE")]
    pub chain_key: Option<PathBuf>,
    /// 当天日期（YYYY-MM-DD），用于年龄、季度、期限；测试时固定它
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 建立登记库：写入本县区划树并创建一个管理员账号
    Init(cmd::init::InitArgs),
    /// 生成一个合成县（交换文件），用于演示、测试和基准
    Generate(cmd::generate::GenerateArgs),
    /// 导入交换文件（CSV/XLSX/XLS），全部文件在一个事务中：要么全部生效，要么都不生效
    Import(cmd::import::ImportArgs),
    /// 导出登记库为交换文件（CSV 或 XLSX）
    Export(cmd::export::ExportArgs),
    /// 变更记录的防篡改检查
    Audit {
        #[command(subcommand)]
        command: cmd::audit::AuditCommand,
    },
    /// 账号管理：新建、停用、启用、重置密码、更改角色
    User {
        #[command(subcommand)]
        command: cmd::user::UserCommand,
    },
    /// 规则：试运行表达式
    Rules {
        #[command(subcommand)]
        command: cmd::rules::RulesCommand,
    },
    /// 检查：按规则集检查登记库，问题记入问题清单（待处理、已说明、已整改）
    Check(cmd::check::CheckArgs),
    /// 启动网页服务
    Serve(cmd::serve::ServeArgs),
    /// 演示：建立旬阳市登记库、生成约 30 000 户、启动网页服务并打印演示账号
    Demo(cmd::serve::DemoArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Init(a) => cmd::init::run(a).await,
            Command::Generate(a) => cmd::generate::run(a),
            Command::Import(a) => cmd::import::run(a).await,
            Command::Export(a) => cmd::export::run(a).await,
            Command::Audit { command } => cmd::audit::run(command).await,
            Command::User { command } => cmd::user::run(command).await,
            Command::Rules { command } => cmd::rules::run(command).await,
            Command::Check(a) => cmd::check::run(a).await,
            Command::Serve(a) => cmd::serve::serve(a).await,
            Command::Demo(a) => cmd::serve::demo(a).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // The user reads the first line; the log keeps the whole chain.
            eprintln!("错误：{e}");
            for cause in e.chain().skip(1) {
                eprintln!("  原因：{cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("FUPIN_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,sqlx=error,fupin=info,fupin_web=info"));
    let json = std::env::var("FUPIN_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_can_force_secure_cookies_behind_a_tls_proxy() {
        let cli = Cli::try_parse_from(["fupin", "serve", "--secure-cookies"]).expect("parses");
        assert!(matches!(cli.command, Command::Serve(a) if a.secure_cookies));
        let cli = Cli::try_parse_from(["fupin", "serve"]).expect("parses");
        assert!(matches!(cli.command, Command::Serve(a) if !a.secure_cookies));
    }
}
