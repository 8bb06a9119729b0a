//! The API's dashboard, visits, review and findings answers: the page's numbers (and
//! plain SQL counts) inside the caller's area, 404 outside it, 403 for roles the route
//! is not for, and visits recorded by token once per key, with cookie posts still
//! bound to the site's own origin.

use reqwest::Client;
use serde_json::{Value, json};

use crate::api::{create_token, get_json, script, token_on};
use crate::support::*;

/// The line of `code` among a dashboard's children.
fn child<'a>(dashboard: &'a Value, code: &str) -> &'a Value {
    dashboard["children"].as_array().unwrap().iter().find(|c| c["code"] == code).unwrap_or_else(|| panic!("no {code}"))
}

/// The count of `status` in a figures object's `by_status`.
fn by_status(figures: &Value, status: &str, what: &str) -> i64 {
    let line = figures["by_status"].as_array().unwrap().iter().find(|s| s["status"] == status).unwrap();
    line[what].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_answers_the_pages_numbers() {
    let app = spawn_app().await;
    let admin = app.signed_in(ADMIN).await;
    let (s, d) = get_json(&app, &admin, None, &format!("/api/v1/dashboard/{COUNTY}?year=2026")).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["year"], 2026);
    assert_eq!(d["area"]["name"], "旬阳市");
    assert_eq!(d["threshold_percent"], 3.0, "the Shaanxi exit threshold from data/policy/exit.csv");
    let town_a = child(&d, TOWN_A);
    assert_eq!(by_status(town_a, "2", "households"), 1, "H1");
    assert_eq!(by_status(town_a, "2", "persons"), 3, "张三's household");
    assert_eq!(by_status(town_a, "3", "households"), 1, "H2");
    assert_eq!(by_status(child(&d, TOWN_B), "2", "households"), 1, "H4");
    assert_eq!(town_a["incidence_percent"], 60.0, "城关镇: 3 of 5 persons are in registered poor households");
    assert_eq!(town_a["below_threshold"], false);
    assert_eq!(d["total"]["monitored_households"], 1, "H2; H3's risk is cleared");
    let cleared = d["monitoring"].as_array().unwrap().iter().find(|m| m["monitor_type"] == "2").unwrap();
    assert_eq!(cleared["cleared"], 1, "H3");
    let all = app.sql_count("SELECT COUNT(*) FROM households").await;
    assert_eq!(d["total"]["households"], all);
    let persons = app.sql_count(&format!("SELECT COUNT(*) FROM persons p JOIN households h ON h.hh_id = p.hh_id WHERE h.village_code LIKE '{TOWN_A}%'")).await;
    assert_eq!(town_a["persons"], persons);
    let due = d["visits"]["children"].as_array().unwrap().iter().find(|c| c["code"] == TOWN_A).unwrap();
    assert!(due["due"].as_i64().unwrap() >= 2, "H1 and H2 are due a visit: {due}");
    assert_eq!(due["visited"], 0);
    assert_eq!(d["visits"]["quarter_start"], "2026-04-01");

    // A village cadre: their village (its one line), nothing else; a helper cadre 403.
    let village = app.signed_in("village").await;
    let (s, v) = get_json(&app, &village, None, &format!("/api/v1/dashboard/{V1}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["children"].as_array().unwrap().len(), 1);
    assert_eq!(child(&v, V1)["households"], 2);
    for out in [V2, TOWN_A, COUNTY, "nonsense"] {
        let (s, body) = get_json(&app, &village, None, &format!("/api/v1/dashboard/{out}")).await;
        assert_eq!(s, 404, "{out}: {body}");
    }
    let helper = app.signed_in("helper").await;
    let (s, body) = get_json(&app, &helper, None, &format!("/api/v1/dashboard/{V1}")).await;
    assert_eq!(s, 403);
    assert!(body["error"].as_str().unwrap().contains("结对"));
}

/// POSTs a visit as JSON with a bearer token and no `Origin`: what a script sends.
async fn post_visit(app: &TestApp, token: &str, hh: &str, body: &Value) -> (u16, Value) {
    let r = script()
        .post(format!("{}/api/v1/households/{hh}/visits", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

async fn token_of(app: &TestApp, user: &str) -> String {
    let client = app.signed_in(user).await;
    token_on(&create_token(app, &client, "走访脚本").await.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_records_a_visit_once_per_key() {
    let app = spawn_app().await;
    let token = token_of(&app, "village").await;
    let visits = || app.sql_count("SELECT COUNT(*) FROM visits WHERE hh_id = 'H1'");
    let before = visits().await;
    let body = json!({
        "visited_on": "2026-05-20", "mode": "phone",
        "notes": format!("电话问候，核对证件 {ID_ZHANG}"), "key": "script-visit-0001-abcdef",
    });
    let (s, first) = post_visit(&app, &token, "H1", &body).await;
    assert_eq!(s, 201, "{first}");
    assert_eq!(first["new"], true);
    assert_eq!(first["visit"]["visitor"], "village");
    assert_eq!(first["visit"]["mode_label"], "电话联系");
    assert!(!first.to_string().contains(ID_ZHANG), "notes are masked: {first}");
    let (s, again) = post_visit(&app, &token, "H1", &body).await;
    assert_eq!(s, 200, "the same key again: {again}");
    assert_eq!(again["new"], false);
    assert_eq!(again["visit"]["id"], first["visit"]["id"]);
    assert_eq!(visits().await, before + 1, "one visit for one key");

    let (s, list) = get_json(&app, &script(), Some(&token), "/api/v1/households/H1/visits").await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], before + 1);
    assert_eq!(list["visits"][0]["visited_on"], "2026-05-20");
    assert_eq!(list["visits"][0]["mode"], "phone");

    // Bad fields: 422 with the reason, nothing written.
    let bad = [
        (json!({ "visited_on": "2026-06-02", "mode": "phone", "key": "script-visit-0002-abcdef" }), "晚于今天"),
        (json!({ "visited_on": "2026-13-01", "mode": "phone", "key": "script-visit-0003-abcdef" }), "日期无效"),
        (json!({ "visited_on": "2026-05-01", "mode": "fax", "key": "script-visit-0004-abcdef" }), "走访方式"),
        (json!({ "visited_on": "2026-05-01", "mode": "phone", "key": "short" }), "key"),
        (json!({ "visited_on": "2026-05-01", "mode": "phone" }), "JSON"),
        (
            json!({ ID_ZHANG: "姓名", "visited_on": "2026-05-01", "mode": "phone", "key": "script-visit-0008-abcdef" }),
            "JSON",
        ),
        (
            json!({ "visited_on": "2026-05-01", "mode": "phone", "key": "script-visit-0005-abcdef",
                 "notes": "字".repeat(2001) }),
            "最多",
        ),
    ];
    for (body, why) in &bad {
        let (s, answer) = post_visit(&app, &token, "H1", body).await;
        assert_eq!(s, 422, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{body}: {answer}");
        assert!(!answer.to_string().contains(ID_ZHANG), "the reason repeats no ID number: {answer}");
    }
    assert_eq!(visits().await, before + 1, "refused visits wrote nothing");

    // Outside the village: 404, nothing written; a read-only role: 403.
    let (s, _) = post_visit(
        &app,
        &token,
        "H3",
        &json!({ "visited_on": "2026-05-20", "mode": "phone",
        "key": "script-visit-0006-abcdef" }),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = get_json(&app, &script(), Some(&token), "/api/v1/households/H3/visits").await;
    assert_eq!(s, 404);
    let inspector = token_of(&app, "inspector").await;
    let (s, answer) = post_visit(
        &app,
        &inspector,
        "H1",
        &json!({ "visited_on": "2026-05-20", "mode": "phone",
        "key": "script-visit-0007-abcdef" }),
    )
    .await;
    assert_eq!(s, 403, "{answer}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_post_to_the_api_must_come_from_the_site() {
    let app = spawn_app().await;
    let browser = app.signed_in("village").await;
    let url = format!("{}/api/v1/households/H1/visits", app.base);
    let body = json!({ "visited_on": "2026-05-20", "mode": "in_person", "key": "cookie-visit-0001-abcdef" });
    let r = browser.post(&url).header("content-type", "application/json").body(body.to_string()).send().await.unwrap();
    assert_eq!(r.status(), 403, "no Origin with a cookie");
    let r = browser
        .post(&url)
        .header("Origin", "http://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "another site with the cookie");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, 0, "nothing written");
    let r = browser
        .post(&url)
        .header("Origin", app.origin())
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "the site's own page");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, 1);
    // A broken token is 401 even with a live cookie beside it: the token alone counts.
    let r = browser
        .post(&url)
        .bearer_auth("fupin_nonsense")
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Sends an offline correction based on version 0 (so it is flagged for review).
async fn flag_correction(app: &TestApp, client: &Client, hh: &str, key: &str) {
    let r = client
        .post(format!("{}/my/household/{hh}/change", app.base))
        .header("Origin", app.origin())
        .form(&[
            ("key", key),
            ("version", "0"),
            ("target", "household"),
            ("field", "households.phone"),
            ("value", "13900002222"),
            ("reason", "接口测试"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_list_holds_the_flagged_corrections_of_the_area() {
    let app = spawn_app().await;
    let village = app.signed_in("village").await;
    flag_correction(&app, &village, "H1", "api-review-key-0001").await;
    let county = app.signed_in("county").await;
    flag_correction(&app, &county, "H4", "api-review-key-0002").await;
    let pending = app.sql_count("SELECT COUNT(*) FROM offline_edits WHERE status = 'pending'").await;
    assert_eq!(pending, 2, "both were flagged");

    let (s, r) = get_json(&app, &village, None, "/api/v1/review").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["total"], 1, "H4 lies outside the village");
    let line = &r["corrections"][0];
    assert_eq!(line["hh_id"], "H1");
    assert_eq!(line["head_name"], "张三");
    assert_eq!(line["field"], "phone");
    assert_eq!(line["proposed"], "139****2222", "masked like the page");
    assert!(!r.to_string().contains(PHONE_H1));
    let (s, all) = get_json(&app, &county, None, "/api/v1/review").await;
    assert_eq!(s, 200);
    assert_eq!(all["total"], pending);
    for user in ["inspector", "department", "helper"] {
        let client = app.signed_in(user).await;
        let (s, body) = get_json(&app, &client, None, "/api/v1/review").await;
        assert_eq!(s, 403, "{user}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_findings_worklist_is_filtered_and_scoped() {
    let app = spawn_app().await;
    crate::findings::seed(
        &app,
        &[
            ("M.A", "warning", "H4", V3),
            ("M.B", "error", "H1", V1),
            ("M.C", "warning", "H1", V1),
            ("M.D", "info", "H3", V2),
        ],
    )
    .await;
    let village = app.signed_in("village").await;
    let (s, f) = get_json(&app, &village, None, "/api/v1/findings").await;
    assert_eq!(s, 200, "{f}");
    let mine = app.sql_count(&format!("SELECT COUNT(*) FROM findings WHERE village_code = '{V1}'")).await;
    assert_eq!(f["total"], mine);
    assert_eq!(mine, 2);
    assert!(f["findings"].as_array().unwrap().iter().all(|x| x["hh_id"] == "H1"));
    assert_eq!(f["findings"][0]["status"], "open");
    let (_, errors) = get_json(&app, &village, None, "/api/v1/findings?severity=error&status=open").await;
    assert_eq!(errors["total"], 1);
    assert_eq!(errors["findings"][0]["rule_id"], "M.B");
    let (_, none) = get_json(&app, &village, None, "/api/v1/findings?status=fixed").await;
    assert_eq!(none["total"], 0);
    for bad in ["severity=fatal", "status=gone", "year=soon"] {
        let (s, body) = get_json(&app, &village, None, &format!("/api/v1/findings?{bad}")).await;
        assert_eq!(s, 400, "{bad}: {body}");
    }
    let (s, _) = get_json(&app, &village, None, &format!("/api/v1/findings?area={V2}")).await;
    assert_eq!(s, 404);

    let admin = app.signed_in(ADMIN).await;
    let (_, county) = get_json(&app, &admin, None, &format!("/api/v1/findings?area={COUNTY}")).await;
    assert_eq!(county["total"], app.sql_count("SELECT COUNT(*) FROM findings").await);
    let (_, rule) = get_json(&app, &admin, None, "/api/v1/findings?rule=M.A").await;
    assert_eq!(rule["total"], 1);
    assert_eq!(rule["findings"][0]["hh_id"], "H4");
    let helper = app.signed_in("helper").await;
    assert_eq!(get_json(&app, &helper, None, "/api/v1/findings").await.0, 403);
}
