//! `fupin user`: accounts, roles, departments and the API tokens a reset or a disabling
//! revokes.

use fupin_store::Store;

use crate::{PASSWORD, Registry, fupin};

/// The audit log rows of one account, oldest first, as `event` texts.
async fn auth_events(store: &Store, username: &str) -> Vec<String> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT event, actor FROM auth_log WHERE username = $1 ORDER BY id")
            .bind(username)
            .fetch_all(store.pool())
            .await
            .unwrap();
    for (event, actor) in &rows {
        assert_eq!(actor.as_deref(), Some("命令行"), "{event} is attributed to the command line");
    }
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test]
async fn user_add_disable_reset_and_role_manage_accounts() {
    let help = fupin(&["user", "--help"]).ok();
    for sub in ["add", "disable", "enable", "reset", "role"] {
        assert!(help.stdout.contains(sub), "{}", help.stdout);
    }
    let r = Registry::fresh().await;
    r.init().ok();
    let village = "610981100004";

    // Add with a generated password: printed once.
    let out = r.run(&["user", "add", "zhangsan"], &["--role", "village_cadre", "--area", village]).ok();
    assert!(out.stdout.contains("已创建账号 zhangsan") && out.stdout.contains("只显示这一次"), "{}", out.stdout);
    let out = r.run(&["user", "add", "lisi"], &["--role", "乡镇干部", "--area", "610981100", "--password", PASSWORD]);
    let out = out.ok();
    assert!(!out.stdout.contains(PASSWORD), "a given password is not printed: {}", out.stdout);

    // Refusals say why in Chinese, and create nothing.
    let refused = |args: &[&str], rest: &[&str], why: &str| {
        let out = r.run(args, rest);
        assert_eq!(out.code, 1, "{out:#?}");
        assert!(out.stderr.contains(why), "want “{why}”: {}", out.stderr);
    };
    refused(&["user", "add", "wangwu"], &["--role", "root", "--area", village], "未知角色");
    refused(&["user", "add", "wangwu"], &["--role", "village_cadre", "--area", "610981999999"], "不在本登记库");
    refused(&["user", "add", "wangwu"], &["--role", "village_cadre", "--area", "610981100"], "应绑定村级区划");
    refused(&["user", "add", "zhangsan"], &["--role", "village_cadre", "--area", village], "已存在");
    refused(
        &["user", "add", "wangwu"],
        &["--role", "inspector", "--area", "610981", "--password", "12345678"],
        "密码太弱",
    );
    refused(
        &["user", "add", "wangwu"],
        &["--role", "inspector", "--area", "610981", "--password", "short"],
        "密码太短",
    );
    refused(&["user", "disable", "nobody"], &[], "没有用户名为“nobody”的账号");
    refused(&["user", "role", "lisi"], &["--role", "village_cadre"], "应绑定村级区划");

    r.run(&["user", "disable", "zhangsan"], &[]).ok();
    let out = r.run(&["user", "reset", "zhangsan"], &[]).ok();
    assert!(out.stdout.contains("只显示这一次"), "{}", out.stdout);
    r.run(&["user", "role", "zhangsan"], &["--role", "helper_cadre"]).ok();
    r.run(&["user", "role", "lisi"], &["--role", "village_cadre", "--area", village]).ok();

    let store = r.store().await;
    let (role, area, disabled): (String, String, i64) =
        sqlx::query_as("SELECT role, area_code, disabled FROM users WHERE username = 'zhangsan'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((role.as_str(), area.as_str(), disabled), ("helper_cadre", village, 1));
    let (role, area): (String, String) = sqlx::query_as("SELECT role, area_code FROM users WHERE username = 'lisi'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!((role.as_str(), area.as_str()), ("village_cadre", village));
    assert_eq!(
        auth_events(&store, "zhangsan").await,
        ["user_created", "user_disabled", "password_reset", "role_changed"]
    );
    assert_eq!(auth_events(&store, "lisi").await, ["user_created", "role_changed"]);
    assert!(auth_events(&store, "wangwu").await.is_empty(), "refusals create nothing");
    store.close().await;
}

#[tokio::test]
async fn a_department_officer_needs_a_known_department() {
    let r = Registry::fresh().await;
    r.init().ok();
    let refused = |args: &[&str], rest: &[&str], why: &str| {
        let out = r.run(args, rest);
        assert_eq!(out.code, 1, "{out:#?}");
        assert!(out.stderr.contains(why), "want “{why}”: {}", out.stderr);
    };
    let officer = ["--role", "department_officer", "--area", "610981"];
    refused(&["user", "add", "mz"], &officer, "部门数据员账号须指定部门");
    refused(&["user", "add", "mz"], &[&officer[..], &["--department", "消防"]].concat(), "未知部门“消防”");
    refused(
        &["user", "add", "mz"],
        &["--role", "inspector", "--area", "610981", "--department", "03"],
        "只有部门数据员",
    );
    let out = r.run(&["user", "add", "mz"], &[&officer[..], &["--department", "民政"]].concat()).ok();
    assert!(out.stdout.contains("已创建账号 mz"), "{}", out.stdout);
    r.run(&["user", "add", "insp"], &["--role", "inspector", "--area", "610981"]).ok();
    refused(&["user", "role", "insp"], &["--role", "department_officer"], "须指定部门");
    r.run(&["user", "role", "insp"], &["--role", "department_officer", "--department", "07"]).ok();

    let store = r.store().await;
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT username, department FROM users WHERE username IN ('mz', 'insp') ORDER BY username")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(rows, [("insp".to_owned(), Some("07".to_owned())), ("mz".to_owned(), Some("03".to_owned()))]);
    store.close().await;
}

/// The tokens of one account as (name, revoked), and the security log's token
/// revocations of it as (detail, actor).
async fn tokens_of(store: &Store, username: &str) -> (Vec<(String, bool)>, Vec<(String, Option<String>)>) {
    let tokens: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, revoked_at FROM api_tokens WHERE username = $1 ORDER BY id")
            .bind(username)
            .fetch_all(store.pool())
            .await
            .unwrap();
    let revoked = sqlx::query_as(
        "SELECT detail, actor FROM auth_log WHERE username = $1 AND event = 'token_revoked' ORDER BY id",
    )
    .bind(username)
    .fetch_all(store.pool())
    .await
    .unwrap();
    (tokens.into_iter().map(|(n, r)| (n, r.is_some())).collect(), revoked)
}

#[tokio::test]
async fn user_reset_and_disable_revoke_api_tokens() {
    let r = Registry::fresh().await;
    r.init().ok();
    r.run(&["user", "add", "lisi"], &["--role", "乡镇干部", "--area", "610981100", "--password", PASSWORD]).ok();
    let store = r.store().await;
    fupin_store::tokens::create(&store, "admin", "脚本", "hash-a", 30).await.unwrap();
    fupin_store::tokens::create(&store, "lisi", "统计", "hash-l", 30).await.unwrap();

    r.run(&["user", "reset", "admin"], &["--password", "New-Secret-Passw0rd"]).ok();
    let (tokens, revoked) = tokens_of(&store, "admin").await;
    assert_eq!(tokens, [("脚本".to_owned(), true)]);
    assert_eq!(revoked, [("令牌“脚本”：重置密码时撤销".to_owned(), Some("命令行".to_owned()))]);
    assert_eq!(tokens_of(&store, "lisi").await.0, [("统计".to_owned(), false)], "another account's stays");

    r.run(&["user", "disable", "lisi"], &[]).ok();
    let (tokens, revoked) = tokens_of(&store, "lisi").await;
    assert_eq!(tokens, [("统计".to_owned(), true)]);
    assert_eq!(revoked, [("令牌“统计”：停用账号时撤销".to_owned(), Some("命令行".to_owned()))]);
    store.close().await;
    r.run(&["audit", "verify"], &[]).ok();
}
