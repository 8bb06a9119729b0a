//! The keyed chains beside the change history (`chain.rs`): the security log, the
//! reveal log, visits and API tokens. A row changed or removed in the database behind
//! the program's back is found by `audit verify`, which names the table and the row;
//! the key is bound to its registry; an older registry is sealed when given its key.

use fupin_store::audit::{self, Mismatch};
use fupin_store::chain::{self, ChainKey};
use fupin_store::reveals::{self, RevealRecord};
use fupin_store::users::{self, AuthEvent, AuthRecord};
use fupin_store::visits::{self, Mode, NewVisit};
use fupin_store::writer::{ChangeRecord, GENESIS};
use fupin_store::{Actor, Store, StoreError, testing, tokens};

use super::seed;

async fn auth(store: &Store, username: &str) {
    let r = AuthRecord { username, event: AuthEvent::LoginOk, detail: "", actor: None, remote_addr: Some("10.0.0.1") };
    users::log_auth(store, &r).await.unwrap();
}

async fn reveal(store: &Store, reason: &str) {
    let r = RevealRecord {
        username: "admin",
        hh_id: "H1",
        table: "persons",
        key: "P1",
        field: "id_number",
        reason,
        remote_addr: None,
    };
    reveals::log_reveal(store, &r).await.unwrap();
}

async fn visit(store: &Store, key: &str) {
    let v = NewVisit {
        hh_id: "H1",
        visitor: "helper",
        visited_on: time::macros::date!(2026 - 11 - 20),
        mode: Mode::InPerson,
        // Notes differ per visit: the same notes on the same day are one visit.
        notes: &format!("了解收入 {key}"),
        idempotency_key: key,
    };
    visits::record_visit(store, &v).await.unwrap();
}

/// Two rows in each chained log (the tokens' owner must exist).
async fn fill_logs(store: &Store) {
    seed(store).await;
    let area = fupin_domain::DivisionCode::parse("610981").unwrap();
    let user = users::NewUser {
        username: "admin",
        password_hash: "x",
        role: users::Role::CountyAdmin,
        area: &area,
        display_name: "管理员",
        department: None,
    };
    users::insert(store, &user).await.unwrap();
    for i in 0..2 {
        auth(store, &format!("user{i}")).await;
        reveal(store, &format!("核实身份 {i}")).await;
        visit(store, &format!("visit-key-0000000{i}")).await;
        tokens::create(store, "admin", &format!("脚本{i}"), &format!("hash{i}"), 30).await.unwrap();
    }
    // A replayed visit key writes nothing and leaves the chain as it was.
    visit(store, "visit-key-00000000").await;
}

async fn id_of_second(store: &Store, table: &str) -> i64 {
    let (id,): (i64,) =
        sqlx::query_as(fupin_store::rows::safe(format!("SELECT id FROM {table} ORDER BY id LIMIT 1 OFFSET 1")))
            .fetch_one(store.pool())
            .await
            .unwrap();
    id
}

#[tokio::test]
async fn a_log_row_edited_in_sql_fails_verify_naming_table_and_row() {
    let edits = [
        ("auth_log", "UPDATE auth_log SET remote_addr = '10.9.9.9' WHERE id = $1"),
        ("reveal_log", "UPDATE reveal_log SET reason = '例行检查' WHERE id = $1"),
        ("visits", "UPDATE visits SET visited_on = '2026-10-01' WHERE id = $1"),
        ("api_tokens", "UPDATE api_tokens SET expires_at = '2099-01-01T00:00:00Z' WHERE id = $1"),
    ];
    for (table, sql) in edits {
        let db = testing::fresh().await.unwrap();
        fill_logs(&db.store).await;
        let report = audit::verify(&db.store, None, &[]).await.unwrap();
        assert_eq!(report.mismatch, None);
        assert_eq!(report.log_rows, 8);
        let id = id_of_second(&db.store, table).await;
        sqlx::query(sql).bind(id).execute(db.store.pool()).await.unwrap();
        let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
        assert_eq!(
            m,
            Mismatch::Log {
                table: table.into(), id, reason: "内容与其哈希值不符（记录被改动）".into()
            }
        );
        let text = m.to_string();
        assert!(text.contains(table) && text.contains(&format!("第 {id} 条")), "{text}");
    }
}

