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

use std::path::PathBuf;

use anyhow::Context;
use fupin_store::chain::ChainKey;
use fupin_store::{Store, Target};

use crate::RegistryArgs;

impl RegistryArgs {
    pub fn target(&self) -> Target {
        Target::from_args(&self.data, self.db.as_deref())
    }

    /// Opens (and migrates) the registry these arguments name, with its chain key if
    /// the key file exists.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let target = self.target();
        let store = Store::open(&target).await.with_context(|| match &target {
            Target::Dir(d) => format!("打开数据目录 {}", d.display()),
            Target::Url(_) => "连接 PostgreSQL".to_string(),
        })?;
        match self.key_file() {
            Some(path) if path.exists() => {
                let key = ChainKey::read(&path).with_context(|| format!("读取链密钥文件 {}", path.display()))?;
                Ok(store.with_chain_key(key))
            }
            _ => Ok(store),
        }
    }

    /// The chain key file: `--chain-key` (`FUPIN_CHAIN_KEY`), else `chain.key` in the
    /// data directory; none for PostgreSQL without `--chain-key`.
    pub fn key_file(&self) -> Option<PathBuf> {
        match (&self.chain_key, self.target()) {
            (Some(path), _) => Some(path.clone()),
            (None, Target::Dir(dir)) => Some(Target::key_file(&dir)),
            (None, Target::Url(_)) => None,
        }
    }

    /// The key file, creating it (mode 0600) if it does not exist, and binds the key to
    /// the registry (`fupin init`, `fupin audit init-key`, `fupin demo`). Returns the
    /// store with its key, the file, and whether the file was created now.
    pub async fn ensure_key(&self, store: Store) -> anyhow::Result<(Store, PathBuf, bool)> {
        let Some(path) = self.key_file() else {
            anyhow::bail!("PostgreSQL 登记库须用 --chain-key 文件（或环境变量 FUPIN_CHAIN_KEY）指定变更链密钥的位置");
        };
        let (key, created) = if path.exists() {
            (ChainKey::read(&path)?, false)
        } else {
            (ChainKey::create(&path).with_context(|| format!("建立链密钥文件 {}", path.display()))?, true)
        };
        let store = store.with_chain_key(key);
        fupin_store::chain::bind_key(&store).await.context("启用带密钥的变更链")?;
        Ok((store, path, created))
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

/// Fails unless the store has its chain key and the registry is bound to it, so that a
/// server does not start only to refuse every write.
pub async fn require_key(store: &Store) -> anyhow::Result<()> {
    store.chain_key()?;
    if fupin_store::chain::binding(store).await?.is_none() {
        anyhow::bail!("登记库尚未启用带密钥的变更链：请先运行 fupin audit init-key（见 README“防篡改”）");
    }
    Ok(())
}

/// Fails when the registry has not been initialised with a county.
pub async fn require_county(store: &Store) -> anyhow::Result<String> {
    store.meta("county").await?.context("登记库尚未初始化：请先运行 fupin init --county 610981（或 fupin demo）")
}
