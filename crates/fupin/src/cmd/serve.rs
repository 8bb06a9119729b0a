//! `fupin serve` and `fupin demo`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use fupin_store::Store;

use crate::RegistryArgs;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// 数据目录；不存在时建立并生成演示县
    #[arg(long, default_value = "./fupin-data", value_name = "DIR")]
    pub data: PathBuf,
    /// 生成的农户数
    #[arg(long, default_value_t = 30_000)]
    pub households: usize,
    /// 随机种子
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 监听地址
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// 当天日期（YYYY-MM-DD）
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

pub async fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = a.registry.open().await?;
    super::require_county(&store).await?;
    run_server(store, a.listen, a.registry.today()?).await
}

async fn run_server(store: Store, listen: SocketAddr, today: time::Date) -> anyhow::Result<ExitCode> {
    let config = fupin_web::Config { listen, today, secure_cookies: false };
    let app = fupin_web::Application::build(store, config).await.with_context(|| format!("监听 {listen}"))?;
    println!("fupin 已启动：http://{}/", app.local_addr());
    app.run().await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let today = super::parse_today(a.today.as_deref())?;
    let registry = RegistryArgs { data: a.data.clone(), db: None, today: a.today.clone() };
    let fresh = !fupin_store::Target::sqlite_file(&a.data).exists();
    let store = registry.open().await?;
    if fresh || store.meta("county").await?.is_none() {
        println!("建立演示登记库：旬阳市（610981），{} 户……", a.households);
        let tree = super::init::load_tree("610981", None)?;
        super::init::write_divisions(&store, &tree, "610981").await?;
        let dir = a.data.join("generated");
        let cfg = fupin_synth::Config {
            county: "610981".into(),
            households: a.households,
            seed: a.seed,
            faults: 0,
            today,
            first_year: 2014,
            last_year: today.year(),
        };
        let summary = fupin_synth::generate(&cfg, &tree, &dir, None)?;
        super::import::import_files(&store, &summary.files, None, true).await?;
        let accounts = fupin_web::accounts::create_demo_accounts(&store).await?;
        store.set_meta("demo_accounts", &serde_accounts(&accounts)).await?;
    }
    println!("演示账号（仅供本机演示）：");
    if let Some(text) = store.meta("demo_accounts").await? {
        for line in text.lines() {
            println!("  {line}");
        }
    }
    run_server(store, a.listen, today).await
}

fn serde_accounts(accounts: &[fupin_web::accounts::DemoAccount]) -> String {
    accounts.iter().map(|a| a.to_string()).collect::<Vec<_>>().join("\n")
}
