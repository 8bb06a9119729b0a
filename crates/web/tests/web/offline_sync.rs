//! 离线更正 over HTTP (pages/my_change.rs, pages/review.rs, store/offline_edits.rs): a
//! correction sent with the current household version is applied with who and why; one
//! based on a version the household has moved past is flagged, not written, and a
//! reviewer of the area applies or discards it; a replayed key neither applies nor
//! flags twice; scope holds on the sync endpoint and the review actions; malformed and
//! oversized bodies are refused with nothing changed.

use fupin_store::operations::{self, Edit};
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

async fn post(app: &TestApp, client: &Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    client.post(format!("{}{path}", app.base)).header("Origin", app.origin()).form(fields).send().await.unwrap()
}

/// Follows a redirect to its page and returns it with the first answer's status.
async fn land(app: &TestApp, client: &Client, r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    match r.headers().get("location").and_then(|l| l.to_str().ok()) {
        Some(to) if status == 303 => {
            let (_, page) = get(app, client, to).await;
            (status, page)
        }
        _ => (status, r.text().await.unwrap()),
    }
}

async fn version(app: &TestApp, hh: &str) -> i64 {
    operations::household_version(&app.db.store, hh).await.unwrap()
}

/// 务工时间（月） of a person as stored.
async fn months(app: &TestApp, person: &str) -> Option<i64> {
    let (m,): (Option<i64>,) = sqlx::query_as("SELECT migrant_months FROM persons WHERE person_id = $1")
        .bind(person.to_owned())
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    m
}

/// What a refused request must leave alone: the change history and the proposals.
async fn footprint(app: &TestApp) -> (i64, i64) {
    (app.sql_count("SELECT COUNT(*) FROM change_log").await, app.sql_count("SELECT COUNT(*) FROM offline_edits").await)
}

/// A form's fields in order.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn months_form<'a>(key: &'a str, version: &'a str, value: &'a str, reason: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("key", key),
        ("version", version),
        ("target", "P1"),
        ("field", "persons.migrant_months"),
        ("value", value),
        ("reason", reason),
    ]
}

