//! `fupin audit`: recompute the hash chains (the change history and the chained logs,
//! [`crate::chain`]) under the registry's key, check them against heads recorded
//! outside the database, and check that every registry row equals the replay of its
//! history.
//!
//! Every check streams: the chain in `seq` order, each log in id order, and each table
//! merge-joined with its history, both ordered by the canonical key in byte order
//! (`COLLATE "C"` on PostgreSQL, SQLite's default), so memory stays flat at any size.

use std::collections::{BTreeMap, HashMap};

use fupin_domain::schema::{REGISTRY_TABLES, Table};
use futures_util::TryStreamExt;
use sqlx::Row;

use crate::chain::{self, KeyBinding};
use crate::rows::{self, key_of, key_sql};
use crate::writer::{ChangeRecord, GENESIS};
use crate::{Engine, Store, StoreError};

/// The newest record's number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl std::fmt::Display for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Record `seq` does not hash to what it says, or does not follow its predecessor.
    Chain { seq: i64, reason: String },
    /// A number is missing from the sequence (a record was deleted).
    Gap { after: i64, next: i64 },
    /// The expected head is not in the chain as recomputed.
    Expected { expected: String, reason: String },
    /// A registry row differs from the replay of its history.
    Row { table: String, key: String, field: String, stored: Option<String>, replayed: Option<String> },
    /// A row of a chained log (`auth_log`, `reveal_log`, `visits`, `api_tokens`) does
    /// not hold its hash.
    Log { table: String, id: i64, reason: String },
    /// The key does not belong to this registry, or the registry was never bound to one.
    Key(String),
    /// A head recorded outside the database (line `line` of the heads file) is no
    /// longer in the chain.
    Head { line: usize, chain: String, seq: i64, reason: String },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Chain { seq, reason } => write!(f, "变更记录第 {seq} 条：{reason}"),
            Mismatch::Gap { after, next } => write!(f, "变更记录第 {after} 条之后缺少记录（下一条是第 {next} 条）"),
            Mismatch::Expected { expected, reason } => write!(f, "期望的链头 {expected}：{reason}"),
            Mismatch::Log { table, id, reason } => write!(f, "表 {table} 第 {id} 条记录：{reason}"),
            Mismatch::Key(reason) => write!(f, "链密钥：{reason}"),
            Mismatch::Head { line, chain, seq, reason } => {
                write!(f, "链头文件第 {line} 行记下的 {chain} 第 {seq} 条：{reason}")
            }
            Mismatch::Row { table, key, field, stored, replayed } => write!(
                f,
                "表 {table} 主键 {key} 字段 {field}：库中为 {}，按变更记录应为 {}",
                stored.as_deref().unwrap_or("（无）"),
                replayed.as_deref().unwrap_or("（无）")
            ),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct Report {
    pub records: i64,
    pub head: Head,
    pub rows_checked: u64,
    /// Rows checked in each chained log.
    pub log_rows: u64,
    /// Whether the chains were checked under a key (false only for a registry from
    /// before keyed chains that has not been given one).
    pub keyed: bool,
    /// Recorded heads checked.
    pub heads_checked: usize,
    pub mismatch: Option<Mismatch>,
}

/// One line of a heads file: when it was written and each chain's head then
/// (`change_log` by record number, each log by row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedHead {
    pub line: usize,
    pub at: String,
    pub chains: Vec<(String, i64, String)>,
}

/// Every chain's head now, as one line for a heads file:
/// `2026-12-04T15:00:00Z change_log=1234:ab… auth_log=56:cd… reveal_log=… visits=… api_tokens=…`.
pub async fn heads_line(store: &Store) -> Result<String, StoreError> {
    let at = crate::users::timestamp(time::OffsetDateTime::now_utc());
    let mut line = format!("{at} change_log={}", head(store).await?);
    for log in chain::LOGS {
        let (id, hash) = chain::log_head(store, log).await?;
        line.push_str(&format!(" {}={id}:{hash}", log.name));
    }
    Ok(line)
}

