//! Fresh registries for tests, on the engine the environment names.
//!
//! `FUPIN_TEST_DB` unset or `sqlite`: a new SQLite file in a temporary directory.
//! `FUPIN_TEST_DB=postgres://…/db`: a new PostgreSQL database, created for the test
//! on that server (each test gets its own, so tests run in parallel).

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
            Ok((Target::Url(format!("{base}/{name}")), None))
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("fupin-test-{}", unique()));
            Ok((Target::Dir(dir.clone()), Some(TempDir(dir))))
        }
    }
}

/// A fresh, migrated registry.
pub async fn fresh() -> Result<TestDb, StoreError> {
    let (target, dir) = fresh_target().await?;
    let store = Store::open(&target).await?;
    Ok(TestDb { store, target, _dir: dir })
}
