//! The route matrix: every route of the router's own table ([`fupin_web::routes`]) ×
//! every role and signed out. Each cell asserts what the route's policy promises: 200
//! with content inside the user's area, 404 for an id outside it, 403 for a role the
//! page is not for, 303 to `/login` when signed out. A route without a case here
//! fails the test; a route without a policy does not compile.
//!
//! Longer than 600 lines because it is one table: a case per route of the router, kept
//! together so that a route missing from it is seen at a glance.

use fupin_web::{Policy, RouteSpec};
use reqwest::{Client, Response};

use crate::support::*;

/// A signed-in role and what lies inside and outside its area in the seeded county.
struct Who {
    user: &'static str,
    admin: bool,
    /// The name the overview (`/`) shows for the user's own area.
    home: &'static str,
    /// A division inside the area, its name, and one outside it.
    code_in: (&'static str, &'static str),
    code_out: &'static str,
    /// A household inside the area, its head's name, and one outside it.
    hh_in: (&'static str, &'static str),
    hh_out: &'static str,
    /// Names of places outside the area that no page may show.
    outside: &'static [&'static str],
    /// Columns (and their values) outside a department officer's department that no
    /// page or API answer may carry.
    hidden: &'static [&'static str],
}

/// What the 民政 department officer of the matrix may not see of 孙七 (H4): his
/// 劳动技能 (人社's), set up by the matrix; his 低保 (民政's) is shown.
const NOT_CIVIL_AFFAIRS: &[&str] = &["劳动技能", "普通劳动力", "\"labour\""];

const COUNTY_WIDE: [(&str, bool); 4] = [(ADMIN, true), ("county", true), ("department", false), ("inspector", false)];

fn roles() -> Vec<Who> {
    let mut out: Vec<Who> = COUNTY_WIDE
        .into_iter()
        .map(|(user, admin)| Who {
            user,
            admin,
            home: "旬阳市",
            code_in: (TOWN_B, "白柳镇"),
            // Another county: outside, and not in the registry either.
            code_out: "610982",
            hh_in: ("H4", "孙七"),
            hh_out: "NOPE",
            outside: &[],
            hidden: if user == "department" { NOT_CIVIL_AFFAIRS } else { &[] },
        })
        .collect();
    out.push(Who {
        user: "township",
        admin: false,
        home: "城关镇",
        code_in: (V2, "西关村"),
        code_out: TOWN_B,
        hh_in: ("H3", "赵六"),
        hh_out: "H4",
        outside: &["白柳镇", "白柳村", "孙七"],
        hidden: &[],
    });
    out.push(Who {
        user: "village",
        admin: false,
        home: "东关村",
        code_in: (V1, "东关村"),
        code_out: V2,
        hh_in: ("H1", "张三"),
        hh_out: "H3",
        outside: &["西关村", "白柳", "赵六", "孙七"],
        hidden: &[],
    });
    // A helper cadre: H1 is paired with their helper, H2 of the same village is not,
    // so it is outside their scope and answers like a household that does not exist.
    out.push(Who {
        user: "helper",
        admin: false,
        home: "东关村",
        code_in: (V1, "东关村"),
        code_out: V2,
        hh_in: ("H1", "张三"),
        hh_out: "H2",
        outside: &["西关村", "白柳", "赵六", "孙七", "王五"],
        hidden: &[],
    });
    out
}

/// The account the admin pages act on in the matrix.
const TARGET: &str = "target";