/// Reads a heads file (lines of [`heads_line`]; blank lines and `#` comments skipped).
pub fn parse_heads(text: &str) -> Result<Vec<RecordedHead>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("链头文件第 {} 行格式不对：{line}", i + 1);
        let mut parts = line.split_whitespace();
        let at = parts.next().ok_or_else(bad)?.to_owned();
        let mut chains = Vec::new();
        for p in parts {
            let (name, rest) = p.split_once('=').ok_or_else(bad)?;
            let (seq, hash) = rest.split_once(':').ok_or_else(bad)?;
            let seq: i64 = seq.parse().map_err(|_| bad())?;
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            chains.push((name.to_owned(), seq, hash.to_lowercase()));
        }
        if chains.is_empty() {
            return Err(bad());
        }
        out.push(RecordedHead { line: i + 1, at, chains });
    }
    Ok(out)
}

/// The recorded heads by chain and number, each with the line it came from.
type Wanted = HashMap<(String, i64), Vec<(usize, String)>>;

fn wanted(heads: &[RecordedHead]) -> Wanted {
    let mut out: Wanted = HashMap::new();
    for h in heads {
        for (chain, seq, hash) in &h.chains {
            if *seq > 0 {
                out.entry((chain.clone(), *seq)).or_default().push((h.line, hash.clone()));
            }
        }
    }
    out
}

/// The current chain head (`0:000…` for an empty history).
pub async fn head(store: &Store) -> Result<Head, StoreError> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM change_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    let (seq, hash) = row.unwrap_or((0, GENESIS.to_owned()));
    Ok(Head { seq, hash })
}

