//! One module per subcommand.

pub mod audit;
pub mod check;
pub mod export;
pub mod generate;
pub mod import;
pub mod init;
pub mod rules;
pub mod rules_sql;
pub mod serve;
pub mod user;

use anyhow::Context;
use fupin_store::{Store, Target};

use crate::RegistryArgs;

impl RegistryArgs {
    pub fn target(&self) -> Target {
        Target::from_args(&self.data, self.db.as_deref())
    }

    /// Opens (and migrates) the registry these arguments name.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let target = self.target();
        Store::open(&target).await.with_context(|| match &target {
            Target::Dir(d) => format!("打开数据目录 {}", d.display()),
            Target::Url(_) => "连接 PostgreSQL".to_string(),
        })
    }

    /// Opens a registry that must already exist: a command other than `init` and
    /// `demo` never creates an empty one as a side effect.
    pub async fn open_existing(&self) -> anyhow::Result<Store> {
        if let Target::Dir(dir) = self.target()
            && !Target::sqlite_file(&dir).exists()
        {
            anyhow::bail!("{} 中没有登记库：请先运行 fupin init --data {0}（或 fupin demo）", dir.display());
        }
        self.open().await
    }

    /// `--today`, or the real date.
    pub fn today(&self) -> anyhow::Result<time::Date> {
        parse_today(self.today.as_deref())
    }
}

pub fn parse_today(text: Option<&str>) -> anyhow::Result<time::Date> {
    match text {
        Some(t) => {
            fupin_domain::date::parse(t).with_context(|| format!("--today “{t}”不是有效日期（应为 YYYY-MM-DD）"))
        }
        None => Ok(time::OffsetDateTime::now_utc().date()),
    }
}

/// The policy year a rule command runs for and its environment (lines of that year, the
/// registry's province): `--year`, else the newest income year of the registry, else
/// this year.
pub async fn rules_env(store: &Store, args: &RegistryArgs, year: Option<i32>) -> anyhow::Result<fupin_rules::Env> {
    let year = match year {
        Some(y) => y,
        None => match fupin_store::rules_sql::latest_income_year(store).await? {
            Some(y) => y,
            None => args.today()?.year(),
        },
    };
    let province = store.meta("province").await?.unwrap_or_default();
    Ok(fupin_rules::Env::builtin(year, &province))
}

/// Fails when the registry has not been initialised with a county.
pub async fn require_county(store: &Store) -> anyhow::Result<String> {
    store.meta("county").await?.context("登记库尚未初始化：请先运行 fupin init --county 610981（或 fupin demo）")
}
