//! 用户管理 and 登录日志 from a county admin's browser: creating an account whose first
//! password is shown once, disabling, enabling, resetting, changing role and area,
//! the refusals with their reasons, and every step in the sign-in audit log.

use crate::support::*;

/// Posts a same-origin form; returns status and body (redirects followed).
async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = client.post(format!("{}{path}", app.base)).header("Origin", app.origin()).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text between `<code id="new-password" …>` and `</code>`.
fn shown_password(page: &str) -> String {
    let start = page.find("id=\"new-password\"").expect("a password shown");
    let rest = &page[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</code>").unwrap();
    rest[open..close].to_owned()
}

/// The audit log's events of one account, oldest first.
async fn events(app: &TestApp, username: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT event FROM auth_log WHERE username = $1 ORDER BY id")
        .bind(username)
        .fetch_all(app.db.store.pool())
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_admin_manages_an_account_from_creation_to_role_change() {
    let app = spawn_app().await;
    let admin = app.signed_in(ADMIN).await;
    let (status, page) = app.get(&admin, "/admin/users").await;
    assert_eq!(status, 200);
    for want in ["村干部", "东关村（610981100201）", "从未登录", "新建账号", "<option value=\"610981101201\""]
    {
        assert!(page.contains(want), "the users page lacks {want}");
    }

    // Create with a generated password, shown once.
    let form = [("username", "wang.cadre"), ("display_name", "王干部"), ("role", "village_cadre"), ("area", V2)];
    let (status, page) = post(&app, &admin, "/admin/users", &form).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("账号已创建") && page.contains("只显示这一次"));
    let first = shown_password(&page);
    assert_eq!(first.len(), 16);
    let (_, page) = app.get(&admin, "/admin/users/wang.cadre").await;
    assert!(!page.contains(&first), "the password is never shown again");

    // The new account signs in and sees its own village only.
    let cadre = app.client();
    app.login_as(&cadre, "wang.cadre", &first).await;
    let (_, page) = app.get(&cadre, "/").await;
    assert!(page.contains("西关村") && page.contains("H3") && !page.contains("H1"), "{page}");
    assert_eq!(app.get(&cadre, "/admin/users").await.0, 403, "a cadre has no admin pages");
    let (_, page) = app.get(&admin, "/admin/users/wang.cadre").await;
    assert!(page.contains("王干部") && page.contains("西关村（610981100202）") && !page.contains("从未登录"));

    // Disabled: the open session ends and signing in fails.
    let (status, page) = post(&app, &admin, "/admin/users/wang.cadre/disable", &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("<dd id=\"state\">已停用</dd>"), "{page}");
    let r = cadre.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.url().path(), "/login", "a disabled account's session ends");
    assert_eq!(app.login_as(&cadre, "wang.cadre", &first).await.status(), 401);

    // Enabled, then a typed password: the old one stops working.
    post(&app, &admin, "/admin/users/wang.cadre/enable", &[]).await;
    let (status, page) = post(&app, &admin, "/admin/users/wang.cadre/reset", &[("password", "新的密码-2026-xy")]).await;
    assert_eq!(status, 200);
    assert_eq!(shown_password(&page), "新的密码-2026-xy");
    assert_eq!(app.login_as(&app.client(), "wang.cadre", &first).await.status(), 401);

    // A township officer of 白柳镇 now: the next page shows the new area.
    let (status, _) =
        post(&app, &admin, "/admin/users/wang.cadre/role", &[("role", "township_officer"), ("area", TOWN_B)]).await;
    assert_eq!(status, 200);
    let officer = app.client();
    let r = app.login_as(&officer, "wang.cadre", "新的密码-2026-xy").await;
    assert_eq!(r.status(), 200);
    let (_, page) = app.get(&officer, "/").await;
    assert!(page.contains("白柳村") && !page.contains("东关村"), "{page}");
    officer.post(format!("{}/logout", app.base)).header("Origin", app.origin()).send().await.unwrap();

    assert_eq!(
        events(&app, "wang.cadre").await,
        [
            "user_created",
            "login_ok",
            "user_disabled",
            "login_failed",
            "user_enabled",
            "password_reset",
            "login_failed",
            "role_changed",
            "login_ok",
            "logout"
        ]
    );
    let (actor, addr): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT actor, remote_addr FROM auth_log WHERE username = 'wang.cadre' AND event = 'role_changed'",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!((actor.as_deref(), addr.as_deref()), (Some(ADMIN), Some("127.0.0.1")));

    // The log page, newest first.
    let (status, page) = app.get(&admin, "/admin/auth-log").await;
    assert_eq!(status, 200);
    let newest = page.find("退出").expect("the sign-out is listed");
    let oldest = page.find("创建账号").expect("the creation is listed");
    assert!(newest < oldest, "latest first");
    assert!(page.contains("更改角色或区域") && page.contains("村干部 · 610981100202 → 乡镇干部，白柳镇（610981101）"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_account_forms_are_refused_with_the_reason_and_create_nothing() {
    let app = spawn_app().await;
    let admin = app.signed_in(ADMIN).await;
    let users_before = app.sql_count("SELECT COUNT(*) FROM users").await;
    let base = |username: &'static str, role: &'static str, area: &'static str, password: &'static str| {
        [("username", username), ("display_name", ""), ("role", role), ("area", area), ("password", password)]
    };
    for (form, why) in [
        (base("new1", "superuser", V1, ""), "未知角色“superuser”"),
        (base("new1", "village_cadre", "610981199999", ""), "区划代码 610981199999 不在本登记库的区划中"),
        (base("new1", "village_cadre", TOWN_A, ""), "角色“村干部”应绑定村级区划，而 城关镇（610981100）是乡镇级"),
        (base("new1", "township_officer", COUNTY, ""), "应绑定乡镇级区划"),
        (base("new1", "village_cadre", "abc", ""), "区划代码“abc”无效"),
        (base("village", "village_cadre", V1, ""), "用户名 village 已存在"),
        (base("张三", "village_cadre", V1, ""), "用户名“张三”无效"),
        (base("new1", "village_cadre", V1, "short"), "密码太短"),
        (base("new1", "village_cadre", V1, "1234567890"), "密码太弱：不能全是数字"),
        (base("new1", "village_cadre", V1, "password"), "密码太弱：这是常见密码"),
        (base("new1", "village_cadre", V1, "new1-secret"), "密码太弱：不能包含用户名"),
    ] {
        let (status, page) = post(&app, &admin, "/admin/users", &form).await;
        assert_eq!(status, 422, "{form:?}");
        assert!(page.contains(why), "{form:?}: want “{why}”");
        assert!(page.contains("新建账号"), "the form comes back");
    }
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM users").await, users_before);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM auth_log WHERE username = 'new1'").await, 0);

    // An admin cannot lock themselves out; a role needs an area of its level.
    let (status, page) = post(&app, &admin, &format!("/admin/users/{ADMIN}/disable"), &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("不能停用自己的账号"));
    let (status, page) = post(&app, &admin, &format!("/admin/users/{ADMIN}/role"), &[("role", "inspector")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("不能更改自己的角色或区域"));
    let (status, page) = post(&app, &admin, "/admin/users/village/role", &[("role", "township_officer")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("应绑定乡镇级区划"), "the cadre's village does not suit a township officer");
    let (status, page) = post(&app, &admin, "/admin/users/village/reset", &[("password", "village123")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("不能包含用户名"));
    let (role, disabled): (String, i64) = sqlx::query_as("SELECT role, disabled FROM users WHERE username = 'village'")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!((role.as_str(), disabled), ("village_cadre", 0));
    app.signed_in("village").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_failures_and_lock_outs_are_logged_and_paged() {
    let app = spawn_app().await;
    let client = app.client();
    app.login_as(&client, "nobody", "whatever").await;
    for _ in 0..5 {
        app.login_as(&client, "village", "wrong password").await;
    }
    app.login_as(&client, "village", &app.passwords["village"]).await;
    assert_eq!(
        events(&app, "village").await,
        ["login_failed", "login_failed", "login_failed", "login_failed", "login_failed", "locked", "login_locked"]
    );
    assert_eq!(events(&app, "nobody").await, ["login_failed"]);
    let (detail,): (String,) = sqlx::query_as("SELECT detail FROM auth_log WHERE username = 'nobody'")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!(detail, "用户名不存在");

    // Over 50 rows: the newest on page 1, the first on page 2. Fifty browsers behind
    // the proxy, each trying another name once (one address or one name would be
    // throttled after a few tries, which is logged as well, but differently).
    for i in 0..50 {
        let r = client
            .post(format!("{}/login", app.base))
            .header("Origin", app.origin())
            .header("X-Forwarded-For", format!("10.0.0.{i}"))
            .form(&[("username", format!("nobody{i}")), ("password", "whatever".to_owned())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let admin = app.signed_in(ADMIN).await;
    let (_, page) = app.get(&admin, "/admin/auth-log").await;
    assert!(page.contains("第 1 / 2 页") && page.contains("登录成功"), "the admin's sign-in is newest");
    assert!(!page.contains("账号被锁定"));
    let (_, page) = app.get(&admin, "/admin/auth-log?page=2").await;
    assert!(page.contains("第 2 / 2 页") && page.contains("账号被锁定") && page.contains("锁定期间尝试登录"));
    assert_no_secrets(&page, "the sign-in log");
    assert!(!page.contains("wrong password"), "typed passwords are never logged");
}
