//! Offline registry corrections, their review, a move and a scope refusal in headless
//! Chromium (helpers from `browser.rs`): a correction recorded without signal on a
//! household changed meanwhile is flagged, never written over, and applied from the
//! review page; one the server refuses stays on the phone as stuck with the reason and
//! is discarded from 离线待发; a member moves through the edit page; a village cadre
//! opening another village's household gets the 404 page and none of its data.
//! Screenshots of the outbox and the review pages go where `browser.rs` puts its own.

use fantoccini::{Client, Locator};
use fupin_store::operations::{self, Edit};

use crate::browser::{
    arrived, browser, poll, port_answers, queued_on_my, screenshot_dir, shoot, sign_in, start_driver,
};
use crate::support::*;

/// Runs `$steps(&mut app, &client)` in a fresh Chromium, closing it whatever happens.
macro_rules! in_chromium {
    ($app:expr, $steps:path) => {{
        let mut app = $app;
        let driver = start_driver().await;
        let client = browser(&driver).await;
        let task = {
            let c = client.clone();
            tokio::spawn(async move { $steps(&mut app, &c).await })
        };
        let outcome = task.await;
        client.close().await.expect("close the browser");
        drop(driver);
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }};
}

/// How many queued items the page counts as stuck (refused by the server).
async fn stuck_on_page(c: &Client) -> Option<u64> {
    let n = c
        .execute("const e = document.getElementById('offline-queue'); return e ? e.dataset.stuck : null;", vec![])
        .await
        .ok()?;
    n.as_str().and_then(|s| s.parse().ok())
}

async fn months(app: &TestApp, person: &str) -> Option<i64> {
    let (m,): (Option<i64>,) = sqlx::query_as("SELECT migrant_months FROM persons WHERE person_id = $1")
        .bind(person.to_owned())
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    m
}

/// Fills the correction form (served by the network or the worker's cache) and sends it.
async fn record_change(c: &Client, target: &str, field: &str, value: &str, reason: &str) {
    c.wait().for_element(Locator::Css("form.stack select[name='field']")).await.expect("the correction form");
    let title = c.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "记录更正");
    let set = format!(
        "document.querySelector(\"select[name='target']\").value = '{target}'; \
         document.querySelector(\"select[name='field']\").value = '{field}';"
    );
    c.execute(&set, vec![]).await.expect("choose the member and the field");
    c.find(Locator::Css("input[name='value']")).await.unwrap().send_keys(value).await.unwrap();
    c.find(Locator::Css("textarea[name='reason']")).await.unwrap().send_keys(reason).await.unwrap();
    c.find(Locator::Css("form.stack button[type='submit']")).await.unwrap().click().await.unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("{css} on the page")).text().await.unwrap()
}

