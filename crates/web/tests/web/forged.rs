//! A forged request is refused, changes nothing, and is written to the security log
//! with who sent it (when it carried a session), what it asked and where it claimed to
//! come from.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_requests_are_refused_and_logged_with_who_and_what() {
    let app = spawn_app().await;
    let village = app.signed_in("village").await;
    let logged = || app.sql_count("SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused'");
    assert_eq!(logged().await, 0);
    let visits = || app.sql_count("SELECT COUNT(*) FROM visits");
    let before = visits().await;

    // A visit posted from another site's page, with the cadre's own cookie.
    let form = [("key", "forged-visit-key-000001"), ("visited_on", "2026-05-20"), ("mode", "phone"), ("notes", "x")];
    let r = village
        .post(format!("{}/my/household/H1/visit", app.base))
        .header("Origin", "http://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The same without any origin header (a script, not a browser).
    let r = village.post(format!("{}/my/household/H1/visit", app.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(visits().await, before, "nothing was recorded");

    assert_eq!(logged().await, 2, "both refusals are in the security log");
    let by_cadre = app
        .sql_count(
            "SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused' AND username = 'village' \
             AND detail LIKE '%POST /my/household/H1/visit%'",
        )
        .await;
    assert_eq!(by_cadre, 2, "the log names the session's user and the path");
    let cross = app
        .sql_count(
            "SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused' AND detail LIKE 'cross-site:%' \
             AND detail LIKE '%evil.example%'",
        )
        .await;
    assert_eq!(cross, 1, "the claimed origin is kept");

    // The admin's log page shows them.
    let admin = app.signed_in(ADMIN).await;
    let (status, page) = app.get(&admin, "/admin/auth-log").await;
    assert_eq!(status, 200);
    assert!(page.contains("拒绝伪造或跨站请求"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_outside_the_area_answers_not_found_and_the_attempt_is_logged() {
    let app = spawn_app().await;
    let village = app.signed_in("village").await;
    let sql = |hh: &str| {
        format!(
            "SELECT COUNT(*) FROM auth_log WHERE event = 'request_refused' AND username = 'village' \
             AND detail = 'out of scope: household {hh}'"
        )
    };
    // H3 is another village's: the same 404 as a household that does not exist.
    let (status, outside) = app.get(&village, "/household/H3").await;
    let (missing_status, missing) = app.get(&village, "/household/H999").await;
    assert_eq!((status, missing_status), (404, 404));
    assert_eq!(outside, missing, "nothing tells an existing household from a missing one");
    assert_eq!(app.sql_count(&sql("H3")).await, 1, "the attempt on an existing household is in the security log");
    assert_eq!(app.sql_count(&sql("H999")).await, 0, "a number that exists nowhere is just not found");
    // The API and the phone card log it the same way.
    assert_eq!(app.get(&village, "/api/v1/households/H3").await.0, 404);
    assert_eq!(app.get(&village, "/my/household/H3").await.0, 404);
    assert_eq!(app.sql_count(&sql("H3")).await, 3);
}

/// Every route that changes something, posted by a signed-in county administrator (who
/// may use them all) from another site, as a cross-site fetch, or with no origin at all
/// (a script riding the cookie): 403 each time, and nothing written anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_changing_route_refuses_a_cross_site_or_originless_post() {
    let app = spawn_app().await;
    let admin = app.signed_in(ADMIN).await;
    let r = crate::api::create_token(&app, &admin, ADMIN_PASSWORD, "kept").await;
    assert_eq!(r.status(), 200, "a token to revoke");
    let tables = [
        "change_log",
        "reveal_log",
        "visits",
        "findings",
        "offline_edits",
        "sessions",
        "api_tokens WHERE revoked_at IS NULL",
        "users WHERE disabled = 0 AND role = 'village_cadre'",
    ];
    let counts = || async {
        let mut out = Vec::new();
        for t in tables {
            out.push((t, app.sql_count(&format!("SELECT COUNT(*) FROM {t}")).await));
        }
        out
    };
    let before = counts().await;
    let mut answered = Vec::new();
    for route in fupin_web::routes().into_iter().filter(|r| r.method != reqwest::Method::GET) {
        let path = route
            .path
            .replace("{hh_id}", "H1")
            .replace("{code}", V1)
            .replace("{change}", "correct")
            .replace("{key}", "none")
            .replace("{id}", "1")
            .replace("{username}", "village");
        let form = [("reason", "核对"), ("name", "kept"), ("field", "phone"), ("role", "inspector")];
        let url = format!("{}{path}", app.base);
        let forged = [
            admin.post(&url).header("Origin", "http://evil.example").form(&form),
            admin.post(&url).header("Sec-Fetch-Site", "cross-site").form(&form),
            admin.post(&url).form(&form),
        ];
        for (how, request) in ["another origin", "a cross-site fetch", "no origin"].into_iter().zip(forged) {
            let status = request.send().await.unwrap().status().as_u16();
            if status != 403 {
                answered.push(format!("{} {path} ({how}): {status}", route.method));
            }
        }
    }
    assert!(answered.is_empty(), "not refused:\n{}", answered.join("\n"));
    assert_eq!(counts().await, before, "nothing was written");
}
