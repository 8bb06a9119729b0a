//! 显示号码: personal numbers are masked everywhere; a county admin, township officer or
//! village cadre reveals one value at a time with a reason, by a same-origin POST, and
//! each reveal is logged before the value is sent; 查看记录 lists the log.

use fupin_store::reveals::{self, RevealRecord};
use reqwest::Client;

use crate::support::*;

/// The reveal form of the household page, posted as a browser on this site would.
async fn reveal(app: &TestApp, client: &Client, hh: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let r = client
        .post(format!("{}/household/{hh}/reveal", app.base))
        .header("Origin", app.origin())
        .form(fields)
        .send()
        .await
        .expect("POST reveal");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

fn no_redirects() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn logged(app: &TestApp) -> i64 {
    app.sql_count("SELECT COUNT(*) FROM reveal_log").await
}

/// Asserts the page shows `shown` in full and no other seeded number.
fn only(page: &str, shown: &str, what: &str) {
    assert!(page.contains(shown), "{what} does not show {shown}");
    for s in SECRETS.iter().filter(|s| **s != shown) {
        assert!(!page.contains(s), "{what} shows {s} as well");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_village_cadre_reveals_one_number_and_the_reveal_is_logged_first() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;

    // The household page: every number masked, a 显示 form beside each.
    let (status, page) = app.get(&client, "/household/H1").await;
    assert_eq!(status, 200);
    assert_no_secrets(&page, "the household page");
    assert!(page.contains(ID_ZHANG_MASKED));
    assert!(page.contains("action=\"/household/H1/reveal\""), "no reveal form");
    for field in ["id_number", "phone", "bank_account"] {
        assert!(page.contains(&format!("name=\"field\" value=\"{field}\"")), "no 显示 for {field}");
    }

    let reason = "核对低保申请材料";
    let fields = [("table", "persons"), ("key", "P1"), ("field", "id_number"), ("reason", reason)];
    let (status, page) = reveal(&app, &client, "H1", &fields).await;
    assert_eq!(status, 200);
    only(&page, ID_ZHANG, "the revealed ID number");
    assert!(page.contains("张三"), "the page says whose number it is");
    assert!(page.contains(reason), "the page repeats the reason");

    let rows = reveals::reveal_page(&app.db.store, 10, 0).await.unwrap();
    assert_eq!(rows.len(), 1, "one reveal, one row");
    let row = &rows[0];
    assert!(fupin_store::users::parse_timestamp(&row.at).is_some(), "when: {}", row.at);
    assert_eq!(
        (row.username.as_str(), row.hh_id.as_str(), row.table.as_str(), row.key.as_str(), row.field.as_str()),
        ("village", "H1", "persons", "P1", "id_number")
    );
    assert_eq!(row.reason, reason);
    assert_eq!(row.remote_addr.as_deref(), Some("127.0.0.1"));

    // The household's own numbers too, one at a time.
    let fields = [("table", "households"), ("key", "H1"), ("field", "bank_account"), ("reason", "发放补贴")];
    let (status, page) = reveal(&app, &client, "H1", &fields).await;
    assert_eq!(status, 200);
    only(&page, "6228480012345678", "the revealed bank account");
    assert_eq!(logged(&app).await, 2);

    // Revealing once does not unmask the household page.
    let (_, page) = app.get(&client, "/household/H1").await;
    assert_no_secrets(&page, "the household page after a reveal");

    // The county admin reads who saw what, when and why, newest first, masked.
    let admin = app.signed_in(ADMIN).await;
    let (status, page) = app.get(&admin, "/admin/reveals").await;
    assert_eq!(status, 200);
    assert_no_secrets(&page, "查看记录");
    for text in ["village", "发放补贴", reason, "成员 P1 · 证件号码", "户信息 · 银行账号", "/household/H1"]
    {
        assert!(page.contains(text), "查看记录 lacks {text}");
    }
    assert!(page.find("发放补贴").unwrap() < page.find(reason).unwrap(), "newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_township_officer_reveals_a_phone_in_the_township() {
    let app = spawn_app().await;
    let client = app.signed_in("township").await;
    let fields = [("table", "households"), ("key", "H1"), ("field", "phone"), ("reason", "电话回访")];
    let (status, page) = reveal(&app, &client, "H1", &fields).await;
    assert_eq!(status, 200);
    only(&page, PHONE_H1, "the revealed phone");
    assert_eq!(logged(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_that_only_see_masks_get_403_and_nothing_is_logged() {
    let app = spawn_app().await;
    for (user, hh, key) in [("helper", "H1", "P1"), ("department", "H4", "P6"), ("inspector", "H4", "P6")] {
        let client = app.signed_in(user).await;
        let (status, page) = app.get(&client, &format!("/household/{hh}")).await;
        assert_eq!(status, 200);
        assert_no_secrets(&page, user);
        assert!(!page.contains("/reveal\""), "{user} is offered a reveal form");
        let fields = [("table", "persons"), ("key", key), ("field", "id_number"), ("reason", "想看看")];
        let (status, page) = reveal(&app, &client, hh, &fields).await;
        assert_eq!(status, 403, "{user}");
        assert_no_secrets(&page, user);
        assert!(page.contains("无权查看"));
    }
    assert_eq!(logged(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_outside_the_area_is_404_and_not_logged() {
    let app = spawn_app().await;
    let cases = [
        // 孙七 lives in 白柳镇, outside 城关镇 and 东关村.
        ("township", "H4", "persons", "P6"),
        ("village", "H4", "persons", "P6"),
        // 王五 in 东关村, asked for through a household of 西关村.
        ("village", "H3", "persons", "P4"),
        // A person of another household through H1.
        ("village", "H1", "persons", "P6"),
        ("village", "H1", "households", "H2"),
        ("county", "NOPE", "persons", "P1"),
    ];
    for (user, hh, table, key) in cases {
        let client = app.signed_in(user).await;
        let field = if table == "persons" { "id_number" } else { "phone" };
        let fields = [("table", table), ("key", key), ("field", field), ("reason", "核对")];
        let (status, page) = reveal(&app, &client, hh, &fields).await;
        assert_eq!(status, 404, "{user} × {hh} {table} {key}");
        assert_no_secrets(&page, user);
    }
    assert_eq!(logged(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_without_a_reason_or_of_no_personal_number_is_refused() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;
    for reason in [None, Some(""), Some("   ")] {
        let mut fields = vec![("table", "persons"), ("key", "P1"), ("field", "id_number")];
        if let Some(r) = reason {
            fields.push(("reason", r));
        }
        let (status, page) = reveal(&app, &client, "H1", &fields).await;
        assert_eq!(status, 422, "reason {reason:?}");
        assert_no_secrets(&page, "the form asking for a reason");
        assert!(page.contains("请填写查看原因"));
        assert!(page.contains(ID_ZHANG_MASKED), "the form shows the masked number");
    }
    let long = "很".repeat(501);
    let fields = [("table", "persons"), ("key", "P1"), ("field", "id_number"), ("reason", long.as_str())];
    assert_eq!(reveal(&app, &client, "H1", &fields).await.0, 422, "an oversized reason");

    // Only personal columns of households and persons: not a name, not another table.
    for (table, key, field) in
        [("persons", "P1", "name"), ("households", "H1", "status"), ("helpers", "G1", "id_number"), ("", "", "")]
    {
        let fields = [("table", table), ("key", key), ("field", field), ("reason", "核对")];
        let (status, page) = reveal(&app, &client, "H1", &fields).await;
        assert_eq!(status, 400, "{table}.{field}");
        assert_no_secrets(&page, "a refused reveal");
    }
    // A personal column left empty has nothing to show.
    let fields = [("table", "persons"), ("key", "P3"), ("field", "id_number"), ("reason", "核对")];
    assert_eq!(reveal(&app, &client, "H1", &fields).await.0, 422, "张小明 has no ID number");
    assert_eq!(logged(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_is_never_a_get_nor_a_cross_origin_post() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;
    let url = format!("{}/household/H1/reveal", app.base);

    let r = client.get(format!("{url}?table=persons&key=P1&field=id_number&reason=x")).send().await.unwrap();
    assert_eq!(r.status(), 405, "GET");
    assert_no_secrets(&r.text().await.unwrap(), "GET reveal");

    let fields = [("table", "persons"), ("key", "P1"), ("field", "id_number"), ("reason", "跨站")];
    // Another origin: the same host on another port, another site, a cross-site fetch,
    // and a post that says nothing about where it comes from.
    let other_port = app.base.rsplit_once(':').map(|(host, _)| format!("{host}:1")).unwrap();
    for (name, value) in [
        (Some("Origin"), other_port.as_str()),
        (Some("Origin"), "http://evil.example"),
        (Some("Sec-Fetch-Site"), "cross-site"),
        (None, ""),
    ] {
        let mut request = client.post(&url).form(&fields);
        if let Some(name) = name {
            request = request.header(name, value);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 403, "{name:?}: {value}");
        assert_no_secrets(&r.text().await.unwrap(), "a cross-origin reveal");
    }
    assert_eq!(logged(&app).await, 0);

    // Signed out: sent to sign in, nothing shown.
    let anonymous = no_redirects();
    let r = anonymous.post(&url).header("Origin", app.origin()).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers().get("location").unwrap(), "/login");
    assert_eq!(logged(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reveal_log_is_paginated_newest_first_and_masks_reasons() {
    let app = spawn_app().await;
    for i in 0..55 {
        let reason = if i == 54 { format!("第{i}次 {ID_LI}") } else { format!("第{i}次") };
        let record = RevealRecord {
            username: "village",
            hh_id: "H1",
            table: "persons",
            key: "P2",
            field: "id_number",
            reason: &reason,
            remote_addr: Some("10.0.0.1"),
        };
        reveals::log_reveal(&app.db.store, &record).await.unwrap();
    }
    let admin = app.signed_in("county").await;
    let (status, page) = app.get(&admin, "/admin/reveals").await;
    assert_eq!(status, 200);
    assert_no_secrets(&page, "查看记录");
    assert!(page.contains("共 55 条"));
    assert!(page.contains("第54次 610981********002X"), "a number typed into a reason is masked");
    assert!(page.contains("第5次") && !page.contains("第4次"), "page 1 holds the newest 50");
    assert!(page.contains("/admin/reveals?page=2"));
    let (status, page) = app.get(&admin, "/admin/reveals?page=2").await;
    assert_eq!(status, 200);
    assert!(page.contains("第4次") && page.contains("第0次") && !page.contains("第5次"));
    assert!(page.contains("10.0.0.1"));
}
