//! `fupin audit`: recompute the hash chain, and check that every registry row equals
//! the replay of its history.
//!
//! Both checks stream: the chain in `seq` order, and each table merge-joined with its
//! history, both ordered by the canonical key in byte order (`COLLATE "C"` on
//! PostgreSQL, SQLite's default), so memory stays flat at any size.

use std::collections::BTreeMap;

use fupin_domain::schema::{REGISTRY_TABLES, Table};
use futures_util::TryStreamExt;
use sqlx::Row;

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
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Chain { seq, reason } => write!(f, "变更记录第 {seq} 条：{reason}"),
            Mismatch::Gap { after, next } => write!(f, "变更记录第 {after} 条之后缺少记录（下一条是第 {next} 条）"),
            Mismatch::Expected { expected, reason } => write!(f, "期望的链头 {expected}：{reason}"),
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
    pub mismatch: Option<Mismatch>,
}

/// The current chain head (`0:000…` for an empty history).
pub async fn head(store: &Store) -> Result<Head, StoreError> {
    let row: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM change_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(store.pool())
        .await?;
    let (seq, hash) = row.unwrap_or((0, GENESIS.to_owned()));
    Ok(Head { seq, hash })
}

/// Recomputes the chain, checks an expected head (`HASH` or `SEQ:HASH`) if given, and
/// replays every table's history against its rows. Stops at the first mismatch.
pub async fn verify(store: &Store, expect: Option<&str>) -> Result<Report, StoreError> {
    let mut report =
        Report { records: 0, head: Head { seq: 0, hash: GENESIS.into() }, rows_checked: 0, mismatch: None };
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
            if rec.compute_hash() != rec.hash {
                report.mismatch = Some(Mismatch::Chain {
                    seq: rec.seq,
                    reason: "内容与其哈希值不符（记录被改动）".into(),
                });
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