#[tokio::test]
async fn a_log_row_deleted_or_inserted_in_sql_fails_verify() {
    let db = testing::fresh().await.unwrap();
    fill_logs(&db.store).await;
    let first: (i64,) = sqlx::query_as("SELECT MIN(id) FROM auth_log").fetch_one(db.store.pool()).await.unwrap();
    sqlx::query("DELETE FROM auth_log WHERE id = $1").bind(first.0).execute(db.store.pool()).await.unwrap();
    let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
    assert!(matches!(&m, Mismatch::Log { table, .. } if table == "auth_log"), "{m:?}");

    // A token row slipped in without the key: refused when used, and found by verify.
    let db = testing::fresh().await.unwrap();
    fill_logs(&db.store).await;
    sqlx::query(
        "INSERT INTO api_tokens (username, name, token_hash, created_at, expires_at, prev_hash, hash) \
         VALUES ('admin', '后门', 'forged', '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z', $1, $2)",
    )
    .bind(GENESIS)
    .bind(GENESIS)
    .execute(db.store.pool())
    .await
    .unwrap();
    assert_eq!(tokens::token_use(&db.store, "forged").await.unwrap(), tokens::TokenUse::Unknown);
    assert!(matches!(tokens::token_use(&db.store, "hash1").await.unwrap(), tokens::TokenUse::Live(_)));
    let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
    assert!(matches!(&m, Mismatch::Log { table, .. } if table == "api_tokens"), "{m:?}");
}

#[tokio::test]
async fn rows_removed_from_the_end_are_caught_by_recorded_heads() {
    let db = testing::fresh().await.unwrap();
    fill_logs(&db.store).await;
    let line = audit::heads_line(&db.store).await.unwrap();
    auth(&db.store, "later").await;
    let line2 = audit::heads_line(&db.store).await.unwrap();
    let heads = audit::parse_heads(&format!("# 链头\n{line}\n\n{line2}\n")).unwrap();
    assert_eq!(heads.len(), 2);
    assert_eq!(heads[0].chains.len(), 5, "{line}");
    let report = audit::verify(&db.store, None, &heads).await.unwrap();
    assert_eq!(report.mismatch, None);
    assert_eq!(report.heads_checked, 2);

    // The newest security-log row is deleted: the chain itself still holds...
    sqlx::query("DELETE FROM auth_log WHERE username = 'later'").execute(db.store.pool()).await.unwrap();
    assert_eq!(audit::verify(&db.store, None, &[]).await.unwrap().mismatch, None);
    // ...but the head recorded on line 4 is gone.
    let m = audit::verify(&db.store, None, &heads).await.unwrap().mismatch.unwrap();
    match &m {
        Mismatch::Head { line, chain, .. } => assert_eq!((*line, chain.as_str()), (4, "auth_log")),
        other => panic!("wrong mismatch {other:?}"),
    }
    assert!(audit::parse_heads("2026-01-01T00:00:00Z change_log=1:zz").is_err());
}

#[tokio::test]
async fn writes_need_the_key_the_registry_was_bound_to() {
    let db = testing::fresh().await.unwrap();
    seed(&db.store).await;
    // No key: reads work, every chained write is refused.
    std::fs::remove_file(testing::key_file(&db.target)).unwrap();
    let keyless = Store::open(&db.target).await.unwrap();
    assert_eq!(keyless.count("households").await.unwrap(), 2);
    assert!(matches!(keyless.writer(Actor::System).await, Err(StoreError::NoChainKey)));
    let r = AuthRecord { username: "x", event: AuthEvent::LoginOk, detail: "", actor: None, remote_addr: None };
    assert!(matches!(users::log_auth(&keyless, &r).await, Err(StoreError::NoChainKey)));
    assert!(matches!(audit::verify(&keyless, None, &[]).await, Err(StoreError::NoChainKey)));
    // Another key: refused before anything is written, and verify says so.
    let other = Store::open(&db.target).await.unwrap().with_chain_key(ChainKey::generate().0);
    let e = other.writer(Actor::System).await.err().expect("refused");
    assert!(e.to_string().contains("链密钥与本登记库不符"), "{e}");
    let m = audit::verify(&other, None, &[]).await.unwrap().mismatch.unwrap();
    assert!(matches!(m, Mismatch::Key(_)), "{m:?}");
    assert_eq!(audit::verify(&db.store, None, &[]).await.unwrap().mismatch, None);
}

