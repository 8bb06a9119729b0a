//! `fupin generate`: a synthetic county as exchange files.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// 县级区划代码
    #[arg(long, default_value = "610981")]
    pub county: String,
    /// 另一县的区划目录（五个 CSV 文件）
    #[arg(long, value_name = "DIR")]
    pub divisions: Option<PathBuf>,
    /// 农户数
    #[arg(long, default_value_t = 30_000)]
    pub households: usize,
    /// 随机种子：同一种子生成完全相同的文件
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 注入的数据质量问题个数；答案写入 OUT/key/，不与待导入文件混放
    #[arg(long, default_value_t = 0)]
    pub faults: usize,
    /// 输出目录
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// 当天日期（YYYY-MM-DD）：决定最后一个收入年度和年龄
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

pub fn run(a: GenerateArgs) -> anyhow::Result<ExitCode> {
    let today = super::parse_today(a.today.as_deref())?;
    let tree = super::init::load_tree(&a.county, a.divisions.as_deref())?;
    let cfg = fupin_synth::Config {
        county: a.county.clone(),
        households: a.households,
        seed: a.seed,
        faults: a.faults,
        today,
        first_year: 2014,
        last_year: today.year(),
        mix: fupin_synth::Mix::xunyang(),
    };
    let bar = indicatif::ProgressBar::new(a.households as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} 生成 {pos}/{len} 户 [{bar:30}] {per_sec} 剩余 {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let summary = fupin_synth::generate(&cfg, &tree, &a.out, Some(&bar))?;
    bar.finish_and_clear();
    println!(
        "已生成 {} 户、{} 人，{} 个数据质量问题，用时 {:.1} 秒，写入 {}",
        summary.households,
        summary.persons,
        summary.faults,
        started.elapsed().as_secs_f64(),
        a.out.display()
    );
    for f in &summary.files {
        println!("  {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}
