//! The key of the tamper-evident chains, and the chains of the logs beside the registry.
//!
//! Every chained record's hash is an HMAC-SHA256 under a key kept **outside** the
//! database (a file, `chain.key` in the data directory by default, or the file
//! `--chain-key` / `FUPIN_CHAIN_KEY` names; mode 0600, created by `fupin init`). Someone
//! who can write to the database but cannot read that file cannot recompute a hash
//! after changing a record, so `fupin audit verify` finds the change.
//!
//! Chains: `change_log` (the registry's history, [`crate::writer`]) and one chain per
//! log beside it: `auth_log` (security log), `reveal_log`, `visits` and `api_tokens`
//! (the immutable columns of a token: owner, name, hash, creation, expiry). Each of
//! these tables has `prev_hash` and `hash` columns (migration `0010_chain.sql`); a row
//! is appended here only, under a lock on its `meta` row `chain:<table>`, so the chain
//! never forks.
//!
//! The `meta` row `chain_key` binds the key to the registry: it says up to which
//! change record the history predates the key (plain SHA-256, written by versions
//! before keyed chains, and the hash of that record), with an HMAC over both, so a
//! wrong key file is refused before anything is written and that boundary cannot be
//! moved without the key.

use std::io::Write as _;
use std::path::Path;

use futures_util::TryStreamExt;
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::writer::GENESIS;
use crate::{Store, StoreError};

/// HMAC-SHA256 (RFC 2104, the `hmac` crate) keyed once; each record clones the keyed state.
#[derive(Clone)]
pub struct ChainKey {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

/// The first line of a key file.
const KEY_FILE_HEADER: &str = "# fupin 变更链密钥（HMAC-SHA256）：请妥善保管，不要放进数据库、数据库备份或代码仓库";

impl ChainKey {
    /// A key from its bytes (any length; HMAC hashes one longer than a block first).
    pub fn from_bytes(key: &[u8]) -> ChainKey {
        // HMAC accepts a key of any length, so this cannot fail.
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        ChainKey { mac }
    }

    /// A new random key, with the text of its key file.
    pub fn generate() -> (ChainKey, String) {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let text = format!("{KEY_FILE_HEADER}\n{}\n", hex::encode(bytes));
        (ChainKey::from_bytes(&bytes), text)
    }

    /// Reads a key file: comment lines (`#`) and 64 hex digits.
    pub fn read(path: &Path) -> Result<ChainKey, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| StoreError::Io(path.display().to_string(), e))?;
        let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
        match hex::decode(line) {
            Ok(bytes) if bytes.len() == 32 => Ok(ChainKey::from_bytes(&bytes)),
            _ => Err(StoreError::Refused(format!("链密钥文件 {} 无效：应含 64 位十六进制密钥", path.display()))),
        }
    }

    /// Creates a new key file (mode 0600; refuses to overwrite one) and returns its key.
    pub fn create(path: &Path) -> Result<ChainKey, StoreError> {
        let io = |e| StoreError::Io(path.display().to_string(), e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let (key, text) = ChainKey::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(key)
    }

    /// The hex HMAC of what `feed` writes.
    pub fn mac(&self, feed: impl FnOnce(&mut dyn std::io::Write)) -> String {
        let mut writer = MacFeed(self.mac.clone());
        feed(&mut writer);
        hex::encode(writer.0.finalize().into_bytes())
    }

    /// The hex HMAC of a byte string.
    pub fn mac_bytes(&self, bytes: &[u8]) -> String {
        self.mac(|w| {
            let _ = w.write_all(bytes);
        })
    }
}

/// Feeds written bytes straight into a MAC, without building a string.
struct MacFeed(Hmac<Sha256>);

impl std::io::Write for MacFeed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Feeds written bytes straight into a digest, without building a string.
pub(crate) struct Feed(pub Sha256);

impl std::io::Write for Feed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The hash of a chained record: the previous hash, then the fields as a JSON array
/// (so no two different records serialise alike); keyed when a key is given, else
/// the plain SHA-256 of versions before keyed chains.
pub fn record_hash(key: Option<&ChainKey>, prev: &str, fields: &impl Serialize) -> String {
    let write = |w: &mut dyn std::io::Write| {
        let _ = w.write_all(prev.as_bytes());
        let _ = serde_json::to_writer(w, fields);
    };
    match key {
        Some(k) => k.mac(write),
        None => {
            let mut feed = Feed(Sha256::new());
            write(&mut feed);
            hex::encode(feed.0.finalize())
        }
    }
}

