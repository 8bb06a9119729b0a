//! The pages in English: by the `lang` cookie the footer's switcher sets, by the
//! browser's `Accept-Language`, and Chinese when neither asks for English.

use crate::support::*;

/// The Chinese messages of the catalogue (those with no placeholder), to show that
/// an English page that holds no registry data has none of them.
fn chinese_messages() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/i18n/zh.toml");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| l.split_once(" = \""))
        .map(|(_, v)| v.trim_end_matches('"').to_owned())
        .filter(|v| !v.contains('{') && v.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)))
        .filter(|v| v != "中文")
        .collect()
}

/// The Chinese characters of a page, in order.
fn han(page: &str) -> String {
    page.chars().filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)).collect()
}

/// A browser that prefers English and has no `lang` cookie.
fn english_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("accept-language", "en-GB,en;q=0.9".parse().unwrap());
    reqwest::Client::builder().cookie_store(true).default_headers(headers).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_follows_accept_language_and_defaults_to_chinese() {
    let app = spawn_app().await;
    let (status, zh) = app.get(&app.client(), "/login").await;
    assert_eq!(status, 200);
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("用户名") && zh.contains("连续 5 次密码错误"));
    assert!(zh.contains("<strong>中文</strong>") && zh.contains("href=\"/lang/en\""), "the switcher offers English");

    let en_client = english_client();
    let (status, en) = app.get(&en_client, "/login").await;
    assert_eq!(status, 200);
    assert!(en.contains("<html lang=\"en\">"), "{en}");
    for label in ["Sign in", "Username", "Password", "After 5 wrong passwords in a row", "Poverty Relapse Monitoring"] {
        assert!(en.contains(label), "the English sign-in page lacks {label}");
    }
    assert!(en.contains("<strong>English</strong>") && en.contains("href=\"/lang/zh\""));
    // The sign-in page shows no registry data: no Chinese at all but the switcher's 中文.
    assert_eq!(han(&en), "中文", "Chinese left on the English sign-in page");
    for m in chinese_messages() {
        assert!(!en.contains(&m), "the English sign-in page shows {m}");
    }

    // A refused sign-in answers in English too.
    let r = en_client
        .post(format!("{}/login", app.base))
        .header("Origin", app.origin())
        .form(&[("username", "nobody"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Wrong username or password."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switcher_sets_a_cookie_and_every_page_follows_it() {
    let app = spawn_app().await;
    let client = app.signed_in(ADMIN).await;
    let (_, zh) = app.get(&client, "/").await;
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("在册贫困户") && zh.contains("各乡镇情况"));

    // The switcher goes back to the page it was clicked on, now in English.
    let r = client
        .get(format!("{}/lang/en", app.base))
        .header("Referer", format!("{}/household/H1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/household/H1");
    let household = r.text().await.unwrap();
    for label in ["Household of 张三", "Members (3)", "Incomes", "Helper cadres", "Change history", "Record a change"]
    {
        assert!(household.contains(label), "the English household page lacks {label}");
    }
    for zh_label in
        ["家庭成员", "变更记录", "收入情况", "帮扶责任人", "登记变更", "基本情况", "出生日期（年龄）", "至今"]
    {
        assert!(!household.contains(zh_label), "the English household page shows {zh_label}");
    }
    assert_no_secrets(&household, "English household page");

    let (status, area) = app.get(&client, "/").await;
    assert_eq!(status, 200);
    assert!(area.contains("<html lang=\"en\">"));
    for label in ["By Township", "Registered poor", "Exited poverty", "Monitored", "Total", "County administrator"] {
        assert!(area.contains(label), "the English overview lacks {label}");
    }
    for zh_label in ["各乡镇情况", "户数", "人数", "合计", "县级管理员", "统计看板", "退出"] {
        assert!(!area.contains(zh_label), "the English overview shows {zh_label}");
    }
    // What stays Chinese is data: the county's and townships' names.
    assert!(area.contains("城关镇"));

    let (status, village) = app.get(&client, &format!("/area/{V1}")).await;
    assert_eq!(status, 200);
    assert!(village.contains("Download the list (XLSX)") && village.contains("Household no."));

    let (status, dashboard) = app.get(&client, "/dashboard").await;
    assert_eq!(status, 200);
    for label in
        ["Dashboard", "Households and persons by status", "Poverty incidence", "Households exited, by exit year"]
    {
        assert!(dashboard.contains(label), "the English dashboard lacks {label}");
    }
    for zh_label in ["统计看板", "贫困发生率", "脱贫年度", "监测对象类型", "年度"] {
        assert!(!dashboard.contains(zh_label), "the English dashboard shows {zh_label}");
    }

    // The error page too.
    let (status, missing) = app.get(&client, "/household/NO-SUCH").await;
    assert_eq!(status, 404);
    assert!(missing.contains("Page not found") && !missing.contains("页面不存在"));

    // And back: the cookie says Chinese even to a browser that prefers English.
    let r = client
        .get(format!("{}/lang/zh", app.base))
        .header("accept-language", "en")
        .header("Referer", format!("{}/dashboard", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/dashboard");
    let dashboard = r.text().await.unwrap();
    assert!(dashboard.contains("<html lang=\"zh-CN\">") && dashboard.contains("贫困发生率"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switcher_stays_on_the_site_and_knows_its_languages() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for (referer, back) in [
        (Some(format!("{}/search?q=H1", app.base)), "/search?q=H1"),
        (Some("https://elsewhere.example//evil.example/x".to_owned()), "/"),
        (None, "/"),
    ] {
        let mut request = client.get(format!("{}/lang/en", app.base));
        if let Some(r) = &referer {
            request = request.header("Referer", r);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 303, "{referer:?}");
        assert_eq!(r.headers()["location"], back, "{referer:?}");
        let cookie = r.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("lang=en;") && cookie.contains("Path=/"), "{cookie}");
    }
    let r = client.get(format!("{}/lang/fr", app.base)).header("accept-language", "en").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("Page not found"));
}
