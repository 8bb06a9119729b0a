//! 统计看板: every number on a dashboard equals a plain SQL recount of the registry,
//! follows a change made through the Writer, and opens the list of exactly that many
//! households (or persons); a dashboard outside the user's area is 404.

use fupin_domain::Value;
use fupin_domain::schema::{HOUSEHOLDS, PERSONS};
use fupin_store::Actor;
use reqwest::Client;

use crate::support::*;

/// A number on a dashboard and the list it links to.
#[derive(Debug, Clone)]
struct Number {
    /// `households` or `persons`.
    unit: String,
    href: String,
    n: i64,
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&").replace("&#x2f;", "/").replace("&#38;", "&")
}

/// Every linked number of a page (`<a data-unit="…" href="…">N</a>`).
fn numbers(page: &str) -> Vec<Number> {
    let mut out = Vec::new();
    for part in page.split("<a data-unit=\"").skip(1) {
        let (unit, rest) = part.split_once('"').expect("the unit");
        let rest = rest.trim_start().strip_prefix("href=\"").expect("an href");
        let (href, rest) = rest.split_once('"').expect("the href ends");
        let text = rest.strip_prefix('>').expect("the tag ends");
        let (n, _) = text.split_once("</a>").expect("the link ends");
        out.push(Number { unit: unit.to_owned(), href: unescape(href), n: n.trim().parse().expect("a number") });
    }
    out
}

/// The query parameters of a list link.
fn params(href: &str) -> Vec<(String, String)> {
    let (_, q) = href.split_once('?').expect("a query string");
    q.split('&').map(|kv| kv.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())).expect("k=v")).collect()
}

/// The plain SQL that selects the households a list link stands for, written here
/// from the definitions on the page, apart from the store's queries.
fn recount_where(href: &str) -> String {
    let p = params(href);
    let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let area = get("area").expect("area");
    assert!(area.chars().all(|c| c.is_ascii_digit()), "{area}");
    let year: i64 = get("year").expect("year").parse().expect("a year");
    let mut w = vec![format!("h.village_code LIKE '{area}%'")];
    if let Some(s) = get("status") {
        // Poor: not exited by then, or returned to poverty (返贫) after the exit.
        let poor = format!(
            "(COALESCE(h.status, '') IN ('2', '3') AND COALESCE(h.identified_year, 0) <= {year} AND \
              ((h.status = '2' AND h.exit_year IS NULL) OR COALESCE(h.exit_year, 0) > {year} \
               OR (h.exit_year IS NOT NULL AND COALESCE(h.relapse_year, 0) > h.exit_year \
                   AND COALESCE(h.relapse_year, 0) <= {year})))"
        );
        let exited = format!("(COALESCE(h.status, '') IN ('2', '3') AND COALESCE(h.identified_year, 0) <= {year})");
        w.push(match s.as_str() {
            "2" => poor,
            "3" => format!("({exited} AND NOT {poor})"),
            "1" => format!("NOT {poor} AND NOT {exited}"),
            other => panic!("status {other}"),
        });
    }
    if let Some(y) = get("exit_year") {
        w.push(format!("h.exit_year = {}", y.parse::<i64>().expect("a year")));
    }
    let end = format!("'{year}-12-31'");
    let monitored = format!(
        "h.monitor_type IS NOT NULL AND h.monitor_type <> '' \
         AND (h.monitor_since IS NULL OR h.monitor_since = '' OR h.monitor_since <= {end})"
    );
    let cleared = format!("(h.risk_cleared_on IS NOT NULL AND h.risk_cleared_on <> '' AND h.risk_cleared_on <= {end})");
    if let Some(t) = get("monitor_type") {
        assert!(t.chars().all(|c| c.is_ascii_digit()));
        w.push(format!("{monitored} AND h.monitor_type = '{t}'"));
    }
    match get("monitor").as_deref() {
        Some("open") => w.push(format!("{monitored} AND NOT {cleared}")),
        Some("cleared") => w.push(format!("{monitored} AND {cleared}")),
        Some(other) => panic!("monitor={other}"),
        None => {}
    }
    if let Some(v) = get("visits") {
        // Due: poor or exited in the year, or monitored and not cleared by its end.
        let poor_or_exited = format!("(h.status IN ('2', '3') AND COALESCE(h.identified_year, 0) <= {year})");
        w.push(format!("({poor_or_exited} OR ({monitored} AND NOT {cleared}))"));
        // The quarter: today's (the tests' today is 2026-06-01) or the year's last.
        let (from, to) = if year == 2026 {
            ("2026-04-01".to_owned(), "2026-06-30".to_owned())
        } else {
            (format!("{year}-10-01"), format!("{year}-12-31"))
        };
        let visited = format!(
            "EXISTS (SELECT 1 FROM visits v WHERE v.hh_id = h.hh_id AND v.visited_on BETWEEN '{from}' AND '{to}')"
        );
        match v.as_str() {
            "due" => {}
            "visited" => w.push(visited),
            "missed" => w.push(format!("NOT {visited}")),
            other => panic!("visits={other}"),
        }
    }
    w.join(" AND ")
}