/// What the `meta` row `chain_key` says: change records `1..=legacy_until` predate the
/// key (plain SHA-256) and the last of them hashes to `legacy_head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBinding {
    pub legacy_until: i64,
    pub legacy_head: String,
}

impl KeyBinding {
    fn mac(&self, key: &ChainKey) -> String {
        key.mac_bytes(format!("fupin chain key v1 {} {}", self.legacy_until, self.legacy_head).as_bytes())
    }

    fn encode(&self, key: &ChainKey) -> String {
        format!("v1 {} {} {}", self.legacy_until, self.legacy_head, self.mac(key))
    }

    /// Reads the stored text, checking it against the key.
    pub fn decode(text: &str, key: &ChainKey) -> Result<KeyBinding, String> {
        let parts: Vec<&str> = text.split(' ').collect();
        let [v, until, head, mac] = parts.as_slice() else {
            return Err("登记库的链密钥记录（meta.chain_key）格式不对".into());
        };
        let binding = KeyBinding {
            legacy_until: until.parse().map_err(|_| "登记库的链密钥记录（meta.chain_key）格式不对".to_owned())?,
            legacy_head: (*head).to_owned(),
        };
        if *v != "v1" || binding.mac(key) != *mac {
            return Err("链密钥与本登记库不符（或登记库的链密钥记录被改动）".into());
        }
        Ok(binding)
    }
}

/// The stored key binding, checked against the store's key; `None` when the registry
/// has none yet (created before keyed chains and not yet given a key).
pub async fn binding(store: &Store) -> Result<Option<KeyBinding>, StoreError> {
    let key = store.chain_key()?;
    match store.meta("chain_key").await? {
        None => Ok(None),
        Some(text) => KeyBinding::decode(&text, key).map(Some).map_err(StoreError::Refused),
    }
}

/// Refuses to write with no key, or with a key this registry was not bound to.
/// Checked once per store.
pub(crate) async fn ensure_bound(store: &Store) -> Result<&ChainKey, StoreError> {
    let key = store.chain_key()?;
    if store.key_checked() {
        return Ok(key);
    }
    match binding(store).await? {
        Some(_) => {
            store.set_key_checked();
            Ok(key)
        }
        None => Err(StoreError::Refused(
            "登记库尚未启用带密钥的变更链：请先运行 fupin audit init-key（新登记库由 fupin init 完成）".into(),
        )),
    }
}

/// Binds the store's key to the registry, once: the change history so far is kept as
/// it is (its records before now stay plain SHA-256, and the binding names the last
/// one's hash, so they cannot be rewritten either), and every row already in a
/// chained log is chained now. Returns false when the registry was bound already (to
/// this key; another key is refused).
pub async fn bind_key(store: &Store) -> Result<bool, StoreError> {
    let key = store.chain_key()?.clone();
    if binding(store).await?.is_some() {
        store.set_key_checked();
        return Ok(false);
    }
    let _turn = store.write_turn().await;
    let mut tx = store.pool().begin().await?;
    sqlx::query("UPDATE meta SET value = value WHERE key = 'chain'").execute(&mut *tx).await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM change_log ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *tx).await?;
    let (legacy_until, legacy_head) = head.unwrap_or((0, GENESIS.to_owned()));
    for table in LOGS {
        lock(&mut tx, table).await?;
        let sql = format!("SELECT id, {} FROM {} ORDER BY id", table.columns_sql(), table.name);
        let rows = sqlx::query(crate::rows::safe(sql)).fetch_all(&mut *tx).await?;
        let mut prev = GENESIS.to_owned();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let cells = table.read(&row, 1)?;
            let hash = table.hash(&key, &prev, &cells);
            let sql = format!("UPDATE {} SET prev_hash = $1, hash = $2 WHERE id = $3", table.name);
            sqlx::query(crate::rows::safe(sql)).bind(prev).bind(hash.clone()).bind(id).execute(&mut *tx).await?;
            prev = hash;
        }
    }
    let binding = KeyBinding { legacy_until, legacy_head };
    sqlx::query("INSERT INTO meta (key, value) VALUES ('chain_key', $1)")
        .bind(binding.encode(&key))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    store.set_key_checked();
    Ok(true)
}

/// One value of a chained log row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(Option<String>),
    Int(i64),
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        Cell::Text(Some(s.to_owned()))
    }
    pub fn opt(s: Option<&str>) -> Cell {
        Cell::Text(s.map(str::to_owned))
    }
}