/// A registry from before keyed chains: plain SHA-256 records and unchained log rows.
/// Given a key, it verifies as it was; its old part is sealed, so rewriting it (with
/// plain hashes, as before) is found; new records are keyed.
#[tokio::test]
async fn an_older_registry_is_sealed_when_given_a_key() {
    let (target, _dir) = testing::fresh_target().await.unwrap();
    let old = Store::open(&target).await.unwrap();
    let mut prev = GENESIS.to_owned();
    for seq in 1..=3 {
        let mut rec = ChangeRecord {
            seq,
            at: "2025-01-01T00:00:00Z".into(),
            actor: "user:admin".into(),
            source: None,
            entity: "findings".into(),
            entity_key: format!("H1|{seq}|rule"),
            op: "U".into(),
            field: Some("status".into()),
            old_value: Some("open".into()),
            new_value: Some("explained".into()),
            reason: Some("旧版本写入".into()),
            prev_hash: prev.clone(),
            hash: String::new(),
        };
        rec.hash = rec.compute_hash(None);
        prev = rec.hash.clone();
        sqlx::query(
            "INSERT INTO change_log (seq, at, actor, source, entity, entity_key, op, field, old_value, new_value, \
             reason, prev_hash, hash) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(rec.seq)
        .bind(rec.at)
        .bind(rec.actor)
        .bind(rec.entity)
        .bind(rec.entity_key)
        .bind(rec.op)
        .bind(rec.field)
        .bind(rec.old_value)
        .bind(rec.new_value)
        .bind(rec.reason)
        .bind(rec.prev_hash)
        .bind(rec.hash)
        .execute(old.pool())
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO auth_log (at, username, event, detail) VALUES ('2025-01-01T00:00:00Z', 'a', 'login_ok', '')",
    )
    .execute(old.pool())
    .await
    .unwrap();
    let report = audit::verify(&old, None, &[]).await.unwrap();
    assert_eq!((report.mismatch, report.keyed, report.records), (None, false, 3));

    let key = ChainKey::create(&testing::key_file(&target)).unwrap();
    let store = old.with_chain_key(key);
    assert!(chain::bind_key(&store).await.unwrap());
    assert!(!chain::bind_key(&store).await.unwrap(), "binding twice changes nothing");
    let report = audit::verify(&store, None, &[]).await.unwrap();
    assert_eq!((report.mismatch, report.keyed, report.log_rows), (None, true, 1));
    auth(&store, "new").await;
    let mut w = store.writer(Actor::System).await.unwrap();
    w.event("findings", "H1|4|rule", "status", None, Some("open".into()), "新版本写入").unwrap();
    w.commit().await.unwrap();
    assert_eq!(audit::verify(&store, None, &[]).await.unwrap().mismatch, None);

    // The old records rewritten and rehashed as the old code did: found.
    sqlx::query("UPDATE change_log SET reason = '改过' WHERE seq = 2").execute(store.pool()).await.unwrap();
    let rows = sqlx::query(fupin_store::rows::safe(format!(
        "SELECT {} FROM change_log WHERE seq <= 3 ORDER BY seq",
        ChangeRecord::COLUMNS
    )))
    .fetch_all(store.pool())
    .await
    .unwrap();
    let mut prev = GENESIS.to_owned();
    for r in rows {
        let mut rec = ChangeRecord::from_row(&r).unwrap();
        rec.prev_hash = prev.clone();
        rec.hash = rec.compute_hash(None);
        sqlx::query("UPDATE change_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(rec.prev_hash.clone())
            .bind(rec.hash.clone())
            .bind(rec.seq)
            .execute(store.pool())
            .await
            .unwrap();
        prev = rec.hash;
    }
    let m = audit::verify(&store, None, &[]).await.unwrap().mismatch.unwrap();
    assert!(matches!(m, Mismatch::Chain { seq: 3, .. }), "{m:?}");
}

#[tokio::test]
async fn a_revocation_undone_in_sql_fails_verify() {
    let db = testing::fresh().await.unwrap();
    fill_logs(&db.store).await;
    assert!(tokens::revoke(&db.store, "admin", "脚本1").await.unwrap());
    let detail = tokens::revocation_detail("脚本1", "本人撤销");
    let r = AuthRecord {
        username: "admin",
        event: AuthEvent::TokenRevoked,
        detail: &detail,
        actor: None,
        remote_addr: None,
    };
    users::log_auth(&db.store, &r).await.unwrap();
    assert_eq!(tokens::token_use(&db.store, "hash1").await.unwrap(), tokens::TokenUse::Unknown);
    assert_eq!(audit::verify(&db.store, None, &[]).await.unwrap().mismatch, None);

    sqlx::query("UPDATE api_tokens SET revoked_at = NULL WHERE name = '脚本1'").execute(db.store.pool()).await.unwrap();
    let id = id_of_second(&db.store, "api_tokens").await;
    let m = audit::verify(&db.store, None, &[]).await.unwrap().mismatch.unwrap();
    match &m {
        Mismatch::Log { table, id: at, reason } => {
            assert_eq!((table.as_str(), *at), ("api_tokens", id));
            assert!(reason.contains("撤销被改回"), "{reason}");
        }
        other => panic!("wrong mismatch {other:?}"),
    }
}
