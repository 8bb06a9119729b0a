//! `fupin audit verify|head|init-key`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use fupin_store::{Store, audit};

use crate::RegistryArgs;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// 用链密钥重新计算各条哈希链（变更记录、登录日志、查看记录、走访记录、访问令牌），核对记下的链头，
    /// 并核对每一行登记数据与其变更记录的重放结果
    Verify {
        #[command(flatten)]
        registry: RegistryArgs,
        /// 之前用 audit head 记下的链头（HASH 或 SEQ:HASH）；链被整体重算时能发现
        #[arg(long, value_name = "HASH")]
        expect: Option<String>,
        /// audit head --append（或 serve --head-file）写下的链头文件：逐行核对每条链仍含这些链头
        #[arg(long, value_name = "FILE")]
        heads: Option<PathBuf>,
    },
    /// 打印当前链头（记录序号:哈希值）；--append 把各条链的链头连同时间追加到文件
    Head {
        #[command(flatten)]
        registry: RegistryArgs,
        /// 追加一行链头的文件（放在数据库主机之外或只追加的位置，供 verify --heads 核对）
        #[arg(long, value_name = "FILE")]
        append: Option<PathBuf>,
    },
    /// 为升级前建立的登记库建立链密钥文件（权限 0600）并启用带密钥的变更链；已有的记录保持原样并被封存
    InitKey {
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// Appends every chain's head, with the time, as one line to `file`.
pub async fn append_head(store: &Store, file: &Path) -> anyhow::Result<String> {
    let line = audit::heads_line(store).await?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("打开链头文件 {}", file.display()))?;
    writeln!(f, "{line}").with_context(|| format!("写入链头文件 {}", file.display()))?;
    f.sync_all().with_context(|| format!("写入链头文件 {}", file.display()))?;
    Ok(line)
}

pub async fn run(c: AuditCommand) -> anyhow::Result<ExitCode> {
    match c {
        AuditCommand::Head { registry, append } => {
            let store = registry.open_existing().await?;
            println!("{}", audit::head(&store).await?);
            if let Some(file) = append {
                let line = append_head(&store, &file).await?;
                eprintln!("已追加到 {}：{line}", file.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::InitKey { registry } => {
            let store = registry.open_existing().await?;
            let bound = fupin_store::chain::binding(&store).await.ok().flatten().is_some();
            let (store, path, created) = registry.ensure_key(store).await?;
            if bound {
                println!("登记库已启用带密钥的变更链，密钥文件 {}，未做改动", path.display());
            } else {
                let head = audit::head(&store).await?;
                let made = if created { "已新建密钥文件" } else { "使用已有的密钥文件" };
                println!(
                    "{made} {}（权限 0600），已启用带密钥的变更链。此前的 {} 条变更记录保持原样并被封存（链头 {head}）；\
                     登录日志、查看记录、走访记录和访问令牌已有的行已按密钥连成链。请另行备份密钥文件",
                    path.display(),
                    head.seq
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { registry, expect, heads } => {
            let store = registry.open_existing().await?;
            let recorded = match &heads {
                Some(file) => {
                    let text =
                        std::fs::read_to_string(file).with_context(|| format!("读取链头文件 {}", file.display()))?;
                    audit::parse_heads(&text).map_err(anyhow::Error::msg)?
                }
                None => Vec::new(),
            };
            let report = audit::verify(&store, expect.as_deref(), &recorded).await?;
            match report.mismatch {
                None => {
                    println!(
                        "核对通过：{} 条变更记录，哈希链完整；{} 行日志（登录、查看、走访、令牌）链完整；\
                         {} 行登记数据与变更记录重放一致。链头 {}",
                        report.records, report.log_rows, report.rows_checked, report.head
                    );
                    if heads.is_some() {
                        println!("链头文件中的 {} 行链头都仍在链中", report.heads_checked);
                    }
                    if !report.keyed {
                        println!("注意：该登记库尚未启用链密钥，只核对了不带密钥的哈希；请运行 fupin audit init-key");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Some(m) => {
                    println!("核对未通过：{m}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