fn year_of(href: &str) -> i64 {
    params(href).iter().find(|(k, _)| k == "year").map(|(_, v)| v.parse().expect("a year")).expect("year")
}

/// The number a link stands for, counted again with plain SQL.
async fn recount(app: &TestApp, number: &Number) -> i64 {
    let w = recount_where(&number.href);
    let sql = match number.unit.as_str() {
        "households" => format!("SELECT COUNT(*) FROM households h WHERE {w}"),
        // Persons who lived in the year: born by its end, not gone before it began.
        "persons" => format!(
            "SELECT COUNT(*) FROM persons p JOIN households h ON h.hh_id = p.hh_id WHERE {w} \
             AND (COALESCE(p.person_status, '1') = '1' OR p.left_on >= '{year}-01-01') \
             AND (p.birth_date IS NULL OR p.birth_date = '' OR p.birth_date <= '{year}-12-31')",
            year = year_of(&number.href)
        ),
        other => panic!("unit {other}"),
    };
    app.sql_count(&sql).await
}

/// Opens a list and reads its totals and the number of lines on its first page.
async fn list_totals(app: &TestApp, client: &Client, href: &str) -> (i64, i64, usize) {
    let (status, page) = app.get(client, href).await;
    assert_eq!(status, 200, "{href}");
    assert_no_secrets(&page, href);
    let read = |id: &str| -> i64 {
        let start = page.find(&format!("id=\"{id}\">")).unwrap_or_else(|| panic!("{href} lacks #{id}"));
        let rest = &page[start + id.len() + 6..];
        rest[..rest.find('<').expect("the element ends")].trim().parse().expect("a number")
    };
    let lines = page.matches("<a href=\"/household/").count();
    (read("total-households"), read("total-persons"), lines)
}

/// Checks every number of a dashboard against SQL and, when `follow`, against the list
/// it opens. Returns the numbers.
async fn check_dashboard(app: &TestApp, client: &Client, path: &str, follow: bool) -> Vec<Number> {
    let (status, page) = app.get(client, path).await;
    assert_eq!(status, 200, "{path}");
    assert!(page.contains("<svg"), "{path} draws its charts");
    assert!(!page.contains("<script"), "{path}: no JavaScript");
    let numbers = numbers(&page);
    assert!(numbers.len() >= 10, "{path}: {} numbers", numbers.len());
    for number in &numbers {
        assert_eq!(number.n, recount(app, number).await, "{path}: {number:?}");
        if follow {
            let (households, persons, lines) = list_totals(app, client, &number.href).await;
            let shown = if number.unit == "households" { households } else { persons };
            assert_eq!(shown, number.n, "{path}: {number:?} opens a list of {households} 户 {persons} 人");
            assert_eq!(lines as i64, households.min(50), "{}: lines on the first page", number.href);
        }
    }
    numbers
}