/// A log table with its own chain: its name and the columns the hash covers, in order
/// (`true` for an integer column).
#[derive(Debug)]
pub struct LogTable {
    pub name: &'static str,
    pub columns: &'static [(&'static str, bool)],
}

pub const AUTH_LOG: LogTable = LogTable {
    name: "auth_log",
    columns: &[
        ("at", false),
        ("username", false),
        ("event", false),
        ("detail", false),
        ("actor", false),
        ("remote_addr", false),
    ],
};

pub const REVEAL_LOG: LogTable = LogTable {
    name: "reveal_log",
    columns: &[
        ("at", false),
        ("username", false),
        ("hh_id", false),
        ("table_name", false),
        ("row_key", false),
        ("field", false),
        ("reason", false),
        ("remote_addr", false),
    ],
};

pub const VISITS: LogTable = LogTable {
    name: "visits",
    columns: &[
        ("hh_id", false),
        ("visitor", false),
        ("visited_on", false),
        ("mode", false),
        ("notes", false),
        ("created_at", false),
        ("idempotency_key", false),
        ("based_on_version", true),
    ],
};

/// A token's columns that never change (`last_used_at` and `revoked_at` do; a
/// revocation is in the chained `auth_log`).
pub const API_TOKENS: LogTable = LogTable {
    name: "api_tokens",
    columns: &[
        ("username", false),
        ("name", false),
        ("token_hash", false),
        ("created_at", false),
        ("expires_at", false),
    ],
};

/// Every chained log, in the order `audit verify` checks them.
pub const LOGS: [&LogTable; 4] = [&AUTH_LOG, &REVEAL_LOG, &VISITS, &API_TOKENS];

impl LogTable {
    pub fn columns_sql(&self) -> String {
        self.columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
    }

    fn read(&self, row: &sqlx::any::AnyRow, from: usize) -> Result<Vec<Cell>, sqlx::Error> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, (_, int))| {
                Ok(if *int { Cell::Int(row.try_get(from + i)?) } else { Cell::Text(row.try_get(from + i)?) })
            })
            .collect()
    }

    /// The row's hash after `prev`.
    pub fn hash(&self, key: &ChainKey, prev: &str, cells: &[Cell]) -> String {
        record_hash(Some(key), prev, &(self.name, cells))
    }
}

async fn lock(tx: &mut sqlx::Transaction<'static, sqlx::Any>, table: &LogTable) -> Result<(), StoreError> {
    sqlx::query("UPDATE meta SET value = value WHERE key = $1")
        .bind(format!("chain:{}", table.name))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends rows to a chained log in one transaction (every row or none), under the
/// log's chain lock. `conflict` is an `ON CONFLICT …` clause, if any: a row it skips
/// does not advance the chain. Returns how many rows were written.
pub async fn append(
    store: &Store,
    table: &LogTable,
    rows: Vec<Vec<Cell>>,
    conflict: Option<&'static str>,
) -> Result<u64, StoreError> {
    let key = ensure_bound(store).await?.clone();
    let mut tx = store.pool().begin().await?;
    lock(&mut tx, table).await?;
    let last = format!("SELECT hash FROM {} ORDER BY id DESC LIMIT 1", table.name);
    let head: Option<(Option<String>,)> = sqlx::query_as(crate::rows::safe(last)).fetch_optional(&mut *tx).await?;
    let mut prev = head.and_then(|h| h.0).unwrap_or_else(|| GENESIS.to_owned());
    let placeholders: Vec<String> = (1..=table.columns.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}, prev_hash, hash) VALUES ({}){}",
        table.name,
        table.columns_sql(),
        placeholders.join(", "),
        conflict.map(|c| format!(" {c}")).unwrap_or_default()
    );
    let mut written = 0;
    for cells in rows {
        let hash = table.hash(&key, &prev, &cells);
        let mut q = sqlx::query(crate::rows::safe(sql.clone()));
        for c in cells {
            q = match c {
                Cell::Text(t) => q.bind(t),
                Cell::Int(i) => q.bind(i),
            };
        }
        let done = q.bind(prev.clone()).bind(hash.clone()).execute(&mut *tx).await?;
        if done.rows_affected() > 0 {
            prev = hash;
            written += 1;
        }
    }
    tx.commit().await?;
    Ok(written)
}