/// Recomputes the chains under the store's key, checks an expected head (`HASH` or
/// `SEQ:HASH`) and the heads recorded outside the database if given, and replays
/// every table's history against its rows. Stops at the first mismatch.
pub async fn verify(store: &Store, expect: Option<&str>, heads: &[RecordedHead]) -> Result<Report, StoreError> {
    let mut report = Report {
        records: 0,
        head: Head { seq: 0, hash: GENESIS.into() },
        rows_checked: 0,
        log_rows: 0,
        keyed: true,
        heads_checked: 0,
        mismatch: None,
    };
    // The key and what it says about records from before it.
    let key = store.chain_key().ok();
    let binding: Option<KeyBinding> = match key {
        Some(_) => match chain::binding(store).await {
            Ok(Some(b)) => Some(b),
            Ok(None) => {
                report.mismatch =
                    Some(Mismatch::Key("登记库没有链密钥记录（尚未运行 fupin audit init-key，或该记录被删除）".into()));
                return Ok(report);
            }
            Err(StoreError::Refused(m)) => {
                report.mismatch = Some(Mismatch::Key(m));
                return Ok(report);
            }
            Err(e) => return Err(e),
        },
        None if store.meta("chain_key").await?.is_some() => return Err(StoreError::NoChainKey),
        None => {
            report.keyed = false;
            None
        }
    };
    let legacy_until = binding.as_ref().map_or(i64::MAX, |b| b.legacy_until);
    let mut wanted = wanted(heads);
    let mut mismatch_head = |chain: &str, seq: i64, hash: &str| -> Option<Mismatch> {
        let lines = wanted.remove(&(chain.to_owned(), seq))?;
        lines.into_iter().find(|(_, h)| h != hash).map(|(line, _)| Mismatch::Head {
            line,
            chain: chain.to_owned(),
            seq,
            reason: "与链中现在的哈希值不同：该条或之前的记录被改写过".into(),
        })
    };
    let expect = expect.map(|e| match e.split_once(':') {
        Some((s, h)) => (s.parse::<i64>().ok(), h.trim().to_lowercase()),
        None => (None, e.trim().to_lowercase()),
    });
    let mut expected_seen = false;
    {
        let mut stream = sqlx::query(
            "SELECT seq, at, actor, source, entity, entity_key, op, field, old_value, new_value, reason, \
             prev_hash, hash FROM change_log ORDER BY seq",
        )
        .fetch(store.pool());
        let mut prev = GENESIS.to_owned();
        let mut last_seq = 0;
        while let Some(row) = stream.try_next().await? {
            let rec = record(&row)?;
            report.records += 1;
            if rec.seq != last_seq + 1 {
                report.mismatch = Some(Mismatch::Gap { after: last_seq, next: rec.seq });
                return Ok(report);
            }
            if rec.prev_hash != prev {
                report.mismatch = Some(Mismatch::Chain {
                    seq: rec.seq,
                    reason: "前一条的哈希值对不上（记录被删除、插入或改动）".into(),
                });
                return Ok(report);
            }
            let keyed = if rec.seq > legacy_until { key } else { None };
            if rec.compute_hash(keyed) != rec.hash {
                report.mismatch = Some(Mismatch::Chain {
                    seq: rec.seq,
                    reason: "内容与其哈希值不符（记录被改动）".into(),
                });
                return Ok(report);
            }
            if let Some(b) = &binding
                && rec.seq == b.legacy_until
                && rec.hash != b.legacy_head
            {
                report.mismatch = Some(Mismatch::Chain {
                    seq: rec.seq,
                    reason: "与启用链密钥时记下的哈希值不符：启用之前的记录被改写过".into(),
                });
                return Ok(report);
            }
            if let Some(m) = mismatch_head("change_log", rec.seq, &rec.hash) {
                report.mismatch = Some(m);
                return Ok(report);
            }
            if let Some((seq, hash)) = &expect
                && *hash == rec.hash
            {
                if seq.is_some_and(|s| s != rec.seq) {
                    report.mismatch = Some(Mismatch::Expected {
                        expected: hash.clone(),
                        reason: format!("出现在第 {} 条而不是第 {} 条", rec.seq, seq.unwrap_or_default()),
                    });
                    return Ok(report);
                }
                expected_seen = true;
            }
            prev = rec.hash.clone();
            last_seq = rec.seq;
            report.head = Head { seq: rec.seq, hash: rec.hash };
        }
        if let Some(b) = &binding
            && last_seq < b.legacy_until
        {
            report.mismatch = Some(Mismatch::Gap { after: last_seq, next: b.legacy_until });
            return Ok(report);
        }
    }
    if let Some((_, hash)) = &expect
        && !(expected_seen || hash == GENESIS && report.records == 0)
    {
        report.mismatch = Some(Mismatch::Expected {
            expected: hash.clone(),
            reason: "重新计算的变更链中没有这个哈希值：变更记录被整体改写过".into(),
        });
        return Ok(report);
    }
    if binding.is_some() {
        for log in chain::LOGS {
            let mut seen_bad: Option<Mismatch> = None;
            let (rows, bad) = chain::verify_log(store, log, |id, hash| {
                if seen_bad.is_none() {
                    seen_bad = mismatch_head(log.name, id, hash);
                }
            })
            .await?;
            report.log_rows += rows;
            if let Some(bad) = bad {
                report.mismatch = Some(Mismatch::Log { table: log.name.into(), id: bad.id, reason: bad.reason });
                return Ok(report);
            }
            if seen_bad.is_some() {
                report.mismatch = seen_bad;
                return Ok(report);
            }
        }
    }
    // A revocation the security log records must still hold on the token's row
    // (`revoked_at` is not among a token's chained columns).
    if binding.is_some()
        && let Some((id, username, name)) = crate::tokens::unrevoked(store).await?.into_iter().next()
    {
        report.mismatch = Some(Mismatch::Log {
            table: "api_tokens".into(),
            id,
            reason: format!("登录日志记下 {username} 的令牌“{name}”已撤销，但该行未标为撤销（撤销被改回）"),
        });
        return Ok(report);
    }
    // A recorded head the chains never reached: records were removed from the end.
    if let Some(((chain, seq), lines)) = wanted.iter().min_by_key(|(k, v)| (v[0].0, k.1)) {
        report.mismatch = Some(Mismatch::Head {
            line: lines[0].0,
            chain: chain.clone(),
            seq: *seq,
            reason: "已不在链中：之后的记录被删除（或这是另一个登记库的链头）".into(),
        });
        return Ok(report);
    }
    report.heads_checked = heads.len();
    for table in REGISTRY_TABLES {
        if let Some(m) = replay_table(store, table, &mut report.rows_checked).await? {
            report.mismatch = Some(m);
            return Ok(report);
        }
    }
    Ok(report)
}

