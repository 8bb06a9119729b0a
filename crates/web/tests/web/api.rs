//! The JSON API (`/api/v1`) and personal access tokens (`/account/tokens`): answers
//! inside the caller's area with every personal number masked, 404 outside it, 401
//! (JSON, not a redirect) without a session or a live token, and an OpenAPI document
//! that lists every API route of the router.

use reqwest::{Client, StatusCode};
use serde_json::Value;

use crate::support::*;

/// A client that neither keeps cookies nor follows redirects: what a script is.
pub(crate) fn script() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Fails on any run of 15 or more digits (perhaps ending in X): an ID number, a bank
/// account, left unmasked.
fn assert_no_long_numbers(body: &str, what: &str) {
    let mut run = 0;
    for c in body.chars() {
        if c.is_ascii_digit() || (run >= 14 && matches!(c, 'X' | 'x')) {
            run += 1;
            assert!(run < 15, "{what} holds an unmasked number: {body}");
        } else {
            run = 0;
        }
    }
}

/// GET as `client` (with a bearer token if given): status and JSON body, after
/// checking that nothing personal is in it.
pub(crate) async fn get_json(app: &TestApp, client: &Client, token: Option<&str>, path: &str) -> (StatusCode, Value) {
    let mut request = client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(kind.starts_with("application/json"), "{path}: {status} answers {kind}");
    let body = r.text().await.unwrap();
    assert_no_secrets(&body, path);
    assert_no_long_numbers(&body, path);
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
}

/// Creates a token for a signed-in client on the tokens page, typing the user's
/// password again; returns the page.
pub(crate) async fn create_token(app: &TestApp, client: &Client, password: &str, name: &str) -> reqwest::Response {
    create_token_with(app, client, &[("name", name), ("password", password)]).await
}

/// Posts the token form with these fields.
pub(crate) async fn create_token_with(app: &TestApp, client: &Client, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(format!("{}/account/tokens", app.base)).header("Origin", app.origin()).form(form).send().await.unwrap()
}