/// (a) and (d): the conflicting offline correction, the stuck one, the outbox and the
/// review pages.
async fn conflicting_offline_edit(app: &mut TestApp, c: &Client) {
    let base = app.base.clone();
    sign_in(app, c, "village").await;
    c.goto(&format!("{base}/my")).await.expect("我的农户");
    let controlled = || async {
        c.execute("return !!(navigator.serviceWorker && navigator.serviceWorker.controller);", vec![])
            .await
            .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(controlled, "the service worker to control /my").await;
    // Under the worker: /my, the card, the outbox and the form go into its cache.
    for path in ["/my", "/my/outbox", "/my/household/H1"] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.expect(path);
    }
    c.goto(&format!("{base}/my/household/H1/change")).await.unwrap();
    c.wait().for_element(Locator::Css("form.stack select[name='field']")).await.expect("the correction form");
    let cached = || async {
        c.execute_async(
            "const done = arguments[0]; caches.open('fupin-pages-v1')\
               .then(k => k.match('/my/household/H1/change')).then(r => done(!!r), () => done(false));",
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_bool() == Some(true))
    };
    poll(cached, "the correction form in the worker's cache").await;
    let based_on = operations::household_version(&app.db.store, "H1").await.unwrap();
    let shown = c.find(Locator::Css("input[name='version']")).await.unwrap().attr("value").await.unwrap();
    assert_eq!(shown, Some(based_on.to_string()), "the form carries the household version");

    // The signal drops. Two corrections are recorded from the cached form: one the
    // server will find in conflict, one it will refuse.
    app.stop_server().await;
    assert!(!port_answers(app).await, "the stopped server's port refuses");
    c.refresh().await.expect("reload the form");
    record_change(c, "P1", "persons.migrant_months", "9", "电话核实：外出务工九个月").await;
    c.wait().for_element(Locator::Css("#queued")).await.expect("the page that says it is queued");
    assert!(text_of(c, "#queued").await.contains("已离线保存，联网后自动上传"));
    c.goto(&format!("{base}/my/household/H1/change")).await.expect("the form again, from the cache");
    record_change(c, "P2", "persons.migrant_months", "很多个月", "离线误填").await;
    c.wait().for_element(Locator::Css("#queued")).await.expect("queued again");
    c.goto(&format!("{base}/my")).await.unwrap();
    poll(|| async { queued_on_my(c).await == Some(2) }, "/my to count two queued corrections").await;

    // Meanwhile the office changes the same member through the store.
    let edit = Edit::new("township", "乡镇核实务工情况");
    operations::correct_field(&app.db.store, &edit, "persons", "P1", "migrant_months", "3").await.unwrap();

    // The signal returns: the queue is sent on the next load.
    app.restart_server().await;
    c.goto(&format!("{base}/my")).await.unwrap();
    let flagged = format!(
        "SELECT COUNT(*) FROM offline_edits WHERE hh_id = 'H1' AND entity_key = 'P1' AND status = 'pending' \
         AND conflict = 1 AND proposed_value = '9' AND base_version = {based_on} AND found_version > {based_on} \
         AND submitted_by = 'village'"
    );
    poll(|| async { app.sql_count(&flagged).await == 1 }, "the conflict row").await;
    poll(|| async { stuck_on_page(c).await == Some(1) }, "the refused correction to be stuck").await;
    poll(|| async { queued_on_my(c).await == Some(0) }, "nothing else left queued").await;
    assert_eq!(months(app, "P1").await, Some(3), "the change made meanwhile is not overwritten");
    assert_eq!(months(app, "P2").await, None, "the refused correction wrote nothing");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits").await, 1);

    // 离线待发: the stuck item with the server's reason; screenshots; discarded.
    c.goto(&format!("{base}/my/outbox")).await.unwrap();
    let loaded = || async {
        c.execute("return document.getElementById('outbox').dataset.loaded;", vec![])
            .await
            .is_ok_and(|v| v.as_str() == Some("1"))
    };
    poll(loaded, "the outbox drawn from the queue").await;
    let outbox = text_of(c, "#outbox").await;
    assert!(outbox.contains("未能上传") && outbox.contains("务工时间") && outbox.contains("422"), "{outbox}");
    assert!(outbox.contains("李四（配偶） · 成员：务工时间（月）"), "what it is about, in words: {outbox}");
    let dir = screenshot_dir();
    shoot(c, 390, 844, &dir.join("outbox-phone.png")).await;
    shoot(c, 1280, 800, &dir.join("outbox-desktop.png")).await;
    c.find(Locator::Css("#outbox li.stuck button.discard")).await.unwrap().click().await.unwrap();
    let emptied = || async {
        c.execute("return document.querySelectorAll('#outbox li').length;", vec![])
            .await
            .is_ok_and(|v| v.as_u64() == Some(0))
    };
    poll(emptied, "the discarded item to leave the outbox").await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits").await, 1, "discarding on the phone sends nothing");

    // The review: /my links to it with the count; the list and the item, screenshots.
    c.goto(&format!("{base}/my")).await.unwrap();
    let link = text_of(c, "#review-link").await;
    assert!(link.contains("1 条"), "{link}");
    c.find(Locator::Css("#review-link")).await.unwrap().click().await.unwrap();
    arrived(c, "/review").await;
    let list = text_of(c, "#review-list").await;
    assert!(list.contains("现值：3 → 提议：9") && list.contains("张三户"), "{list}");
    shoot(c, 390, 844, &dir.join("review-list-phone.png")).await;
    shoot(c, 1280, 800, &dir.join("review-list-desktop.png")).await;
    c.find(Locator::Css("#review-list a")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#apply-form")).await.expect("the review page");
    assert_eq!(text_of(c, "#current-value").await, "3");
    assert_eq!(text_of(c, "#proposed-value").await, "9");
    let meanwhile = text_of(c, "#meanwhile").await;
    assert!(meanwhile.contains("乡镇核实务工情况") && meanwhile.contains("务工时间"), "{meanwhile}");
    assert_no_secrets(&c.source().await.unwrap(), "the review page");
    shoot(c, 390, 844, &dir.join("review-phone.png")).await;
    shoot(c, 1280, 800, &dir.join("review-desktop.png")).await;
    c.find(Locator::Css("#apply-form textarea[name='reason']")).await.unwrap().send_keys("与户主核实").await.unwrap();
    c.find(Locator::Css("#apply-form button")).await.unwrap().click().await.unwrap();
    arrived(c, "/review").await;
    poll(|| async { months(app, "P1").await == Some(9) }, "the applied value").await;
    let applied = "SELECT COUNT(*) FROM offline_edits WHERE status = 'applied' AND decided_by = 'village' \
                   AND decision_reason = '与户主核实'";
    assert_eq!(app.sql_count(applied).await, 1);
    assert!(text_of(c, "main").await.contains("没有待审核的离线更正"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_offline_edit_is_flagged_and_reviewed_in_chromium() {
    in_chromium!(spawn_app().await, conflicting_offline_edit);
}

/// (b) 迁移成员 through the edit page: 张小明 moves from H1 to H2.
async fn move_a_member(app: &mut TestApp, c: &Client) {
    sign_in(app, c, "village").await;
    c.goto(&format!("{}/household/H1/change/move", app.base)).await.expect("the move form");
    c.wait().for_element(Locator::Css("form#change")).await.expect("the move form");
    c.execute(
        "document.getElementById('f-person').value = 'P3'; document.getElementById('f-relation').value = '03';",
        vec![],
    )
    .await
    .expect("choose the member and the relation");
    c.find(Locator::Css("#f-to_hh")).await.unwrap().send_keys("H2").await.unwrap();
    c.find(Locator::Css("#f-reason")).await.unwrap().send_keys("随亲属迁居").await.unwrap();
    c.find(Locator::Css("form#change button[type='submit']")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("#flash")).await.expect("a page with the message");
    poll(|| async { c.current_url().await.is_ok_and(|u| u.path().starts_with("/household/")) }, "a household page")
        .await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P3' AND hh_id = 'H2'").await, 1);
    let moved = "SELECT COUNT(*) FROM change_log WHERE entity_key = 'P3' AND field = 'hh_id' \
                 AND old_value = 'H1' AND new_value = 'H2' AND actor = 'user:village' AND reason LIKE '%随亲属迁居%'";
    assert_eq!(app.sql_count(moved).await, 1, "the move is in the change history with who and why");
    c.goto(&format!("{}/household/H2", app.base)).await.unwrap();
    c.wait().for_element(Locator::Css("#members")).await.expect("H2's page");
    assert!(text_of(c, "#members").await.contains("张小明"), "H2 lists the member");
    c.goto(&format!("{}/household/H1", app.base)).await.unwrap();
    c.wait().for_element(Locator::Css("#members")).await.expect("H1's page");
    assert!(!text_of(c, "#members").await.contains("张小明"), "H1 no longer lists the member");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_moves_between_households_in_chromium() {
    in_chromium!(spawn_app().await, move_a_member);
}

/// (c) A village cadre opens household URLs of another village: the 404 page, nothing
/// of the household.
async fn scope_refused(app: &mut TestApp, c: &Client) {
    sign_in(app, c, "village").await;
    for path in ["/household/H3", "/my/household/H3", "/my/household/H3/change", "/household/H4/change/correct"] {
        c.goto(&format!("{}{path}", app.base)).await.expect(path);
        c.wait().for_element(Locator::Css("main h1")).await.expect("an answer");
        assert_eq!(text_of(c, "main h1").await, "页面不存在", "{path}");
        let status = c
            .execute("return performance.getEntriesByType('navigation')[0].responseStatus;", vec![])
            .await
            .expect("the navigation's status");
        assert_eq!(status.as_u64(), Some(404), "{path} answered 404");
        let source = c.source().await.unwrap();
        for other in ["赵六", "孙七", "西关村", "白柳"] {
            assert!(!source.contains(other), "{path} shows {other}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_of_another_village_is_not_found_in_chromium() {
    in_chromium!(spawn_app().await, scope_refused);
}

/// (e) Phone flows of a helper cadre: signed in, 我的农户 keeps the paired household's
/// card, its visit form and 离线待发 in the worker's cache before any of them is
/// opened, so they open with the signal gone; with the signal back, the card calls
/// the household through a logged reveal (a `tel:` link) and records a correction
/// with the code picked from a list that shows the current one.
async fn phone_flows(app: &mut TestApp, c: &Client) {
    let base = app.base.clone();
    sign_in(app, c, "helper").await;
    c.goto(&format!("{base}/my")).await.expect("我的农户");
    c.wait().for_element(Locator::Css("main h1")).await.expect("the list");
    let in_cache = |path: &'static str| async move {
        c.execute_async(
            &format!(
                "const done = arguments[0]; caches.open('fupin-pages-v1')\
                   .then(k => k.match('{path}')).then(r => done(!!r), () => done(false));"
            ),
            vec![],
        )
        .await
        .is_ok_and(|v| v.as_bool() == Some(true))
    };
    for path in ["/my/household/H1", "/my/household/H1/visit", "/my/outbox"] {
        poll(|| in_cache(path), path).await;
    }
    app.stop_server().await;
    assert!(!port_answers(app).await, "the stopped server's port refuses");
    c.goto(&format!("{base}/my/household/H1")).await.expect("the card, from the cache");
    c.wait().for_element(Locator::Css("main h1")).await.expect("the card offline");
    assert!(text_of(c, "main h1").await.contains("张三户"), "the paired household's card offline");
    c.goto(&format!("{base}/my/outbox")).await.expect("离线待发, from the cache");
    c.wait().for_element(Locator::Css("#outbox")).await.expect("the outbox offline");
    app.restart_server().await;

    // 拨打电话: the reveal is logged, then the number is a tel: link.
    c.goto(&format!("{base}/my/household/H1")).await.unwrap();
    c.find(Locator::Css("#call button")).await.expect("the call button").click().await.unwrap();
    c.wait().for_element(Locator::Css("#call-link")).await.expect("the number to call");
    let href = c.find(Locator::Css("#call-link")).await.unwrap().attr("href").await.unwrap();
    assert_eq!(href.as_deref(), Some(format!("tel:{PHONE_H1}").as_str()));
    let logged = "SELECT COUNT(*) FROM reveal_log WHERE username = 'helper' AND hh_id = 'H1' AND field = 'phone'";
    assert_eq!(app.sql_count(logged).await, 1, "the call is in the reveal log");

    // 记录更正 by the helper: 劳动技能 picked from its codes, the current one shown.
    c.goto(&format!("{base}/my/household/H1/change?target=P1&field=persons.labour")).await.unwrap();
    c.wait().for_element(Locator::Css("select[name='value']")).await.expect("a pick-list for a coded field");
    c.execute("document.querySelector(\"select[name='value']\").value = '02';", vec![]).await.unwrap();
    c.find(Locator::Css("textarea[name='reason']")).await.unwrap().send_keys("走访核实：掌握技能").await.unwrap();
    c.find(Locator::Css("form.stack button[type='submit']")).await.unwrap().click().await.unwrap();
    poll(|| async { c.current_url().await.is_ok_and(|u| u.path() == "/my/household/H1") }, "the card").await;
    let saved = "SELECT COUNT(*) FROM persons WHERE person_id = 'P1' AND labour = '02'";
    assert_eq!(app.sql_count(saved).await, 1, "the helper's correction is saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_works_from_the_phone_offline_calls_and_corrects_in_chromium() {
    in_chromium!(spawn_app().await, phone_flows);
}