fn record(row: &sqlx::any::AnyRow) -> Result<ChangeRecord, sqlx::Error> {
    ChangeRecord::from_row(row)
}

type Replayed = Option<BTreeMap<String, String>>;

fn collate(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "",
        Engine::Postgres => " COLLATE \"C\"",
    }
}

/// Merge-joins a table (ordered by key) with its history (ordered by key, then seq).
async fn replay_table(store: &Store, table: &Table, checked: &mut u64) -> Result<Option<Mismatch>, StoreError> {
    let c = collate(store.engine());
    let rows_sql = format!("SELECT {} FROM {} ORDER BY ({}){c}", rows::column_list(table), table.name, key_sql(table));
    let log_sql = format!(
        "SELECT entity_key, op, field, old_value, new_value FROM change_log WHERE entity = $1 \
         ORDER BY entity_key{c}, seq"
    );
    let mut rows_stream = sqlx::query(crate::rows::safe(rows_sql.clone())).fetch(store.pool());
    let mut log_stream = sqlx::query(crate::rows::safe(log_sql.clone())).bind(table.name).fetch(store.pool());

    let mut pending_log: Option<sqlx::any::AnyRow> = log_stream.try_next().await?;
    let mut pending_row: Option<sqlx::any::AnyRow> = rows_stream.try_next().await?;
    loop {
        let log_key: Option<String> = match &pending_log {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        };
        let row_key: Option<String> = match &pending_row {
            Some(r) => Some(key_of(table, &rows::read_row(table, r)?)),
            None => None,
        };
        // The smaller key goes next; a key present on one side only compares with an
        // empty replay or an absent row.
        let key = match (&log_key, &row_key) {
            (None, None) => return Ok(None),
            (Some(a), None) => a.clone(),
            (None, Some(b)) => b.clone(),
            (Some(a), Some(b)) => a.min(b).clone(),
        };
        let mut state: Replayed = None;
        while let Some(r) = &pending_log {
            let k: String = r.try_get(0)?;
            if k != key {
                break;
            }
            apply(&mut state, r)?;
            pending_log = log_stream.try_next().await?;
        }
        let stored: Replayed = if row_key.as_deref() == Some(key.as_str()) {
            let values = rows::read_row(table, pending_row.as_ref().expect("row present"))?;
            pending_row = rows_stream.try_next().await?;
            *checked += 1;
            Some(rows::canonical_map(table, &values))
        } else {
            None
        };
        if let Some(m) = compare(table, &key, &stored, &state) {
            return Ok(Some(m));
        }
    }
}

fn apply(state: &mut Replayed, r: &sqlx::any::AnyRow) -> Result<(), StoreError> {
    let op: String = r.try_get(1)?;
    let field: Option<String> = r.try_get(2)?;
    let new: Option<String> = r.try_get(4)?;
    match op.as_str() {
        "I" => {
            let map: BTreeMap<String, String> =
                new.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
            *state = Some(map);
        }
        "U" => {
            let map = state.get_or_insert_with(BTreeMap::new);
            if let Some(f) = field {
                match new {
                    Some(v) => map.insert(f, v),
                    None => map.remove(&f),
                };
            }
        }
        _ => *state = None,
    }
    Ok(())
}

fn compare(table: &Table, key: &str, stored: &Replayed, replayed: &Replayed) -> Option<Mismatch> {
    let row = |field: &str, s: Option<&String>, r: Option<&String>| Mismatch::Row {
        table: table.name.into(),
        key: key.into(),
        field: field.into(),
        stored: s.cloned(),
        replayed: r.cloned(),
    };
    match (stored, replayed) {
        (None, None) => None,
        (Some(_), None) => Some(row("（整行）", Some(&"存在".to_owned()), None)),
        (None, Some(_)) => Some(row("（整行）", None, Some(&"存在".to_owned()))),
        (Some(s), Some(r)) => {
            for c in table.columns {
                let (a, b) = (s.get(c.name), r.get(c.name));
                if a != b {
                    return Some(row(c.name, a, b));
                }
            }
            None
        }
    }
}