/// One request of a cell: the path with its ids filled in, a form for a POST, and a
/// text the answer must contain when allowed.
struct Case {
    path: String,
    form: Vec<(&'static str, String)>,
    want: String,
}

/// The request for a route as `who` (inside the area), and the same route with ids
/// outside it (when the route takes an id).
fn case(route: &RouteSpec, who: &Who) -> (Case, Option<String>) {
    let c = |path: String, want: &str| Case { path, form: Vec::new(), want: want.to_owned() };
    let form = |path: String, form: Vec<(&'static str, String)>, want: &str| Case { path, form, want: want.to_owned() };
    let user_path =
        |suffix: &str| (format!("/admin/users/{TARGET}{suffix}"), Some(format!("/admin/users/nobody{suffix}")));
    match (route.method.as_str(), route.path) {
        ("GET", "/") => (c("/".into(), who.home), None),
        ("GET", "/area/{code}") => {
            (c(format!("/area/{}", who.code_in.0), who.code_in.1), Some(format!("/area/{}", who.code_out)))
        }
        ("GET", "/household/{hh_id}") => {
            (c(format!("/household/{}", who.hh_in.0), who.hh_in.1), Some(format!("/household/{}", who.hh_out)))
        }
        ("GET", "/dashboard") => (c("/dashboard".into(), who.home), None),
        ("GET", "/dashboard/{code}") => {
            (c(format!("/dashboard/{}", who.code_in.0), who.code_in.1), Some(format!("/dashboard/{}", who.code_out)))
        }
        ("GET", "/households") => (
            c(format!("/households?area={}", who.code_in.0), &format!("/household/{}", who.hh_in.0)),
            Some(format!("/households?area={}", who.code_out)),
        ),
        // 问题清单 (tests/web/findings.rs tests it in depth): each editor explains the
        // warning seeded for it (see `matrix_findings`); another area's is 404.
        ("GET", "/findings") => (
            c(format!("/findings?area={}", who.code_in.0), &format!("/household/{}", who.hh_in.0)),
            Some(format!("/findings?area={}", who.code_out)),
        ),
        ("POST", "/findings/{id}") => {
            let (mine, other) = match who.user {
                ADMIN => (1, 999),
                "county" => (2, 999),
                "township" => (3, 1),
                _ => (4, 3),
            };
            let fields = vec![("action", "propose".into()), ("reason", format!("路由矩阵{}", who.user))];
            (
                form(format!("/findings/{mine}"), fields, &format!("路由矩阵{}", who.user)),
                Some(format!("/findings/{other}")),
            )
        }
        // 运行检查 (county admins): the default sets on the county, then the worklist.
        ("POST", "/findings/run") => (form("/findings/run".into(), Vec::new(), "检查已完成"), None),
        ("GET", "/search") => (c(format!("/search?q={}", who.hh_in.1), &format!("/household/{}", who.hh_in.0)), None),
        ("POST", "/search") => {
            let want = format!("/household/{}", who.hh_in.0);
            (form("/search".into(), vec![("q", who.hh_in.1.to_owned())], &want), None)
        }
        // 我的农户 and 记录走访 (tests/web/visit.rs tests them in depth).
        ("GET", "/my") => (c("/my".into(), &format!("/my/household/{}", who.hh_in.0)), None),
        ("GET", "/my/household/{hh_id}") => {
            (c(format!("/my/household/{}", who.hh_in.0), who.hh_in.1), Some(format!("/my/household/{}", who.hh_out)))
        }
        ("GET", "/my/household/{hh_id}/visit") => (
            c(format!("/my/household/{}/visit", who.hh_in.0), "保存走访"),
            Some(format!("/my/household/{}/visit", who.hh_out)),
        ),
        ("POST", "/my/household/{hh_id}/visit") => {
            let fields = vec![
                ("visited_on", "2026-05-30".into()),
                ("mode", "in_person".into()),
                ("notes", format!("路由矩阵 {}", who.user)),
                ("key", format!("route-matrix-{}-key", who.user.replace('.', "-"))),
            ];
            let path = |hh: &str| format!("/my/household/{hh}/visit");
            (form(path(who.hh_in.0), fields, "已记录走访"), Some(path(who.hh_out)))
        }
        // 拨打电话: H1 has the one phone number of the seed; a logged reveal, then tel:.
        ("POST", "/my/household/{hh_id}/call") => {
            let fields = vec![("reason", "路由矩阵 电话走访".into())];
            let path = |hh: &str| format!("/my/household/{hh}/call");
            (form(path("H1"), fields, &format!("tel:{PHONE_H1}")), Some(path(who.hh_out)))
        }
        // 离线更正 and its review (tests/web/offline_sync.rs and browser_offline.rs test
        // them in depth). Each editor sends a correction based on version 0, so it is
        // flagged; the review pages then list it, apply it, and a discard after that
        // says it is decided. Another area's proposal (the county's, on H4) is 404.
        ("GET", "/my/household/{hh_id}/change") => (
            c(format!("/my/household/{}/change", who.hh_in.0), "保存更正"),
            Some(format!("/my/household/{}/change", who.hh_out)),
        ),
        ("POST", "/my/household/{hh_id}/change") => {
            let fields = vec![
                ("key", matrix_key(who.user)),
                ("version", "0".into()),
                ("target", "household".into()),
                ("field", "households.phone".into()),
                ("value", "13900002222".into()),
                ("reason", "路由矩阵".into()),
            ];
            let path = |hh: &str| format!("/my/household/{hh}/change");
            (form(path(who.hh_in.0), fields, "已提交审核"), Some(path(who.hh_out)))
        }
        ("GET", "/my/outbox") => (c("/my/outbox".into(), "离线待发"), None),
        ("GET", "/review") => (c("/review".into(), who.hh_in.1), None),
        ("GET", "/review/{key}") => {
            (c(format!("/review/{}", matrix_key(who.user)), who.hh_in.1), Some(other_review(who)))
        }
        ("POST", "/review/{key}/apply") => {
            let fields = vec![("reason", "路由矩阵".into()), ("version", "999999999".into())];
            (
                form(format!("/review/{}/apply", matrix_key(who.user)), fields, "已采纳"),
                Some(format!("{}/apply", other_review(who))),
            )
        }
        ("POST", "/review/{key}/discard") => {
            let fields = vec![("reason", "路由矩阵".into())];
            (
                form(format!("/review/{}/discard", matrix_key(who.user)), fields, "已由"),
                Some(format!("{}/discard", other_review(who))),
            )
        }
        ("GET", "/login") => (c("/login".into(), "用户名"), None),
        ("POST", "/login") => (
            form("/login".into(), vec![("username", "nobody".into()), ("password", "x".into())], "用户名或密码不正确"),
            None,
        ),
        ("POST", "/logout") => (c("/logout".into(), ""), None),
        ("GET", "/static/app.css") => (c("/static/app.css".into(), ":root"), None),
        ("GET", "/static/favicon.svg") => (c("/static/favicon.svg".into(), "<svg"), None),
        ("GET", "/favicon.ico") => (c("/favicon.ico".into(), "<svg"), None),
        // 中文 | English (tests/web/i18n.rs tests it in depth).
        ("GET", "/lang/{lang}") => (c("/lang/zh".into(), ""), None),
        ("GET", "/sw.js") => (c("/sw.js".into(), "addEventListener"), None),
        ("GET", "/static/offline.js") => (c("/static/offline.js".into(), "serviceWorker"), None),
        ("GET", "/admin/users") => (c("/admin/users".into(), "/admin/users/village"), None),
        ("POST", "/admin/users") => {
            let fields = vec![
                ("username", format!("made_by_{}", who.user)),
                ("display_name", String::new()),
                ("role", "village_cadre".into()),
                ("area", V1.into()),
                ("password", String::new()),
            ];
            (form("/admin/users".into(), fields, "账号已创建"), None)
        }
        ("GET", "/admin/users/{username}") => {
            let (path, out) = user_path("");
            (c(path, TARGET), out)
        }
        ("POST", "/admin/users/{username}/disable") => {
            let (path, out) = user_path("/disable");
            (c(path, ""), out)
        }
        ("POST", "/admin/users/{username}/enable") => {
            let (path, out) = user_path("/enable");
            (c(path, ""), out)
        }
        ("POST", "/admin/users/{username}/reset") => {
            let (path, out) = user_path("/reset");
            (form(path, vec![("password", String::new())], "密码已重置"), out)
        }
        ("POST", "/admin/users/{username}/tokens/revoke") => {
            let (path, out) = user_path("/tokens/revoke");
            (form(path, vec![("name", "matrix-target".into())], TARGET), out)
        }
        ("POST", "/admin/users/{username}/role") => {
            let (path, out) = user_path("/role");
            (form(path, vec![("role", "village_cadre".into()), ("area", V2.into())], ""), out)
        }
        ("GET", "/admin/auth-log") => (c("/admin/auth-log".into(), "登录成功"), None),
        ("GET", "/household/{hh_id}/change/{change}") => (
            c(format!("/household/{}/change/birth", who.hh_in.0), "登记出生"),
            Some(format!("/household/{}/change/birth", who.hh_out)),
        ),
        ("POST", "/household/{hh_id}/change/{change}") => {
            // The matrix checks who may post, not concurrency: a version from the
            // future never conflicts.
            let name = format!("新生儿{}", who.user);
            let fields = vec![
                ("version", "999999999".into()),
                ("name", name.clone()),
                ("sex", "1".into()),
                ("birth_date", "2025-01-01".into()),
                ("relation", "03".into()),
                ("reason", "路由矩阵".into()),
            ];
            let path = |hh: &str| format!("/household/{hh}/change/birth");
            (form(path(who.hh_in.0), fields, &name), Some(path(who.hh_out)))
        }
        ("GET", "/area/{code}/new-household") => {
            let (inside, outside) = villages(who);
            (c(format!("/area/{inside}/new-household"), "新增农户"), Some(format!("/area/{outside}/new-household")))
        }
        ("POST", "/area/{code}/new-household") => {
            let (inside, outside) = villages(who);
            let name = format!("新户主{}", who.user);
            let fields = vec![
                ("status", "2".into()),
                ("name", name.clone()),
                ("sex", "1".into()),
                ("relation", "01".into()),
                ("reason", "路由矩阵".into()),
            ];
            (
                form(format!("/area/{inside}/new-household"), fields, &name),
                Some(format!("/area/{outside}/new-household")),
            )
        }
        // 显示号码 and 查看记录 (tests/web/reveal.rs tests them in depth).
        ("POST", "/household/{hh_id}/reveal") => {
            let (hh, key, want) = revealed(who);
            let fields = vec![
                ("table", "persons".into()),
                ("key", key.into()),
                ("field", "id_number".into()),
                ("reason", "路由矩阵".into()),
            ];
            (form(format!("/household/{hh}/reveal"), fields, want), Some(format!("/household/{}/reveal", who.hh_out)))
        }
        ("GET", "/admin/reveals") => (c("/admin/reveals".into(), "查看记录"), None),
        // 访问令牌 and the JSON API (tests/web/api.rs tests them in depth).
        ("GET", "/account/tokens") => (c("/account/tokens".into(), "创建令牌"), None),
        ("POST", "/account/tokens") => {
            let fields = vec![("name", "matrix".into()), ("password", format!("{OWN_PASSWORD}{}", who.user))];
            (form("/account/tokens".into(), fields, "已创建"), None)
        }
        ("POST", "/account/tokens/revoke") => {
            (form("/account/tokens/revoke".into(), vec![("name", "matrix".into())], "已撤销"), None)
        }
        ("GET", "/api/v1/me") => (c("/api/v1/me".into(), &format!("\"username\":\"{}\"", who.user)), None),
        ("GET", "/api/v1/areas/{code}") => (
            c(format!("/api/v1/areas/{}", who.code_in.0), who.code_in.1),
            Some(format!("/api/v1/areas/{}", who.code_out)),
        ),
        ("GET", "/api/v1/areas/{code}/households") => {
            // A village inside the area (the one of `hh_in`) and one outside.
            let village = if who.code_in.0.len() == 12 { who.code_in.0 } else { V3 };
            let out = if who.code_out.len() == 12 { who.code_out } else { "610982100201" };
            let want = format!("\"hh_id\":\"{}\"", who.hh_in.0);
            (c(format!("/api/v1/areas/{village}/households"), &want), Some(format!("/api/v1/areas/{out}/households")))
        }
        ("GET", "/api/v1/households/{hh_id}") => (
            c(format!("/api/v1/households/{}", who.hh_in.0), who.hh_in.1),
            Some(format!("/api/v1/households/{}", who.hh_out)),
        ),
        ("GET", "/api/v1/households/{hh_id}/history") => (
            c(format!("/api/v1/households/{}/history", who.hh_in.0), &format!("\"entity_key\":\"{}\"", who.hh_in.0)),
            Some(format!("/api/v1/households/{}/history", who.hh_out)),
        ),
        ("GET", "/api/v1/search") => {
            (c(format!("/api/v1/search?q={}", who.hh_in.1), &format!("\"hh_id\":\"{}\"", who.hh_in.0)), None)
        }
        // Sent as JSON (`send`): the query in the body.
        ("POST", "/api/v1/search") => {
            let want = format!("\"hh_id\":\"{}\"", who.hh_in.0);
            (form("/api/v1/search".into(), vec![("q", who.hh_in.1.to_owned())], &want), None)
        }
        ("GET", "/api/v1/dashboard/{code}") => (
            c(format!("/api/v1/dashboard/{}", who.code_in.0), who.code_in.1),
            Some(format!("/api/v1/dashboard/{}", who.code_out)),
        ),
        ("GET", "/api/v1/households/{hh_id}/visits") => (
            c(format!("/api/v1/households/{}/visits", who.hh_in.0), &format!("\"hh_id\":\"{}\"", who.hh_in.0)),
            Some(format!("/api/v1/households/{}/visits", who.hh_out)),
        ),
        // Sent as JSON (`send`), with the key of this role: one visit written.
        ("POST", "/api/v1/households/{hh_id}/visits") => {
            let fields = vec![
                ("visited_on", "2026-05-30".into()),
                ("mode", "phone".into()),
                ("notes", format!("接口路由矩阵 {}", who.user)),
                ("key", format!("api-matrix-{}-key", who.user.replace('.', "-"))),
            ];
            let path = |hh: &str| format!("/api/v1/households/{hh}/visits");
            (form(path(who.hh_in.0), fields, "\"new\":true"), Some(path(who.hh_out)))
        }
        ("GET", "/api/v1/review") => (c("/api/v1/review".into(), who.hh_in.1), None),
        ("GET", "/api/v1/findings") => (
            c(format!("/api/v1/findings?area={}", who.code_in.0), &format!("\"hh_id\":\"{}\"", who.hh_in.0)),
            Some(format!("/api/v1/findings?area={}", who.code_out)),
        ),
        // One finding: a county-wide role sees any, a township or village its own (a
        // helper cadre: H1's, paired); another area's is 404, like a missing one.
        ("GET", "/api/v1/findings/{id}") => {
            let (mine, other) = match who.user {
                ADMIN | "department" => (1, 999),
                "county" | "inspector" => (2, 999),
                "township" => (3, 1),
                _ => (4, 3),
            };
            let want = format!("\"hh_id\":\"{}\"", who.hh_in.0);
            (c(format!("/api/v1/findings/{mine}"), &want), Some(format!("/api/v1/findings/{other}")))
        }
        // Sent as JSON (`send`): each editor explains the second warning seeded for it.
        ("POST", "/api/v1/findings/{id}") => {
            let (mine, other) = match who.user {
                ADMIN => (5, 999),
                "county" => (6, 999),
                "township" => (7, 5),
                _ => (8, 7),
            };
            let reason = format!("接口路由矩阵{}", who.user);
            let fields = vec![("action", "propose".into()), ("reason", reason.clone())];
            (form(format!("/api/v1/findings/{mine}"), fields, &reason), Some(format!("/api/v1/findings/{other}")))
        }
        ("GET", "/api/v1/openapi.json") => (c("/api/v1/openapi.json".into(), "\"openapi\""), None),
        (method, path) => panic!("{method} {path} has no case in the route matrix: add one"),
    }
}

/// The idempotency key of the correction `user` sends in the matrix.
fn matrix_key(user: &str) -> String {
    format!("route-matrix-change-{user}")
}

/// A review page outside `who`'s area: the county's proposal (on H4) for a township or
/// village, a key nobody sent for the county-wide roles.
fn other_review(who: &Who) -> String {
    match who.user {
        "township" | "village" | "helper" => format!("/review/{}", matrix_key("county")),
        _ => format!("/review/{}", matrix_key("nobody")),
    }
}

/// A village inside `who`'s area and one outside it.
fn villages(who: &Who) -> (&'static str, &'static str) {
    match who.user {
        "township" => (V2, V3),
        "village" | "helper" => (V1, V2),
        _ => (V3, "610982100201"),
    }
}

/// A household inside `who`'s area, a member of it with an ID number, and that number.
fn revealed(who: &Who) -> (&'static str, &'static str, &'static str) {
    match who.user {
        "township" | "village" | "helper" => ("H1", "P1", ID_ZHANG),
        _ => ("H4", "P6", "610981196601010057"),
    }
}

/// The accounts whose role may see a personal number unmasked (county admin, township
/// officer, village cadre).
const REVEALERS: [&str; 4] = [ADMIN, "county", "township", "village"];

/// The accounts whose scope is their paired households, not an area (helper cadres).
const PAIRED_ONLY: [&str; 1] = ["helper"];

/// The accounts whose role keeps the registry (county admin, township officer, village cadre).
const EDITORS: [&str; 4] = [ADMIN, "county", "township", "village"];

/// A client that keeps cookies and does not follow redirects, so each cell sees the
/// route's own answer.
fn client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A form value that stands for the password of the account named after it (the
/// token form asks for the user's own password again); `send` fills it in.
const OWN_PASSWORD: &str = "own-password-of:";

async fn send(app: &TestApp, client: &Client, route: &RouteSpec, path: &str, form: &[(&str, String)]) -> Response {
    let url = format!("{}{path}", app.base);
    let form: Vec<(&str, String)> = form
        .iter()
        .map(|(k, v)| match v.strip_prefix(OWN_PASSWORD) {
            Some(user) => (*k, app.passwords[user].clone()),
            None => (*k, v.clone()),
        })
        .collect();
    let form = form.as_slice();
    let request = if route.method == reqwest::Method::POST && path.starts_with("/api/") {
        let body: serde_json::Map<String, serde_json::Value> =
            form.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v.clone()))).collect();
        let body = serde_json::Value::Object(body).to_string();
        client.post(url).header("Origin", app.origin()).header("content-type", "application/json").body(body)
    } else if route.method == reqwest::Method::POST {
        client.post(url).header("Origin", app.origin()).form(form)
    } else {
        client.get(url)
    };
    request.send().await.unwrap_or_else(|e| panic!("{} {path}: {e}", route.method))
}

