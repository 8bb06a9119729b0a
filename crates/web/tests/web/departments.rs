//! 部门数据员 from outside: a household with every field filled with a value found
//! nowhere else, the shipped checks run on it, and then every GET route of the router
//! (pages, downloads, API) requested as an officer of each department. No answer may
//! carry the value of a column outside the department's own and the identifying ones.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use fupin_domain::schema::{HOUSEHOLDS, INCOMES, Kind, PERSONS, Table};
use fupin_domain::{CodeLists, Value};
use fupin_store::Actor;
use fupin_store::writer::RowIn;
use reqwest::Client;

use crate::support::*;

const FIELDS: &str = include_str!("../../../../data/policy/department_fields.csv");
const DEPARTMENTS: &str = include_str!("../../../../data/codes/department.csv");

/// What identifies a household or person to every department (`departments.rs`).
const IDENTIFYING: &[(&str, &str)] = &[
    ("households", "hh_id"),
    ("households", "village_code"),
    ("persons", "person_id"),
    ("persons", "hh_id"),
    ("persons", "name"),
    ("incomes", "hh_id"),
    ("incomes", "year"),
];

/// The policy year of the marked income row (the newest, so the checks judge it).
const YEAR: i64 = 2026;

/// A value for `table.column` that no page shows unless it shows that column, and the
/// text a page would show for it; `None` for kinds whose text is too common to find
/// (是/否, short codes, keys).
fn marker(codes: &CodeLists, used: &mut BTreeSet<String>, seq: i64, kind: Kind) -> Option<(Value, String)> {
    Some(match kind {
        Kind::Text(n) if n >= 6 => {
            let s = format!("Zq{seq:03}k");
            (Value::Text(s.clone()), s)
        }
        Kind::Date => {
            let s = format!("1931-{:02}-{:02}", 1 + seq % 12, 10 + seq / 12);
            (Value::Text(s.clone()), s)
        }
        Kind::Year => (Value::Int(2040 + seq), (2040 + seq).to_string()),
        Kind::Int => (Value::Int(70_000 + seq * 7), (70_000 + seq * 7).to_string()),
        Kind::Decimal => {
            let v = 800.0 + seq as f64 + 0.37;
            (Value::Real(v), format!("{v:.2}"))
        }
        Kind::Money => {
            let fen = (91_000 + seq) * 100 + 37;
            (Value::Int(fen), format!("{}.37", 91_000 + seq))
        }
        // The longest label no other column shows (two columns of one list get two codes).
        Kind::Code(list) | Kind::Codes(list, _) => {
            let mut all: Vec<_> = codes.get(list)?.codes.iter().collect();
            all.sort_by_key(|c| std::cmp::Reverse(c.label.chars().count()));
            let code = all.into_iter().find(|c| c.label.chars().count() >= 5 && !used.contains(&c.label))?;
            used.insert(code.label.clone());
            (Value::Text(code.code.clone()), code.label.clone())
        }
        _ => return None,
    })
}

/// Every marked column: (table, column) → the text shown for it.
type Marks = BTreeMap<(&'static str, &'static str), String>;

/// Fills H1, its head 张三 (P1) and an income row of [`YEAR`] with markers.
async fn mark(app: &TestApp) -> Marks {
    let codes = CodeLists::builtin();
    let mut marks = Marks::new();
    let mut used = BTreeSet::new();
    let mut seq = 0;
    let mut values = |table: &'static Table, marks: &mut Marks| -> Vec<(&'static str, Value)> {
        let mut out = Vec::new();
        for c in table.columns {
            if IDENTIFYING.contains(&(table.name, c.name)) || c.personal.is_some() {
                continue;
            }
            seq += 1;
            if let Some((v, shown)) = marker(&codes, &mut used, seq, c.kind) {
                out.push((c.name, v));
                marks.insert((table.name, c.name), shown);
            }
        }
        out
    };
    let household = values(&HOUSEHOLDS, &mut marks);
    let person = values(&PERSONS, &mut marks);
    let income = values(&INCOMES, &mut marks);
    let mut w = app.db.store.writer(Actor::System).await.unwrap();
    w.set_fields(&HOUSEHOLDS, "H1", &household, "部门可见性测试").await.unwrap();
    w.set_fields(&PERSONS, "P1", &person, "部门可见性测试").await.unwrap();
    let mut row = vec![Value::Null; INCOMES.columns.len()];
    row[INCOMES.index_of("hh_id").unwrap()] = Value::Text("H1".into());
    row[INCOMES.index_of("year").unwrap()] = Value::Int(YEAR);
    for (name, v) in income {
        row[INCOMES.index_of(name).unwrap()] = v;
    }
    w.upsert(&INCOMES, vec![RowIn { values: row, source: None }], "部门可见性测试").await.unwrap();
    w.commit().await.unwrap();
    marks
}

