//! Signing in and out, the lock after five wrong passwords, cross-site POSTs, and the
//! headers on every answer.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_account_for_fifteen_minutes() {
    let app = spawn_app().await;
    let client = app.client();
    for attempt in 1..=4 {
        let r = app.login_as(&client, ADMIN, "wrong password").await;
        assert_eq!(r.status(), 401, "attempt {attempt}");
        assert!(r.text().await.unwrap().contains("用户名或密码不正确"));
    }
    let r = app.login_as(&client, ADMIN, "wrong password").await;
    assert_eq!(r.status(), 429, "the fifth wrong password locks");
    let page = r.text().await.unwrap();
    assert!(page.contains("已被锁定") && page.contains("后再试"), "{page}");

    // While locked, even the right password is refused, and nothing is signed in.
    let r = app.login_as(&client, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("已被锁定"));
    let r = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.url().path(), "/login");

    // Other accounts are not affected; a wrong username says what a wrong password says.
    let r = app.login_as(&client, "nobody", "whatever").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("用户名或密码不正确"));
    app.signed_in("county").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_sign_in_sets_a_strict_http_only_cookie_and_logout_ends_it() {
    let app = spawn_app().await;
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = app.login_as(&client, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for part in ["fupin_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let token = cookie.split(';').next().unwrap().trim_start_matches("fupin_session=").to_owned();
    let stored = app.sql_count(&format!("SELECT COUNT(*) FROM sessions WHERE id = '{token}'")).await;
    assert_eq!(stored, 0, "the raw token is never stored, only its hash");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 1);

    let r = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = client.post(format!("{}/logout", app.base)).header("Origin", app.origin()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 0);
    let r = client.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.headers().get("location").unwrap(), "/login", "signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_same_origin_headers_are_refused() {
    let app = spawn_app().await;
    let client = app.signed_in(ADMIN).await;
    let logout = format!("{}/logout", app.base);
    let login = format!("{}/login", app.base);
    let form = [("username", ADMIN), ("password", ADMIN_PASSWORD)];

    let r = client.post(&logout).send().await.unwrap();
    assert_eq!(r.status(), 403, "no Origin, no Sec-Fetch-Site");
    assert!(r.text().await.unwrap().contains("请求被拒绝"));
    let r = client.post(&logout).header("Origin", "http://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403, "another site's Origin");
    let r = client.post(&logout).header("Sec-Fetch-Site", "cross-site").send().await.unwrap();
    assert_eq!(r.status(), 403, "a cross-site fetch");
    let r = client.post(&login).header("Origin", "http://evil.example").form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403, "login CSRF");
    let r = client.post(&login).header("Origin", "null").form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403, "an opaque origin");

    // None of that signed the user out.
    assert_eq!(app.get(&client, "/").await.0, 200);
    let r = client.post(&logout).header("Sec-Fetch-Site", "same-origin").send().await.unwrap();
    assert_eq!(r.url().path(), "/login", "a same-origin POST works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let client = app.signed_in(ADMIN).await;
    for path in ["/", "/login", "/household/H1", "/nothing-here", "/static/app.css"] {
        let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        let h = r.headers();
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
        assert!(h.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
        let cache = h.get("cache-control").unwrap().to_str().unwrap();
        if path.starts_with("/static") {
            assert!(cache.contains("max-age"));
            assert!(h.get("content-type").unwrap().to_str().unwrap().starts_with("text/css"));
        } else {
            assert_eq!(cache, "no-store", "{path}: pages with personal data are not cached");
        }
    }
}
