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
    token_on(&create_token(app, &client, &app.passwords[user], "走访脚本").await.text().await.unwrap())
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

/// POSTs an explanation step as JSON with a bearer token and no `Origin`: what a
/// script sends. The answer never holds a personal number in full.
async fn explain(app: &TestApp, token: &str, id: i64, body: &Value) -> (u16, Value) {
    let r = script()
        .post(format!("{}/api/v1/findings/{id}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_no_secrets(&text, "an explanation's answer");
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

/// The finding's state and proposer as stored.
async fn stored(app: &TestApp, id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, proposed_by FROM findings WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_explains_a_finding_with_the_pages_checks() {
    let app = spawn_app().await;
    let ids = crate::findings::seed(
        &app,
        &[("M.E", "error", "H1", V1), ("M.W", "warning", "H3", V2), ("M.F", "error", "H2", V1)],
    )
    .await;
    let (error_h1, warning_h3, error_h2) = (ids[0], ids[1], ids[2]);
    // A village cadre of another village (西关村), with a token like the others.
    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    let request = fupin_app::accounts::AccountRequest {
        username: "village2",
        display_name: "",
        role: fupin_store::users::Role::VillageCadre,
        area: V2,
        password: None,
        department: None,
    };
    let password = fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
    let client = app.client();
    assert_eq!(app.login_as(&client, "village2", &password).await.status(), 200);
    let village2 = token_on(&create_token(&app, &client, &password, "说明脚本").await.text().await.unwrap());
    let village = token_of(&app, "village").await;
    let township = token_of(&app, "township").await;
    let helper = token_of(&app, "helper").await;
    let events = || app.sql_count("SELECT COUNT(*) FROM change_log WHERE entity = 'findings'");

    // One finding: open, no history yet; another village's cadre gets 404, as for a
    // missing one, and the attempt is in the security log.
    let (s, f) = get_json(&app, &script(), Some(&village), &format!("/api/v1/findings/{error_h1}")).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["rule_id"], "M.E");
    assert_eq!(f["status"], "open");
    assert_eq!(f["history"].as_array().unwrap().len(), 0);
    let refused = || app.sql_count("SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused'");
    let logged = refused().await;
    let (s, _) = get_json(&app, &script(), Some(&village2), &format!("/api/v1/findings/{error_h1}")).await;
    assert_eq!(s, 404);
    let (s, _) = get_json(&app, &script(), Some(&village), "/api/v1/findings/99999").await;
    assert_eq!(s, 404, "a missing finding answers the same");
    let propose = |reason: &str| json!({ "action": "propose", "reason": reason });
    let (s, answer) = explain(&app, &village2, error_h1, &propose("不是本村的")).await;
    assert_eq!(s, 404, "{answer}");
    assert_eq!(refused().await, logged + 2, "both attempts outside the village are logged");
    // A helper cadre sees the finding of their paired household, but explains nothing.
    let (s, _) = get_json(&app, &script(), Some(&helper), &format!("/api/v1/findings/{error_h1}")).await;
    assert_eq!(s, 200, "H1 is paired with the helper");
    let (s, _) = get_json(&app, &script(), Some(&helper), &format!("/api/v1/findings/{error_h2}")).await;
    assert_eq!(s, 404, "H2 of the same village is not");
    let (s, answer) = explain(&app, &helper, error_h1, &propose("帮扶责任人的说明")).await;
    assert_eq!(s, 403, "{answer}");
    assert_eq!(events().await, 0, "refused steps wrote nothing");

    // Bad bodies: 422 with the reason, nothing written.
    let bad = [
        (json!({ "action": "propose" }), "理由"),
        (json!({ "action": "propose", "reason": "   " }), "理由"),
        (json!({ "action": "explain", "reason": "x" }), "propose、confirm 或 reject"),
        (json!({ "action": "propose", "reason": "x", "extra": 1 }), "JSON"),
        (json!({ "reason": "x" }), "JSON"),
        (json!({ "action": "propose", "reason": "字".repeat(501) }), "500"),
    ];
    for (body, why) in &bad {
        let (s, answer) = explain(&app, &village, error_h1, body).await;
        assert_eq!(s, 422, "{body}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{body}: {answer}");
    }
    assert_eq!(events().await, 0);
    assert_eq!(stored(&app, error_h1).await, ("open".into(), None));

    // The village cadre proposes (an ID number in the reason stays masked); an error
    // waits for the township. The cadre may not confirm it, nor propose twice.
    let reason = format!("户主证件 {ID_ZHANG} 正在补办");
    let (s, f) = explain(&app, &village, error_h1, &propose(&reason)).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["status"], "proposed");
    assert_eq!(f["proposed_by"], "village");
    assert!(f["proposed_reason"].as_str().unwrap().contains("正在补办"));
    assert_eq!(stored(&app, error_h1).await, ("open".into(), Some("village".into())));
    let (s, answer) = explain(&app, &village, error_h1, &json!({ "action": "confirm" })).await;
    assert_eq!(s, 403, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("乡镇干部"), "{answer}");
    let (s, answer) = explain(&app, &village, error_h1, &propose("再说一次")).await;
    assert_eq!(s, 422, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("待确认"), "{answer}");

    // The township officer confirms: explained; confirming again finds nothing to confirm.
    let (s, f) = explain(&app, &township, error_h1, &json!({ "action": "confirm" })).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["status"], "explained");
    assert_eq!(f["confirmed_by"], "township");
    assert_eq!(stored(&app, error_h1).await.0, "explained");
    let (s, answer) = explain(&app, &township, error_h1, &json!({ "action": "confirm" })).await;
    assert_eq!(s, 422, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("没有待确认的说明"), "{answer}");

    // The proposer may not confirm their own; a rejection needs a reason, and reopens.
    let (s, _) = explain(&app, &township, error_h2, &propose("核实中")).await;
    assert_eq!(s, 200);
    let (s, answer) = explain(&app, &township, error_h2, &json!({ "action": "confirm" })).await;
    assert_eq!(s, 422);
    assert!(answer["error"].as_str().unwrap().contains("提出人以外"), "{answer}");
    let county = token_of(&app, "county").await;
    let (s, _) = explain(&app, &county, error_h2, &json!({ "action": "reject" })).await;
    assert_eq!(s, 422, "a rejection needs a reason");
    let (s, f) = explain(&app, &county, error_h2, &json!({ "action": "reject", "reason": "材料不足" })).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["status"], "open");
    assert_eq!(stored(&app, error_h2).await, ("open".into(), None));

    // A warning of the township's other village: explained at once; not the village's.
    let (s, _) = explain(&app, &village, warning_h3, &propose("外出务工")).await;
    assert_eq!(s, 404);
    let (s, f) = explain(&app, &township, warning_h3, &propose("外出务工收入未申报")).await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["status"], "explained");

    // Each step is in the change history: the finding's own, oldest first, and the
    // household's; and the chain still verifies.
    assert_eq!(events().await, 5, "H1: proposed, confirmed; H2: proposed, rejected; H3: explained");
    let (s, f) = get_json(&app, &script(), Some(&village), &format!("/api/v1/findings/{error_h1}")).await;
    assert_eq!(s, 200);
    let history = f["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{f}");
    assert_eq!(history[0]["actor"], "user:village");
    assert!(history[0]["reason"].as_str().unwrap().starts_with("提出说明："), "{f}");
    assert_eq!(history[0]["new_value"], "待确认");
    assert_eq!(history[1]["actor"], "user:township");
    assert_eq!(history[1]["reason"], "确认说明");
    assert_eq!(history[1]["new_value"], "已说明");
    let (_, h) = get_json(&app, &script(), Some(&village), "/api/v1/households/H1/history").await;
    let steps = h["records"].as_array().unwrap().iter().filter(|r| r["entity"] == "findings").count();
    assert_eq!(steps, 2, "the household's history has both steps");
    let (_, h2) = get_json(&app, &script(), Some(&county), &format!("/api/v1/findings/{error_h2}")).await;
    let reasons: Vec<&str> = h2["history"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["提出说明：核实中", "退回说明：材料不足"]);
    let report = fupin_store::audit::verify(&app.db.store, None, &[]).await.expect("verified");
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);

    // A cookie POST needs the site's own origin, like every form.
    let browser = app.signed_in("township").await;
    let r = browser
        .post(format!("{}/api/v1/findings/{warning_h3}", app.base))
        .header("content-type", "application/json")
        .body(json!({ "action": "confirm" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no Origin with a cookie");
    assert_eq!(events().await, 5);
}