/// The departments and the columns each sees beyond the identifying ones.
fn departments() -> Vec<(String, BTreeSet<(String, String)>)> {
    let mut owned: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
    for line in FIELDS.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split(',').collect();
        owned.entry(parts[0].to_owned()).or_default().insert((parts[1].to_owned(), parts[2].to_owned()));
    }
    DEPARTMENTS
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| !c.is_empty())
        .map(|c| (c.to_owned(), owned.remove(c).unwrap_or_default()))
        .collect()
}

/// Every GET path of the router, filled in for H1, its village, township and county
/// (and each finding), with the lists' filters and downloads.
async fn paths(app: &TestApp) -> Vec<String> {
    let ids: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM findings ORDER BY id").fetch_all(app.db.store.pool()).await.unwrap();
    let mut out = Vec::new();
    for route in fupin_web::routes() {
        if route.method != reqwest::Method::GET || route.policy == fupin_web::Policy::Public {
            continue;
        }
        let p = route.path;
        let filled: Vec<String> = match p {
            "/area/{code}" => vec![
                format!("/area/{COUNTY}"),
                format!("/area/{TOWN_A}"),
                format!("/area/{V1}"),
                format!("/area/{V1}?format=xlsx"),
            ],
            "/dashboard" => vec!["/dashboard".into(), format!("/dashboard?year={YEAR}")],
            "/dashboard/{code}" => vec![format!("/dashboard/{TOWN_A}"), format!("/dashboard/{V1}")],
            "/households" => {
                let mut v = Vec::new();
                for q in ["", "&status=2", "&status=1", "&exit_year=2040", "&monitor=open", "&visits=due"] {
                    v.push(format!("/households?area={V1}{q}"));
                    v.push(format!("/households?area={V1}{q}&format=xlsx"));
                }
                v
            }
            "/findings" => vec![
                format!("/findings?area={COUNTY}&year=all"),
                format!("/findings?area={V1}&hh=H1"),
                format!("/findings?area={COUNTY}&year=all&format=xlsx"),
            ],
            "/search" => vec!["/search?q=张三".into(), "/search?q=H1".into(), "/search?q=张三&format=xlsx".into()],
            "/api/v1/search" => vec!["/api/v1/search?q=张三".into(), "/api/v1/search?q=H1".into()],
            "/api/v1/findings" => vec![format!("/api/v1/findings?area={COUNTY}")],
            "/api/v1/findings/{id}" => ids.iter().map(|(id,)| format!("/api/v1/findings/{id}")).collect(),
            "/api/v1/areas/{code}" => vec![format!("/api/v1/areas/{TOWN_A}"), format!("/api/v1/areas/{V1}")],
            "/api/v1/dashboard/{code}" => {
                vec![format!("/api/v1/dashboard/{COUNTY}"), format!("/api/v1/dashboard/{V1}")]
            }
            other => vec![
                other
                    .replace("{code}", V1)
                    .replace("{hh_id}", "H1")
                    .replace("{change}", "correct")
                    .replace("{key}", "none")
                    .replace("{username}", "admin"),
            ],
        };
        out.extend(filled);
    }
    out
}

