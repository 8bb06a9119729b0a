//! 我的农户 and 记录走访 (pages/my.rs, pages/visit.rs): a visit recorded through the
//! form shows on the card and in the list, a replayed form records nothing more,
//! scopes hold (a helper cadre only their paired households; read-only roles 403),
//! refused fields answer 422; and HTTPS with `--tls-cert/--tls-key`.

use std::net::SocketAddr;

use reqwest::Client;

use crate::support::*;

/// A client that does not follow redirects, signed in as `user`.
async fn signed_in(app: &TestApp, user: &str) -> Client {
    let client = Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = app.login_as(&client, user, &app.passwords[user]).await;
    assert_eq!(r.status(), 303, "{user} signs in");
    client
}

async fn get(app: &TestApp, client: &Client, path: &str) -> (u16, String) {
    let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The idempotency key the form was rendered with.
fn key_of(form: &str) -> String {
    let start = form.find(r#"name="key" value=""#).expect("the form has a key") + r#"name="key" value=""#.len();
    form[start..].split('"').next().unwrap().to_owned()
}

async fn post_visit(app: &TestApp, client: &Client, hh: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client
        .post(format!("{}/my/household/{hh}/visit", app.base))
        .header("Origin", app.origin())
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn visits_of(app: &TestApp, hh: &str) -> i64 {
    app.sql_count(&format!("SELECT COUNT(*) FROM visits WHERE hh_id = '{hh}'")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_through_the_form_shows_on_the_card_and_the_list_once() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;

    // Before: the list has H1 unvisited this quarter (2026-06-01: the second quarter).
    let (status, list) = get(&app, &client, "/my").await;
    assert_eq!(status, 200);
    assert!(list.contains("/my/household/H1") && list.contains("/my/household/H2"), "{list}");
    assert!(list.contains("2026年第2季度已走访 0 / 2 户"), "{list}");
    assert!(!list.contains("西关村"), "a village cadre's list stays in the village");

    let (status, card) = get(&app, &client, "/my/household/H1").await;
    assert_eq!(status, 200);
    assert!(card.contains("张三户") && card.contains("3 人") && card.contains("还没有走访记录"), "{card}");
    assert!(card.contains("139****5678"), "the phone is masked: {card}");
    assert_no_secrets(&card, "the card");
    assert!(card.contains(r#"href="/my/household/H1/visit""#), "the card opens the form");

    let (status, form) = get(&app, &client, "/my/household/H1/visit").await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"value="2026-06-01""#), "the date defaults to today: {form}");
    let key = key_of(&form);
    assert_eq!(key.len(), 32);
    assert_ne!(key, key_of(&get(&app, &client, "/my/household/H1/visit").await.1), "each form has its own key");

    let fields = [("visited_on", "2026-05-20"), ("mode", "phone"), ("notes", "电话问候，春耕顺利"), ("key", &key)];
    let r = post_visit(&app, &client, "H1", &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/my/household/H1");
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    assert!(card.contains("已记录走访：2026-05-20（电话联系）"), "the flash: {card}");
    assert!(card.contains("电话问候，春耕顺利") && card.contains("village"), "{card}");
    assert!(card.contains("本季走访</dt><dd>已走访"), "{card}");
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    assert!(!card.contains("已记录走访："), "the flash shows once");

    let (_, list) = get(&app, &client, "/my").await;
    assert!(list.contains("2026年第2季度已走访 1 / 2 户"), "{list}");
    assert!(list.contains("上次走访：2026-05-20"), "{list}");
    // The unvisited H2 comes first.
    assert!(list.find("/my/household/H2").unwrap() < list.find("/my/household/H1").unwrap(), "{list}");

    // The same form again (a double tap, a queue sent twice): no second row.
    let r = post_visit(&app, &client, "H1", &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(visits_of(&app, "H1").await, 1);
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    assert!(card.contains("这次走访已记录过"), "{card}");
    // Back to the form, which loads again with a new key, and saved again: one visit.
    let again = key_of(&get(&app, &client, "/my/household/H1/visit").await.1);
    assert_ne!(again, key);
    let fields2 = [("visited_on", "2026-05-20"), ("mode", "phone"), ("notes", "电话问候，春耕顺利"), ("key", &again)];
    assert_eq!(post_visit(&app, &client, "H1", &fields2).await.status(), 303);
    assert_eq!(visits_of(&app, "H1").await, 1, "the same visit saved twice from the form is one visit");

    // What was stored: who, when, how, and the household's version.
    let (visitor, on, mode, version): (String, String, String, i64) =
        sqlx::query_as("SELECT visitor, visited_on, mode, based_on_version FROM visits WHERE hh_id = 'H1'")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap();
    assert_eq!((visitor.as_str(), on.as_str(), mode.as_str()), ("village", "2026-05-20", "phone"));
    let newest = app.sql_count("SELECT MAX(seq) FROM change_log").await;
    assert!(version > 0 && version <= newest, "based on version {version}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_cadre_sees_and_visits_only_the_paired_households() {
    let app = spawn_app().await;
    let client = signed_in(&app, "helper").await;
    let (status, list) = get(&app, &client, "/my").await;
    assert_eq!(status, 200);
    assert!(list.contains("/my/household/H1"), "the paired household: {list}");
    assert!(!list.contains("/my/household/H2"), "H2 is in the village but not paired: {list}");

    assert_eq!(get(&app, &client, "/my/household/H1").await.0, 200);
    for path in ["/my/household/H2", "/my/household/H2/visit", "/my/household/H3", "/my/household/NOPE"] {
        assert_eq!(get(&app, &client, path).await.0, 404, "{path}");
    }
    let fields = [("visited_on", "2026-05-20"), ("mode", "in_person"), ("notes", ""), ("key", "helper-probes-h2-000")];
    assert_eq!(post_visit(&app, &client, "H2", &fields).await.status(), 404);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, 0);

    let key = key_of(&get(&app, &client, "/my/household/H1/visit").await.1);
    let fields = [("visited_on", "2026-04-02"), ("mode", "in_person"), ("notes", "入户"), ("key", &key)];
    assert_eq!(post_visit(&app, &client, "H1", &fields).await.status(), 303);
    assert_eq!(visits_of(&app, "H1").await, 1);

    // Unpaired today (the pairing ended), the household is gone from the helper's pages.
    sqlx::query("UPDATE pairings SET to_date = '2026-01-01' WHERE hh_id = 'H1'")
        .execute(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!(get(&app, &client, "/my/household/H1").await.0, 404);
    assert!(!get(&app, &client, "/my").await.1.contains("/my/household/H1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_cadre_account_is_linked_to_its_helper() {
    use fupin_app::accounts::{self, AccountRequest, ChangedBy};
    let mut app = spawn_app().await;
    let by = ChangedBy { name: "test", remote_addr: None };
    let role = fupin_store::users::Role::HelperCadre;
    let request =
        AccountRequest { username: "liu", display_name: "刘帮扶", role, area: V1, password: None, department: None };
    let password = accounts::add_user(&app.db.store, by, &request).await.unwrap();
    app.passwords.insert("liu".into(), password);
    let client = signed_in(&app, "liu").await;
    let (status, list) = get(&app, &client, "/my").await;
    assert_eq!(status, 200);
    assert!(list.contains("尚未关联帮扶责任人") && !list.contains("/my/household/"), "{list}");
    assert_eq!(get(&app, &client, "/my/household/H1").await.0, 404);

    let refused = accounts::set_helper(&app.db.store, by, "liu", "NOPE").await.unwrap_err();
    assert!(refused.to_string().contains("不存在"), "{refused}");
    let refused = accounts::set_helper(&app.db.store, by, "village", "G1").await.unwrap_err();
    assert!(refused.to_string().contains("不是帮扶责任人"), "{refused}");
    accounts::set_helper(&app.db.store, by, "liu", "G1").await.unwrap();
    assert!(get(&app, &client, "/my").await.1.contains("/my/household/H1"));
    assert_eq!(get(&app, &client, "/my/household/H1").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_roles_see_the_card_but_may_not_record() {
    let app = spawn_app().await;
    for user in ["inspector", "department"] {
        let client = signed_in(&app, user).await;
        let (status, card) = get(&app, &client, "/my/household/H1").await;
        assert_eq!(status, 200, "{user}");
        assert!(!card.contains("record-visit"), "{user} gets no button");
        assert_eq!(get(&app, &client, "/my/household/H1/visit").await.0, 403, "{user}");
        let fields =
            [("visited_on", "2026-05-20"), ("mode", "in_person"), ("notes", ""), ("key", "read-only-role-key-1")];
        let r = post_visit(&app, &client, "H1", &fields).await;
        assert_eq!(r.status(), 403, "{user}");
        assert!(r.text().await.unwrap().contains("无权记录走访"));
    }
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_fields_answer_422_and_write_nothing() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let key = key_of(&get(&app, &client, "/my/household/H1/visit").await.1);
    let long = "访".repeat(2001);
    let cases: [(&str, &str, &str, &str, &str); 6] = [
        ("2026-05-20", "in_person", &long, &key, "最多 2000 个字"),
        ("2026-06-02", "in_person", "", &key, "不能晚于今天"),
        ("2025-01-01", "in_person", "", &key, "不能早于一年前"),
        ("昨天", "in_person", "", &key, "走访日期无效"),
        ("2026-05-20", "letter", "", &key, "请选择走访方式"),
        ("2026-05-20", "phone", "", "short", "表单已失效"),
    ];
    for (date, mode, notes, key, why) in cases {
        let fields = [("visited_on", date), ("mode", mode), ("notes", notes), ("key", key)];
        let r = post_visit(&app, &client, "H1", &fields).await;
        assert_eq!(r.status(), 422, "{why}");
        let page = r.text().await.unwrap();
        assert!(page.contains(why), "{why}: {page}");
        assert!(page.contains(&format!(r#"name="key" value="{key}""#)), "the form keeps its key");
    }
    // A form with a field missing is refused too.
    let r = post_visit(&app, &client, "H1", &[("visited_on", "2026-05-20")]).await;
    assert_eq!(r.status(), 422);
    // Exactly 2000 characters are fine.
    let notes = "访".repeat(2000);
    let fields = [("visited_on", "2026-05-20"), ("mode", "in_person"), ("notes", &notes), ("key", &key)];
    assert_eq!(post_visit(&app, &client, "H1", &fields).await.status(), 303);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, 1);
}

/// A bank card number typed into a visit's notes (as written on the passbook, in groups,
/// or in one run) is masked like the 银行账号 field wherever the notes are shown: the
/// card, the JSON API, the household page's history does not hold visits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_numbers_in_visit_notes_are_masked_like_account_fields() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let (_, form) = get(&app, &client, "/my/household/H1/visit").await;
    let key = key_of(&form);
    let notes = "新卡 6228 4800 1234 5671，旧卡6228480012345671已注销，身份证 61098119820305002X";
    let fields = [("visited_on", "2026-05-20"), ("mode", "in_person"), ("notes", notes), ("key", &key)];
    assert_eq!(post_visit(&app, &client, "H1", &fields).await.status(), 303);
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    let (_, api) = get(&app, &client, "/api/v1/households/H1/visits").await;
    for (what, text) in [("the card", &card), ("the API", &api)] {
        assert!(text.contains("新卡 ************5671"), "{what}: {text}");
        assert!(text.contains("旧卡************5671已注销"), "{what}: {text}");
        for secret in ["6228 4800 1234 5671", "6228480012345671", "1234 5671", ID_LI] {
            assert!(!text.contains(secret), "{what} shows {secret}");
        }
    }
}

/// A phone number or an ID number typed into a visit's notes in groups, as people
/// write them (`139 1234 5678`, `610981 19820305 002X`), is masked as in one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grouped_phone_and_id_numbers_in_visit_notes_are_masked() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let (_, form) = get(&app, &client, "/my/household/H1/visit").await;
    let key = key_of(&form);
    let notes = "新电话 139 1234 5678，旧电话 138-0000-1111，身份证 610981 19820305 002X，户口本 610981-19800101-0016，残疾证 61098119800101001612。";
    let fields = [("visited_on", "2026-05-20"), ("mode", "in_person"), ("notes", notes), ("key", &key)];
    assert_eq!(post_visit(&app, &client, "H1", &fields).await.status(), 303);
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    let (_, api) = get(&app, &client, "/api/v1/households/H1/visits").await;
    for (what, text) in [("the card", &card), ("the API", &api)] {
        assert!(text.contains("新电话 139****5678"), "{what}: {text}");
        assert!(text.contains("身份证 610981************"), "{what}: {text}");
        for secret in ["1234 5678", "0000-1111", "19820305", "19800101", ID_ZHANG] {
            assert!(!text.contains(secret), "{what} shows {secret}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_certificate_and_secure_cookies() {
    let db = fupin_store::testing::fresh().await.expect("a fresh test database");
    seed(&db.store).await;
    let password = fupin_app::accounts::create_admin(&db.store, ADMIN, Some(ADMIN_PASSWORD)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();

    // A key that is not PEM stops the start with a message naming the file.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a key").unwrap();
    let config = |key: std::path::PathBuf| fupin_web::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        today: time::macros::date!(2026 - 06 - 01),
        secure_cookies: false,
        tls: Some(fupin_web::TlsFiles { cert: cert.clone(), key }),
    };
    let refused = fupin_web::Application::build(db.store.clone(), config(bad)).await.err().expect("a bad key");
    assert!(refused.to_string().contains("bad.pem"), "{refused}");

    let app = fupin_web::Application::build(db.store.clone(), config(key.clone())).await.expect("starts");
    assert!(app.is_tls());
    let base = format!("https://{}", app.local_addr());
    let server = tokio::spawn(async move { app.run().await });

    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    let client = Client::builder()
        .add_root_certificate(trusted)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(format!("{base}/login")).send().await.expect("an HTTPS answer");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000", "HSTS under TLS");
    assert!(r.text().await.unwrap().contains("用户名"));

    let r = client
        .post(format!("{base}/login"))
        .header("Origin", &base)
        .form(&[("username", ADMIN), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure") && cookie.starts_with("__Host-fupin="), "{cookie}");
    let r = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(r.status(), 200, "the secure session works over HTTPS");

    // Plain HTTP to the HTTPS port gets no page.
    let plain = Client::new().get(format!("http://{}/login", &base["https://".len()..])).send().await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.abort();
}
