//! Writes to the registry, each one recorded in the change history.
//!
//! A [`Writer`] is one transaction. It first takes the chain lock (an update of the
//! `meta` row `chain`), so writers queue and the hash chain never forks; it then diffs
//! what it is given against what is stored and writes only the differences, one change
//! record per inserted row, per changed field and per deleted row.

use std::collections::{HashMap, HashSet};

use fupin_domain::Value;
use fupin_domain::schema::{Storage, Table};
use sqlx::{Any, Transaction};

use crate::chain::ChainKey;
use crate::rows::{self, key_of, key_sql};

use crate::{Engine, Store, StoreError};

/// Who makes a change: a signed-in user, an import, or the system itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(String),
    Import,
    System,
}

impl Actor {
    pub fn as_text(&self) -> String {
        match self {
            Actor::User(u) => format!("user:{u}"),
            Actor::Import => "import".into(),
            Actor::System => "system".into(),
        }
    }
}

/// The hash every chain starts from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One change record, as stored in `change_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub source: Option<String>,
    pub entity: String,
    pub entity_key: String,
    /// `I` insert, `U` update of one field, `D` delete.
    pub op: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl ChangeRecord {
    /// The columns [`ChangeRecord::from_row`] reads, in its order.
    pub const COLUMNS: &'static str =
        "seq, at, actor, source, entity, entity_key, op, field, old_value, new_value, reason, prev_hash, hash";

    /// Reads a record selected as [`ChangeRecord::COLUMNS`].
    pub fn from_row(row: &sqlx::any::AnyRow) -> Result<ChangeRecord, sqlx::Error> {
        use sqlx::Row;
        Ok(ChangeRecord {
            seq: row.try_get(0)?,
            at: row.try_get(1)?,
            actor: row.try_get(2)?,
            source: row.try_get(3)?,
            entity: row.try_get(4)?,
            entity_key: row.try_get(5)?,
            op: row.try_get(6)?,
            field: row.try_get(7)?,
            old_value: row.try_get(8)?,
            new_value: row.try_get(9)?,
            reason: row.try_get(10)?,
            prev_hash: row.try_get(11)?,
            hash: row.try_get(12)?,
        })
    }

    /// The hash over the previous hash and every field but the hash itself, serialised
    /// as a JSON array so no two different records serialise alike: HMAC-SHA256 under
    /// the chains' key ([`crate::chain`]), or with `None` the plain SHA-256 that
    /// records written before keyed chains carry.
    pub fn compute_hash(&self, key: Option<&ChainKey>) -> String {
        let fields = (
            self.seq,
            &self.at,
            &self.actor,
            &self.source,
            &self.entity,
            &self.entity_key,
            &self.op,
            &self.field,
            &self.old_value,
            &self.new_value,
            &self.reason,
        );
        crate::chain::record_hash(key, &self.prev_hash, &fields)
    }
}

/// What a write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub records: u64,
}

/// What one change record says happened.
enum Op {
    /// A new row, as canonical JSON.
    Insert(String),
    /// One field changed.
    Update { field: &'static str, old: Option<String>, new: Option<String> },
    /// A removed row, as canonical JSON.
    Delete(String),
}

/// A row to write, with the place it came from (`persons.csv:12`) if any.
#[derive(Debug, Clone)]
pub struct RowIn {
    pub values: Vec<Value>,
    pub source: Option<String>,
}

/// An open write transaction.
pub struct Writer {
    tx: Transaction<'static, Any>,
    engine: Engine,
    key: ChainKey,
    actor: String,
    at: String,
    seq: i64,
    hash: String,
    pending: Vec<ChangeRecord>,
    stats: WriteStats,
    /// This process's turn to write, held until the transaction ends.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// Rows per multi-row statement: keeps bound parameters under SQLite's and
/// PostgreSQL's limits for the widest table. On SQLite only full-size statements stay
/// in the prepared-statement cache, one per table: they repeat, so parsing them once
/// pays; every other row count would be one more cached program of megabytes. On
/// PostgreSQL none does: a statement prepared while a column held only NULLs fixed that
/// parameter's type, and a later batch's values were refused ("incorrect binary data
/// format").
const MAX_PARAMS: usize = 30_000;

impl Writer {
    pub(crate) async fn begin(store: &Store, actor: Actor) -> Result<Writer, StoreError> {
        let key = crate::chain::ensure_bound(store).await?.clone();
        let turn = store.write_turn().await;
        let mut tx = store.pool().begin().await?;
        // Take the chain lock before reading the head, so two writers never both
        // extend the same head.
        sqlx::query("UPDATE meta SET value = value WHERE key = 'chain'").execute(&mut *tx).await?;
        let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM change_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, hash) = head.unwrap_or((0, GENESIS.to_owned()));
        let at =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        Ok(Writer {
            tx,
            engine: store.engine(),
            key,
            actor: actor.as_text(),
            at,
            seq,
            hash,
            pending: Vec::new(),
            stats: WriteStats::default(),
            _turn: turn,
        })
    }