fn find<'a>(numbers: &'a [Number], unit: &str, parts: &[&str]) -> &'a Number {
    numbers
        .iter()
        .find(|n| {
            n.unit == unit && {
                let p = params(&n.href);
                let mut keys: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
                keys.retain(|k| !k.starts_with("year="));
                keys.len() == parts.len() && parts.iter().all(|want| keys.iter().any(|k| k == want))
            }
        })
        .unwrap_or_else(|| panic!("no {unit} number for {parts:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_equals_a_plain_sql_recount_and_follows_the_writer() {
    let app = spawn_app().await;
    let county = app.signed_in("county").await;

    // This year (config.today is 2026-06-01): the hand-made county as seeded.
    let numbers = check_dashboard(&app, &county, "/dashboard", true).await;
    let area = |a: &str| format!("area={a}");
    assert_eq!(find(&numbers, "households", &[&area(TOWN_A), "status=2"]).n, 1, "H1");
    assert_eq!(find(&numbers, "persons", &[&area(TOWN_A), "status=2"]).n, 3, "张三's household");
    assert_eq!(find(&numbers, "households", &[&area(TOWN_A), "status=3"]).n, 1, "H2");
    assert_eq!(find(&numbers, "households", &[&area(TOWN_B), "status=2"]).n, 1, "H4");
    assert_eq!(find(&numbers, "households", &[&area(COUNTY), "monitor=open"]).n, 1, "H2; H3's risk is cleared");
    assert_eq!(find(&numbers, "households", &[&area(COUNTY), "monitor_type=2", "monitor=cleared"]).n, 1, "H3");
    let (_, page) = app.get(&county, "/dashboard").await;
    assert!(page.contains("低于 3%"), "the Shaanxi exit threshold from data/policy/exit.csv");
    assert!(page.contains("60.00%"), "城关镇: 3 of 5 persons are in registered poor households");

    // Township and village dashboards, and years before the seeded events.
    check_dashboard(&app, &county, &format!("/dashboard/{TOWN_A}"), true).await;
    check_dashboard(&app, &county, &format!("/dashboard/{V1}?year=2015"), true).await;
    let before = check_dashboard(&app, &county, &format!("/dashboard/{TOWN_A}?year=2022"), true).await;
    assert_eq!(find(&before, "households", &[&area(V2), "monitor=open"]).n, 1, "H3's risk was cleared in 2023");

    // Mark H1 exited in 2026 through the Writer: the dashboard follows.
    let mut w = app.db.store.writer(Actor::User("test".into())).await.unwrap();
    w.set_fields(&HOUSEHOLDS, "H1", &[("status", Value::Text("3".into())), ("exit_year", Value::Int(2026))], "脱贫")
        .await
        .unwrap();
    w.commit().await.unwrap();
    let after = check_dashboard(&app, &county, "/dashboard", true).await;
    assert_eq!(find(&after, "households", &[&area(TOWN_A), "status=2"]).n, 0, "H1 has exited");
    assert_eq!(find(&after, "households", &[&area(TOWN_A), "status=3"]).n, 2);
    assert_eq!(find(&after, "households", &[&area(COUNTY), "exit_year=2026"]).n, 1);
    let (_, page) = app.get(&county, "/dashboard").await;
    assert!(page.contains("0.00%"), "城关镇's incidence falls to 0");

    // 走访合规: H1 (now exited) is due a visit this quarter; a visit recorded counts at once.
    let due_before = find(&after, "households", &[&area(TOWN_A), "visits=due"]).n;
    assert!(due_before >= 2, "H1 and H2 are due a visit");
    assert_eq!(find(&after, "households", &[&area(TOWN_A), "visits=visited"]).n, 0);
    let visit = fupin_store::visits::NewVisit {
        hh_id: "H1",
        visitor: "village",
        visited_on: time::macros::date!(2026 - 05 - 20),
        mode: fupin_store::visits::Mode::InPerson,
        notes: "",
        idempotency_key: "dashboard-test-visit-1",
    };
    fupin_store::visits::record_visit(&app.db.store, &visit).await.unwrap();
    let visited = check_dashboard(&app, &county, "/dashboard", true).await;
    assert_eq!(find(&visited, "households", &[&area(TOWN_A), "visits=visited"]).n, 1, "H1 was visited");
    assert_eq!(find(&visited, "households", &[&area(TOWN_A), "visits=missed"]).n, due_before - 1);
    let (_, page) = app.get(&county, "/dashboard").await;
    assert!(page.contains("id=\"visit-compliance\""), "the compliance table is shown");
    // The year before, H1 was still registered poor.
    let last_year = check_dashboard(&app, &county, "/dashboard?year=2025", true).await;
    assert_eq!(find(&last_year, "households", &[&area(TOWN_A), "status=2"]).n, 1);
    assert!(last_year.iter().all(|n| !n.href.contains("exit_year=2026")), "no exits after the year shown");

    // H2 exited in 2018 and returned to poverty (返贫) in 2020; 张小明 (P3) is recorded
    // as born in 2025. Each year counts them as the rules do, and the recount agrees.
    let mut w = app.db.store.writer(Actor::User("test".into())).await.unwrap();
    let years =
        [("identified_year", Value::Int(2014)), ("exit_year", Value::Int(2018)), ("relapse_year", Value::Int(2020))];
    w.set_fields(&HOUSEHOLDS, "H2", &years, "返贫").await.unwrap();
    w.set_fields(&PERSONS, "P3", &[("birth_date", Value::Text("2025-03-01".into()))], "更正").await.unwrap();
    w.commit().await.unwrap();
    let y2019 = check_dashboard(&app, &county, "/dashboard?year=2019", true).await;
    assert_eq!(find(&y2019, "households", &[&area(TOWN_A), "status=3"]).n, 1, "H2 exited, not yet returned");
    assert_eq!(find(&y2019, "persons", &[&area(TOWN_A), "status=2"]).n, 2, "H1 without 张小明, not yet born");
    let y2024 = check_dashboard(&app, &county, "/dashboard?year=2024", true).await;
    assert_eq!(find(&y2024, "households", &[&area(TOWN_A), "status=2"]).n, 2, "H1 and H2, returned to poverty");
    assert_eq!(find(&y2024, "persons", &[&area(TOWN_A), "status=2"]).n, 3);
    let (_, page) = app.get(&county, "/dashboard?year=2024").await;
    assert!(page.contains("75.00%"), "城关镇 in 2024: 3 of 4 persons are poor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_county_dashboard_equals_a_plain_sql_recount() {
    let app = spawn_generated(300).await;
    let county = app.signed_in("county").await;
    let numbers = check_dashboard(&app, &county, "/dashboard?year=2017", true).await;
    let total = app.sql_count("SELECT COUNT(*) FROM households").await;
    assert_eq!(find(&numbers, "households", &["area=610981"]).n, total);
    let exits = numbers.iter().filter(|n| n.href.contains("exit_year=")).count();
    assert!(exits >= 2, "exits in several years up to 2017");
    let now = check_dashboard(&app, &county, "/dashboard", false).await;
    let exited = app.sql_count("SELECT COUNT(*) FROM households WHERE status = '3'").await;
    assert_eq!(find(&now, "households", &["area=610981", "status=3"]).n, exited);
    // One township's dashboard, every number followed to its list.
    let township =
        app.sql_count("SELECT CAST(substr(MIN(village_code), 1, 9) AS BIGINT) FROM households").await.to_string();
    check_dashboard(&app, &county, &format!("/dashboard/{township}?year=2016"), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboards_and_lists_outside_the_area_are_not_found() {
    let app = spawn_app().await;
    let township = app.signed_in("township").await;
    let (status, page) = app.get(&township, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(page.contains("东关村") && !page.contains("白柳"), "城关镇's own villages only");
    assert_eq!(app.get(&township, &format!("/dashboard/{V1}")).await.0, 200);
    for path in [
        format!("/dashboard/{TOWN_B}"),
        format!("/dashboard/{V3}"),
        format!("/dashboard/{COUNTY}"),
        format!("/households?area={TOWN_B}&year=2026"),
        format!("/households?area={COUNTY}&status=2"),
        "/dashboard/nonsense".to_owned(),
        format!("/households?area={TOWN_A}&status=9"),
        format!("/households?area={TOWN_A}&monitor=maybe"),
    ] {
        assert_eq!(app.get(&township, &path).await.0, 404, "{path}");
    }
    // Without an area the list is the user's own.
    let (households, _, _) = list_totals(&app, &township, "/households?status=2").await;
    assert_eq!(households, 1, "H1 only: H4 is in 白柳镇");

    let village = app.signed_in("village").await;
    assert_eq!(app.get(&village, &format!("/dashboard/{V2}")).await.0, 404);
    let (status, page) = app.get(&village, "/dashboard?year=abc").await;
    assert_eq!(status, 200, "a nonsense year means this year");
    assert!(page.contains("2026 年"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_list_offers_the_year_selector_keeping_its_filter() {
    let app = spawn_app().await;
    let county = app.signed_in("county").await;
    let href = format!("/households?area={TOWN_A}&year=2026&status=2");
    let (status, page) = app.get(&county, &href).await;
    assert_eq!(status, 200);
    assert!(page.contains("<select id=\"year\" name=\"year\">"), "{page}");
    assert!(page.contains("<option value=\"2026\" selected>"), "this list's year is chosen");
    assert!(page.contains("<input type=\"hidden\" name=\"status\" value=\"2\">"), "the filter is kept");
    assert!(page.contains(&format!("<input type=\"hidden\" name=\"area\" value=\"{TOWN_A}\">")));
    assert!(!page.contains("name=\"year\" value="), "the year is the selector's, not a hidden field");
    // What the form sends: the same filter in another year gives that year's list.
    let (_, y2015) = app.get(&county, &format!("/households?area={TOWN_A}&status=2&year=2015")).await;
    assert!(y2015.contains("<option value=\"2015\" selected>"));
    let n = list_totals(&app, &county, &format!("/households?area={TOWN_A}&status=2&year=2015")).await.0;
    let want = app
        .sql_count(&format!(
            "SELECT COUNT(*) FROM households h WHERE {}",
            recount_where(&format!("/households?area={TOWN_A}&year=2015&status=2"))
        ))
        .await;
    assert_eq!(n, want);
}
