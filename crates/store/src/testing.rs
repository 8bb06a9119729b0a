//! Fresh registries for tests, on the engine the environment names.
//!
//! `FUPIN_TEST_DB` unset or `sqlite`: a new SQLite file in a temporary directory.
//! `FUPIN_TEST_DB=postgres://…/db`: a new PostgreSQL database, created for the test
//! on that server (each test gets its own, so tests run in parallel).
//!
//! Each registry has its own generated chain key ([`crate::chain`]) in a file of a
//! temporary directory ([`key_file`]): `chain.key` in the SQLite data directory, or a
//! directory named after the PostgreSQL database.

use crate::{Store, StoreError, Target};

/// A registry that lives as long as the value.
pub struct TestDb {
    pub store: Store,
    pub target: Target,
    _dir: Option<TempDir>,
}

/// A temporary directory removed on drop (kept small to avoid a dependency).
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which engine the tests run against, as text for messages.
pub fn engine_name() -> String {
    match std::env::var("FUPIN_TEST_DB") {
        Ok(url) if url.starts_with("postgres") => "postgres".into(),
        _ => "sqlite".into(),
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, N.fetch_add(1, Ordering::Relaxed))
}

/// A fresh target (not yet opened) on the test engine.
pub async fn fresh_target() -> Result<(Target, Option<TempDir>), StoreError> {
    match std::env::var("FUPIN_TEST_DB") {
        Ok(url) if url.starts_with("postgres") => {
            sqlx::any::install_default_drivers();
            let name = format!("fupin_t_{}", unique());
            let admin = sqlx::AnyPool::connect(&url).await.map_err(|e| StoreError::Connect(url.clone(), e))?;
            sqlx::query(crate::rows::safe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
            admin.close().await;
            let base = match url.rfind('/') {
                Some(i) if i > "postgres://".len() => &url[..i],
                _ => url.as_str(),
            };
            let keys = std::env::temp_dir().join(format!("fupin-test-key-{name}"));
            Ok((Target::Url(format!("{base}/{name}")), Some(TempDir(keys))))
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("fupin-test-{}", unique()));
            Ok((Target::Dir(dir.clone()), Some(TempDir(dir))))
        }
    }
}

/// Where a test registry keeps its chain key: `chain.key` in the data directory, or
/// in the temporary directory [`fresh_target`] names after a PostgreSQL database.
pub fn key_file(target: &Target) -> std::path::PathBuf {
    match target {
        Target::Dir(dir) => Target::key_file(dir),
        Target::Url(url) => {
            let name = url.rsplit('/').next().unwrap_or_default();
            Target::key_file(&std::env::temp_dir().join(format!("fupin-test-key-{name}")))
        }
    }
}

/// Opens a test registry with its chain key, if it has one yet.
pub async fn open(target: &Target) -> Result<Store, StoreError> {
    let store = Store::open(target).await?;
    let file = key_file(target);
    Ok(if file.exists() { store.with_chain_key(crate::chain::ChainKey::read(&file)?) } else { store })
}

/// A fresh, migrated registry with a new chain key bound to it.
pub async fn fresh() -> Result<TestDb, StoreError> {
    let (target, dir) = fresh_target().await?;
    let key = crate::chain::ChainKey::create(&key_file(&target))?;
    let store = Store::open(&target).await?.with_chain_key(key);
    crate::chain::bind_key(&store).await?;
    Ok(TestDb { store, target, _dir: dir })
}
