//! `fupin audit verify|head`.

use std::process::ExitCode;

use clap::Subcommand;
use fupin_store::audit;

use crate::RegistryArgs;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// 重新计算哈希链，并核对每一行登记数据与其变更记录的重放结果
    Verify {
        #[command(flatten)]
        registry: RegistryArgs,
        /// 之前用 audit head 记下的链头（HASH 或 SEQ:HASH）；链被整体重算时能发现
        #[arg(long, value_name = "HASH")]
        expect: Option<String>,
    },
    /// 打印当前链头（记录序号:哈希值），请另行保存以便日后核对
    Head {
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

pub async fn run(c: AuditCommand) -> anyhow::Result<ExitCode> {
    match c {
        AuditCommand::Head { registry } => {
            let store = registry.open_existing().await?;
            println!("{}", audit::head(&store).await?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { registry, expect } => {
            let store = registry.open_existing().await?;
            let report = audit::verify(&store, expect.as_deref()).await?;
            match report.mismatch {
                None => {
                    println!(
                        "核对通过：{} 条变更记录，哈希链完整；{} 行登记数据与变更记录重放一致。链头 {}",
                        report.records, report.rows_checked, report.head
                    );
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
