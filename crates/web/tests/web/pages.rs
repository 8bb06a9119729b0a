//! The pages over HTTP, as a signed-in browser sees them.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_need_a_session() {
    let app = spawn_app().await;
    let client = app.client();
    for path in ["/", "/area/610981100", "/household/H1", "/search?q=张三"] {
        let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.url().path(), "/login", "{path} without a session goes to the sign-in page");
    }
    let (status, page) = app.get(&client, "/login").await;
    assert_eq!(status, 200);
    assert!(page.contains("用户名") && page.contains("密码"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_counts_equal_plain_sql_counts() {
    let app = spawn_app().await;
    let client = app.signed_in(ADMIN).await;
    let (status, page) = app.get(&client, "/").await;
    assert_eq!(status, 200);
    for town in [TOWN_A, TOWN_B] {
        let like = format!("'{town}%'");
        let hh = app.sql_count(&format!("SELECT COUNT(*) FROM households WHERE village_code LIKE {like}")).await;
        let persons = app
            .sql_count(&format!(
                "SELECT COUNT(*) FROM persons p JOIN households h ON h.hh_id = p.hh_id WHERE h.village_code LIKE {like}"
            ))
            .await;
        let status_count =
            |s: &str| format!("SELECT COUNT(*) FROM households WHERE village_code LIKE {like} AND status = '{s}'");
        let poor = app.sql_count(&status_count("2")).await;
        let exited = app.sql_count(&status_count("3")).await;
        let monitored = app
            .sql_count(&format!(
                "SELECT COUNT(*) FROM households WHERE village_code LIKE {like} \
                 AND monitor_type IS NOT NULL AND risk_cleared_on IS NULL"
            ))
            .await;
        let name = if town == TOWN_A { "城关镇" } else { "白柳镇" };
        let want = format!(
            "<tr><td><a href=\"/area/{town}\">{name}</a></td><td class=\"num\">{hh}</td><td class=\"num\">{persons}</td>\
             <td class=\"num\">{poor}</td><td class=\"num\">{exited}</td><td class=\"num\">{monitored}</td></tr>"
        );
        assert!(page.contains(&want), "overview row for {name}: want {want}\n{page}");
    }
    // The hand-made county, spelled out: 城关镇 3 households, 5 persons, 1 poor, 1
    // exited, 1 monitored (H3's risk is cleared).
    assert!(page.contains("<td class=\"num\">3</td><td class=\"num\">5</td><td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">1</td>"));
    let total = app.sql_count("SELECT COUNT(*) FROM households").await;
    assert!(page.contains(&format!("<tfoot><tr><th>合计</th><td class=\"num\">{total}</td>")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_starts_in_its_own_area() {
    let app = spawn_app().await;
    let township = app.signed_in("township").await;
    let (_, page) = app.get(&township, "/").await;
    assert!(page.contains("东关村") && page.contains("西关村"), "a township officer sees the villages");
    assert!(!page.contains("白柳"), "and nothing of the other township");
    assert_eq!(app.get(&township, &format!("/area/{COUNTY}")).await.0, 404);
    assert_eq!(app.get(&township, &format!("/area/{TOWN_B}")).await.0, 404);
    assert_eq!(app.get(&township, &format!("/area/{V2}")).await.0, 200);

    let village = app.signed_in("village").await;
    let r = village.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(r.url().path(), format!("/area/{V1}"), "a village cadre lands on the village");
    let page = r.text().await.unwrap();
    assert!(page.contains("/household/H1") && page.contains("张三") && page.contains("在册贫困户"));
    assert!(!page.contains("H3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_household_page_shows_labels_and_only_masked_numbers() {
    let app = spawn_app().await;
    let client = app.signed_in("village").await;
    let (status, page) = app.get(&client, "/household/H1").await;
    assert_eq!(status, 200);
    for want in [
        "张三",
        "李四",
        "张小明", // members
        "户主",
        "配偶",
        "之子", // 与户主关系 as labels
        "主要致贫原因",
        "因病",                // a code shown by its label
        "长期慢性病、残疾",    // several health codes
        "1980-01-01（46 岁）", // age on the configured day
        ID_ZHANG_MASKED,
        "139****5678",
        "************5678",
        "3120.50", // 人均纯收入 of 2019 in 元
        "工资性收入（元）",
        "刘帮扶",         // the helper
        "户主更换手机号", // a reason in the history
        "138****1111 → 139****5678",
    ] {
        assert!(page.contains(want), "household page lacks {want}");
    }
    assert_no_secrets(&page, "the household page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_outside_the_users_area_do_not_exist() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let (status, other) = app.get(&cadre, "/household/H4").await;
    assert_eq!(status, 404, "another township's household");
    let (status, missing) = app.get(&cadre, "/household/NOPE").await;
    assert_eq!(status, 404, "a household that does not exist");
    assert_eq!(other, missing, "both answer alike, so numbers cannot be probed");
    assert_eq!(app.get(&cadre, "/household/H3").await.0, 404, "another village of the same township");
    assert_eq!(app.get(&cadre, &format!("/area/{V2}")).await.0, 404);
    assert_eq!(app.get(&cadre, "/area/not-a-code").await.0, 404);
    assert_eq!(app.get(&cadre, "/no/such/page").await.0, 404);
    let admin = app.signed_in(ADMIN).await;
    assert_eq!(app.get(&admin, "/household/H4").await.0, 200, "the county sees every village");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_by_name_number_and_whole_id_within_the_area() {
    let app = spawn_app().await;
    let admin = app.signed_in(ADMIN).await;
    let (_, page) = app.get(&admin, "/search?q=张").await;
    assert!(page.contains("张三") && page.contains("张小明") && page.contains("/household/H1"));
    let (_, page) = app.get(&admin, "/search?q=H4").await;
    assert!(page.contains("孙七"), "by 户编号");
    let search = |client: reqwest::Client, q: String| {
        let url = format!("{}/search", app.base);
        let origin = app.origin().to_owned();
        async move {
            let r = client.post(url).header("Origin", origin).form(&[("q", q)]).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, page) = search(admin.clone(), ID_ZHANG.to_owned()).await;
    assert_eq!(status, 200);
    assert!(page.contains("张三") && page.contains(ID_ZHANG_MASKED), "by whole ID number, shown masked");
    assert!(!page.contains("李四"));
    assert_no_secrets(&page, "the search page");
    let (_, page) = search(admin.clone(), ID_ZHANG[..17].to_owned()).await;
    assert!(!page.contains("张三"), "part of an ID number finds nobody");
    // The forms post: a whole ID number never goes into a URL, and a URL holding one
    // is refused without a lookup.
    let (_, page) = app.get(&admin, "/").await;
    assert!(page.contains(r#"action="/search" method="post""#), "the navigation's search form posts");
    let (status, page) = app.get(&admin, &format!("/search?q={ID_ZHANG}")).await;
    assert_eq!(status, 400, "a whole ID number in a URL");
    assert!(!page.contains("张三") && page.contains("不能放在网址中"), "{page}");
    let (_, page) = app.get(&admin, "/search?q=张").await;
    assert!(page.contains(r#"action="/search" method="post""#), "the search page's form posts");

    let cadre = app.signed_in("village").await;
    let (_, page) = app.get(&cadre, "/search?q=孙七").await;
    assert!(page.contains("没有找到"), "a village cadre does not find people of other villages");
    let (_, page) = search(cadre.clone(), "610981196601010057".to_owned()).await;
    assert!(!page.contains("孙七"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn villages_list_their_households_page_by_page() {
    let app = spawn_app().await;
    let client = app.signed_in(ADMIN).await;
    let (status, page) = app.get(&client, &format!("/area/{V1}?page=abc")).await;
    assert_eq!(status, 200, "a bad page number reads as the first page");
    assert!(page.contains("第 1 / 1 页"));
    assert!(page.contains("<td>张三</td><td class=\"num\">3</td><td>在册贫困户</td><td class=\"num\">3</td>"));
    assert!(page.contains("<td>王五</td><td class=\"num\"></td><td>已脱贫户</td><td class=\"num\">1</td>"));
}

/// The household's history holds its own row, its members, its incomes (keys
/// `H1|year`, found by a key range on SQLite) and its pairings — and nothing of a
/// household whose number starts the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_covers_the_household_its_members_incomes_and_pairings() {
    let app = spawn_app().await;
    let records = fupin_store::views::history_of(&app.db.store, &fupin_domain::HouseholdId::parse("H1").unwrap(), 500)
        .await
        .expect("history");
    let entities: std::collections::BTreeSet<&str> = records.iter().map(|r| r.entity.as_str()).collect();
    for want in ["households", "persons", "incomes"] {
        assert!(entities.contains(want), "the history of H1 lacks {want}: {entities:?}");
    }
    let incomes: Vec<&str> = records.iter().filter(|r| r.entity == "incomes").map(|r| r.entity_key.as_str()).collect();
    assert_eq!(incomes.len(), 2, "{incomes:?}");
    assert!(incomes.iter().all(|k| k.starts_with("H1|")), "{incomes:?}");
    let expected =
        app.sql_count("SELECT COUNT(*) FROM change_log WHERE entity = 'incomes' AND entity_key LIKE 'H1|%'").await;
    assert_eq!(incomes.len() as i64, expected);
}
