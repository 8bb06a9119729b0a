//! `fupin import`: exchange files into the registry, all or nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use fupin_ingest::{ImportOutcome, Severity};
use fupin_store::Store;

use crate::RegistryArgs;

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// 要导入的文件（CSV/XLSX/XLS），户信息、家庭成员、收入情况、村基本情况、帮扶责任人、结对帮扶
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// 把全部问题另存为 Excel 工作簿
    #[arg(long, value_name = "FILE.xlsx")]
    pub errors: Option<PathBuf>,
    /// 屏幕上最多列出的问题条数（其余写入 --errors 工作簿）
    #[arg(long, default_value_t = 200)]
    pub show: usize,
}

pub async fn run(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    let outcome = import_files(&store, &a.files, a.errors.as_deref(), false).await?;
    print_problems(&outcome, a.show);
    Ok(if outcome.applied { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

/// Imports and prints a summary; `quiet` hides the progress bar and the summary.
pub async fn import_files(
    store: &Store,
    files: &[PathBuf],
    errors_xlsx: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<ImportOutcome> {
    let bar = if quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new_spinner() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} 导入 {msg}：已读 {pos} 行，{per_sec}，用时 {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    let outcome = fupin_ingest::import(store, files, Some(&bar)).await?;
    bar.finish_and_clear();
    if let Some(path) = errors_xlsx {
        fupin_ingest::write_problems_xlsx(&outcome.problems, path)
            .with_context(|| format!("写入问题清单 {}", path.display()))?;
    }
    if !quiet || !outcome.applied {
        for f in &outcome.files {
            let title = f.table.map(|t| t.title).unwrap_or("（无法识别）");
            println!(
                "{}（{title}）：{} 行；新增 {}，修改 {}，删除 {}，未变 {}；错误 {}，提醒 {}",
                f.path.display(),
                f.rows,
                f.stats.inserted,
                f.stats.updated,
                f.stats.deleted,
                f.stats.unchanged,
                f.errors,
                f.warnings
            );
        }
    }
    if outcome.applied {
        if !quiet {
            let (seq, hash) = outcome.head.clone().unwrap_or_default();
            println!(
                "导入完成，用时 {:.1} 秒；{} 条提醒（数据已保留）。变更链头 {seq}:{hash}",
                started.elapsed().as_secs_f64(),
                outcome.warnings
            );
        }
    } else {
        println!("导入被拒绝：发现 {} 个错误，登记库没有任何改动。请改正后重新导入。", outcome.errors);
        if quiet {
            print_problems(&outcome, 50);
            anyhow::bail!("导入生成的文件失败");
        }
    }
    Ok(outcome)
}

fn print_problems(outcome: &ImportOutcome, show: usize) {
    let mut shown = 0;
    for severity in [Severity::Error, Severity::Warning] {
        for p in outcome.problems.iter().filter(|p| p.severity == severity) {
            if shown >= show {
                let total = outcome.errors + outcome.warnings;
                println!(
                    "……另有 {} 条问题未列出（用 --errors 问题.xlsx 保存全部）",
                    total.saturating_sub(shown as u64)
                );
                return;
            }
            println!("[{}] {p}", p.severity.label());
            shown += 1;
        }
    }
}
