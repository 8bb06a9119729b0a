//! Scopes that are not an area: a helper cadre sees only the households paired with
//! their helper today (结对帮扶), a department officer county-wide households but only
//! the identifying columns and their own department's (部门数据员).

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use fupin_app::accounts::{self, AccountRequest, ChangedBy};
use fupin_domain::Value;
use fupin_domain::schema::{INCOMES, PERSONS};
use fupin_store::Actor;

use crate::support::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn signed_in_plain(app: &TestApp, user: &str) -> reqwest::Client {
    let client = no_redirects();
    let r = app.login_as(&client, user, &app.passwords[user]).await;
    assert_eq!(r.status(), 303, "{user} signs in");
    client
}

fn cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn bytes(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, Vec<u8>) {
    let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
    (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_cadre_sees_only_the_paired_households_everywhere() {
    let app = spawn_app().await;
    let helper = signed_in_plain(&app, "helper").await;
    // H1 is paired with the helper's helper (G1); H2 lies in the same village, unpaired.
    for (path, want) in [
        ("/household/H1", "张三"),
        ("/my/household/H1", "张三"),
        ("/api/v1/households/H1", "\"hh_id\":\"H1\""),
        ("/api/v1/households/H1/history", "\"entity_key\":\"H1\""),
        ("/search?q=张三", "/household/H1"),
        ("/api/v1/search?q=张三", "\"hh_id\":\"H1\""),
    ] {
        let (status, page) = app.get(&helper, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(want), "{path} lacks {want}");
    }
    for path in [
        "/household/H2",
        "/my/household/H2",
        "/my/household/H2/visit",
        "/api/v1/households/H2",
        "/api/v1/households/H2/history",
        "/household/NOPE",
    ] {
        let (status, page) = app.get(&helper, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!page.contains("王五"), "{path} shows the unpaired household");
    }
    // The unpaired household answers exactly like one that does not exist.
    assert_eq!(app.get(&helper, "/api/v1/households/H2").await.1, app.get(&helper, "/api/v1/households/NOPE").await.1);
    for path in ["/search?q=王五", "/search?q=H2", "/api/v1/search?q=王五", "/my"] {
        let (status, page) = app.get(&helper, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            !page.contains("household/H2") && !page.contains("\"hh_id\":\"H2\""),
            "{path} finds the unpaired household"
        );
    }
    assert!(app.get(&helper, "/api/v1/search?q=王五").await.1.contains("\"hits\":[]"));
    let (status, xlsx) = bytes(&app, &helper, "/search?q=王&format=xlsx").await;
    assert_eq!(status, 200);
    assert_eq!(cells(&xlsx).len(), 1, "the download holds the header only: {:?}", cells(&xlsx));
    let (_, xlsx) = bytes(&app, &helper, "/search?q=张&format=xlsx").await;
    let keys: Vec<String> = cells(&xlsx)[1..].iter().map(|r| r[3].clone()).collect();
    assert!(!keys.is_empty() && keys.iter().all(|k| k == "H1"), "{keys:?}");
    // Area overviews, dashboards and lists are not a helper cadre's: 403, not a list
    // of the whole village; their home is 我的农户.
    for path in [
        format!("/area/{V1}"),
        format!("/area/{V1}?format=xlsx"),
        "/dashboard".to_owned(),
        format!("/households?area={V1}"),
        format!("/api/v1/areas/{V1}"),
        format!("/api/v1/areas/{V1}/households"),
    ] {
        let (status, page) = app.get(&helper, &path).await;
        assert_eq!(status, 403, "{path}");
        assert!(!page.contains("王五"), "{path}");
    }
    let r = helper.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.headers()["location"].to_str().unwrap()), (303, "/my"));
    // A village cadre of the same village still sees both households.
    let cadre = app.signed_in("village").await;
    assert_eq!(app.get(&cadre, "/household/H2").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairing_counts_only_between_its_dates() {
    let app = spawn_app().await;
    let helper = signed_in_plain(&app, "helper").await;
    let set = |from: &'static str, to: Option<&'static str>| {
        let pool = app.db.store.pool().clone();
        async move {
            sqlx::query("UPDATE pairings SET from_date = $1, to_date = $2 WHERE hh_id = 'H1'")
                .bind(from)
                .bind(to)
                .execute(&pool)
                .await
                .unwrap();
        }
    };
    // The application's today is 2026-06-01.
    for (from, to, status) in [
        ("2019-03-01", Some("2026-05-31"), 404),
        ("2026-06-02", None, 404),
        ("2019-03-01", Some("2026-06-01"), 200),
        ("2026-06-01", None, 200),
    ] {
        set(from, to).await;
        for path in ["/household/H1", "/my/household/H1", "/api/v1/households/H1"] {
            assert_eq!(app.get(&helper, path).await.0, status, "{path} with a pairing {from} – {to:?}");
        }
        let (_, list) = app.get(&helper, "/my").await;
        assert_eq!(list.contains("/my/household/H1"), status == 200, "/my with a pairing {from} – {to:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_sees_only_their_departments_columns() {
    let app = spawn_app().await;
    let mut w = app.db.store.writer(Actor::System).await.unwrap();
    w.set_fields(&PERSONS, "P1", &[("dibao", Value::Int(1))], "民政认定低保").await.unwrap();
    w.set_fields(&INCOMES, "H1|2020", &[("dibao_money", Value::Int(360_000))], "低保金").await.unwrap();
    w.commit().await.unwrap();
    // The demo department officer is 民政's (03).
    let civil = signed_in_plain(&app, "department").await;
    let (status, page) = app.get(&civil, "/household/H1").await;
    assert_eq!(status, 200);
    for want in ["张三", "李四", "H1", "是否享受低保", "低保金", "民政认定低保"] {
        assert!(page.contains(want), "the page lacks {want}");
    }
    // 劳动技能, 电话, 在校生状况, 工资性收入, 结对帮扶 and the history of other columns
    // are other departments' and not on the page at all.
    for hidden in
        ["劳动技能", "普通劳动力", "联系电话", "139****5678", "在校生状况", "工资性收入", "刘帮扶", "户主更换手机号"]
    {
        assert!(!page.contains(hidden), "the page shows {hidden}");
    }
    let (status, json) = app.get(&civil, "/api/v1/households/H1").await;
    assert_eq!(status, 200);
    assert!(json.contains("\"name\":\"dibao\"") && json.contains("\"name\":\"dibao_money\""), "{json}");
    for hidden in ["\"labour\"", "\"phone\"", "\"school_status\"", "\"wages\"", "\"id_number\"", "刘帮扶", "\"toilet\""]
    {
        assert!(!json.contains(hidden), "the API answer holds {hidden}: {json}");
    }
    let (_, history) = app.get(&civil, "/api/v1/households/H1/history").await;
    assert!(history.contains("\"field\":\"dibao\""), "{history}");
    // Neither the field nor the number, in any form (not "138": a hash or a time may hold it).
    for hidden in ["\"field\":\"phone\"", "13800001111", "138****1111", "户主更换手机号"] {
        assert!(!history.contains(hidden), "the history holds {hidden}: {history}");
    }
    // Searches and downloads leave the other columns out too; the county is in scope.
    let (_, found) = app.get(&civil, "/api/v1/search?q=孙七").await;
    assert!(found.contains("\"hh_id\":\"H4\"") && found.contains("\"id_number\":null"), "{found}");
    assert!(!found.contains("610981196601010057") && !found.contains("\"relation\":\"01\""), "{found}");
    let (_, xlsx) = bytes(&app, &civil, &format!("/area/{V1}?format=xlsx")).await;
    let rows = cells(&xlsx);
    assert_eq!(rows[0], ["户编号", "户主", "人数"], "{rows:?}");
    // Reveal: only a column of their own department, and 民政 owns no personal number.
    let form = [("table", "persons"), ("key", "P1"), ("field", "id_number"), ("reason", "核对")];
    let r = civil
        .post(format!("{}/household/H1/reveal", app.base))
        .header("Origin", app.origin())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_no_secrets(&r.text().await.unwrap(), "a 民政 reveal");

    // 公安 (07) sees and may reveal 证件号码, but not 低保.
    let by = ChangedBy { name: "test", remote_addr: None };
    let request = AccountRequest {
        username: "police",
        display_name: "",
        role: fupin_store::users::Role::DepartmentOfficer,
        area: "610981",
        password: Some("gongan-mima-2026"),
        department: Some("公安"),
    };
    accounts::add_user(&app.db.store, by, &request).await.unwrap();
    let police = no_redirects();
    assert_eq!(app.login_as(&police, "police", "gongan-mima-2026").await.status(), 303);
    let (_, json) = app.get(&police, "/api/v1/households/H1").await;
    assert!(json.contains("\"id_number\"") && !json.contains("\"dibao\""), "{json}");
    assert_no_secrets(&json, "公安's API answer");
    let r = police
        .post(format!("{}/household/H1/reveal", app.base))
        .header("Origin", app.origin())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(ID_ZHANG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_is_required_for_department_officers_and_only_for_them() {
    let app = spawn_app().await;
    let by = ChangedBy { name: "test", remote_addr: None };
    let request = |username, role, department| AccountRequest {
        username,
        display_name: "",
        role,
        area: "610981",
        password: None,
        department,
    };
    use fupin_store::users::Role::{CountyAdmin, DepartmentOfficer};
    for (req, want) in [
        (request("d1", DepartmentOfficer, None), "须指定部门"),
        (request("d2", DepartmentOfficer, Some("消防")), "未知部门“消防”"),
        (request("d3", CountyAdmin, Some("03")), "只有部门数据员"),
    ] {
        let e = accounts::add_user(&app.db.store, by, &req).await.unwrap_err().to_string();
        assert!(e.contains(want), "{e}");
    }
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM users WHERE username LIKE 'd_'").await, 0);
    accounts::add_user(&app.db.store, by, &request("d4", DepartmentOfficer, Some("医保"))).await.unwrap();
    let stored = fupin_store::users::find(&app.db.store, "d4").await.unwrap().unwrap();
    assert_eq!(stored.department.as_deref(), Some("02"));
    // Changing to another role drops the department; back to department officer needs one.
    accounts::change_role(&app.db.store, by, "d4", CountyAdmin, None, None).await.unwrap();
    assert_eq!(fupin_store::users::find(&app.db.store, "d4").await.unwrap().unwrap().department, None);
    let e = accounts::change_role(&app.db.store, by, "d4", DepartmentOfficer, None, None).await.unwrap_err();
    assert!(e.to_string().contains("须指定部门"), "{e}");
    accounts::change_role(&app.db.store, by, "d4", DepartmentOfficer, None, Some("03")).await.unwrap();
    accounts::change_role(&app.db.store, by, "d4", DepartmentOfficer, None, None).await.unwrap();
    assert_eq!(fupin_store::users::find(&app.db.store, "d4").await.unwrap().unwrap().department.as_deref(), Some("03"));

    // The admin form: a missing department is refused with the reason, nothing created.
    let admin = app.signed_in(ADMIN).await;
    let post = |form: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        let url = format!("{}/admin/users", app.base);
        let origin = app.origin().to_owned();
        async move {
            let r = admin.post(url).header("Origin", origin).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let base = vec![("username", "minzheng"), ("role", "department_officer"), ("area", "610981"), ("password", "")];
    let (status, page) = post(base.clone()).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("须指定部门"), "{page}");
    let (status, page) = post([base.clone(), vec![("department", "99")]].concat()).await;
    assert_eq!(status, 422);
    assert!(page.contains("未知部门"), "{page}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM users WHERE username = 'minzheng'").await, 0);
    let (status, page) = post([base, vec![("department", "03")]].concat()).await;
    assert_eq!(status, 200, "{page}");
    let (_, page) = app.get(&admin, "/admin/users/minzheng").await;
    assert!(page.contains("03 民政"), "{page}");
}

/// Fifty requests at once by six users of different scopes (county, township, village,
/// helper cadre, department officer, inspector), mixed over households, lists, search,
/// downloads and the API: each answer is the one that user gets alone. The caches
/// (sessions, households, divisions) are shared by all; none may hand one user's view
/// to another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_of_different_users_each_get_their_own_scope() {
    let app = spawn_app().await;
    let users = ["admin", "township", "village", "helper", "department", "inspector"];
    let mut clients = Vec::new();
    for u in users {
        clients.push(signed_in_plain(&app, u).await);
    }
    let paths: Vec<String> = vec![
        "/household/H1".into(),
        "/household/H3".into(),
        "/household/H4".into(),
        "/my/household/H1".into(),
        "/my/household/H4".into(),
        "/my".into(),
        "/api/v1/households/H1".into(),
        "/api/v1/households/H4".into(),
        "/api/v1/households/H1/history".into(),
        format!("/api/v1/areas/{TOWN_B}/households"),
        format!("/area/{V1}?format=xlsx"),
        format!("/area/{V3}"),
        format!("/households?area={COUNTY}&format=xlsx"),
        "/search?q=H4".into(),
        "/api/v1/search?q=孙七".into(),
        "/".into(),
    ];
    let fetch = |client: reqwest::Client, url: String| async move {
        let r = client.get(url).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    };
    // Alone, one after another.
    let mut alone = std::collections::HashMap::new();
    for (u, client) in users.iter().zip(&clients) {
        for p in &paths {
            alone.insert((*u, p.clone()), fetch(client.clone(), format!("{}{p}", app.base)).await);
        }
    }
    let statuses: std::collections::BTreeSet<u16> = alone.values().map(|(s, _)| *s).collect();
    assert!(statuses.contains(&200) && statuses.contains(&404), "scopes differ: {statuses:?}");
    // At once: 50 requests, each user and path in turn, three times over.
    for round in 0..3 {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..50 {
            let u = (i + round) % users.len();
            let p = paths[(i * 7 + round) % paths.len()].clone();
            let url = format!("{}{p}", app.base);
            let f = fetch(clients[u].clone(), url);
            set.spawn(async move { (users[u], p, f.await) });
        }
        while let Some(done) = set.join_next().await {
            let (u, p, (status, body)) = done.unwrap();
            let (s0, b0) = &alone[&(u, p.clone())];
            assert_eq!(status, *s0, "{u} GET {p} at once answers as alone");
            // A workbook by its cells (its file carries the time it was written).
            let same = if p.contains("xlsx") && status == 200 { cells(&body) == cells(b0) } else { body == *b0 };
            assert!(same, "{u} GET {p} at once has the same content as alone");
        }
    }
}