    pub fn stats(&self) -> WriteStats {
        self.stats
    }

    /// The transaction, for reads that must see this writer's own changes.
    pub fn tx(&mut self) -> &mut Transaction<'static, Any> {
        &mut self.tx
    }

    /// Chains an event about something that is not a registry table (the explanation
    /// workflow of `findings`): one `U` record whose hash the audit checks like any
    /// other; the replay, which covers the registry tables only, skips it.
    pub fn event(
        &mut self,
        entity: &str,
        key: &str,
        field: &'static str,
        old: Option<String>,
        new: Option<String>,
        reason: &str,
    ) -> Result<(), StoreError> {
        if fupin_domain::schema::REGISTRY_TABLES.iter().any(|t| t.name == entity) {
            return Err(StoreError::Refused(format!("{entity} 是登记表，其变更须按行写入")));
        }
        self.record_entity(entity, key, Op::Update { field, old, new }, None, reason);
        Ok(())
    }

    fn record(&mut self, table: &Table, key: &str, op: Op, source: Option<&str>, reason: &str) {
        self.record_entity(table.name, key, op, source, reason);
    }

    fn record_entity(&mut self, entity: &str, key: &str, op: Op, source: Option<&str>, reason: &str) {
        let (code, field, old_value, new_value) = match op {
            Op::Insert(row) => ("I", None, None, Some(row)),
            Op::Update { field, old, new } => ("U", Some(field.to_owned()), old, new),
            Op::Delete(row) => ("D", None, Some(row), None),
        };
        self.seq += 1;
        let mut rec = ChangeRecord {
            seq: self.seq,
            at: self.at.clone(),
            actor: self.actor.clone(),
            source: source.map(str::to_owned),
            entity: entity.to_owned(),
            entity_key: key.to_owned(),
            op: code.to_owned(),
            field,
            old_value,
            new_value,
            reason: Some(reason.to_owned()).filter(|r| !r.is_empty()),
            prev_hash: std::mem::take(&mut self.hash),
            hash: String::new(),
        };
        rec.hash = rec.compute_hash(Some(&self.key));
        self.hash = rec.hash.clone();
        self.pending.push(rec);
        self.stats.records += 1;
    }

