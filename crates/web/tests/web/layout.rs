//! What every page shares and every list offers: the navigation by role (待审核 for
//! those who review, 我的农户 for those who visit), the icon, charts that fit their box,
//! and an XLSX download on each list.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_navigation_offers_what_the_role_does() {
    let app = spawn_app().await;
    for (user, review, my) in [
        ("county", true, true),
        ("township", true, true),
        ("village", true, true),
        ("helper", false, true),
        ("department", false, false),
        ("inspector", false, false),
    ] {
        let client = app.signed_in(user).await;
        let (_, page) = app.get(&client, "/search?q=张三").await;
        let bar = &page[page.find("<header").unwrap()..page.find("</header>").unwrap()];
        assert_eq!(bar.contains("href=\"/review\""), review, "{user}: 待审核 in the bar");
        assert_eq!(bar.contains("href=\"/my\""), my, "{user}: 我的农户 in the bar");
        if review {
            assert_eq!(app.get(&client, "/review").await.0, 200, "{user} reviews");
        }
        assert!(page.contains("<link rel=\"icon\" href=\"/static/favicon.svg\""), "{user}: the icon is linked");
    }
    let client = app.client();
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let r = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
        assert!(r.text().await.unwrap().starts_with("<svg"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_charts_fit_their_box() {
    let app = spawn_app().await;
    let client = app.signed_in("county").await;
    let (_, page) = app.get(&client, "/dashboard").await;
    let svgs: Vec<&str> = page.split("<svg").skip(1).map(|s| &s[..s.find('>').unwrap()]).collect();
    assert!(svgs.len() >= 3, "charts on the dashboard");
    for head in svgs {
        assert!(head.contains("width=\"100%\"") && head.contains("viewBox="), "{head}");
    }
    // A bar leads to the households behind it, as the table's number does.
    let chart = &page[page.find("<svg").unwrap()..page.find("</svg>").unwrap()];
    let bar = chart.split("<a href=\"").nth(1).expect("a linked bar");
    let href = bar[..bar.find('"').unwrap()].replace("&amp;", "&");
    assert!(href.starts_with("/households?area="), "{href}");
    assert!(bar[bar.find('>').unwrap() + 1..].starts_with("<rect"), "the link holds the bar");
    assert_eq!(app.get(&client, &href).await.0, 200, "{href}");
}

/// Each list links its download, and the download answers a workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_has_an_xlsx_download() {
    let app = spawn_app().await;
    crate::findings::seed(&app, &[("DQ.A", "error", "H1", V1)]).await;
    let client = app.signed_in("county").await;
    for list in [
        format!("/area/{V1}"),
        format!("/households?area={COUNTY}&year=2026&status=2"),
        format!("/households?area={COUNTY}&year=2026&visits=due"),
        format!("/findings?area={COUNTY}"),
        "/search?q=张".to_owned(),
        "/review".to_owned(),
    ] {
        let (status, page) = app.get(&client, &list).await;
        assert_eq!(status, 200, "{list}");
        let page = page.replace("&amp;", "&").replace("&#38;", "&");
        let link = page
            .split("href=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .find(|h| h.contains("format=xlsx"))
            .unwrap_or_else(|| panic!("{list} links no download"))
            .to_owned();
        let r = client.get(format!("{}{link}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{link}");
        let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.contains("spreadsheetml"), "{link}: {kind}");
    }
}
