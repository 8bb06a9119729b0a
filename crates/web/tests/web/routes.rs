//! The route matrix: every route of the router's own table ([`fupin_web::routes`]) ×
//! every role and signed out. Each cell asserts what the route's policy promises: 200
//! with content inside the user's area, 404 for an id outside it, 403 for a role the
//! page is not for, 303 to `/login` when signed out. A route without a case here
//! fails the test; a route without a policy does not compile.

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
}

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
    });
    for user in ["village", "helper"] {
        out.push(Who {
            user,
            admin: false,
            home: "东关村",
            code_in: (V1, "东关村"),
            code_out: V2,
            hh_in: ("H1", "张三"),
            hh_out: "H3",
            outside: &["西关村", "白柳", "赵六", "孙七"],
        });
    }
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
        ("GET", "/search") => (c(format!("/search?q={}", who.hh_in.1), &format!("/household/{}", who.hh_in.0)), None),
        ("GET", "/login") => (c("/login".into(), "用户名"), None),
        ("POST", "/login") => (
            form("/login".into(), vec![("username", "nobody".into()), ("password", "x".into())], "用户名或密码不正确"),
            None,
        ),
        ("POST", "/logout") => (c("/logout".into(), ""), None),
        ("GET", "/static/app.css") => (c("/static/app.css".into(), ":root"), None),
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
        ("POST", "/admin/users/{username}/role") => {
            let (path, out) = user_path("/role");
            (form(path, vec![("role", "village_cadre".into()), ("area", V2.into())], ""), out)
        }
        ("GET", "/admin/auth-log") => (c("/admin/auth-log".into(), "登录成功"), None),
        (method, path) => panic!("{method} {path} has no case in the route matrix: add one"),
    }
}

/// A client that keeps cookies and does not follow redirects, so each cell sees the
/// route's own answer.
fn client() -> Client {
    Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn send(app: &TestApp, client: &Client, route: &RouteSpec, path: &str, form: &[(&str, String)]) -> Response {
    let url = format!("{}{path}", app.base);
    let request = if route.method == reqwest::Method::POST {
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
    let by = fupin_web::accounts::ChangedBy { name: "test", remote_addr: None };
    let request = fupin_web::accounts::AccountRequest {
        username: TARGET,
        display_name: "",
        role: fupin_store::users::Role::VillageCadre,
        area: V1,
        password: None,
    };
    fupin_web::accounts::add_user(&app.db.store, by, &request).await.unwrap();
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

    // Every role on the pages for everyone signed in: inside 200, outside 404.
    for who in &roles {
        let client = signed_in(&app, who.user).await;
        for route in routes.iter().filter(|r| r.policy == Policy::SignedInArea) {
            let (case, out) = case(route, who);
            let cell = format!("{} × {} {}", who.user, route.method, case.path);
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
        if who.user == "township" || who.user == "village" {
            let (_, page) =
                land(&app, &client, client.get(format!("{}/search?q=孙七", app.base)).send().await.unwrap()).await;
            assert!(!page.contains("/household/H4"), "{} finds a household outside the area", who.user);
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
