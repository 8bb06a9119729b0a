//! `fupin export`: the registry back out in the exchange format.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use fupin_domain::schema::TABLES;
use fupin_ingest::Exporter;

use crate::RegistryArgs;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// 输出目录：每张表一个文件
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// 文件格式；XLSX 中证件号码等写为文本，Excel 不会丢位
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
}

pub async fn run(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("建立目录 {}", a.out.display()))?;
    let ext = match a.format {
        Format::Csv => "csv",
        Format::Xlsx => "xlsx",
    };
    for table in TABLES {
        let path = a.out.join(format!("{}.{ext}", table.name));
        let mut exporter = Exporter::create(&path, table).with_context(|| format!("建立 {}", path.display()))?;
        let n = store
            .for_each_row::<anyhow::Error>(table, |row| {
                exporter.write_row(&row).map_err(anyhow::Error::from)?;
                Ok(())
            })
            .await?;
        exporter.finish().with_context(|| format!("写入 {}", path.display()))?;
        println!("{}：{n} 行（{}）", path.display(), table.title);
    }
    Ok(ExitCode::SUCCESS)
}
