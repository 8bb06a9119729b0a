//! The dashboard, findings and search use cases on a small registry (SQLite, or
//! PostgreSQL when `FUPIN_TEST_DB` names one): the dashboard's figures are the
//! store's counts the pages and the API show, what a viewer sees follows their role
//! and scope, and a finding outside the scope answers like a missing one.

use std::collections::BTreeSet;
use std::sync::Arc;

use fupin_app::dashboard::{self, Sections};
use fupin_app::{AppError, Households, Viewer, findings, search};
use fupin_domain::schema::{DIVISIONS, HOUSEHOLDS, PERSONS, Table};
use fupin_domain::{DivisionCode, Value};
use fupin_store::dashboard_views;
use fupin_store::testing;
use fupin_store::users::{Role, User};
use fupin_store::views::SearchQuery;
use fupin_store::writer::RowIn;
use fupin_store::{Actor, Store};

const COUNTY: &str = "610981";
const TOWN_A: &str = "610981100";
const TOWN_B: &str = "610981101";
const V1: &str = "610981100201";
const V2: &str = "610981100202";
const V3: &str = "610981101201";

fn row(table: &Table, cells: &[(&str, &str)]) -> RowIn {
    let mut values = vec![Value::Null; table.columns.len()];
    for (name, value) in cells {
        let i = table.index_of(name).unwrap_or_else(|| panic!("{}.{name} does not exist", table.name));
        values[i] = Value::Text((*value).to_owned());
    }
    RowIn { values, source: Some("测试数据".into()) }
}

/// 2 townships, 3 villages, 4 households (one of each status and a monitored one).
async fn seed(store: &Store) {
    let mut w = store.writer(Actor::System).await.expect("writer");
    let division = |code: &str, name: &str, level: &str, parent: &str| {
        let mut cells = vec![("code", code), ("name", name), ("level", level)];
        if !parent.is_empty() {
            cells.push(("parent_code", parent));
        }
        row(&DIVISIONS, &cells)
    };
    let divisions = vec![
        division(COUNTY, "旬阳市", "county", ""),
        division(TOWN_A, "城关镇", "township", COUNTY),
        division(TOWN_B, "白柳镇", "township", COUNTY),
        division(V1, "东关村", "village", TOWN_A),
        division(V2, "西关村", "village", TOWN_A),
        division(V3, "白柳村", "village", TOWN_B),
    ];
    w.upsert(&DIVISIONS, divisions, "初始化区划").await.expect("divisions");
    let households = vec![
        row(&HOUSEHOLDS, &[("hh_id", "H1"), ("village_code", V1), ("status", "2")]),
        row(&HOUSEHOLDS, &[("hh_id", "H2"), ("village_code", V1), ("status", "3"), ("monitor_type", "1")]),
        row(&HOUSEHOLDS, &[("hh_id", "H3"), ("village_code", V2), ("status", "1")]),
        row(&HOUSEHOLDS, &[("hh_id", "H4"), ("village_code", V3), ("status", "2")]),
    ];
    w.upsert(&HOUSEHOLDS, households, "导入").await.expect("households");
    let person = |id: &str, hh: &str, name: &str, relation: &str| {
        row(&PERSONS, &[("person_id", id), ("hh_id", hh), ("name", name), ("relation", relation)])
    };
    let persons = vec![
        person("P1", "H1", "张三", "01"),
        person("P2", "H1", "李四", "02"),
        person("P3", "H2", "张五", "01"),
        person("P4", "H3", "赵六", "01"),
        person("P5", "H4", "张七", "01"),
    ];
    w.upsert(&PERSONS, persons, "导入").await.expect("persons");
    w.commit().await.expect("commit");
}

fn viewer(role: Role, area: &str, department: Option<&str>) -> Viewer {
    let user = User {
        username: format!("{role:?}").to_lowercase(),
        password_hash: String::new(),
        role,
        area: DivisionCode::parse(area).expect("an area"),
        display_name: String::new(),
        disabled: false,
        failed_logins: 0,
        locked_until: None,
        created_at: String::new(),
        last_login_at: None,
        department: department.map(str::to_owned),
    };
    let households = match role {
        Role::HelperCadre => Households::Paired(Arc::new(BTreeSet::from(["H1".to_owned()]))),
        _ => Households::All,
    };
    Viewer { user, households }
}