    async fn flush_records(&mut self) -> Result<(), StoreError> {
        const COLS: usize = 13;
        let mut pending = std::mem::take(&mut self.pending).into_iter().peekable();
        while pending.peek().is_some() {
            let chunk: Vec<ChangeRecord> = pending.by_ref().take(MAX_PARAMS / COLS).collect();
            let mut sql = String::from(
                "INSERT INTO change_log (seq, at, actor, source, entity, entity_key, op, field, old_value, \
                 new_value, reason, prev_hash, hash) VALUES ",
            );
            push_placeholders(self.engine, &mut sql, chunk.len(), COLS);
            let full = self.engine == Engine::Sqlite && chunk.len() == MAX_PARAMS / COLS;
            let mut q = sqlx::query(crate::rows::safe(sql.clone())).persistent(full);
            for r in chunk {
                q = q
                    .bind(r.seq)
                    .bind(r.at)
                    .bind(r.actor)
                    .bind(r.source)
                    .bind(r.entity)
                    .bind(r.entity_key)
                    .bind(r.op)
                    .bind(r.field)
                    .bind(r.old_value)
                    .bind(r.new_value)
                    .bind(r.reason)
                    .bind(r.prev_hash)
                    .bind(r.hash);
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// The stored rows for these keys. Rows are selected by the first key column (which
    /// the primary key's index serves on both engines) and then matched whole.
    pub async fn fetch(&mut self, table: &Table, keys: &[String]) -> Result<HashMap<String, Vec<Value>>, StoreError> {
        let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let first = table.key[0];
        let storage = table.column(first).map(|c| c.kind.storage()).unwrap_or(Storage::Text);
        let mut firsts: Vec<Value> = keys.iter().map(|k| rows::key_values(table, k).remove(0)).collect();
        firsts.sort_by_key(Value::canonical);
        firsts.dedup();
        let mut out = HashMap::with_capacity(keys.len());
        for chunk in firsts.chunks(5_000) {
            let sql = format!(
                "SELECT {} FROM {} WHERE {first} IN ({})",
                rows::column_list(table),
                table.name,
                placeholders(self.engine, 1, chunk.len())
            );
            let mut q = sqlx::query(crate::rows::safe(sql.clone())).persistent(false);
            for v in chunk {
                q = rows::bind(q, v, storage);
            }
            for row in q.fetch_all(&mut *self.tx).await? {
                let values = rows::read_row(table, &row)?;
                let key = key_of(table, &values);
                if wanted.contains(key.as_str()) {
                    out.insert(key, values);
                }
            }
        }
        Ok(out)
    }

    /// Which of these keys exist (in this transaction's view).
    pub async fn existing_keys(&mut self, table: &Table, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        Ok(self.fetch(table, keys).await?.into_keys().collect())
    }

    /// Inserts the rows that are new, updates the fields that differ, leaves equal rows
    /// alone. When a row's group column (a person's 户编号) changes, the record says it
    /// moved.
    pub async fn upsert(&mut self, table: &Table, rows_in: Vec<RowIn>, reason: &str) -> Result<WriteStats, StoreError> {
        let before = self.stats;
        let keys: Vec<String> = rows_in.iter().map(|r| key_of(table, &r.values)).collect();
        let existing = self.fetch(table, &keys).await?;
        let mut inserts: Vec<RowIn> = Vec::new();
        for (row, key) in rows_in.into_iter().zip(&keys) {
            match existing.get(key) {
                None => {
                    let json = rows::row_json(table, &row.values);
                    self.record(table, key, Op::Insert(json), row.source.as_deref(), reason);
                    inserts.push(row);
                    self.stats.inserted += 1;
                }
                Some(old) => self.update_row(table, key, old, &row.values, row.source.as_deref(), reason).await?,
            }
        }
        self.insert_rows(table, inserts).await?;
        self.flush_records().await?;
        Ok(diff(before, self.stats))
    }

    async fn update_row(
        &mut self,
        table: &Table,
        key: &str,
        old: &[Value],
        new: &[Value],
        source: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut changed = Vec::new();
        for (i, c) in table.columns.iter().enumerate() {
            let storage = c.kind.storage();
            let o = rows::coerce(&old[i], storage).canonical();
            let n = rows::coerce(&new[i], storage).canonical();
            if o != n {
                changed.push((i, o, n));
            }
        }
        if changed.is_empty() {
            self.stats.unchanged += 1;
            return Ok(());
        }
        let mut sets = Vec::new();
        for (n, (i, o, v)) in changed.iter().enumerate() {
            let c = &table.columns[*i];
            sets.push(format!("{} = {}", c.name, param(self.engine, n + 1)));
            let why = if Some(c.name) == table.authoritative_by {
                format!("{reason}；迁移：从 {} 迁入 {}", o.as_deref().unwrap_or("-"), v.as_deref().unwrap_or("-"))
            } else {
                reason.to_owned()
            };
            self.record(table, key, Op::Update { field: c.name, old: o.clone(), new: v.clone() }, source, &why);
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE {}",
            table.name,
            sets.join(", "),
            where_key(self.engine, table, changed.len() + 1)
        );
        let mut q = sqlx::query(crate::rows::safe(sql.clone()));
        for (i, _, _) in &changed {
            q = rows::bind(q, &new[*i], table.columns[*i].kind.storage());
        }
        q = bind_key(q, table, key);
        q.execute(&mut *self.tx).await?;
        self.stats.updated += 1;
        Ok(())
    }

    async fn insert_rows(&mut self, table: &Table, rows_in: Vec<RowIn>) -> Result<(), StoreError> {
        let ncols = table.columns.len();
        let mut rows_in = rows_in.into_iter().peekable();
        while rows_in.peek().is_some() {
            let chunk: Vec<RowIn> = rows_in.by_ref().take(MAX_PARAMS / ncols).collect();
            let mut sql = format!("INSERT INTO {} ({}) VALUES ", table.name, rows::column_list(table));
            push_placeholders(self.engine, &mut sql, chunk.len(), ncols);
            let full = self.engine == Engine::Sqlite && chunk.len() == MAX_PARAMS / ncols;
            let mut q = sqlx::query(crate::rows::safe(sql.clone())).persistent(full);
            for r in chunk {
                for (c, v) in table.columns.iter().zip(r.values) {
                    q = rows::bind_owned(q, v, c.kind.storage());
                }
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Inserts one new row; refuses when the key exists.
    pub async fn insert(&mut self, table: &Table, values: Vec<Value>, reason: &str) -> Result<(), StoreError> {
        let key = key_of(table, &values);
        if !self.fetch(table, std::slice::from_ref(&key)).await?.is_empty() {
            return Err(StoreError::Refused(format!("{} {key} 已存在", table.title)));
        }
        self.upsert(table, vec![RowIn { values, source: None }], reason).await?;
        Ok(())
    }

    /// Sets some fields of one existing row.
    pub async fn set_fields(
        &mut self,
        table: &Table,
        key: &str,
        fields: &[(&str, Value)],
        reason: &str,
    ) -> Result<WriteStats, StoreError> {
        let before = self.stats;
        let stored = self.fetch(table, &[key.to_owned()]).await?;
        let Some(old) = stored.get(key) else {
            return Err(StoreError::Refused(format!("{} {key} 不存在", table.title)));
        };
        let mut new = old.clone();
        for (name, v) in fields {
            let i = table.index_of(name).ok_or_else(|| StoreError::Refused(format!("没有字段 {name}")))?;
            new[i] = v.clone();
        }
        self.update_row(table, key, old, &new, None, reason).await?;
        self.flush_records().await?;
        Ok(diff(before, self.stats))
    }

    /// Deletes rows by key, recording each whole row.
    pub async fn delete(
        &mut self,
        table: &Table,
        keys: &[String],
        source: Option<&str>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let stored = self.fetch(table, keys).await?;
        let mut n = 0;
        let mut sorted: Vec<_> = stored.into_iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        for chunk in sorted.chunks(5_000) {
            for (key, values) in chunk {
                let json = rows::row_json(table, values);
                self.record(table, key, Op::Delete(json), source, reason);
                n += 1;
            }
            for (key, _) in chunk {
                let sql = format!("DELETE FROM {} WHERE {}", table.name, where_key(self.engine, table, 1));
                bind_key(sqlx::query(crate::rows::safe(sql.clone())), table, key).execute(&mut *self.tx).await?;
            }
        }
        self.stats.deleted += n;
        self.flush_records().await?;
        Ok(n)
    }

    /// The keys of stored rows whose group column (a person's 户编号) is one of `groups`.
    pub async fn keys_in_groups(
        &mut self,
        table: &Table,
        groups: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let Some(group_col) = table.authoritative_by else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for chunk in groups.chunks(5_000) {
            let sql = format!(
                "SELECT {}, {group_col} FROM {} WHERE {group_col} IN ({})",
                key_sql(table),
                table.name,
                placeholders(self.engine, 1, chunk.len())
            );
            let mut q = sqlx::query_as::<_, (String, String)>(crate::rows::safe(sql.clone())).persistent(false);
            for g in chunk {
                q = q.bind(g.clone());
            }
            out.extend(q.fetch_all(&mut *self.tx).await?);
        }
        Ok(out)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Commits the transaction; returns what it did and the new chain head.
    pub async fn commit(mut self) -> Result<(WriteStats, i64, String), StoreError> {
        self.flush_records().await?;
        self.tx.commit().await?;
        Ok((self.stats, self.seq, self.hash))
    }

    /// Abandons every change of this transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await?;
        Ok(())
    }
}

fn diff(a: WriteStats, b: WriteStats) -> WriteStats {
    WriteStats {
        inserted: b.inserted - a.inserted,
        updated: b.updated - a.updated,
        deleted: b.deleted - a.deleted,
        unchanged: b.unchanged - a.unchanged,
        records: b.records - a.records,
    }
}

/// `a = $n AND b = $n+1` over the key columns, so the primary key's index serves.
fn where_key(engine: Engine, table: &Table, from: usize) -> String {
    table
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} = {}", param(engine, from + i)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn bind_key<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    table: &Table,
    key: &str,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for (k, v) in table.key.iter().zip(rows::key_values(table, key)) {
        let storage = table.column(k).map(|c| c.kind.storage()).unwrap_or(Storage::Text);
        q = rows::bind(q, &v, storage);
    }
    q
}

/// The `i`-th bind parameter. SQLite gets an anonymous `?`: sqlx asks SQLite for each
/// parameter's name, and SQLite finds a name (`$NNN` or `?NNN`) by walking a list, which
/// made a multi-row insert of 30 000 parameters quadratic (seconds per statement). Every
/// statement here uses its parameters in ascending order, so `?` binds the same.
fn param(engine: Engine, i: usize) -> String {
    match engine {
        Engine::Sqlite => {
            let _ = i;
            "?".to_owned()
        }
        Engine::Postgres => format!("${i}"),
    }
}

/// `$from, $from+1, …` for `n` parameters.
fn placeholders(engine: Engine, from: usize, n: usize) -> String {
    (from..from + n).map(|i| param(engine, i)).collect::<Vec<_>>().join(", ")
}

/// Appends `($1, …, $cols), (…)` for `rows` rows.
fn push_placeholders(engine: Engine, sql: &mut String, rows: usize, cols: usize) {
    let mut p = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&param(engine, p));
            p += 1;
        }
        sql.push(')');
    }
}
