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
    assert!(r.headers().get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    let r = client.post(format!("{}/logout", app.base)).header("Origin", app.origin()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    // The phone's cached pages and queue belong to this user: the browser clears them.
    assert_eq!(r.headers()["clear-site-data"], r#""cache", "storage""#);
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

/// Password checks the sign-in log records for `username` (each wrong password checked).
async fn password_checks(app: &TestApp, username: &str) -> i64 {
    app.sql_count(&format!(
        "SELECT COUNT(*) FROM auth_log WHERE username = '{username}' AND event = 'login_failed' AND detail = '密码错误'"
    ))
    .await
}

/// Sixty wrong passwords fired at once, from outside, at the real server: each attempt
/// is counted before its password is checked, so no more than five are checked and the
/// right password afterwards gets no session.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_parallel_wrong_passwords_get_five_tries_and_the_right_one_no_session() {
    let app = spawn_app().await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..60 {
        let (url, origin) = (format!("{}/login", app.base), app.origin().to_owned());
        burst.spawn(async move {
            let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let password = format!("wrong password {i}");
            let r = client
                .post(url)
                .header("Origin", origin)
                .form(&[("username", ADMIN), ("password", password.as_str())])
                .send()
                .await
                .expect("a sign-in request");
            (r.status().as_u16(), r.headers().contains_key("set-cookie"))
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = burst.join_next().await {
        let (status, cookie) = done.expect("the request task");
        assert!(!cookie, "a wrong password set a cookie");
        statuses.push(status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 4, "four plain refusals: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 56, "the rest locked: {statuses:?}");
    assert!(password_checks(&app, ADMIN).await <= 5, "at most five passwords were checked");

    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = app.login_as(&client, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 429, "the right password after the burst is refused");
    assert!(!r.headers().contains_key("set-cookie"));
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 0, "no session");
}

/// A name without an account answers exactly as an account does: four 401s, then the
/// lock, with the same words. (That it takes as long — a decoy hash with the same
/// parameters is checked — is `password::tests::the_decoy_costs_what_a_real_hash_costs`:
/// a wall-clock comparison here would fail on a busy machine.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_existing_names_answer_alike() {
    let app = spawn_app().await;
    let client = app.client();
    let mut answers = Vec::new();
    for name in ["village", "nobody-here"] {
        let mut mine = Vec::new();
        for _ in 0..6 {
            let r = app.login_as(&client, name, "wrong password").await;
            let status = r.status().as_u16();
            let page = r.text().await.unwrap().replace(name, "NAME");
            // The lock's time differs by the second; the words do not.
            let words: String = page.chars().filter(|c| !c.is_ascii_digit()).collect();
            mine.push((status, words));
        }
        answers.push(mine);
    }
    let statuses: Vec<u16> = answers[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    assert_eq!(answers[0], answers[1], "the same statuses and words for a known and an unknown name");
}

/// One address trying many names is stopped after MAX_PER_ADDRESS attempts, whatever
/// the names, and then even a right password from there waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_trying_many_names_is_throttled() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut statuses = Vec::new();
    for i in 0..32 {
        let r = app.login_as(&client, &format!("guess{i}"), "123456").await;
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..29].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[30..], [429, 429], "{statuses:?}");
    let r = app.login_as(&client, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("尝试登录的次数过多"));
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM sessions").await, 0);
    // Behind a reverse proxy on this machine, the browser's address (the proxy's last
    // X-Forwarded-For entry) is what counts: another browser signs in.
    let r = client
        .post(format!("{}/login", app.base))
        .header("Origin", app.origin())
        .header("X-Forwarded-For", "10.1.2.3")
        .form(&[("username", ADMIN), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "another address behind the proxy is not throttled");
}

/// Behind a proxy that terminates TLS (`fupin serve --secure-cookies`), the server
/// speaks plain HTTP but the browser HTTPS: the session cookie is `Secure` with the
/// `__Host-` prefix, and every answer carries HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_cookies_can_be_forced_behind_a_tls_proxy_with_hsts() {
    let db = fupin_store::testing::fresh().await.expect("a fresh test database");
    seed(&db.store).await;
    let password = fupin_app::accounts::create_admin(&db.store, ADMIN, Some(ADMIN_PASSWORD)).await.unwrap();
    let config = fupin_web::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        today: time::macros::date!(2026 - 06 - 01),
        secure_cookies: true,
        tls: None,
    };
    let app = fupin_web::Application::build(db.store.clone(), config).await.expect("starts");
    assert!(!app.is_tls());
    let base = format!("http://{}", app.local_addr());
    let server = tokio::spawn(async move { app.run().await });
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    let r = client
        .post(format!("{base}/login"))
        .header("Origin", &base)
        .form(&[("username", ADMIN), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-fupin=") && cookie.contains("Secure"), "{cookie}");
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    server.abort();
}

/// A right password does not wipe out the failures an address made before it: after
/// MAX_PER_ADDRESS - 1 failures, one's own successful sign-in (the attempt that reached
/// the limit, given back) leaves the count where it was, so the next failure locks.
/// Before, the success lifted the lock its claim took *and* the count that lock had
/// reset, so an insider could spray passwords on other names without end, 29 at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_does_not_reset_an_addresss_failures() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let attempt = |user: String, password: &'static str| {
        let client = client.clone();
        let url = format!("{}/login", app.base);
        let origin = app.origin().to_owned();
        async move {
            client
                .post(url)
                .header("Origin", origin)
                .header("X-Forwarded-For", "10.9.9.9")
                .form(&[("username", user.as_str()), ("password", password)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let max = 30; // pages::login::MAX_PER_ADDRESS
    for i in 0..max - 1 {
        assert_eq!(attempt(format!("guess{i}"), "123456").await, 401);
    }
    assert_eq!(attempt(ADMIN.to_owned(), ADMIN_PASSWORD).await, 303, "the right password still signs in");
    let after: Vec<u16> = vec![attempt("guessA".into(), "123456").await, attempt("guessB".into(), "123456").await];
    assert_eq!(after, [401, 429], "the failures before the success still count");
}

/// An IPv6 client picks any address of its /64 network at will (privacy addresses):
/// changing the last 64 bits between attempts does not escape the per-address limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ipv6_client_cannot_escape_the_address_limit_by_changing_its_address() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut statuses = Vec::new();
    for i in 0..32 {
        let r = client
            .post(format!("{}/login", app.base))
            .header("Origin", app.origin())
            .header("X-Forwarded-For", format!("2001:db8:7:7::{:x}", i + 1))
            .form(&[("username", format!("guess{i}").as_str()), ("password", "123456")])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses[30..], [429, 429], "{statuses:?}");
}
