//! The store on the engine `FUPIN_TEST_DB` names: writes are diffed and recorded, and
//! `audit verify` catches each kind of tampering.

use fupin_domain::Value;
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, PERSONS, REGISTRY_TABLES, Table};
use fupin_store::audit::{self, Mismatch};
use fupin_store::chain::ChainKey;
use fupin_store::testing;
use fupin_store::writer::{ChangeRecord, RowIn};
use fupin_store::{Actor, Engine, Store};

fn row(table: &Table, cells: &[(&str, Value)]) -> Vec<Value> {
    let mut v = vec![Value::Null; table.columns.len()];
    for (name, value) in cells {
        v[table.index_of(name).unwrap()] = value.clone();
    }
    v
}

fn household(id: &str) -> Vec<Value> {
    row(
        &HOUSEHOLDS,
        &[
            ("hh_id", id.into()),
            ("village_code", "610981105201".into()),
            ("status", "2".into()),
            ("farmland_mu", Value::Real(2.5)),
        ],
    )
}

fn person(id: &str, hh: &str, name: &str) -> Vec<Value> {
    row(&PERSONS, &[("person_id", id.into()), ("hh_id", hh.into()), ("name", name.into()), ("relation", "01".into())])
}

fn income(hh: &str, year: i64, wages_fen: i64) -> Vec<Value> {
    row(&INCOMES, &[("hh_id", hh.into()), ("year", Value::Int(year)), ("wages", Value::Int(wages_fen))])
}

fn rows(v: Vec<Vec<Value>>) -> Vec<RowIn> {
    v.into_iter().map(|values| RowIn { values, source: Some("test".into()) }).collect()
}

pub(crate) async fn seed(store: &Store) {
    let mut w = store.writer(Actor::Import).await.unwrap();
    w.upsert(&HOUSEHOLDS, rows(vec![household("H1"), household("H2")]), "导入").await.unwrap();
    w.upsert(&PERSONS, rows(vec![person("P1", "H1", "张三"), person("P2", "H2", "李四")]), "导入").await.unwrap();
    w.upsert(&INCOMES, rows(vec![income("H1", 2019, 300_000), income("H1", 2020, 350_050)]), "导入").await.unwrap();
    w.commit().await.unwrap();
}

#[tokio::test]
async fn the_database_matches_the_schema_description() {
    let db = testing::fresh().await.unwrap();
    for t in REGISTRY_TABLES {
        let sql = match db.store.engine() {
            Engine::Sqlite => format!("SELECT name FROM pragma_table_info('{}') ORDER BY cid", t.name),
            Engine::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_name = '{}' ORDER BY ordinal_position",
                t.name
            ),
        };
        let cols: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(db.store.pool()).await.unwrap();
        let cols: Vec<String> = cols.into_iter().map(|c| c.0).collect();
        let want: Vec<String> = t.columns.iter().map(|c| c.name.to_owned()).collect();
        assert_eq!(cols, want, "table {}", t.name);
    }
}

#[tokio::test]
async fn writes_record_only_the_differences() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    let head = audit::head(&db.store).await.unwrap();
    assert_eq!(head.seq, 6, "one insert record per row");

    // The same rows again, in another order: nothing changes.
    let mut w = db.store.writer(Actor::Import).await.unwrap();
    let s = w
        .upsert(&INCOMES, rows(vec![income("H1", 2020, 350_050), income("H1", 2019, 300_000)]), "再导入")
        .await
        .unwrap();
    assert_eq!((s.inserted, s.updated, s.unchanged, s.records), (0, 0, 2, 0));
    // A person moves to another household: one field record that says so.
    let s = w.upsert(&PERSONS, rows(vec![person("P2", "H1", "李四")]), "导入").await.unwrap();
    assert_eq!((s.updated, s.records), (1, 1));
    let s = w.set_fields(&HOUSEHOLDS, "H2", &[("farmland_mu", Value::Real(3.0))], "更正").await.unwrap();
    assert_eq!(s.records, 1);
    w.delete(&PERSONS, &["P1".into()], Some("persons.csv"), "absent from persons.csv").await.unwrap();
    w.commit().await.unwrap();

    let moved: (String,) = sqlx::query_as("SELECT reason FROM change_log WHERE entity = 'persons' AND op = 'U'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(moved.0.contains("迁移"), "{}", moved.0);
    let report = audit::verify(&db.store, None, &[]).await.unwrap();
    assert_eq!(report.mismatch, None);
    assert_eq!(report.records, 9);
    assert_eq!(db.store.count("persons").await.unwrap(), 1);
}

/// Batches fill whole multi-row statements: the first batch has only NULLs in some
/// columns, later ones have values (once refused by PostgreSQL when the first batch's
/// prepared statement fixed those parameters' types).
#[tokio::test]
async fn large_batches_with_nulls_first_then_values() {
    let db = testing::fresh().await.unwrap();
    let mut w = db.store.writer(Actor::Import).await.unwrap();
    let first: Vec<Vec<Value>> = (0..1200).map(|i| household(&format!("A{i:05}"))).collect();
    w.upsert(&HOUSEHOLDS, rows(first), "导入").await.unwrap();
    let second: Vec<Vec<Value>> = (0..1200)
        .map(|i| {
            let mut h = household(&format!("B{i:05}"));
            h[HOUSEHOLDS.index_of("relocation_area").unwrap()] = Value::Real(20.5);
            h[HOUSEHOLDS.index_of("relocation_year").unwrap()] = Value::Int(2018);
            h[HOUSEHOLDS.index_of("phone").unwrap()] = "13800000000".into();
            h
        })
        .collect();
    w.upsert(&HOUSEHOLDS, rows(second), "导入").await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(db.store.count("households").await.unwrap(), 2400);
    assert_eq!(audit::verify(&db.store, None, &[]).await.unwrap().mismatch, None);
}