/// A body as text: an XLSX download's cells, else the body itself.
async fn body(client: &Client, url: &str) -> (u16, String) {
    let r = client.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let xlsx = r.headers().get("content-type").is_some_and(|t| t.to_str().unwrap_or("").contains("spreadsheetml"));
    let bytes = r.bytes().await.unwrap();
    if !xlsx {
        return (status, String::from_utf8_lossy(&bytes).into_owned());
    }
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    let cells: Vec<String> = range
        .rows()
        .flat_map(|r| r.iter())
        .map(|c| match c {
            Data::String(s) => s.clone(),
            Data::Empty => String::new(),
            other => other.to_string(),
        })
        .collect();
    (status, cells.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_sees_no_other_department_s_column_anywhere() {
    let app = spawn_app().await;
    let marks = mark(&app).await;
    // The shipped checks, as a county administrator runs them: findings with values.
    let admin = app.signed_in(ADMIN).await;
    let r = admin.post(format!("{}/findings/run", app.base)).header("Origin", app.origin()).send().await.unwrap();
    assert_eq!(r.status(), 200, "the checks ran");
    assert!(app.sql_count("SELECT COUNT(*) FROM findings WHERE hh_id = 'H1'").await > 0, "H1 has findings");
    let paths = paths(&app).await;

    // What the administrator sees: a marker nobody sees would prove nothing.
    let mut seen_by_admin = String::new();
    for p in &paths {
        seen_by_admin.push_str(&body(&admin, &format!("{}{p}", app.base)).await.1);
    }
    let checked: Marks = marks.into_iter().filter(|(_, shown)| seen_by_admin.contains(shown.as_str())).collect();
    assert!(checked.len() >= 40, "the administrator sees the marked values: {checked:?}");

    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    let mut leaks = Vec::new();
    for (department, own) in departments() {
        let username = format!("dept{department}");
        let request = fupin_app::accounts::AccountRequest {
            username: &username,
            display_name: "",
            role: fupin_store::users::Role::DepartmentOfficer,
            area: COUNTY,
            password: Some("部门数据员的密码-2026"),
            department: Some(&department),
        };
        fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
        let client = app.client();
        let r = app.login_as(&client, &username, "部门数据员的密码-2026").await;
        assert_eq!(r.status(), 200, "{username} signs in");
        let hidden: Vec<(&(&str, &str), &String)> =
            checked.iter().filter(|((t, c), _)| !own.contains(&((*t).to_owned(), (*c).to_owned()))).collect();
        let mine: Vec<&String> = checked
            .iter()
            .filter(|((t, c), _)| own.contains(&((*t).to_owned(), (*c).to_owned())))
            .map(|(_, s)| s)
            .collect();
        let mut all = String::new();
        for p in &paths {
            let (status, page) = body(&client, &format!("{}{p}", app.base)).await;
            assert!(status < 500, "{username} GET {p}: {status}");
            for ((table, column), shown) in &hidden {
                if page.contains(shown.as_str()) {
                    leaks.push(format!("{username} GET {p} shows {table}.{column} ({shown})"));
                }
            }
            all.push_str(&page);
        }
        // Their own columns are there: the officer is not simply shown nothing.
        for shown in mine {
            assert!(all.contains(shown.as_str()), "{username} does not see their own {shown}");
        }
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}

/// Who may reveal, as the README says: county, township and village cadres any
/// personal number of their area; a department officer only the personal columns of
/// their own department (公安: 证件号码), never another's (a phone, a bank account).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_reveals_only_their_own_department_s_numbers() {
    let app = spawn_app().await;
    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    for (username, department) in [("police", "公安"), ("civil", "民政")] {
        let request = fupin_app::accounts::AccountRequest {
            username,
            display_name: "",
            role: fupin_store::users::Role::DepartmentOfficer,
            area: COUNTY,
            password: Some("部门数据员的密码-2026"),
            department: Some(department),
        };
        fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
    }
    let id = [("table", "persons"), ("key", "P1"), ("field", "id_number"), ("reason", "户籍核对")];
    let phone = [("table", "households"), ("key", "H1"), ("field", "phone"), ("reason", "户籍核对")];
    let police = officer(&app, "police").await;
    let (status, page) = reveal(&app, &police, &id).await;
    assert_eq!(status, 200, "公安 reveals an ID number: {page}");
    assert!(page.contains(ID_ZHANG));
    assert_eq!(reveal(&app, &police, &phone).await.0, 403, "a phone is not 公安's");
    let civil = officer(&app, "civil").await;
    assert_eq!(reveal(&app, &civil, &id).await.0, 403, "an ID number is not 民政's");
    assert_eq!(reveal(&app, &civil, &phone).await.0, 403);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM reveal_log").await, 1, "only 公安's reveal is logged");
    let readme = include_str!("../../../../README.md");
    assert!(
        readme.contains("a department officer only the personal columns of their own department"),
        "the README says so"
    );
}

async fn officer(app: &TestApp, user: &str) -> Client {
    let client = app.client();
    let r = app.login_as(&client, user, "部门数据员的密码-2026").await;
    assert_eq!(r.status(), 200, "{user} signs in");
    client
}

async fn reveal(app: &TestApp, client: &Client, fields: &[(&str, &str)]) -> (u16, String) {
    let r = client
        .post(format!("{}/household/H1/reveal", app.base))
        .header("Origin", app.origin())
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// A list or a figure by a column the officer does not see would tell that column of
/// every household in it: such filters are refused, and the counts by 户类型 are left
/// out of the overview, the dashboard and their API answers; 乡村振兴 sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_figures_over_other_columns_are_not_for_a_department() {
    let app = spawn_app().await;
    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    let request = fupin_app::accounts::AccountRequest {
        username: "rural",
        display_name: "",
        role: fupin_store::users::Role::DepartmentOfficer,
        area: COUNTY,
        password: Some("部门数据员的密码-2026"),
        department: Some("乡村振兴"),
    };
    fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
    let civil = app.signed_in("department").await;
    let rural = officer(&app, "rural").await;
    for list in ["status=2", "exit_year=2020", "monitor=open", "visits=due"] {
        let path = format!("/households?area={COUNTY}&{list}");
        assert_eq!(app.get(&civil, &path).await.0, 403, "民政 × {path}");
        let want = if list == "visits=due" { 403 } else { 200 };
        assert_eq!(app.get(&rural, &path).await.0, want, "乡村振兴 × {path}");
    }
    assert_eq!(app.get(&civil, &format!("/households?area={COUNTY}")).await.0, 200, "the plain list");
    let (_, json) = app.get(&civil, &format!("/api/v1/areas/{TOWN_A}")).await;
    assert!(json.contains("\"poor\":null"), "{json}");
    let (_, json) = app.get(&rural, &format!("/api/v1/areas/{TOWN_A}")).await;
    assert!(json.contains("\"poor\":1"), "{json}");
    let (_, json) = app.get(&civil, &format!("/api/v1/dashboard/{COUNTY}")).await;
    assert!(json.contains("\"total\":null") && json.contains("\"children\":[]"), "{json}");
    let (_, page) = app.get(&civil, "/dashboard").await;
    assert!(!page.contains("id=\"incidence\"") && page.contains("问题清单"), "民政's dashboard");
    let (_, page) = app.get(&rural, "/dashboard").await;
    assert!(page.contains("id=\"incidence\""), "乡村振兴's dashboard");
}

/// The personal columns, masked, are columns too: a department that does not own
/// 联系电话, 银行账号 or 证件号码 sees none of them even masked, on any GET route (the
/// phone card 我的农户 included); 公安 sees the masked ID numbers it owns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_officer_sees_no_masked_number_of_a_column_not_its_own() {
    let app = spawn_app().await;
    let paths = paths(&app).await;
    let masked = [
        (("households", "phone"), "139****5678"),
        (("households", "bank_account"), "************5678"),
        (("persons", "id_number"), ID_ZHANG_MASKED),
    ];
    let admin = app.signed_in(ADMIN).await;
    let mut seen_by_admin = String::new();
    for p in &paths {
        seen_by_admin.push_str(&body(&admin, &format!("{}{p}", app.base)).await.1);
    }
    for (_, shown) in masked {
        assert!(seen_by_admin.contains(shown), "the administrator sees {shown}");
    }
    let by = fupin_app::accounts::ChangedBy { name: "test", remote_addr: None };
    let mut leaks = Vec::new();
    for (department, own) in departments() {
        let username = format!("dept{department}");
        let request = fupin_app::accounts::AccountRequest {
            username: &username,
            display_name: "",
            role: fupin_store::users::Role::DepartmentOfficer,
            area: COUNTY,
            password: Some("部门数据员的密码-2026"),
            department: Some(&department),
        };
        fupin_app::accounts::add_user(&app.db.store, by, &request).await.unwrap();
        let client = officer(&app, &username).await;
        let hidden: Vec<_> =
            masked.iter().filter(|((t, c), _)| !own.contains(&((*t).to_owned(), (*c).to_owned()))).collect();
        for p in &paths {
            let (_, page) = body(&client, &format!("{}{p}", app.base)).await;
            for ((table, column), shown) in &hidden {
                if page.contains(shown) {
                    leaks.push(format!("{username} GET {p} shows {table}.{column} masked ({shown})"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}