async fn signed_in(app: &TestApp, user: &str) -> Client {
    let client = client();
    let r = app.login_as(&client, user, &app.passwords[user]).await;
    assert_eq!(r.status(), 303, "{user} signs in");
    client
}

/// The accounts table as it stands, to show that a refused request changed nothing.
async fn accounts(app: &TestApp) -> Vec<(String, String, String, i64, String)> {
    sqlx::query_as("SELECT username, role, area_code, disabled, password_hash FROM users ORDER BY username")
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
}

/// Follows a redirect inside the site (a village cadre's `/` lands on the village).
async fn land(app: &TestApp, client: &Client, r: Response) -> (u16, String) {
    let status = r.status().as_u16();
    if status == 303
        && let Some(to) = r.headers().get("location").and_then(|l| l.to_str().ok())
        && to != "/login"
    {
        let r = client.get(format!("{}{to}", app.base)).send().await.unwrap();
        return (r.status().as_u16(), r.text().await.unwrap());
    }
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_its_policy_says() {
    let app = spawn_app().await;
    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    let request = fupin_app::accounts::AccountRequest {
        username: TARGET,
        display_name: "",
        role: fupin_store::users::Role::VillageCadre,
        area: V1,
        password: None,
        department: None,
    };
    fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
    // A token of the target account, for a county admin to revoke.
    fupin_store::tokens::create(&app.db.store, TARGET, "matrix-target", "matrix-target-hash", 30).await.unwrap();
    // 孙七 gets a 劳动技能 (人社's column) and 低保 (民政's), for the department cells.
    let mut w = app.db.store.writer(fupin_store::Actor::System).await.unwrap();
    let fields = [("labour", fupin_domain::Value::Text("01".into())), ("dibao", fupin_domain::Value::Int(1))];
    w.set_fields(&fupin_domain::schema::PERSONS, "P6", &fields, "路由矩阵").await.unwrap();
    w.commit().await.unwrap();
    let seeded = crate::findings::seed(
        &app,
        &[
            // A shipped rule over 民政's columns (低保, 特困, 姓名): the department
            // officer of the matrix sees its findings, and none of the made-up rules'.
            ("dibao_and_tekun", "warning", "H4", V3),
            ("M.C", "warning", "H4", V3),
            ("M.T", "warning", "H3", V2),
            ("M.V", "warning", "H1", V1),
            // The same again for the API's explanations (each finding is explained once).
            ("M.A2", "warning", "H4", V3),
            ("M.C2", "warning", "H4", V3),
            ("M.T2", "warning", "H3", V2),
            ("M.V2", "warning", "H1", V1),
        ],
    )
    .await;
    assert_eq!(seeded, [1, 2, 3, 4, 5, 6, 7, 8], "the matrix's findings are numbered as its cases expect");
    let routes = fupin_web::routes();
    assert!(routes.len() >= 16, "the table lists every route: {routes:?}");
    let roles = roles();

    // Signed out, and every role that may not use a page, first: none of it may
    // change an account.
    let before = accounts(&app).await;
    let anonymous = client();
    for route in &routes {
        let (case, _) = case(route, &roles[0]);
        let r = send(&app, &anonymous, route, &case.path, &case.form).await;
        let cell = format!("signed out × {} {}", route.method, case.path);
        if route.policy == Policy::Public {
            assert!(![403, 404, 405].contains(&r.status().as_u16()), "{cell}: {}", r.status());
        } else if matches!(route.policy, Policy::Api | Policy::ApiOverview | Policy::ApiEditor | Policy::ApiVisitor) {
            assert_eq!(r.status(), 401, "{cell}");
            assert!(r.text().await.unwrap().contains("\"error\""), "{cell} answers a JSON error");
        } else {
            assert_eq!(r.status(), 303, "{cell}");
            assert_eq!(r.headers().get("location").unwrap(), "/login", "{cell}");
        }
    }
    for who in roles.iter().filter(|w| !w.admin) {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| r.policy == Policy::CountyAdmin) {
            let (case, out) = case(route, who);
            for path in std::iter::once(case.path).chain(out) {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 403, "{} × {} {path}", who.user, route.method);
                assert!(r.text().await.unwrap().contains("无权访问"));
            }
        }
    }
    assert_eq!(accounts(&app).await, before, "refused requests changed an account");

    // Every role on the pages for everyone signed in: inside 200, outside 404. A
    // helper cadre's scope is their paired households, so area overviews, dashboards
    // and lists answer 403 (pointing to 我的农户), inside the village or not.
    for who in &roles {
        let client = signed_in(&app, who.user).await;
        let for_all =
            |p: Policy| matches!(p, Policy::SignedInArea | Policy::Api | Policy::Overview | Policy::ApiOverview);
        for route in routes.iter().filter(|r| for_all(r.policy)) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
            if PAIRED_ONLY.contains(&who.user) && matches!(route.policy, Policy::Overview | Policy::ApiOverview) {
                for path in std::iter::once(case.path).chain(out) {
                    let r = send(&app, &client, route, &path, &case.form).await;
                    assert_eq!(r.status(), 403, "{} × {} {path}", who.user, route.method);
                    let body = r.text().await.unwrap();
                    assert!(body.contains("结对"), "{cell}: the refusal says why: {body}");
                    for place in who.outside.iter().chain(&["张三", "王五"]) {
                        assert!(!body.contains(place), "{cell} refused but shows {place}");
                    }
                }
                continue;
            }
            let r = send(&app, &client, route, &case.path, &case.form).await;
            let (status, page) = land(&app, &client, r).await;
            assert_eq!(status, 200, "{cell}");
            assert!(page.contains(&case.want), "{cell} lacks {}", case.want);
            for place in who.outside {
                assert!(!page.contains(place), "{cell} shows {place}, outside the area");
            }
            for column in who.hidden {
                assert!(!page.contains(column), "{cell} shows {column}, another department's");
            }
            if !who.hidden.is_empty() && route.path == "/api/v1/households/{hh_id}" {
                assert!(page.contains("dibao"), "{cell}: the department's own column is there");
            }
            if !who.hidden.is_empty() && route.path == "/household/{hh_id}" {
                assert!(page.contains("是否享受低保"), "{cell}: the department's own column is there");
            }
            assert_no_secrets(&page, &cell);
            if let Some(path) = out {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 404, "{} × {} {path}", who.user, route.method);
            }
        }
        if who.user == "township" || who.user == "village" {
            let (_, page) =
                land(&app, &client, client.get(format!("{}/search?q=孙七", app.base)).send().await.unwrap()).await;
            assert!(!page.contains("/household/H4"), "{} finds a household outside the area", who.user);
        }
    }

    // 记录走访, 记录更正 and 拨打电话: every role but department officers and inspectors
    // inside its scope 200 (the card after the redirect) and one visit written (a call:
    // one reveal logged), outside 404; those two 403 on both, and nothing written.
    for who in &roles {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| matches!(r.policy, Policy::Visitor | Policy::ApiVisitor)) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
            let visits = app.sql_count("SELECT COUNT(*) FROM visits").await;
            let reveals = app.sql_count("SELECT COUNT(*) FROM reveal_log").await;
            if ["department", "inspector"].contains(&who.user) {
                for path in std::iter::once(case.path).chain(out) {
                    let r = send(&app, &client, route, &path, &case.form).await;
                    assert_eq!(r.status(), 403, "{} × {} {path}", who.user, route.method);
                }
                assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, visits, "{cell} wrote");
                continue;
            }
            let r = send(&app, &client, route, &case.path, &case.form).await;
            let (status, page) = land(&app, &client, r).await;
            // The API answers a recorded visit with 201 Created, the page with its redirect.
            let ok = if route.policy == Policy::ApiVisitor { 201 } else { 200 };
            assert_eq!(status, ok, "{cell}: {page}");
            assert!(page.contains(&case.want), "{cell} lacks {}", case.want);
            for place in who.outside {
                assert!(!page.contains(place), "{cell} shows {place}, outside the area");
            }
            let call = route.path.ends_with("/call");
            for s in SECRETS.iter().filter(|s| !call || **s != PHONE_H1) {
                assert!(!page.contains(s), "{cell} shows {s} unmasked");
            }
            let logged = reveals + i64::from(call);
            assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, logged, "{cell}: the call is logged");
            let written = i64::from(route.method == reqwest::Method::POST && route.path.contains("/visit"));
            assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, visits + written, "{cell}");
            if let Some(path) = out {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 404, "{} × {} {path}", who.user, route.method);
            }
            assert_eq!(app.sql_count("SELECT COUNT(*) FROM visits").await, visits + written, "{cell}: 404 wrote");
            assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, logged, "{cell}: 404 logged");
        }
    }

    // The registry forms: editors inside their area 200 (after the redirect), outside
    // 404; read-only roles 403 on both, and nothing written.
    for who in &roles {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| matches!(r.policy, Policy::RegistryEditor | Policy::ApiEditor)) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
            if !EDITORS.contains(&who.user) {
                let seq = app.sql_count("SELECT COUNT(*) FROM change_log").await;
                for path in std::iter::once(case.path).chain(out) {
                    let r = send(&app, &client, route, &path, &case.form).await;
                    assert_eq!(r.status(), 403, "{} × {} {path}", who.user, route.method);
                }
                assert_eq!(app.sql_count("SELECT COUNT(*) FROM change_log").await, seq, "{cell} wrote");
                continue;
            }
            let r = send(&app, &client, route, &case.path, &case.form).await;
            let (status, page) = land(&app, &client, r).await;
            assert_eq!(status, 200, "{cell}");
            assert!(page.contains(&case.want), "{cell} lacks {}", case.want);
            for place in who.outside {
                assert!(!page.contains(place), "{cell} shows {place}, outside the area");
            }
            assert_no_secrets(&page, &cell);
            if let Some(path) = out {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 404, "{} × {} {path}", who.user, route.method);
            }
        }
    }

    // 显示号码: the roles that may reveal see exactly the one number asked for inside
    // their area (one log row), 404 outside it (no row); the others 403, no row.
    for who in &roles {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| r.policy == Policy::Reveal) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
            let logged = app.sql_count("SELECT COUNT(*) FROM reveal_log").await;
            if !REVEALERS.contains(&who.user) {
                for path in std::iter::once(case.path).chain(out) {
                    let r = send(&app, &client, route, &path, &case.form).await;
                    assert_eq!(r.status(), 403, "{} × {} {path}", who.user, route.method);
                    assert_no_secrets(&r.text().await.unwrap(), &cell);
                }
                assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, logged, "{cell} logged");
                continue;
            }
            let r = send(&app, &client, route, &case.path, &case.form).await;
            let (status, page) = land(&app, &client, r).await;
            assert_eq!(status, 200, "{cell}");
            assert!(page.contains(&case.want), "{cell} lacks {}", case.want);
            for s in SECRETS.iter().filter(|s| **s != case.want) {
                assert!(!page.contains(s), "{cell} shows {s} as well");
            }
            assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, logged + 1, "{cell} logged once");
            if let Some(path) = out {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 404, "{} × {} {path}", who.user, route.method);
                assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, logged + 1, "{cell}: 404 logged");
            }
        }
    }

    // County admins on their own pages: the id inside answers, one that is not 404s.
    for who in roles.iter().filter(|w| w.admin) {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| r.policy == Policy::CountyAdmin) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
            let r = send(&app, &client, route, &case.path, &case.form).await;
            let (status, page) = land(&app, &client, r).await;
            assert_eq!(status, 200, "{cell}");
            assert!(page.contains(&case.want), "{cell} lacks {}", case.want);
            if let Some(path) = out {
                let r = send(&app, &client, route, &path, &case.form).await;
                assert_eq!(r.status(), 404, "{} × {} {path}", who.user, route.method);
            }
        }
    }
    let made = app.sql_count("SELECT COUNT(*) FROM users WHERE username LIKE 'made%'").await;
    assert_eq!(made, 2, "each county admin created one account, nobody else did");
}
