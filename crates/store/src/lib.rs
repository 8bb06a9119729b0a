//! The registry's storage: one schema for SQLite (default, a file in the data
//! directory, WAL) and PostgreSQL, chosen by the URL; registry reads and writes; the
//! append-only, hash-chained change history and its verification.
//!
//! Architecture invariant: this is the only crate that speaks SQL. Every write to a
//! registry table goes through [`writer::Writer`], which records the change; nothing
//! else issues INSERT, UPDATE or DELETE on registry tables.

pub mod audit;
pub mod chain;
pub mod dashboard_views;
pub mod ddl;
mod divisions;
pub mod error;
pub mod findings;
pub mod findings_worklist;
pub mod offline_edits;
pub mod operations;
pub mod reveals;
pub mod rows;
pub mod rules_sql;
pub mod testing;
pub mod tokens;
pub mod users;
pub mod views;
pub mod visits;
pub mod writer;

use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use error::StoreError;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
pub use writer::{Actor, Writer};

/// Which database engine a store runs on. SQL that differs between them asks this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Where the registry lives: an embedded SQLite file in a data directory, or a
/// PostgreSQL database by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Dir(PathBuf),
    Url(String),
}

impl Target {
    /// `--db` (or `FUPIN_DB`) wins over `--data`.
    pub fn from_args(data: &Path, db: Option<&str>) -> Target {
        match db {
            Some(url) if !url.is_empty() => Target::Url(url.to_owned()),
            _ => Target::Dir(data.to_path_buf()),
        }
    }

    /// The SQLite file inside a data directory.
    pub fn sqlite_file(dir: &Path) -> PathBuf {
        dir.join("fupin.sqlite")
    }

    /// The chains' key file a data directory keeps by default (`chain.key`, mode 0600).
    pub fn key_file(dir: &Path) -> PathBuf {
        dir.join("chain.key")
    }

    fn url(&self) -> Result<(Engine, String), StoreError> {
        match self {
            Target::Dir(dir) => {
                let file = Self::sqlite_file(dir);
                Ok((Engine::Sqlite, format!("sqlite://{}?mode=rwc", file.display())))
            }
            Target::Url(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok((Engine::Postgres, url.clone()))
            }
            Target::Url(url) if url.starts_with("sqlite:") => Ok((Engine::Sqlite, url.clone())),
            Target::Url(url) => Err(StoreError::BadUrl(url.clone())),
        }
    }
}