fn code(c: &str) -> DivisionCode {
    DivisionCode::parse(c).expect("a code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_the_stores_counts_as_the_viewer_may_see_them() {
    let db = testing::fresh().await.expect("a registry");
    seed(&db.store).await;
    let today = time::Date::from_calendar_date(2026, time::Month::May, 4).expect("a date");
    let year = 2026;

    let admin = viewer(Role::CountyAdmin, COUNTY, None);
    let d = dashboard::dashboard(&db.store, &admin, &code(COUNTY), year, today).await.expect("the county");
    assert_eq!(d.area.name, "旬阳市");
    assert_eq!(d.children.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), [TOWN_A, TOWN_B]);
    let counted = dashboard_views::status_by_child(&db.store, &code(COUNTY), year).await.expect("counts");
    assert_eq!(d.by_child, counted, "the figures the pages showed");
    assert_eq!(d.total, dashboard::sum(counted.iter().map(|(_, f)| f)));
    assert_eq!(d.total.total_households(), 4);
    assert_eq!(d.total.households, [1, 2, 1]);
    assert_eq!(d.total.poor_persons(), 3);
    assert_eq!(d.of(TOWN_A).total_households(), 3);
    assert_eq!(d.of("610981199").total_households(), 0, "a child without households counts zero");
    assert_eq!(d.exits, dashboard_views::exits_by_year(&db.store, &code(COUNTY), year).await.expect("exits"));
    let monitoring = dashboard_views::monitoring_by_type(&db.store, &code(COUNTY), year).await.expect("monitoring");
    assert_eq!(d.monitoring, monitoring);
    assert_eq!(d.sections, Sections { status: true, exit_year: true, monitor_type: true, visits: true });
    assert_eq!(d.quarter, dashboard_views::Quarter::for_year(year, today));
    // Counted again from the cache, the same.
    let again = dashboard::dashboard(&db.store, &admin, &code(COUNTY), year, today).await.expect("again");
    assert_eq!((again.by_child, again.total), (d.by_child.clone(), d.total));

    // A village's dashboard is by the village itself.
    let v = dashboard::dashboard(&db.store, &admin, &code(V1), year, today).await.expect("a village");
    assert_eq!(v.children.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), [V1]);
    assert_eq!(v.total.total_households(), 2);

    // Outside the viewer's area, or no such division: not found; a helper cadre has none.
    let township = viewer(Role::TownshipOfficer, TOWN_A, None);
    let outside = dashboard::dashboard(&db.store, &township, &code(TOWN_B), year, today).await;
    assert!(matches!(outside, Err(AppError::NotFound)), "{outside:?}");
    let missing = dashboard::dashboard(&db.store, &township, &code("610981100299"), year, today).await;
    assert!(matches!(missing, Err(AppError::NotFound)), "{missing:?}");
    let helper = viewer(Role::HelperCadre, COUNTY, None);
    let paired = dashboard::dashboard(&db.store, &helper, &code(V1), year, today).await;
    assert!(matches!(paired, Err(AppError::Forbidden)), "{paired:?}");

    // A department officer who does not see 户类型 gets none of it, nor visits.
    let officer = viewer(Role::DepartmentOfficer, COUNTY, Some("02"));
    let o = dashboard::dashboard(&db.store, &officer, &code(COUNTY), year, today).await.expect("the officer's");
    assert!(!o.sections.status && !o.sections.visits);
    assert!(o.by_child.is_empty() && o.total.total_households() == 0 && o.visits.is_empty());
    assert!(o.exits.is_empty() && o.monitoring.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_answers_the_viewers_scope_only() {
    let db = testing::fresh().await.expect("a registry");
    seed(&db.store).await;
    let query = SearchQuery::Text("张".to_owned());
    let hh = |hits: &[fupin_store::views::SearchHit]| hits.iter().map(|h| h.hh_id.clone()).collect::<BTreeSet<_>>();
    let admin = viewer(Role::CountyAdmin, COUNTY, None);
    let all = search::search(&db.store, &admin, &query).await.expect("search");
    assert_eq!(hh(&all), BTreeSet::from(["H1".into(), "H2".into(), "H4".into()]));
    assert!(!search::limited(&all));
    let township = viewer(Role::TownshipOfficer, TOWN_B, None);
    assert_eq!(hh(&search::search(&db.store, &township, &query).await.expect("search")), BTreeSet::from(["H4".into()]));
    let helper = viewer(Role::HelperCadre, COUNTY, None);
    assert_eq!(hh(&search::search(&db.store, &helper, &query).await.expect("search")), BTreeSet::from(["H1".into()]));
    let officer = viewer(Role::DepartmentOfficer, COUNTY, Some("02"));
    let hits = search::search(&db.store, &officer, &query).await.expect("search");
    assert!(hits.iter().all(|h| h.status.is_empty()), "户类型 is not the officer's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_outside_the_scope_answers_like_a_missing_one() {
    let db = testing::fresh().await.expect("a registry");
    seed(&db.store).await;
    let admin = viewer(Role::CountyAdmin, COUNTY, None);
    for id in ["", "x", "12345"] {
        let found = findings::finding_in_scope(&db.store, &admin, id).await;
        assert!(matches!(found, Err(AppError::NotFound)), "{id}: {found:?}");
    }
    // A role that keeps no registry is refused before anything is looked up.
    for role in [Role::Inspector, Role::HelperCadre, Role::DepartmentOfficer] {
        let done = findings::explain(&db.store, &viewer(role, COUNTY, Some("02")), "12345", "propose", "理由").await;
        assert!(matches!(done, Err(AppError::Forbidden)), "{role:?}: {done:?}");
    }
    let done = findings::explain(&db.store, &viewer(Role::VillageCadre, V1, None), "12345", "propose", "理由").await;
    assert!(matches!(done, Err(AppError::NotFound)), "{done:?}");
    // A worklist of an area outside the viewer's is not found; the page's filter
    // without a year takes the newest with findings (none here: every year).
    let township = viewer(Role::TownshipOfficer, TOWN_A, None);
    let q = findings::WorkQuery { area: Some(TOWN_B.into()), ..Default::default() };
    assert!(matches!(findings::work_filter(&db.store, &township, &q).await, Err(AppError::NotFound)));
    let f = findings::work_filter(&db.store, &township, &findings::WorkQuery::default()).await.expect("own area");
    assert_eq!((f.area.as_str(), f.year), (TOWN_A, None));
    let page = findings::page(&db.store, &f, 1).await.expect("a page");
    assert_eq!((page.total, page.pages, page.lines.len()), (0, 1, 0));
    let s = findings::summary(&db.store, &township, &code(TOWN_A), 2026).await.expect("a summary");
    assert_eq!(s.total.total(), 0);
    assert!(matches!(findings::summary(&db.store, &township, &code(COUNTY), 2026).await, Err(AppError::NotFound)));
}
