//! The chain key `fupin init` makes, a registry from before keyed chains sealed with
//! one, and the heads recorded outside the database (`audit head`, `serve --head-every`).

use std::process::Command;

use fupin_store::{Store, Target, testing};

use crate::{PASSWORD, Registry};

#[tokio::test]
async fn init_makes_a_private_key_and_heads_recorded_outside_are_checked() {
    let r = Registry::fresh().await;
    let out = r.init().ok();
    let key = testing::key_file(&r.target);
    assert!(out.stdout.contains("变更链密钥") && out.stdout.contains(&key.display().to_string()), "{}", out.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600,
            "only the owner reads the key"
        );
    }

    // Heads appended to a file kept elsewhere; verify checks every line.
    let elsewhere = tempfile::tempdir().unwrap();
    let heads = elsewhere.path().join("heads.txt");
    let heads_arg = heads.to_str().unwrap();
    let printed = r.run(&["audit", "head"], &["--append", heads_arg]).ok().stdout;
    r.run(&["user", "add", "lisi"], &["--role", "乡镇干部", "--area", "610981100", "--password", PASSWORD]).ok();
    r.run(&["audit", "head"], &["--append", heads_arg]).ok();
    let text = std::fs::read_to_string(&heads).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.lines().next().unwrap().contains(&format!("change_log={}", printed.trim())), "{text}");
    for chain in ["auth_log=", "reveal_log=", "visits=", "api_tokens="] {
        assert!(text.contains(chain), "{text}");
    }
    let out = r.run(&["audit", "verify"], &["--heads", heads_arg]).ok();
    assert!(out.stdout.contains("2 行链头都仍在链中"), "{}", out.stdout);

    // The newest security-log row deleted in SQL: the chain alone still holds, the
    // recorded head does not.
    let store = r.store().await;
    sqlx::query("DELETE FROM auth_log WHERE id = (SELECT MAX(id) FROM auth_log)").execute(store.pool()).await.unwrap();
    store.close().await;
    r.run(&["audit", "verify"], &[]).ok();
    let out = r.run(&["audit", "verify"], &["--heads", heads_arg]);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.contains("链头文件第 2 行") && out.stdout.contains("auth_log"), "{}", out.stdout);

    // Without the key nothing is written.
    let away = elsewhere.path().join("chain.key");
    std::fs::rename(&key, &away).unwrap();
    let out = r.run(&["user", "add", "wangwu"], &["--role", "inspector", "--area", "610981", "--password", PASSWORD]);
    assert_eq!(out.code, 1, "{out:#?}");
    assert!(out.stderr.contains("没有变更链密钥"), "{}", out.stderr);
    std::fs::rename(&away, &key).unwrap();
}

#[tokio::test]
async fn init_key_seals_a_registry_from_before_keyed_chains() {
    // An older registry: migrated, a security-log row without a hash, no key.
    let r = Registry::fresh().await;
    let store = Store::open(&r.target).await.unwrap();
    sqlx::query(
        "INSERT INTO auth_log (at, username, event, detail) VALUES ('2025-01-01T00:00:00Z', 'a', 'login_ok', '')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let out = r.run(&["audit", "verify"], &[]).ok();
    assert!(out.stdout.contains("尚未启用链密钥"), "{}", out.stdout);
    let out = r.run(&["audit", "init-key"], &[]).ok();
    assert!(out.stdout.contains("已启用带密钥的变更链"), "{}", out.stdout);
    assert!(testing::key_file(&r.target).exists());
    let out = r.run(&["audit", "verify"], &[]).ok();
    assert!(out.stdout.contains("1 行日志"), "{}", out.stdout);
    assert!(r.run(&["audit", "init-key"], &[]).ok().stdout.contains("未做改动"));
    // The row is sealed now: changing it is found.
    let store = r.store().await;
    sqlx::query("UPDATE auth_log SET username = 'b'").execute(store.pool()).await.unwrap();
    store.close().await;
    let out = r.run(&["audit", "verify"], &[]);
    assert_eq!(out.code, 2, "{out:#?}");
    assert!(out.stdout.contains("表 auth_log 第 1 条记录"), "{}", out.stdout);
}

#[tokio::test]
async fn serve_appends_the_heads_on_a_schedule() {
    let r = Registry::fresh().await;
    r.init().ok();
    let elsewhere = tempfile::tempdir().unwrap();
    let heads = elsewhere.path().join("heads.txt");
    let mut args: Vec<String> =
        ["serve", "--listen", "127.0.0.1:0", "--head-every", "1", "--head-file", heads.to_str().unwrap()]
            .map(String::from)
            .to_vec();
    match &r.target {
        Target::Dir(d) => args.extend(["--data".to_owned(), d.display().to_string()]),
        Target::Url(u) => args.extend([
            "--db".to_owned(),
            u.clone(),
            "--chain-key".to_owned(),
            testing::key_file(&r.target).display().to_string(),
        ]),
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_fupin"))
        .args(&args)
        .env_remove("FUPIN_DB")
        .env_remove("FUPIN_CHAIN_KEY")
        .env("FUPIN_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&heads).unwrap_or_default();
        if !text.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(text.lines().count(), 1, "the first heads line at start: {text:?}");
    assert!(text.contains("change_log=") && text.contains("auth_log="), "{text}");
    r.run(&["audit", "verify"], &["--heads", heads.to_str().unwrap()]).ok();
}