#[tokio::test]
async fn a_rolled_back_writer_leaves_nothing() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    let before = audit::head(&db.store).await.unwrap();
    let mut w = db.store.writer(Actor::Import).await.unwrap();
    w.upsert(&HOUSEHOLDS, rows(vec![household("H9")]), "导入").await.unwrap();
    w.rollback().await.unwrap();
    assert_eq!(audit::head(&db.store).await.unwrap(), before);
    assert_eq!(db.store.count("households").await.unwrap(), 2);
}

#[tokio::test]
async fn verify_catches_an_income_changed_with_plain_sql() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    sqlx::query("UPDATE incomes SET wages = 999900 WHERE hh_id = 'H1' AND year = 2020")
        .execute(db.store.pool())
        .await
        .unwrap();
    let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
    match &m {
        Mismatch::Row { table, key, field, .. } => {
            assert_eq!((table.as_str(), key.as_str(), field.as_str()), ("incomes", "H1|2020", "wages"))
        }
        other => panic!("wrong mismatch {other:?}"),
    }
    assert!(m.to_string().contains("incomes"));
}

#[tokio::test]
async fn verify_catches_a_deleted_history_record() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    sqlx::query("DELETE FROM change_log WHERE seq = 3").execute(db.store.pool()).await.unwrap();
    let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
    assert_eq!(m, Mismatch::Gap { after: 2, next: 4 });
}

/// Falsifies income H1|2019 in the table AND in its insert record, then recomputes
/// every hash from there on with `key` (`None`: plain SHA-256, as versions before
/// keyed chains did).
async fn falsify_and_rehash(store: &Store, key: Option<&ChainKey>) {
    sqlx::query("UPDATE incomes SET wages = 100 WHERE hh_id = 'H1' AND year = 2019")
        .execute(store.pool())
        .await
        .unwrap();
    let all =
        sqlx::query(fupin_store::rows::safe(format!("SELECT {} FROM change_log ORDER BY seq", ChangeRecord::COLUMNS)))
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut prev = fupin_store::writer::GENESIS.to_owned();
    for r in all {
        let mut rec = ChangeRecord::from_row(&r).unwrap();
        rec.prev_hash = prev.clone();
        if rec.entity_key == "H1|2019" {
            rec.new_value = Some(r#"{"hh_id":"H1","wages":"100","year":"2019"}"#.into());
        }
        rec.hash = rec.compute_hash(key);
        sqlx::query("UPDATE change_log SET new_value = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(rec.new_value.clone())
            .bind(rec.prev_hash.clone())
            .bind(rec.hash.clone())
            .bind(rec.seq)
            .execute(store.pool())
            .await
            .unwrap();
        prev = rec.hash;
    }
}

/// The attack the key defeats: someone with write access to the database changes a
/// record and recomputes the chain's hashes as the old code did (plain SHA-256), or
/// under a key of their own. Verify fails at the first record rewritten.
#[tokio::test]
async fn a_chain_recomputed_without_the_key_fails_verify() {
    for key in [None, Some(ChainKey::generate().0)] {
        let db = testing::fresh().await.unwrap();
        seed(&db.store).await;
        assert_eq!(audit::verify(&db.store, None, &[]).await.unwrap().mismatch, None);
        falsify_and_rehash(&db.store, key.as_ref()).await;
        let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
        match &m {
            Mismatch::Chain { seq, reason } => {
                assert!(*seq > 0 && reason.contains("哈希值不符"), "{m:?}")
            }
            other => panic!("wrong mismatch {other:?}"),
        }
    }
}

#[tokio::test]
async fn verify_expect_catches_a_chain_recomputed_with_the_key() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    let noted = audit::head(&db.store).await.unwrap();
    assert!(audit::verify(&db.store, Some(&noted.to_string()), &[]).await.unwrap().mismatch.is_none());

    // Even someone who also stole the key and rewrites everything consistently...
    let key = testing::open(&db.target).await.unwrap().chain_key().unwrap().clone();
    falsify_and_rehash(&db.store, Some(&key)).await;
    assert_eq!(
        audit::verify(&db.store, None, &[]).await.unwrap().mismatch,
        None,
        "a full rewrite is consistent in itself"
    );
    // ...no longer has the head noted before.
    let m = audit::verify(&db.store, Some(&noted.to_string()), &[]).await.unwrap().mismatch.unwrap();
    assert!(matches!(m, Mismatch::Expected { .. }), "{m:?}");
}

#[path = "store/chain.rs"]
mod chain;
#[path = "store/operations.rs"]
mod operations;
#[path = "store/operations_members.rs"]
mod operations_members;
