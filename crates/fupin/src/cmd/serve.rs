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
    /// HTTPS 证书链（PEM）；与 --tls-key 一起给出时以 HTTPS 提供服务
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS 私钥（PEM）
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// 每隔多少分钟把各条链的链头追加到 --head-file（另一台主机或只追加的位置更好）
    #[arg(long, value_name = "MINUTES", requires = "head_file", value_parser = clap::value_parser!(u64).range(1..))]
    pub head_every: Option<u64>,
    /// 链头文件，与 --head-every 一起使用；fupin audit verify --heads 用它核对
    #[arg(long, value_name = "FILE", requires = "head_every")]
    pub head_file: Option<PathBuf>,
    /// 在终止 TLS 的反向代理之后运行时使用：会话 Cookie 标记为 Secure，并发送 HSTS（用 --tls-* 时总是如此）
    #[arg(long)]
    pub secure_cookies: bool,
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
    let store = a.registry.open_existing().await?;
    super::require_county(&store).await?;
    super::require_key(&store).await?;
    let tls = match (a.tls_cert, a.tls_key) {
        (Some(cert), Some(key)) => Some(fupin_web::TlsFiles { cert, key }),
        _ => None,
    };
    if let (Some(minutes), Some(file)) = (a.head_every, a.head_file) {
        // The first line now, so a bad path stops the start.
        super::audit::append_head(&store, &file).await?;
        let store = store.clone();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(minutes * 60);
            let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                timer.tick().await;
                if let Err(e) = super::audit::append_head(&store, &file).await {
                    tracing::error!(error = %e, file = %file.display(), "记录链头失败");
                }
            }
        });
    }
    run_server(store, a.listen, a.registry.today()?, tls, a.secure_cookies).await
}

async fn run_server(
    store: Store,
    listen: SocketAddr,
    today: time::Date,
    tls: Option<fupin_web::TlsFiles>,
    secure_cookies: bool,
) -> anyhow::Result<ExitCode> {
    let config = fupin_web::Config { listen, today, secure_cookies, tls };
    let app = fupin_web::Application::build(store, config).await.with_context(|| format!("监听 {listen}"))?;
    let scheme = if app.is_tls() { "https" } else { "http" };
    println!("fupin 已启动：{scheme}://{}/", app.local_addr());
    app.run().await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let today = super::parse_today(a.today.as_deref())?;
    let registry = RegistryArgs { data: a.data.clone(), db: None, today: a.today.clone(), chain_key: None };
    let store = registry.open().await?;
    // A demo keeps its key in its data directory, made on the first start.
    let (store, _, _) = registry.ensure_key(store).await?;
    // Each step checks its own result, so a demo interrupted half-way finishes the
    // missing steps on the next start instead of serving an empty county.
    if store.meta("demo").await?.is_none() {
        if store.meta("county").await?.is_some() && store.count("households").await? > 0 {
            anyhow::bail!(
                "{} 中已有一个非演示的登记库：演示不会在其中建立演示账号。请用 fupin serve，或为演示另选 --data 目录",
                a.data.display()
            );
        }
        println!("建立演示登记库：旬阳市（610981），{} 户……", a.households);
        let tree = super::init::load_tree("610981", None)?;
        if store.meta("county").await?.is_none() {
            super::init::write_divisions(&store, &tree, "610981").await?;
        }
        if store.count("households").await? == 0 {
            let dir = a.data.join("generated");
            let cfg = fupin_synth::Config {
                county: "610981".into(),
                households: a.households,
                seed: a.seed,
                // A registry as found in the field: about one household in a hundred
                // with a data-quality problem (each kind at least once), so 问题清单
                // has something to show; the answer key stays in generated/key/.
                faults: (a.households / 100).max(fupin_synth::FAULT_KINDS.len()).min(a.households / 2),
                today,
                first_year: 2014,
                last_year: today.year(),
                mix: fupin_synth::Mix::xunyang(),
            };
            let summary = fupin_synth::generate(&cfg, &tree, &dir, None)?;
            super::import::import_files(&store, &summary.files, None, true).await?;
        }
        store.set_meta("demo", "ready").await?;
    }
    // The worklist is part of the demo: the default rule sets run once on the county,
    // as `fupin check` runs them, so 问题清单 and the dashboard have findings to show.
    if store.meta("demo_checked").await?.is_none() {
        let codes = fupin_domain::CodeLists::builtin();
        let sets = fupin_rules::load::builtin(&codes).context("加载内置规则")?;
        let env = super::rules_env(&store, &registry, None).await?;
        let plan = fupin_app::check::Plan {
            sets: sets.iter().filter(|s| s.default).collect(),
            env: &env,
            scope: None,
            now: time::OffsetDateTime::now_utc(),
        };
        let report = fupin_app::check::run(&store, &plan, &mut fupin_app::check::Quiet).await.context("运行检查")?;
        println!(
            "已运行检查（{} 年度，{} 条规则）：发现 {} 个问题",
            env.year,
            report.rules_run.len(),
            report.summary.new
        );
        store.set_meta("demo_checked", "yes").await?;
    }
    // New passwords at every start: no demo password is ever stored in clear.
    let accounts = fupin_app::accounts::create_demo_accounts(&store).await?;
    println!("演示账号（仅供本机演示，每次启动重新生成密码）：");
    for account in &accounts {
        println!("  {account}");
    }
    run_server(store, a.listen, today, None, false).await
}
