//! A real browser: headless Chromium through chromedriver (Debian's `chromium` and
//! `chromium-driver`), signing in through the form and reading a household on a
//! phone-sized and a desktop-sized window. Screenshots go to `FUPIN_SCREENSHOTS`
//! (default: `$CARGO_TARGET_DIR/../screenshots`, else a temporary directory).
//!
//! Missing Chromium or chromedriver fails the test: CI installs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, stopped (by its own process id) when dropped.
pub(crate) struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

pub(crate) async fn start_driver() -> Driver {
    for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the browser test needs Debian's `{package}` \
             (apt-get update && apt-get install -y chromium chromium-driver)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("a profile directory");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: profile };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    driver
}

pub(crate) async fn browser(driver: &Driver) -> Client {
    let profile = driver._profile.path().display().to_string();
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", format!("--user-data-dir={profile}"), "--lang=zh-CN",
            ],
            // Headless Chromium sends `Accept-Language: en-US` whatever `--lang` says, and
            // the pages follow that header; these tests read the Chinese pages.
            "prefs": { "intl.accept_languages": "zh-CN,zh" },
        }
    });
    let caps = match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a Chromium session")
}

pub(crate) fn screenshot_dir() -> PathBuf {
    let dir = match (std::env::var_os("FUPIN_SCREENSHOTS"), std::env::var_os("CARGO_TARGET_DIR")) {
        (Some(d), _) => PathBuf::from(d),
        (None, Some(t)) => PathBuf::from(t).join("..").join("screenshots"),
        (None, None) => std::env::temp_dir().join("fupin-screenshots"),
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// Resizes so the page's viewport (not the window) has the given size, then saves a
/// screenshot of it.
pub(crate) async fn shoot(c: &Client, width: u32, height: u32, file: &Path) {
    c.set_window_size(width, height).await.expect("resize");
    let inner = c.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.expect("viewport");
    let (iw, ih) = (inner[0].as_u64().unwrap_or(0) as u32, inner[1].as_u64().unwrap_or(0) as u32);
    if (iw, ih) != (width, height) && iw > 0 && ih > 0 {
        c.set_window_size(width + (width - iw.min(width)), height + (height - ih.min(height))).await.expect("resize");
    }
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(file, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
}

async fn run(app: &TestApp, c: &Client) {
    let base = &app.base;
    c.goto(&format!("{base}/household/H1")).await.expect("open");
    assert_eq!(c.current_url().await.unwrap().path(), "/login", "not signed in yet");

    c.find(Locator::Css("#username")).await.unwrap().send_keys("village").await.unwrap();
    let password = app.passwords.get("village").expect("the village cadre's password");
    c.find(Locator::Css("#password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table")).await.expect("a page after signing in");
    assert_eq!(c.current_url().await.unwrap().path(), format!("/area/{V1}"), "the cadre's village");

    c.find(Locator::LinkText("H1")).await.expect("a link to H1").click().await.unwrap();
    c.wait().for_element(Locator::Css("#members")).await.expect("the household page");
    let members = c.find(Locator::Css("#members")).await.unwrap().text().await.unwrap();
    for want in ["张三", "李四", "张小明", ID_ZHANG_MASKED] {
        assert!(members.contains(want), "members table lacks {want}: {members}");
    }
    let source = c.source().await.unwrap();
    assert_no_secrets(&source, "the household page in the browser");

    let dir = screenshot_dir();
    shoot(c, 390, 844, &dir.join("household-phone.png")).await;
    // On a phone the page itself never scrolls sideways; wide tables scroll in their box.
    let overflow =
        c.execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await.expect("measure");
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "the household page is wider than a 390 px phone by {overflow}");
    shoot(c, 1280, 800, &dir.join("household-desktop.png")).await;

    c.goto(&format!("{base}/area/{V1}")).await.unwrap();
    shoot(c, 390, 844, &dir.join("village-phone.png")).await;
    let admin = app.passwords.get(ADMIN).expect("admin password");
    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#username")).await.expect("signed out");
    c.find(Locator::Css("#username")).await.unwrap().send_keys(ADMIN).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys(admin).await.unwrap();
    c.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("tfoot")).await.expect("the county overview");
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("城关镇") && text.contains("白柳镇"), "{text}");
    shoot(c, 390, 844, &dir.join("county-phone.png")).await;
    shoot(c, 1280, 800, &dir.join("county-desktop.png")).await;
    eprintln!("screenshots in {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_signs_in_and_reads_a_household_in_chromium() {
    let app = spawn_app().await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    // Run the steps in a task so that a failing step still closes the browser.
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { run(&app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The tour the README shows: a county official drills down through a generated county
/// (real division tree, generator, import driver) to a household, then searches.
async fn tour(app: &TestApp, c: &Client) {
    let base = &app.base;
    c.goto(&format!("{base}/login")).await.expect("open");
    let dir = screenshot_dir();
    shoot(c, 390, 844, &dir.join("tour-0-login-phone.png")).await;
    c.find(Locator::Css("#username")).await.unwrap().send_keys("county").await.unwrap();
    let password = app.passwords.get("county").expect("the county account");
    c.find(Locator::Css("#password")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("tfoot")).await.expect("the county overview");
    shoot(c, 1280, 800, &dir.join("tour-1-county-desktop.png")).await;

    // County → the first township → its first village → its first household.
    for (step, file) in [("township", "tour-2-township-desktop.png"), ("village", "tour-3-village-desktop.png")] {
        // The first row that has households (a small county leaves some villages empty).
        let href = c
            .execute(
                "for (const tr of document.querySelectorAll('main tbody tr')) { \
                   const a = tr.querySelector('a[href^=\"/area/\"]'); \
                   const n = parseInt(tr.querySelectorAll('td')[1].textContent, 10); \
                   if (a && n > 0) return a.getAttribute('href'); } return null;",
                vec![],
            )
            .await
            .expect("find a link");
        let href = href.as_str().unwrap_or_else(|| panic!("a {step} with households")).to_owned();
        c.goto(&format!("{base}{href}")).await.unwrap();
        c.wait().for_element(Locator::Css("main table")).await.expect("a list");
        shoot(c, 1280, 800, &dir.join(file)).await;
    }
    let link = c.find(Locator::Css("main tbody a[href^='/household/']")).await.expect("a household link");
    link.click().await.unwrap();
    c.wait().for_element(Locator::Css("#members")).await.expect("the household page");
    let source = c.source().await.unwrap();
    let id = regex_free_id(&source);
    assert!(id.is_none(), "an unmasked ID number on the household page: {id:?}");
    shoot(c, 390, 844, &dir.join("tour-4-household-phone.png")).await;
    shoot(c, 1280, 800, &dir.join("tour-4-household-desktop.png")).await;

    // Search by the head's family name.
    let name = c.find(Locator::Css("#members tbody td")).await.unwrap().text().await.unwrap();
    let family: String = name.chars().take(1).collect();
    c.find(Locator::Css("input[name='q']")).await.unwrap().send_keys(&family).await.unwrap();
    c.find(Locator::Css("form[action='/search'] button")).await.unwrap().click().await.unwrap();
    // The household page has a <main> too: wait for the navigation itself.
    arrived(c, "/search").await;
    c.wait().for_element(Locator::Css("main")).await.expect("search results");
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains(&name), "searching {family} finds {name}: {text}");
    shoot(c, 1280, 800, &dir.join("tour-5-search-desktop.png")).await;

    // 统计看板 in a year of the exits: charts drawn as inline SVG, no script.
    c.goto(&format!("{base}/dashboard?year=2017")).await.unwrap();
    c.wait().for_element(Locator::Css("#incidence")).await.expect("the dashboard");
    let charts = c.find_all(Locator::Css("main .chart svg")).await.expect("charts");
    assert!(charts.len() >= 3, "the dashboard draws its charts: {}", charts.len());
    let scripts = c.find_all(Locator::Css("script")).await.expect("scripts");
    assert!(scripts.is_empty(), "the dashboard runs no JavaScript");
    shoot(c, 1280, 800, &dir.join("dashboard-desktop.png")).await;
    shoot(c, 390, 844, &dir.join("dashboard-phone.png")).await;
    // On the phone every chart fits its box: no chart wider than the box it is in.
    let fits = c
        .execute(
            "return Array.from(document.querySelectorAll('main .chart svg')).map(s => \
             [Math.round(s.getBoundingClientRect().width), s.parentElement.clientWidth]);",
            vec![],
        )
        .await
        .unwrap();
    let widths: Vec<(i64, i64)> = serde_json::from_value(fits).unwrap();
    assert!(!widths.is_empty() && widths.iter().all(|(svg, bx)| svg <= bx && *svg > 200), "{widths:?}");
}

/// Finds a free-standing 18-character ID number (17 digits and a digit or `X`, not part
/// of a longer number such as a 19-digit 人编号) in a page.
fn regex_free_id(page: &str) -> Option<String> {
    let mut run = String::new();
    for c in page.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == 'X' && run.len() == 17) {
            run.push(c);
            continue;
        }
        if run.len() == 18 {
            return Some(run);
        }
        run.clear();
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_official_tours_a_generated_county_in_chromium() {
    let app = spawn_generated(300).await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { tour(&app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A page of another origin (the same host on another port, so the browser still
/// sends the SameSite=Strict session cookie) with a form that posts to the app: the
/// classic forged request, served by the test itself.
async fn foreign_site(action: String) -> (String, tokio::task::JoinHandle<()>) {
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>领奖</title>\
         <form id=\"forged\" method=\"post\" action=\"{action}\"><button type=\"submit\">点此领奖</button></form></html>"
    );
    let site = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the other origin");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    let server = tokio::spawn(async move {
        axum::serve(listener, site).await.expect("the other origin serves");
    });
    (base, server)
}

/// Signs in through the form as `user`.
pub(crate) async fn sign_in(app: &TestApp, c: &Client, user: &str) {
    c.goto(&format!("{}/login", app.base)).await.expect("open");
    c.find(Locator::Css("#username")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys(&app.passwords[user]).await.unwrap();
    c.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    // The sign-in page has a heading too: wait until the browser has left it.
    poll(|| async { c.current_url().await.is_ok_and(|u| u.path() != "/login") }, "signing in").await;
    c.wait().for_element(Locator::Css("main h1")).await.expect("a page after signing in");
}

/// Polls `done` until it holds (a clicked form navigates asynchronously, and the page
/// before it may have the element a test would wait for).
pub(crate) async fn poll<F, Fut>(done: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the browser shows `path`.
pub(crate) async fn arrived(c: &Client, path: &str) {
    poll(|| async { c.current_url().await.is_ok_and(|u| u.path() == path) }, path).await;
}

async fn cross_origin(app: &TestApp, c: &Client) {
    sign_in(app, c, ADMIN).await;
    let target = format!("{}/admin/users/village/disable", app.base);
    let (foreign, server) = foreign_site(target).await;
    assert_ne!(foreign, app.base);

    // The admin, signed in, opens the other site's page and presses its button.
    c.goto(&format!("{foreign}/")).await.expect("the other origin's page");
    c.find(Locator::Css("#forged button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("main h1")).await.expect("the app's answer");
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/admin/users/village/disable", "the forged post reached the app");
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("请求被拒绝"), "the app refused it: {text}");
    let status = c
        .execute("return performance.getEntriesByType('navigation')[0].responseStatus;", vec![])
        .await
        .expect("the navigation's status");
    assert_eq!(status.as_u64(), Some(403), "answered 403");
    server.abort();

    // Nothing changed, and the refusal was not for want of a session: the same
    // browser does it from the app's own page.
    let disabled = app.sql_count("SELECT COUNT(*) FROM users WHERE username = 'village' AND disabled <> 0").await;
    assert_eq!(disabled, 0, "the forged post disabled the account");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM auth_log WHERE event = 'user_disabled'").await, 0);
    c.goto(&format!("{}/admin/users/village", app.base)).await.unwrap();
    let dir = screenshot_dir();
    shoot(c, 1280, 800, &dir.join("admin-user-desktop.png")).await;
    c.find(Locator::Css("form[action$='/disable'] button")).await.unwrap().click().await.unwrap();
    // The same page comes back: wait for its new state rather than for the element.
    let stated = || async {
        match c.find(Locator::Css("#state")).await {
            Ok(e) => e.text().await.is_ok_and(|t| t == "已停用"),
            Err(_) => false,
        }
    };
    poll(stated, "the account to show 已停用").await;
    let state = c.find(Locator::Css("#state")).await.unwrap().text().await.unwrap();
    assert_eq!(state, "已停用", "a same-origin post works");
    c.goto(&format!("{}/admin/users", app.base)).await.unwrap();
    shoot(c, 1280, 800, &dir.join("admin-users-desktop.png")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_origin_is_refused_in_chromium() {
    let app = spawn_app().await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { cross_origin(&app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// A village cadre records a birth through the form and finds the newborn among the
/// household's members, with the change in its history.
async fn record_a_birth(app: &TestApp, c: &Client) {
    sign_in(app, c, "village").await;
    c.goto(&format!("{}/household/H1", app.base)).await.expect("the household page");
    let link = c.find(Locator::Css("#edits a[href$='/change/birth']")).await.expect("the birth form's link");
    link.click().await.unwrap();
    c.wait().for_element(Locator::Css("form#change")).await.expect("the birth form");
    c.find(Locator::Css("#f-name")).await.unwrap().send_keys("张小宝").await.unwrap();
    // A date input's typing order follows the browser's locale; set its value instead.
    c.execute("document.getElementById('f-birth_date').value = '2025-03-01';", vec![]).await.expect("set the date");
    c.find(Locator::Css("#f-reason")).await.unwrap().send_keys("新生儿落户").await.unwrap();
    let dir = screenshot_dir();
    shoot(c, 390, 844, &dir.join("birth-form-phone.png")).await;
    c.find(Locator::Css("form#change button[type='submit']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#flash")).await.expect("back on the household page with a message");
    assert_eq!(c.current_url().await.unwrap().path(), "/household/H1");
    let members = c.find(Locator::Css("#members")).await.unwrap().text().await.unwrap();
    assert!(members.contains("张小宝"), "the newborn is listed: {members}");
    let history = c.find(Locator::Css("#history")).await.unwrap().text().await.unwrap();
    assert!(history.contains("出生：新生儿落户"), "the history says why: {history}");
    assert_no_secrets(&c.source().await.unwrap(), "the household page after a birth");
    shoot(c, 390, 844, &dir.join("birth-recorded-phone.png")).await;
    let overflow =
        c.execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![]).await.expect("measure");
    assert!(overflow.as_i64().unwrap_or(1) <= 0, "the household page is wider than a 390 px phone by {overflow}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_records_a_birth_in_chromium() {
    let app = spawn_app().await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { record_a_birth(&app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Whether anything answers on the test server's port.
pub(crate) async fn port_answers(app: &TestApp) -> bool {
    tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.is_ok()
}

/// How many visits the browser still holds queued (the count /my shows).
pub(crate) async fn queued_on_my(c: &Client) -> Option<u64> {
    let n = c
        .execute("const e = document.getElementById('offline-queue'); return e ? e.dataset.count : null;", vec![])
        .await
        .ok()?;
    n.as_str().and_then(|s| s.parse().ok())
}

/// 离线走访: the cadre opens the phone pages online (the service worker keeps them),
/// loses the server, reloads the visit form from the worker's cache, records a visit
/// that is queued in the browser, and once the server is back the queue is sent: one
/// row, also after a second sync.
async fn record_a_visit_offline(app: &mut TestApp, c: &Client) {
    const NOTES: &str = "离线记录：家中无人，电话联系户主";
    const NOTES_2: &str = "离线记录：再次电话回访";
    let base = app.base.clone();
    let count_sql = format!("SELECT COUNT(*) FROM visits WHERE hh_id = 'H1' AND notes = '{NOTES}'");
    sign_in(app, c, "village").await;
    c.goto(&format!("{base}/my")).await.expect("我的农户");
    // The worker registers from /my and takes control of the page (clients.claim).
    let controlled = || async {
        c.execute("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", vec![])
            .await
            .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(controlled, "the service worker to control /my").await;
    // Visited again under the worker, so the pages are in its cache.
    c.goto(&format!("{base}/my")).await.unwrap();
    c.wait().for_element(Locator::Css("ul.my-list")).await.expect("the list");
    c.goto(&format!("{base}/my/household/H1/visit")).await.unwrap();
    c.wait().for_element(Locator::Css("form.stack textarea[name='notes']")).await.expect("the visit form");
    let cached = || async {
        c.execute_async(
            "const done = arguments[0]; caches.open('fupin-pages-v1')\
               .then(k => k.match('/my/household/H1/visit')).then(r => done(!!r), () => done(false));",
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(cached, "the visit form in the worker's cache").await;

    // The signal drops: the server goes away and its port refuses.
    app.stop_server().await;
    assert!(!port_answers(app).await, "the stopped server's port refuses");

    // Two visits recorded offline from the cached form: each its own key, both queued.
    for (i, notes) in [NOTES, NOTES_2].into_iter().enumerate() {
        if i == 0 {
            c.refresh().await.expect("reload the form");
        } else {
            c.goto(&format!("{base}/my/household/H1/visit")).await.expect("the form again");
        }
        c.wait().for_element(Locator::Css("form.stack textarea[name='notes']")).await.expect("the form from the cache");
        let title = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert_eq!(title, "记录走访", "the worker serves the form offline");
        c.find(Locator::Css("input[name='mode'][value='phone']")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("textarea[name='notes']")).await.unwrap().send_keys(notes).await.unwrap();
        c.find(Locator::Css("form.stack button[type='submit']")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("#queued")).await.expect("the page that says the visit is queued");
        let text = c.find(Locator::Css("#queued")).await.unwrap().text().await.unwrap();
        assert!(text.contains("已离线保存，联网后自动上传"), "{text}");
        if i == 0 {
            shoot(c, 390, 844, &screenshot_dir().join("visit-queued-phone.png")).await;
        }
    }
    assert_eq!(app.sql_count(&count_sql).await, 0, "nothing reached the database while offline");

    // /my from the cache counts the queued visits.
    c.goto(&format!("{base}/my")).await.unwrap();
    poll(|| async { queued_on_my(c).await == Some(2) }, "/my to show two queued visits").await;
    assert!(!port_answers(app).await, "still offline");

    // The signal returns: the same server, port and database; the next load of /my sends.
    app.restart_server().await;
    assert!(port_answers(app).await, "the restarted server answers");
    c.goto(&format!("{base}/my")).await.unwrap();
    poll(|| async { app.sql_count(&count_sql).await == 1 }, "the queued visit to be recorded").await;
    let second = format!("SELECT COUNT(*) FROM visits WHERE hh_id = 'H1' AND notes = '{NOTES_2}'");
    poll(|| async { app.sql_count(&second).await == 1 }, "the second queued visit to be recorded").await;
    poll(|| async { queued_on_my(c).await == Some(0) }, "the queue to be empty").await;
    let visitor = app.sql_count(&format!("{} AND visitor = 'village' AND mode = 'phone'", count_sql)).await;
    assert_eq!(visitor, 1, "recorded as the cadre's phone visit");

    // A second sync (another load and an `online` event) sends nothing more.
    c.goto(&format!("{base}/my")).await.unwrap();
    c.execute("window.dispatchEvent(new Event('online'));", vec![]).await.expect("an online event");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.sql_count(&count_sql).await, 1, "exactly one row after a second sync");
    assert_eq!(app.sql_count(&second).await, 1, "exactly one row of the second visit");
    c.goto(&format!("{base}/my/household/H1")).await.unwrap();
    let visits = c.find(Locator::Css("#visits")).await.unwrap().text().await.unwrap();
    assert!(visits.contains(NOTES), "the card lists the visit: {visits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_offline_is_sent_when_the_server_returns_in_chromium() {
    let mut app = spawn_app().await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { record_a_visit_offline(&mut app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Signing out on a phone clears what the phone pages kept for the user: the service
/// worker's cached pages and the IndexedDB queue (`Clear-Site-Data`, and the page's
/// own script), so the next person on a shared phone finds neither.
async fn sign_out_clears_the_phone(app: &mut TestApp, c: &Client) {
    let base = app.base.clone();
    sign_in(app, c, "village").await;
    c.goto(&format!("{base}/my")).await.expect("我的农户");
    let controlled = || async {
        c.execute("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", vec![])
            .await
            .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(controlled, "the service worker to control /my").await;
    c.goto(&format!("{base}/my/household/H1")).await.unwrap();
    let kept = || async {
        c.execute_async(
            "const done = arguments[0]; \
             Promise.all([caches.open('fupin-pages-v1').then(k => k.match('/my/household/H1')), \
                          indexedDB.databases()]) \
               .then(([page, dbs]) => done(!!page && dbs.some(d => d.name === 'fupin-offline')), () => done(false));",
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(kept, "the card in the worker's cache and the queue's database").await;

    c.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    poll(|| async { c.current_url().await.is_ok_and(|u| u.path() == "/login") }, "signing out").await;
    // No page of the session is left in any cache, and the queue is gone. The sign-in
    // page's stylesheet may be cached again by a worker not yet unregistered: static
    // files are the same for everyone.
    let cleared = || async {
        c.execute_async(
            "const done = arguments[0]; \
             Promise.all([caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.keys())))), \
                          indexedDB.databases()]) \
               .then(([kept, dbs]) => done(kept.flat().every(r => new URL(r.url).pathname.startsWith('/static/')) \
                                           && !dbs.some(d => d.name === 'fupin-offline')), \
                     () => done(false));",
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(cleared, "the cached pages and the queue to be gone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_clears_the_phone_s_cached_pages_and_queue_in_chromium() {
    let mut app = spawn_app().await;
    let driver = start_driver().await;
    let client = browser(&driver).await;
    let steps = {
        let client = client.clone();
        tokio::spawn(async move { sign_out_clears_the_phone(&mut app, &client).await })
    };
    let outcome = steps.await;
    client.close().await.expect("close the browser");
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