/// The token a creation page shows.
pub(crate) fn token_on(page: &str) -> String {
    let at = page.find("fupin_").expect("the page shows the new token");
    let token: String = page[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert_eq!(token.len(), "fupin_".len() + 64, "{token}");
    token
}

async fn revoke(app: &TestApp, client: &Client, name: &str) -> reqwest::Response {
    client
        .post(format!("{}/account/tokens/revoke", app.base))
        .header("Origin", app.origin())
        .form(&[("name", name)])
        .send()
        .await
        .unwrap()
}

/// The value of field `name` in a list of `{name, value, label}`.
fn field<'a>(fields: &'a Value, name: &str) -> &'a Value {
    fields.as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no field {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_inside_the_area_with_numbers_masked() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;

    let (s, me) = get_json(&app, &client, None, "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "village");
    assert_eq!(me["role"], "village_cadre");
    assert_eq!(me["area"]["code"], V1);

    let (s, area) = get_json(&app, &client, None, &format!("/api/v1/areas/{V1}")).await;
    assert_eq!(s, 200);
    assert_eq!(area["name"], "东关村");
    assert_eq!(area["counts"]["households"], 2);
    assert_eq!(area["counts"]["poor"], 1);

    let (s, list) = get_json(&app, &client, None, &format!("/api/v1/areas/{V1}/households?page=1")).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = list["households"].as_array().unwrap().iter().map(|h| h["hh_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["H1", "H2"]);
    assert_eq!(list["households"][0]["head_name"], "张三");
    assert_eq!(list["total"], 2);
    let (_, nonsense) = get_json(&app, &client, None, &format!("/api/v1/areas/{V1}/households?page=x")).await;
    assert_eq!(nonsense["page"], 1);

    let (s, hh) = get_json(&app, &client, None, "/api/v1/households/H1").await;
    assert_eq!(s, 200);
    assert_eq!(hh["head_name"], "张三");
    assert_eq!(hh["status"], "2");
    assert_eq!(hh["status_label"], "在册贫困户");
    assert_eq!(field(&hh["fields"], "main_cause")["label"], "因病");
    assert_eq!(field(&hh["fields"], "phone")["value"], "139****5678");
    assert_eq!(field(&hh["fields"], "phone")["masked"], true);
    assert_eq!(field(&hh["fields"], "bank_account")["value"], "************5678");
    let head = &hh["members"][0]["fields"];
    assert_eq!(field(head, "name")["value"], "张三");
    assert_eq!(field(head, "id_number")["value"], ID_ZHANG_MASKED);
    assert_eq!(field(head, "relation")["label"], "户主");
    assert_eq!(hh["members"].as_array().unwrap().len(), 3);

    let (s, history) = get_json(&app, &client, None, "/api/v1/households/H1/history").await;
    assert_eq!(s, 200);
    let records = history["records"].as_array().unwrap();
    assert!(records.iter().any(|r| r["entity"] == "persons" && r["new_value"]["id_number"] == ID_ZHANG_MASKED));

    let (s, found) = get_json(&app, &client, None, "/api/v1/search?q=张").await;
    assert_eq!(s, 200);
    assert!(found["hits"].as_array().unwrap().iter().any(|h| h["name"] == "张三" && h["id_number"] == ID_ZHANG_MASKED));
    // A whole ID number is searched by POST (never in a URL), finds its person and is
    // not echoed back; in a URL it is refused without a lookup.
    let r = client
        .post(format!("{}/api/v1/search", app.base))
        .header("Origin", app.origin())
        .header("content-type", "application/json")
        .body(serde_json::json!({ "q": ID_ZHANG }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert_no_secrets(&body, "POST /api/v1/search");
    let found: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(found["q"], "");
    assert_eq!(found["hits"][0]["hh_id"], "H1");
    let (s, refused) = get_json(&app, &client, None, &format!("/api/v1/search?q={ID_ZHANG}")).await;
    assert_eq!(s, 400);
    assert!(refused["error"].as_str().unwrap().contains("POST"), "{refused}");
    assert!(refused.get("hits").is_none());
    let (s, empty) = get_json(&app, &client, None, "/api/v1/search?q=").await;
    assert_eq!(s, 400);
    assert!(empty["error"].as_str().unwrap().contains("查询"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_area_is_404_and_signed_out_is_401_as_json() {
    let app = spawn_app().await;
    let client = app.signed_in("township").await;
    for path in [
        format!("/api/v1/areas/{TOWN_B}"),
        format!("/api/v1/areas/{V3}/households"),
        format!("/api/v1/areas/{COUNTY}"),
        "/api/v1/areas/not-a-code".to_owned(),
        "/api/v1/households/H4".to_owned(),
        "/api/v1/households/H4/history".to_owned(),
        "/api/v1/households/NOPE".to_owned(),
        // A township has no household list of its own.
        format!("/api/v1/areas/{TOWN_A}/households"),
    ] {
        let (s, body) = get_json(&app, &client, None, &path).await;
        assert_eq!(s, 404, "{path}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {body}");
    }
    let (s, _) = get_json(&app, &client, None, "/api/v1/no-such-thing").await;
    assert_eq!(s, 404, "an unknown API path answers a JSON 404");
    let (_, found) = get_json(&app, &client, None, "/api/v1/search?q=孙七").await;
    assert_eq!(found["hits"], serde_json::json!([]), "a township officer finds nobody of another township");
    let (_, area) = get_json(&app, &client, None, &format!("/api/v1/areas/{TOWN_A}")).await;
    let children: Vec<&str> =
        area["children"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert_eq!(children, [V1, V2]);

    let anonymous = script();
    for path in ["/api/v1/me", "/api/v1/households/H1", &format!("/api/v1/areas/{V1}/households")] {
        let (s, body) = get_json(&app, &anonymous, None, path).await;
        assert_eq!(s, 401, "{path}");
        assert!(body["error"].as_str().unwrap().contains("登录"), "{body}");
        for bad in ["fupin_0000", "", "x".repeat(300).as_str()] {
            let (s, _) = get_json(&app, &anonymous, Some(bad), path).await;
            assert_eq!(s, 401, "{path} with token {bad:?}");
        }
        let r = anonymous.get(format!("{}{path}", app.base)).basic_auth("village", Some("x")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} with Basic");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_as_its_owner_until_revoked() {
    let app = spawn_app().await;
    let owner = app.signed_in("village").await;
    let r = create_token(&app, &owner, &app.passwords["village"], "统计脚本").await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let token = token_on(&page);
    assert!(page.contains("只显示这一次"));

    // Only the SHA-256 is stored; the list never shows the token again.
    let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM api_tokens WHERE name = '统计脚本'")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
    assert!(!app.get(&owner, "/account/tokens").await.1.contains(&token));
    let r = create_token(&app, &owner, &app.passwords["village"], "统计脚本").await;
    assert_eq!(r.status(), 422, "a second token of the same name is refused");

    // The token acts with its owner's role and area, and on the API only.
    let script = script();
    let (s, me) = get_json(&app, &script, Some(&token), "/api/v1/me").await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "village");
    let (s, hh) = get_json(&app, &script, Some(&token), "/api/v1/households/H1").await;
    assert_eq!(s, 200);
    assert_eq!(hh["head_name"], "张三");
    let (s, _) = get_json(&app, &script, Some(&token), "/api/v1/households/H3").await;
    assert_eq!(s, 404, "outside the owner's village");
    let r = script.get(format!("{}/household/H1", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 303, "a token does not open the pages");
    let r = script
        .post(format!("{}/account/tokens", app.base))
        .bearer_auth(&token)
        .header("Origin", app.origin())
        .form(&[("name", "由令牌创建")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a token cannot make more tokens");
    let listed = app.get(&owner, "/account/tokens").await.1;
    assert!(listed.contains("统计脚本") && !listed.contains("从未使用"), "the use is noted");
    assert!(!listed.contains("由令牌创建"));

    // Another user cannot revoke it (they have no token of that name): 404.
    let other = app.signed_in("township").await;
    assert_eq!(revoke(&app, &other, "统计脚本").await.status(), 404);
    assert_eq!(get_json(&app, &script, Some(&token), "/api/v1/me").await.0, 200);

    // A post from another origin is refused and revokes nothing.
    let r = owner
        .post(format!("{}/account/tokens/revoke", app.base))
        .header("Origin", "http://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("name", "统计脚本")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(get_json(&app, &script, Some(&token), "/api/v1/me").await.0, 200);

    // Revoked: 401 at once, and listed as revoked.
    let r = revoke(&app, &owner, "统计脚本").await;
    assert_eq!(r.status(), 200, "back on the tokens page");
    assert!(r.text().await.unwrap().contains("已撤销"));
    let (s, body) = get_json(&app, &script, Some(&token), "/api/v1/me").await;
    assert_eq!(s, 401);
    assert!(body["error"].is_string());

    // A disabled account's tokens stop working too.
    let fresh = token_on(&create_token(&app, &owner, &app.passwords["village"], "另一个").await.text().await.unwrap());
    assert_eq!(get_json(&app, &script, Some(&fresh), "/api/v1/me").await.0, 200);
    sqlx::query("UPDATE users SET disabled = 1 WHERE username = 'village'").execute(app.db.store.pool()).await.unwrap();
    assert_eq!(get_json(&app, &script, Some(&fresh), "/api/v1/me").await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_api_route() {
    let app = spawn_app().await;
    let (s, doc) = get_json(&app, &script(), None, "/api/v1/openapi.json").await;
    assert_eq!(s, 200, "the document is public");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["cookieAuth"]["in"], "cookie");
    let paths = doc["paths"].as_object().unwrap();
    let api: Vec<_> = fupin_web::routes().into_iter().filter(|r| r.path.starts_with("/api/")).collect();
    assert!(api.len() >= 7, "{api:?}");
    for route in &api {
        let method = route.method.as_str().to_lowercase();
        assert!(
            paths.get(route.path).is_some_and(|p| p.get(&method).is_some()),
            "{} {} is not documented",
            route.method,
            route.path
        );
    }
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            assert!(
                api.iter().any(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

/// The properties a schema of the document requires (through `allOf` too).
fn required(doc: &Value, schema: &Value) -> Vec<String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return required(doc, &doc["components"]["schemas"][name]);
    }
    let mut out: Vec<String> =
        schema["required"].as_array().into_iter().flatten().map(|v| v.as_str().unwrap().to_owned()).collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(required(doc, part));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_have_what_the_document_promises() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;
    let (_, doc) = get_json(&app, &client, None, "/api/v1/openapi.json").await;
    for (template, path) in [
        ("/api/v1/me", "/api/v1/me".to_owned()),
        ("/api/v1/areas/{code}", format!("/api/v1/areas/{V1}")),
        ("/api/v1/areas/{code}/households", format!("/api/v1/areas/{V1}/households")),
        ("/api/v1/households/{hh_id}", "/api/v1/households/H1".to_owned()),
        ("/api/v1/households/{hh_id}/history", "/api/v1/households/H1/history".to_owned()),
        ("/api/v1/search", "/api/v1/search?q=张".to_owned()),
        ("/api/v1/households/{hh_id}", "/api/v1/households/H3".to_owned()),
    ] {
        let (status, body) = get_json(&app, &client, None, &path).await;
        let op = &doc["paths"][template]["get"];
        let answer = &op["responses"][status.as_str()];
        assert!(answer.is_object(), "{path}: {status} is not documented");
        let schema = &answer["content"]["application/json"]["schema"];
        for key in required(&doc, schema) {
            assert!(body.get(&key).is_some(), "{path} lacks {key}: {body}");
        }
    }
}

/// The security log's events about `username`'s tokens, oldest first: (event, detail, actor).
async fn token_events(app: &TestApp, username: &str) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("SELECT event, detail, actor FROM auth_log WHERE username = $1 AND event LIKE 'token_%' ORDER BY id")
        .bind(username)
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
}

/// Time passes for a token: its expiry moves to `expires_at`, and its chained hash is
/// recomputed with the registry's key, as the program would have written it (the token
/// is the newest row of its chain).
async fn expire(app: &TestApp, name: &str, expires_at: &str) {
    use fupin_store::chain::{API_TOKENS, Cell};
    let store = &app.db.store;
    let (id, username, token_hash, created_at, prev): (i64, String, String, String, String) =
        sqlx::query_as("SELECT id, username, token_hash, created_at, prev_hash FROM api_tokens WHERE name = $1")
            .bind(name)
            .fetch_one(store.pool())
            .await
            .unwrap();
    let cells = [
        Cell::text(&username),
        Cell::text(name),
        Cell::text(&token_hash),
        Cell::text(&created_at),
        Cell::text(expires_at),
    ];
    let hash = API_TOKENS.hash(store.chain_key().unwrap(), &prev, &cells);
    sqlx::query("UPDATE api_tokens SET expires_at = $1, hash = $2 WHERE id = $3")
        .bind(expires_at)
        .bind(hash)
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_needs_the_password_again_expires_and_is_logged() {
    let app = spawn_app().await;
    let owner = app.signed_in("village").await;
    let password = app.passwords["village"].clone();
    let tokens = || app.sql_count("SELECT COUNT(*) FROM api_tokens");

    // A stolen session alone cannot mint a token: the password is asked again.
    for form in [vec![("name", "脚本")], vec![("name", "脚本"), ("password", "Wrong-Passw0rd")]] {
        let r = create_token_with(&app, &owner, &form).await;
        assert_eq!(r.status(), 422, "{form:?}");
        assert!(r.text().await.unwrap().contains("密码不对"));
    }
    // The lifetime is 1 to 365 days.
    for days in ["0", "366", "十天"] {
        let r = create_token_with(&app, &owner, &[("name", "脚本"), ("password", &password), ("days", days)]).await;
        assert_eq!(r.status(), 422, "{days} days");
    }
    assert_eq!(tokens().await, 0);

    // By default 90 days; the page says until when.
    let r = create_token(&app, &owner, &password, "默认").await;
    assert_eq!(r.status(), 200);
    let (created, expires): (String, String) =
        sqlx::query_as("SELECT created_at, expires_at FROM api_tokens WHERE name = '默认'")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap();
    let days = |a: &str, b: &str| {
        let p = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap();
        (p(b) - p(a)).whole_days()
    };
    assert_eq!(days(&created, &expires), 90);
    let r = create_token_with(&app, &owner, &[("name", "十天"), ("password", &password), ("days", "10")]).await;
    assert_eq!(r.status(), 200);
    let token = token_on(&r.text().await.unwrap());
    let script = script();
    assert_eq!(get_json(&app, &script, Some(&token), "/api/v1/me").await.0, 200);

    // Past its expiry: 401, logged as refused, listed as expired.
    expire(&app, "十天", "2020-01-01T00:00:00Z").await;
    assert_eq!(fupin_store::audit::verify(&app.db.store, None, &[]).await.unwrap().mismatch, None);
    let (s, body) = get_json(&app, &script, Some(&token), "/api/v1/me").await;
    assert_eq!(s, 401, "{body}");
    assert!(app.get(&owner, "/account/tokens").await.1.contains("已过期"));
    let events = token_events(&app, "village").await;
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(kinds, ["token_created", "token_created", "token_expired"], "{events:?}");
    assert!(events[1].1.contains("十天") && events[1].1.contains("有效期 10 天"), "{events:?}");
    assert_eq!(events[1].2.as_deref(), Some("village"));
    assert!(app.get(&app.signed_in(ADMIN).await, "/admin/auth-log").await.1.contains("拒绝过期的访问令牌"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_disabling_and_county_admins_revoke_tokens() {
    let app = spawn_app().await;
    let script = script();
    let admin = app.signed_in(ADMIN).await;
    let live = |t: String| {
        let (app, script) = (&app, &script);
        async move { get_json(app, script, Some(&t), "/api/v1/me").await.0 == 200 }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (app, admin) = (&app, &admin);
        async move {
            admin.post(format!("{}{path}", app.base)).header("Origin", app.origin()).form(&form).send().await.unwrap()
        }
    };

    // A password reset revokes every token of the account.
    let village = app.signed_in("village").await;
    let a = token_on(&create_token(&app, &village, &app.passwords["village"], "甲").await.text().await.unwrap());
    let b = token_on(&create_token(&app, &village, &app.passwords["village"], "乙").await.text().await.unwrap());
    assert!(live(a.clone()).await && live(b.clone()).await);
    let new_password = "Reset-Passw0rd-2026";
    let r = post("/admin/users/village/reset".into(), vec![("password", new_password.into())]).await;
    assert_eq!(r.status(), 200);
    assert!(!live(a).await && !live(b).await, "a reset revokes the tokens");
    let events = token_events(&app, "village").await;
    let revoked: Vec<&str> = events.iter().filter(|e| e.0 == "token_revoked").map(|e| e.1.as_str()).collect();
    assert_eq!(revoked, ["令牌“甲”：重置密码时撤销", "令牌“乙”：重置密码时撤销"]);

    // Disabling revokes too: enabling again does not bring a token back.
    let village = app.client();
    assert_eq!(app.login_as(&village, "village", new_password).await.status(), 200);
    let c = token_on(&create_token(&app, &village, new_password, "丙").await.text().await.unwrap());
    assert!(live(c.clone()).await);
    assert!(post("/admin/users/village/disable".into(), vec![]).await.status().is_success());
    assert!(post("/admin/users/village/enable".into(), vec![]).await.status().is_success());
    assert!(!live(c).await, "disabling revoked the token for good");
    assert!(token_events(&app, "village").await.last().unwrap().1.contains("停用账号时撤销"));

    // A county admin sees any account's tokens on its page and revokes one.
    let township = app.signed_in("township").await;
    let d = token_on(&create_token(&app, &township, &app.passwords["township"], "统计").await.text().await.unwrap());
    let e = token_on(&create_token(&app, &township, &app.passwords["township"], "备用").await.text().await.unwrap());
    let page = app.get(&admin, "/admin/users/township").await.1;
    assert!(page.contains("统计") && page.contains("备用") && page.contains("/admin/users/township/tokens/revoke"));
    let r = post("/admin/users/township/tokens/revoke".into(), vec![("name", "统计".into())]).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert!(!live(d).await && live(e).await, "only the one named is revoked");
    let last = token_events(&app, "township").await.pop().unwrap();
    assert_eq!(last, ("token_revoked".into(), "令牌“统计”：管理员撤销".into(), Some(ADMIN.into())));
    let r = post("/admin/users/township/tokens/revoke".into(), vec![("name", "没有".into())]).await;
    assert_eq!(r.status(), 404);
    // Another role may not (the route matrix checks every role).
    let r = township
        .post(format!("{}/admin/users/township/tokens/revoke", app.base))
        .header("Origin", app.origin())
        .form(&[("name", "备用")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(app.get(&admin, "/admin/users/township").await.1.contains("已撤销"));
}