/// Whether a token row (by id) still carries the hash its columns and predecessor give:
/// a token inserted or altered in the database without the key is not honoured.
pub async fn token_row_intact(store: &Store, id: i64) -> Result<bool, StoreError> {
    let key = store.chain_key()?;
    let sql = format!("SELECT {}, prev_hash, hash FROM api_tokens WHERE id = $1", API_TOKENS.columns_sql());
    let Some(row) = sqlx::query(crate::rows::safe(sql)).bind(id).fetch_optional(store.pool()).await? else {
        return Ok(false);
    };
    let n = API_TOKENS.columns.len();
    let cells = API_TOKENS.read(&row, 0)?;
    let prev: Option<String> = row.try_get(n)?;
    let hash: Option<String> = row.try_get(n + 1)?;
    Ok(match (prev, hash) {
        (Some(prev), Some(hash)) => API_TOKENS.hash(key, &prev, &cells) == hash,
        _ => false,
    })
}

/// The newest row of a log: its id and hash (`0:000…` when empty).
pub async fn log_head(store: &Store, table: &LogTable) -> Result<(i64, String), StoreError> {
    let sql = format!("SELECT id, hash FROM {} ORDER BY id DESC LIMIT 1", table.name);
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as(crate::rows::safe(sql)).fetch_optional(store.pool()).await?;
    Ok(match row {
        Some((id, hash)) => (id, hash.unwrap_or_default()),
        None => (0, GENESIS.to_owned()),
    })
}

/// What is wrong with a log's chain: the row and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMismatch {
    pub id: i64,
    pub reason: String,
}

/// Recomputes a log's chain in id order; calls `seen` with each row's id and hash.
/// Returns the rows checked and the first row that does not hold, if any.
pub async fn verify_log(
    store: &Store,
    table: &LogTable,
    mut seen: impl FnMut(i64, &str),
) -> Result<(u64, Option<LogMismatch>), StoreError> {
    let key = store.chain_key()?;
    let sql = format!("SELECT id, {}, prev_hash, hash FROM {} ORDER BY id", table.columns_sql(), table.name);
    let mut stream = sqlx::query(crate::rows::safe(sql)).fetch(store.pool());
    let n = table.columns.len();
    let mut prev = GENESIS.to_owned();
    let mut checked = 0;
    while let Some(row) = stream.try_next().await? {
        let id: i64 = row.try_get(0)?;
        let cells = table.read(&row, 1)?;
        let stored_prev: Option<String> = row.try_get(n + 1)?;
        let hash: Option<String> = row.try_get(n + 2)?;
        checked += 1;
        let fail = |reason: &str| Ok((checked, Some(LogMismatch { id, reason: reason.to_owned() })));
        let Some(hash) = hash else {
            return fail("没有哈希值（不经程序直接写入）");
        };
        if stored_prev.as_deref() != Some(prev.as_str()) {
            return fail("前一条的哈希值对不上（记录被删除、插入或改动）");
        }
        if table.hash(key, &prev, &cells) != hash {
            return fail("内容与其哈希值不符（记录被改动）");
        }
        seen(id, &hash);
        prev = hash;
    }
    Ok((checked, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test cases 1 and 2.
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let k = ChainKey::from_bytes(&[0x0b; 20]);
        assert_eq!(k.mac_bytes(b"Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        let k = ChainKey::from_bytes(b"Jefe");
        assert_eq!(
            k.mac_bytes(b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than a block.
        let k = ChainKey::from_bytes(&[0xaa; 131]);
        assert_eq!(
            k.mac_bytes(b"Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_key_file_is_private_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("fupin-key-{}", std::process::id()));
        let path = dir.join("chain.key");
        let _ = std::fs::remove_file(&path);
        let key = ChainKey::create(&path).unwrap();
        assert_eq!(ChainKey::read(&path).unwrap().mac_bytes(b"x"), key.mac_bytes(b"x"));
        assert!(ChainKey::create(&path).is_err(), "an existing key file is never overwritten");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_binding_is_refused_under_another_key() {
        let (a, _) = ChainKey::generate();
        let (b, _) = ChainKey::generate();
        let text = KeyBinding { legacy_until: 7, legacy_head: "ab".into() }.encode(&a);
        assert_eq!(KeyBinding::decode(&text, &a).unwrap().legacy_until, 7);
        assert!(KeyBinding::decode(&text, &b).is_err());
        assert!(KeyBinding::decode(&text.replace(" 7 ", " 9 "), &a).is_err());
    }
}