/// Someone else changes P1's 务工时间 in the registry (another session, the office).
async fn changed_meanwhile(app: &TestApp, value: &str) {
    let edit = Edit::new("township", "乡镇核实务工情况");
    operations::correct_field(&app.db.store, &edit, "persons", "P1", "migrant_months", value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_on_the_current_version_is_applied_with_who_and_why_once() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let (status, form) = get(&app, &client, "/my/household/H1/change").await;
    assert_eq!(status, 200);
    let v = version(&app, "H1").await;
    assert!(form.contains(&format!(r#"name="version" value="{v}""#)), "the form carries the version: {form}");
    assert!(form.contains("张三（户主）") && form.contains("成员：务工时间（月）"), "{form}");

    let v = v.to_string();
    let fields = months_form("applied-key-0001-abcdef", &v, "8", "外出务工八个月");
    let (status, card) = land(&app, &client, post(&app, &client, "/my/household/H1/change", &fields).await).await;
    assert_eq!(status, 303);
    assert!(card.contains("已保存更正：成员：务工时间（月）"), "{card}");
    assert_eq!(months(&app, "P1").await, Some(8));
    let recorded = app
        .sql_count(
            "SELECT COUNT(*) FROM change_log WHERE entity = 'persons' AND entity_key = 'P1' \
             AND field = 'migrant_months' AND actor = 'user:village' AND reason LIKE '%外出务工八个月%'",
        )
        .await;
    assert_eq!(recorded, 1, "the change history names who and why");
    let kept = "SELECT COUNT(*) FROM offline_edits WHERE idempotency_key = 'applied-key-0001-abcdef' \
                AND status = 'applied' AND conflict = 0 AND submitted_by = 'village'";
    assert_eq!(app.sql_count(kept).await, 1);

    // The same request again (the queue sent twice): nothing more is written.
    let before = footprint(&app).await;
    let (status, card) = land(&app, &client, post(&app, &client, "/my/household/H1/change", &fields).await).await;
    assert_eq!(status, 303);
    assert!(card.contains("这条更正已提交过（已采纳）"), "{card}");
    assert_eq!(footprint(&app).await, before, "a replay writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_cadre_corrects_a_paired_household_picking_coded_values() {
    let app = spawn_app().await;
    let client = signed_in(&app, "helper").await;
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    assert!(card.contains(r#"href="/my/household/H1/change""#), "the card offers the correction: {card}");
    // A coded field is a pick-list of its codes, the member's current value selected;
    // several codes for 健康状况; a free-text field stays a text box.
    let (status, form) = get(&app, &client, "/my/household/H1/change?target=P1&field=persons.labour").await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"<select name="value">"#), "{form}");
    assert!(form.contains(r#"<option value="01" selected>01 普通劳动力</option>"#), "{form}");
    assert!(form.contains(r#"<option value="P1" selected>"#), "the member stays chosen: {form}");
    let (_, form) = get(&app, &client, "/my/household/H1/change?target=P1&field=persons.health").await;
    assert!(form.contains(r#"<select name="value" multiple>"#), "{form}");
    assert!(form.contains(r#"<option value="02" selected>"#) && form.contains(r#"<option value="04" selected>"#));
    let (_, form) = get(&app, &client, "/my/household/H1/change?target=P1&field=persons.employer").await;
    assert!(form.contains(r#"<input type="text" name="value""#), "{form}");

    let v = version(&app, "H1").await.to_string();
    let fields = vec![
        ("key", "helper-key-0002-abcdef"),
        ("version", v.as_str()),
        ("target", "P1"),
        ("field", "persons.health"),
        ("value", "01"),
        ("value", "02"),
        ("reason", "走访核实"),
    ];
    let (status, card) = land(&app, &client, post(&app, &client, "/my/household/H1/change", &fields).await).await;
    assert_eq!(status, 303);
    assert!(card.contains("已保存更正"), "{card}");
    let saved = "SELECT COUNT(*) FROM change_log WHERE entity_key = 'P1' AND field = 'health' \
                 AND new_value = '01;02' AND actor = 'user:helper' AND reason LIKE '%走访核实%'";
    assert_eq!(app.sql_count(saved).await, 1, "the helper's correction, with who and why");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_on_a_stale_version_is_flagged_and_reviewed_never_overwriting() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let base = version(&app, "H1").await.to_string();
    changed_meanwhile(&app, "3").await;

    let fields = months_form("stale-key-0001-abcdef", &base, "9", "电话核实");
    let (status, card) = land(&app, &client, post(&app, &client, "/my/household/H1/change", &fields).await).await;
    assert_eq!(status, 303);
    assert!(card.contains("已提交审核"), "{card}");
    assert_eq!(months(&app, "P1").await, Some(3), "the newer value stays");
    let flagged = format!(
        "SELECT COUNT(*) FROM offline_edits WHERE idempotency_key = 'stale-key-0001-abcdef' AND status = 'pending' \
         AND conflict = 1 AND base_version = {base} AND found_version > {base} AND proposed_value = '9'"
    );
    assert_eq!(app.sql_count(&flagged).await, 1);

    // Replayed: still one row, still pending, nothing applied.
    let before = footprint(&app).await;
    let (_, card) = land(&app, &client, post(&app, &client, "/my/household/H1/change", &fields).await).await;
    assert!(card.contains("这条更正已提交过（待审核）"), "{card}");
    assert_eq!(footprint(&app).await, before);
    // A stale correction whose value its field cannot hold is refused, not flagged: a
    // reviewer could never apply it.
    let bad = months_form("stale-key-0003-abcdef", &base, "很多个月", "电话核实");
    let r = post(&app, &client, "/my/household/H1/change", &bad).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("务工时间"));
    assert_eq!(footprint(&app).await, before);

    // The village's cadre sees it on /my and in the review list; the page shows the
    // current value against the proposed one and what changed meanwhile.
    let (_, my) = get(&app, &client, "/my").await;
    assert!(my.contains("待审核的离线更正：1 条"), "{my}");
    let (_, area) = get(&app, &client, &format!("/area/{V1}")).await;
    assert!(area.contains("待审核的离线更正：1 条"), "the village page counts it: {area}");
    let (_, card) = get(&app, &client, "/my/household/H1").await;
    assert!(card.contains("本户有 1 条待审核的离线更正"), "{card}");
    let (_, other) = get(&app, &client, "/my/household/H2").await;
    assert!(!other.contains("待审核的离线更正"), "{other}");
    let (status, list) = get(&app, &client, "/review").await;
    assert_eq!(status, 200);
    assert!(list.contains("/review/stale-key-0001-abcdef") && list.contains("现值：3 → 提议：9"), "{list}");
    let (status, page) = get(&app, &client, "/review/stale-key-0001-abcdef").await;
    assert_eq!(status, 200);
    assert!(page.contains("乡镇核实务工情况") && page.contains("/household/H1#history"), "{page}");

    // Discard without a reason: refused; with one: recorded, the registry untouched.
    let r = post(&app, &client, "/review/stale-key-0001-abcdef/discard", &[("reason", " ")]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请填写处理原因"));
    let r = post(&app, &client, "/review/stale-key-0001-abcdef/discard", &[("reason", "以乡镇核实为准")]).await;
    assert_eq!(r.status(), 303);
    let discarded = "SELECT COUNT(*) FROM offline_edits WHERE idempotency_key = 'stale-key-0001-abcdef' \
                     AND status = 'discarded' AND decided_by = 'village' AND decision_reason = '以乡镇核实为准' \
                     AND decided_at IS NOT NULL";
    assert_eq!(app.sql_count(discarded).await, 1);
    assert_eq!(months(&app, "P1").await, Some(3));
    // Decided once: a second decision changes nothing.
    let before = footprint(&app).await;
    let seen = version(&app, "H1").await.to_string();
    let r = post(&app, &client, "/review/stale-key-0001-abcdef/apply", &[("reason", "再试"), ("version", &seen)]).await;
    let (_, page) = land(&app, &client, r).await;
    assert!(page.contains("已由 village 处理（已放弃）"), "{page}");
    assert_eq!(footprint(&app).await, before);
    assert_eq!(months(&app, "P1").await, Some(3));

    // Another stale correction, applied by the township officer: first on a page gone
    // stale again (409, nothing written), then on the current one.
    let fields = months_form("stale-key-0002-abcdef", &base, "10", "户主电话告知");
    post(&app, &client, "/my/household/H1/change", &fields).await;
    let township = signed_in(&app, "township").await;
    let (_, list) = get(&app, &township, "/review").await;
    assert!(list.contains("/review/stale-key-0002-abcdef"), "the township sees its villages' proposals: {list}");
    let (_, area) = get(&app, &township, &format!("/area/{TOWN_A}")).await;
    assert!(area.contains("待审核的离线更正：1 条"), "the township page counts it: {area}");
    let seen = version(&app, "H1").await.to_string();
    changed_meanwhile(&app, "4").await;
    let before = footprint(&app).await;
    let apply = [("reason", "核对后采纳"), ("version", seen.as_str())];
    let r = post(&app, &township, "/review/stale-key-0002-abcdef/apply", &apply).await;
    assert_eq!(r.status(), 409);
    assert_eq!(footprint(&app).await, before);
    assert_eq!(months(&app, "P1").await, Some(4));
    let seen = version(&app, "H1").await.to_string();
    let apply = [("reason", "核对后采纳"), ("version", seen.as_str())];
    let r = post(&app, &township, "/review/stale-key-0002-abcdef/apply", &apply).await;
    assert_eq!(r.status(), 303);
    assert_eq!(months(&app, "P1").await, Some(10));
    let history = "SELECT COUNT(*) FROM change_log WHERE entity_key = 'P1' AND field = 'migrant_months' \
                   AND actor = 'user:township' AND new_value = '10' AND reason LIKE '%采纳 village 的离线更正%'";
    assert_eq!(app.sql_count(history).await, 1, "the change history names the reviewer and the sender");
    let (_, my) = get(&app, &client, "/my").await;
    assert!(my.contains("待审核的离线更正：0 条"), "{my}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_holds_on_the_sync_endpoint_and_the_review_actions() {
    let app = spawn_app().await;
    // A proposal flagged on H4 (白柳镇) by the county officer.
    let county = signed_in(&app, "county").await;
    let base = version(&app, "H4").await;
    let edit = Edit::new("admin", "县级核实");
    operations::correct_field(&app.db.store, &edit, "households", "H4", "phone", "13700000000").await.unwrap();
    let base = base.to_string();
    let fields = [
        ("key", "county-key-0001-abcdef"),
        ("version", base.as_str()),
        ("target", "household"),
        ("field", "households.phone"),
        ("value", "13700009999"),
        ("reason", "电话核实"),
    ];
    let r = post(&app, &county, "/my/household/H4/change", &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending'").await, 1);

    let before = footprint(&app).await;
    let village = signed_in(&app, "village").await;
    // Sending a correction for a household of another village: 404, nothing kept.
    let mut other = fields;
    other[0].1 = "village-key-0001-abcdef";
    let r = post(&app, &village, "/my/household/H3/change", &other).await;
    assert_eq!(r.status(), 404);
    // A member of another household named on this household's form: refused.
    let stolen = months_form("village-key-0002-abcdef", "999999", "5", "试探");
    let stolen: Vec<_> = stolen.into_iter().map(|(k, v)| if k == "target" { (k, "P6") } else { (k, v) }).collect();
    let r = post(&app, &village, "/my/household/H1/change", &stolen).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不是户 H1 的成员"));
    // The county's proposal, from the village: 404 on the page and on both actions.
    for path in ["/review/county-key-0001-abcdef"] {
        assert_eq!(get(&app, &village, path).await.0, 404);
    }
    for action in ["apply", "discard"] {
        let path = format!("/review/county-key-0001-abcdef/{action}");
        let r = post(&app, &village, &path, &[("reason", "越权"), ("version", "999999999")]).await;
        assert_eq!(r.status(), 404, "{action}");
    }
    let (_, list) = get(&app, &village, "/review").await;
    assert!(!list.contains("county-key") && !list.contains("孙七"), "{list}");
    // An inspector does not edit the registry: 403. A helper cadre corrects paired
    // households only (H2 is in the village, not paired: 404), reviews nothing.
    let inspector = signed_in(&app, "inspector").await;
    assert_eq!(post(&app, &inspector, "/my/household/H1/change", &stolen).await.status(), 403);
    let helper = signed_in(&app, "helper").await;
    assert_eq!(post(&app, &helper, "/my/household/H1/change", &stolen).await.status(), 422, "P6 is not H1's");
    let mut unpaired = other;
    unpaired[0].1 = "helper-key-0001-abcdef";
    assert_eq!(post(&app, &helper, "/my/household/H2/change", &unpaired).await.status(), 404);
    for c in [&inspector, &helper] {
        assert_eq!(get(&app, c, "/review").await.0, 403);
    }
    assert_eq!(footprint(&app).await, before, "refused requests changed nothing");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending'").await, 1);
}

/// No whole ID number reaches the server's log: a refused correction quoting what was
/// typed, a search URL holding one, a path holding one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_whole_id_number_reaches_the_server_log() {
    server_log();
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let base = version(&app, "H1").await.to_string();
    // An ID number typed into a number field: refused with a reason quoting it.
    let fields = months_form("logged-key-0001-abcdef", &base, ID_LI, "核实");
    let r = post(&app, &client, "/my/household/H1/change", &fields).await;
    assert_eq!(r.status(), 422);
    assert_eq!(get(&app, &client, &format!("/search?q={ID_LI}")).await.0, 400);
    assert_eq!(get(&app, &client, &format!("/household/{ID_LI}")).await.0, 404);
    let r = client.post(format!("{}/household/{ID_ZHANG}/reveal", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 403, "a forged post, logged as refused");
    let log = server_log();
    assert!(log.contains("离线更正被拒绝"), "the refusal was logged (the test reads the log)");
    for id in [ID_LI, ID_ZHANG] {
        let line = log.lines().find(|l| l.contains(id));
        assert!(line.is_none(), "{id} in the server log: {line:?}");
    }
    let details = app.sql_count(&format!("SELECT COUNT(*) FROM auth_log WHERE detail LIKE '%{ID_ZHANG}%'")).await;
    assert_eq!(details, 0, "nor in the security log");
    assert!(app.sql_count("SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused'").await > 0);
}

/// A member who moved to a household of another township after a correction was
/// flagged: the village cadre reviewing it cannot write there — applying checks scope
/// again at the moment of writing, not only when the proposal was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_flagged_correction_rechecks_scope_at_apply_time() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let base = version(&app, "H1").await.to_string();
    changed_meanwhile(&app, "3").await;
    let fields = months_form("moved-key-0001-abcdef", &base, "9", "电话核实");
    let r = post(&app, &client, "/my/household/H1/change", &fields).await;
    assert_eq!(r.status(), 303);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending'").await, 1);

    // P1 moves to H4 in 白柳镇, outside the village cadre's area (a township decision).
    let edit = Edit::new("county", "迁往白柳镇");
    operations::move_member(&app.db.store, &edit, "P1", "H4", "11", Some("P2")).await.expect("the move");

    // The proposal still names H1, which the cadre sees; the page and the apply form
    // are reached, but applying must not write into a household of another township.
    let (status, _) = get(&app, &client, "/review/moved-key-0001-abcdef").await;
    assert_eq!(status, 200);
    let before = footprint(&app).await;
    let seen = version(&app, "H1").await.to_string();
    let apply = [("reason", "核对后采纳"), ("version", seen.as_str())];
    let r = post(&app, &client, "/review/moved-key-0001-abcdef/apply", &apply).await;
    assert_eq!(r.status(), 422, "refused at apply time");
    assert!(r.text().await.unwrap().contains("已不是户 H1 的成员"));
    assert_eq!(months(&app, "P1").await, Some(3), "nothing written in the other township");
    assert_eq!(footprint(&app).await, before);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending'").await, 1);
    // Discarding it stays possible.
    let r = post(&app, &client, "/review/moved-key-0001-abcdef/discard", &[("reason", "成员已迁出")]).await;
    assert_eq!(r.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_sync_bodies_are_refused_with_nothing_changed() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let v = version(&app, "H1").await.to_string();
    let before = footprint(&app).await;
    let url = format!("{}/my/household/H1/change", app.base);
    let long_reason = "长".repeat(3000);
    let cases: Vec<(Form, u16, &str)> = vec![
        (months_form("bad-key-0001-abcdef", &v, "8", &long_reason), 400, "表单内容过长"),
        (
            months_form("bad-key-0002-abcdef", &v, "8", "原因").into_iter().filter(|(k, _)| *k != "version").collect(),
            400,
            "页面版本",
        ),
        (months_form("bad-key-0003-abcdef", "abc", "8", "原因"), 400, "页面版本"),
        (months_form("short", &v, "8", "原因"), 422, "表单已失效"),
        (months_form("bad-key-0004-abcdef", &v, "很多个月", "原因"), 422, "务工时间"),
        (months_form("bad-key-0005-abcdef", &v, "8", ""), 422, "请填写变更原因"),
        (
            months_form("bad-key-0006-abcdef", &v, "8", "原因")
                .into_iter()
                .map(|(k, x)| if k == "field" { (k, "persons.id_number") } else { (k, x) })
                .collect(),
            422,
            "请选择要更正的字段",
        ),
    ];
    for (fields, want, text) in cases {
        let r = post(&app, &client, "/my/household/H1/change", &fields).await;
        assert_eq!(r.status().as_u16(), want, "{fields:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains(text), "{want} lacks {text}: {body}");
    }
    // Not a form at all, a body of broken encoding, and one of several megabytes.
    let r = client.post(&url).header("Origin", app.origin()).header("Content-Type", "application/json").body("{}");
    assert!(r.send().await.unwrap().status().is_client_error());
    let r = client
        .post(&url)
        .header("Origin", app.origin())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"key=%FF%FE&version=1&value=\xff".to_vec());
    assert!(r.send().await.unwrap().status().is_client_error());
    let huge = format!("key=huge-key-0001-abcdef&version={v}&reason={}", "x".repeat(5 * 1024 * 1024));
    let r = client
        .post(&url)
        .header("Origin", app.origin())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(huge);
    let status = r.send().await.map(|r| r.status().as_u16()).unwrap_or(413);
    assert!((400..500).contains(&status), "a huge body is refused: {status}");
    assert_eq!(footprint(&app).await, before, "nothing changed");
    assert_eq!(months(&app, "P1").await, None);
    // The server still answers (on a new connection: it may have closed the one the
    // huge body was being written on, and a pooled connection would see a broken pipe).
    let fresh = signed_in(&app, "village").await;
    assert_eq!(get(&app, &fresh, "/my/household/H1").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_sent_by_two_tabs_at_once_applies_or_flags_once() {
    let app = spawn_app().await;
    let client = signed_in(&app, "village").await;
    let current = version(&app, "H1").await.to_string();
    let stale = (version(&app, "H1").await - 1).to_string();
    for (key, v, value, status) in [
        ("race-key-0001-abcdef", current.as_str(), "7", "applied"),
        ("race-key-0002-abcdef", stale.as_str(), "11", "pending"),
    ] {
        let log = app.sql_count("SELECT COUNT(*) FROM change_log").await;
        let fields = months_form(key, v, value, "同时发送");
        let send = || post(&app, &client, "/my/household/H1/change", &fields);
        let (a, b, c, d) = tokio::join!(send(), send(), send(), send());
        for r in [a, b, c, d] {
            assert_eq!(r.status(), 303, "{key}: every copy is answered");
        }
        let rows =
            format!("SELECT COUNT(*) FROM offline_edits WHERE idempotency_key = '{key}' AND status = '{status}'");
        assert_eq!(app.sql_count(&rows).await, 1, "{key}: one row");
        let written = app.sql_count("SELECT COUNT(*) FROM change_log").await - log;
        assert_eq!(written, i64::from(status == "applied"), "{key}: at most one change record");
    }
    assert_eq!(months(&app, "P1").await, Some(7), "the flagged copy did not overwrite");
}