/// An open registry.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// SQLite lets one writer in at a time and makes the others sleep and retry
    /// (`busy_timeout`) while holding a pooled connection; writers of this process
    /// queue here instead, without a connection, so readers keep the pool.
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// The key of the chains ([`chain`]); without one the store reads but refuses to
    /// write anything chained.
    chain_key: Option<chain::ChainKey>,
    /// Whether the key was found bound to this registry (checked at the first write).
    key_checked: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (creating the SQLite file and its directory if needed) and migrates.
    pub async fn open(target: &Target) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (engine, url) = target.url()?;
        if let Target::Dir(dir) = target {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(dir.display().to_string(), e))?;
        }
        let mut options = AnyPoolOptions::new().max_connections(if engine == Engine::Sqlite { 8 } else { 10 });
        if engine == Engine::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536; \
                         PRAGMA journal_size_limit = 67108864",
                    )
                    .await?;
                    Ok(())
                })
            });
        } else {
            // PostgreSQL's JIT compiles every expensive statement before running it: for
            // the rule statements (dozens of CASE columns and correlated subqueries) the
            // compiling took longer than the query (a 20 000-household check: 17.9 s with
            // JIT, 3.8 s without). Our statements are short and planned once; JIT is off.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("SET jit = off").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await.map_err(|e| StoreError::Connect(redact(&url), e))?;
        // A data directory keeps its key beside the database by default
        // ([`Target::key_file`]); another place is given with [`Store::with_chain_key`].
        let chain_key = match target {
            Target::Dir(dir) if Target::key_file(dir).exists() => Some(chain::ChainKey::read(&Target::key_file(dir))?),
            _ => None,
        };
        let store = Store { pool, engine, write_gate: Default::default(), chain_key, key_checked: Default::default() };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.engine {
            Engine::Sqlite => &MIGRATE_SQLITE,
            Engine::Postgres => &MIGRATE_POSTGRES,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// This store with the chains' key (read from a file outside the database).
    pub fn with_chain_key(mut self, key: chain::ChainKey) -> Store {
        self.chain_key = Some(key);
        self.key_checked = Default::default();
        self
    }

    /// The chains' key, or the refusal that says how to give one.
    pub fn chain_key(&self) -> Result<&chain::ChainKey, StoreError> {
        self.chain_key.as_ref().ok_or(StoreError::NoChainKey)
    }

    pub(crate) fn key_checked(&self) -> bool {
        self.key_checked.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_key_checked(&self) {
        self.key_checked.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits for this process's turn to write (SQLite; PostgreSQL writers need no
    /// turn). Hold the guard until the write transaction ends.
    pub async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.engine {
            Engine::Sqlite => Some(std::sync::Arc::clone(&self.write_gate).lock_owned().await),
            Engine::Postgres => None,
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a write transaction that records every change it makes.
    pub async fn writer(&self, actor: Actor) -> Result<Writer, StoreError> {
        Writer::begin(self, actor).await
    }

    /// A value from the `meta` table (county code, creation date, …).
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.0))
    }

    /// Sets a `meta` value (not registry data: no change record).
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The 12-digit codes of the villages (村/社区) in the division tree.
    pub async fn village_codes(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM divisions WHERE level = 'village' ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Streams every row of a registry table in key order to `f` (export uses it;
    /// memory stays flat at any size). Stops at the first error `f` returns.
    pub async fn for_each_row<E: From<StoreError>>(
        &self,
        table: &fupin_domain::schema::Table,
        mut f: impl FnMut(Vec<fupin_domain::Value>) -> Result<(), E>,
    ) -> Result<u64, E> {
        use futures_util::TryStreamExt;
        let sql = format!("SELECT {} FROM {} ORDER BY {}", rows::column_list(table), table.name, table.key.join(", "));
        let mut stream = sqlx::query(rows::safe(sql)).fetch(&self.pool);
        let mut n = 0;
        while let Some(row) = stream.try_next().await.map_err(StoreError::from)? {
            f(rows::read_row(table, &row).map_err(StoreError::from)?)?;
            n += 1;
        }
        Ok(n)
    }

    /// Counts rows of a registry table.
    pub async fn count(&self, table: &str) -> Result<i64, StoreError> {
        let t = fupin_domain::schema::registry_table(table).ok_or_else(|| StoreError::UnknownTable(table.into()))?;
        let (n,): (i64,) =
            sqlx::query_as(crate::rows::safe(format!("SELECT COUNT(*) FROM {}", t.name))).fetch_one(&self.pool).await?;
        Ok(n)
    }
}

/// Hides a password in a URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl FromStr for Engine {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sqlite" => Ok(Engine::Sqlite),
            "postgres" => Ok(Engine::Postgres),
            _ => Err(StoreError::BadUrl(s.into())),
        }
    }
}

/// Reads column `i` of a row as a registry value of the given storage.
pub(crate) fn get_value(
    row: &AnyRow,
    i: usize,
    storage: fupin_domain::schema::Storage,
) -> Result<fupin_domain::Value, sqlx::Error> {
    use fupin_domain::Value;
    use fupin_domain::schema::Storage;
    use sqlx::Row;
    Ok(match storage {
        Storage::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text).unwrap_or(Value::Null),
        Storage::Integer => row.try_get::<Option<i64>, _>(i)?.map(Value::Int).unwrap_or(Value::Null),
        Storage::Real => row.try_get::<Option<f64>, _>(i)?.map(Value::Real).unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://h/db"), "postgres://h/db");
    }
}
