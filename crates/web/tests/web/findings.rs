//! 问题清单 in the web application: the worklist's counts against a plain SQL recount,
//! its scope, the explanation workflow (an error needs a township officer who is not
//! the proposer; rejecting), the events in the household's change history and in the
//! audited hash chain, the household page's open findings and the dashboard's counts.

use fupin_store::findings::{self, NewFinding, RunScope};
use reqwest::Client;

use crate::support::*;

/// The policy year the seeded findings judge.
pub const YEAR: i32 = 2025;

/// Records one run of findings: (rule, severity, 户编号, village) each, in this order,
/// so a fresh database numbers them 1, 2, …; returns their ids.
pub async fn seed(app: &TestApp, specs: &[(&str, &str, &str, &str)]) -> Vec<i64> {
    let failing: Vec<NewFinding> = specs
        .iter()
        .map(|(rule, severity, hh, village)| NewFinding {
            rule_id: (*rule).to_owned(),
            rule_set: "test".into(),
            severity: (*severity).to_owned(),
            level: "household".into(),
            entity_key: (*hh).to_owned(),
            hh_id: Some((*hh).to_owned()),
            person_id: None,
            village_code: Some((*village).to_owned()),
            values: vec![("income".into(), "1000".into())],
            explanation: format!("{hh} 人均纯收入 1000 元"),
            masked_values: vec![("income".into(), "1000".into())],
            masked_explanation: format!("{hh} 人均纯收入 1000 元"),
        })
        .collect();
    let mut rule_ids: Vec<String> = specs.iter().map(|s| s.0.to_owned()).collect();
    rule_ids.dedup();
    let scope = RunScope { year: YEAR, rule_ids, division: None };
    findings::record_run(&app.db.store, &scope, &failing, time::OffsetDateTime::now_utc()).await.expect("recorded");
    let mut ids = Vec::new();
    for (rule, _, hh, _) in specs {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM findings WHERE rule_id = $1 AND entity_key = $2")
            .bind(rule.to_string())
            .bind(hh.to_string())
            .fetch_one(app.db.store.pool())
            .await
            .expect("seeded");
        ids.push(id);
    }
    ids
}

async fn post(app: &TestApp, client: &Client, id: i64, fields: &[(&str, &str)]) -> (u16, String) {
    let r = client
        .post(format!("{}/findings/{id}", app.base))
        .header("Origin", app.origin())
        .form(fields)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// The number a page shows in `data-count` after `id="…"`.
fn shown_total(page: &str, id: &str) -> i64 {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[at..];
    let from = rest.find("data-count=\"").expect("data-count") + "data-count=\"".len();
    rest[from..].split('"').next().unwrap().parse().expect("a number")
}

/// The numbers of the table row that starts at `marker`, in order.
fn row_numbers(page: &str, marker: &str) -> Vec<i64> {
    let at = page.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let row = &page[at..at + page[at..].find("</tr>").expect("row end")];
    row.split("<td class=\"num\">")
        .skip(1)
        .map(|cell| {
            let text = cell.split('>').nth(1).unwrap_or_default();
            text.split('<').next().unwrap().trim().parse().expect("a number")
        })
        .collect()
}

async fn status_of(app: &TestApp, id: i64) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, proposed_by FROM findings WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.store.pool())
        .await
        .expect("finding")
}

fn many() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    vec![
        ("DQ.A", "error", "H1", V1),
        ("DQ.A", "error", "H3", V2),
        ("DQ.A", "error", "H4", V3),
        ("DQ.B", "warning", "H1", V1),
        ("DQ.B", "warning", "H3", V2),
        ("DQ.C", "info", "H4", V3),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worklist_counts_equal_a_plain_recount_and_stay_in_the_area() {
    let app = spawn_app().await;
    let ids = seed(&app, &many()).await;
    // One of each state: explained (a warning), waiting for confirmation, fixed.
    findings::propose_explanation(
        &app.db.store,
        ids[3],
        "village",
        "外出务工收入未申报",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("explained");
    findings::propose_explanation(&app.db.store, ids[1], "township", "证件待补办", time::OffsetDateTime::now_utc())
        .await
        .expect("proposed");
    sqlx::query("UPDATE findings SET status = 'fixed' WHERE id = $1")
        .bind(ids[5])
        .execute(app.db.store.pool())
        .await
        .expect("fixed");

    for (user, area) in [("county", COUNTY), ("township", TOWN_A), ("village", V1)] {
        let client = app.signed_in(user).await;
        let (status, page) = app.get(&client, "/findings").await;
        assert_eq!(status, 200, "{user}");
        let like = format!("{area}%");
        let app = &app;
        let count = |cond: &str| {
            let sql = format!("SELECT COUNT(*) FROM findings WHERE village_code LIKE '{like}'{cond}");
            async move { app.sql_count(&sql).await }
        };
        assert_eq!(shown_total(&page, "findings-total"), count("").await, "{user}: total");
        let by_state = row_numbers(&page, "id=\"findings-by-state\"");
        // The states do not overlap: 待处理 holds no finding 待确认 holds, so the row
        // adds up to the list's total and no finding is counted twice.
        let want = vec![
            count(" AND status = 'open' AND proposed_by IS NULL").await,
            count(" AND status = 'open' AND proposed_by IS NOT NULL").await,
            count(" AND status = 'explained'").await,
            count(" AND status = 'fixed'").await,
        ];
        assert_eq!(by_state, want, "{user}: by state");
        assert_eq!(by_state.iter().sum::<i64>(), shown_total(&page, "findings-total"), "{user}: states add up");
        let rule_a = row_numbers(&page, "data-rule=\"DQ.A\"");
        let open_a = count(" AND rule_id = 'DQ.A' AND status = 'open' AND proposed_by IS NULL").await;
        assert_eq!(rule_a[0], open_a, "{user}: DQ.A open");
        // Filters: the list holds exactly what the recount finds.
        let (_, filtered) = app.get(&client, "/findings?status=explained&severity=warning").await;
        assert_eq!(
            shown_total(&filtered, "findings-total"),
            count(" AND status = 'explained' AND severity = 'warning'").await,
            "{user}: filtered"
        );
        assert_no_secrets(&page, user);
    }

    // Outside the area: 404, for the list and for a finding.
    let village = app.signed_in("village").await;
    assert_eq!(app.get(&village, &format!("/findings?area={V2}")).await.0, 404);
    assert_eq!(app.get(&village, "/findings?area=nonsense").await.0, 404);
    let (status, _) = post(&app, &village, ids[4], &[("action", "propose"), ("reason", "越界")]).await;
    assert_eq!(status, 404, "a finding of another village");
    let (_, page) = app.get(&village, "/findings").await;
    assert!(page.contains("/household/H1") && !page.contains("/household/H3"), "only the village's households");

    // Inspectors read (their area) but may not explain; helper cadres see paired
    // households only, so an area's worklist is not theirs (403, like its dashboard).
    for (user, reads) in [("helper", 403), ("inspector", 200)] {
        let client = app.signed_in(user).await;
        assert_eq!(app.get(&client, "/findings").await.0, reads, "{user} reads");
        let (status, _) = post(&app, &client, ids[0], &[("action", "propose"), ("reason", "无权")]).await;
        assert_eq!(status, 403, "{user} may not propose");
    }
    assert_eq!(status_of(&app, ids[0]).await, ("open".into(), None), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_needs_a_township_confirmation_and_every_step_is_in_the_history() {
    let app = spawn_app().await;
    let ids = seed(&app, &many()).await;
    let (error_h1, warning_h1) = (ids[0], ids[3]);
    let village = app.signed_in("village").await;
    let township = app.signed_in("township").await;

    // Without a reason: refused, nothing written.
    let (status, page) = post(&app, &village, error_h1, &[("action", "propose"), ("reason", "  ")]).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请填写说明理由"));

    // A warning: explained at once.
    let (status, _) = post(&app, &village, warning_h1, &[("action", "propose"), ("reason", "季节性务工")]).await;
    assert_eq!(status, 200, "redirected to the worklist");
    assert_eq!(status_of(&app, warning_h1).await.0, "explained");

    // An error: waits; the village cadre may not confirm (403), the township may.
    let (status, _) = post(&app, &village, error_h1, &[("action", "propose"), ("reason", "证件正在补办")]).await;
    assert_eq!(status, 200, "redirected to the worklist");
    assert_eq!(status_of(&app, error_h1).await, ("open".into(), Some("village".into())));
    let (_, list) = app.get(&township, &format!("/findings?status=proposed&area={V1}")).await;
    assert_eq!(shown_total(&list, "findings-total"), 1, "waiting for the township");
    assert!(list.contains("证件正在补办"));
    assert_eq!(post(&app, &village, error_h1, &[("action", "confirm")]).await.0, 403);
    assert_eq!(status_of(&app, error_h1).await.0, "open");
    let (status, _) = post(&app, &township, error_h1, &[("action", "confirm")]).await;
    assert_eq!(status, 200, "redirected to the worklist");
    assert_eq!(status_of(&app, error_h1).await.0, "explained");

    // The proposer cannot confirm their own explanation, even as a township officer.
    let error_h3 = ids[1];
    assert_eq!(post(&app, &township, error_h3, &[("action", "propose"), ("reason", "核实中")]).await.0, 200);
    let (status, page) = post(&app, &township, error_h3, &[("action", "confirm")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("提出人以外"));
    // The county rejects it, with a reason: open again, no explanation.
    let county = app.signed_in("county").await;
    assert_eq!(post(&app, &county, error_h3, &[("action", "reject")]).await.0, 422, "a reason is required");
    assert_eq!(post(&app, &county, error_h3, &[("action", "reject"), ("reason", "材料不足")]).await.0, 200);
    assert_eq!(status_of(&app, error_h3).await, ("open".into(), None));
    assert_eq!(post(&app, &county, error_h3, &[("action", "confirm")]).await.0, 422, "nothing to confirm");
    assert_eq!(post(&app, &county, error_h3, &[("action", "nonsense")]).await.0, 400);

    // Every step is a chained change record, and the chain and the replay still hold.
    let events = app.sql_count("SELECT COUNT(*) FROM change_log WHERE entity = 'findings'").await;
    assert_eq!(events, 5, "two proposals and a confirmation on H1, a proposal and a rejection on H3");
    let report = fupin_store::audit::verify(&app.db.store, None, &[]).await.expect("verified");
    assert!(report.mismatch.is_none(), "{:?}", report.mismatch);

    // The household's history shows them; its page lists what is still open.
    let (_, h1) = app.get(&village, "/household/H1").await;
    assert!(h1.contains("问题 DQ.A") && h1.contains("提出说明：证件正在补办") && h1.contains("确认说明"), "H1 history");
    assert!(h1.contains("没有待处理的问题"), "H1 has no open finding left");
    let (_, h3) = app.get(&township, "/household/H3").await;
    assert!(h3.contains("退回说明：材料不足"), "H3 history");
    let section = &h3[h3.find("id=\"findings\"").expect("section")..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(section.contains("DQ.A") && section.contains("DQ.B"), "H3's open findings: {section}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_counts_findings_by_rule_and_village() {
    let app = spawn_app().await;
    let ids = seed(&app, &many()).await;
    findings::propose_explanation(&app.db.store, ids[4], "township", "季节性务工", time::OffsetDateTime::now_utc())
        .await
        .expect("explained");
    let county = app.signed_in("county").await;
    let (status, page) = app.get(&county, &format!("/dashboard?year={YEAR}")).await;
    assert_eq!(status, 200);
    for rule in ["DQ.A", "DQ.B", "DQ.C"] {
        let row = row_numbers(&page, &format!("<tr data-key=\"{rule}\">"));
        let n = |s: &str| format!("SELECT COUNT(*) FROM findings WHERE rule_id = '{rule}' AND year = {YEAR}{s}");
        let want = vec![
            app.sql_count(&n(" AND status = 'open' AND proposed_by IS NULL")).await,
            app.sql_count(&n(" AND status = 'open' AND proposed_by IS NOT NULL")).await,
            app.sql_count(&n(" AND status = 'explained'")).await,
            app.sql_count(&n(" AND status = 'fixed'")).await,
        ];
        assert_eq!(row, want, "{rule}");
    }
    let west = row_numbers(&page, "<tr data-key=\"西关村\">");
    assert_eq!(west, vec![1, 0, 1, 0], "西关村: DQ.A open, DQ.B explained");
    assert!(
        page.replace("&#38;", "&").contains(&format!("/findings?area={V2}&year={YEAR}&status=explained")),
        "linked"
    );
    // Another year has none.
    let (_, other) = app.get(&county, "/dashboard?year=2020").await;
    assert!(!other.contains("<tr data-key=\"DQ.A\">"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_s_findings_on_a_generated_county_are_listed_and_counted_exactly() {
    let app = spawn_generated(80).await;
    let store = &app.db.store;
    let codes = fupin_domain::CodeLists::builtin();
    let sets = fupin_rules::load::builtin(&codes).expect("the shipped rules load");
    let year = fupin_store::rules_sql::latest_income_year(store).await.expect("read").expect("incomes");
    let province = store.meta("province").await.expect("meta").unwrap_or_default();
    let env = fupin_rules::eval::Env::builtin(year, &province);
    let plan = fupin_app::check::Plan {
        sets: sets.iter().collect(),
        env: &env,
        scope: None,
        now: time::OffsetDateTime::now_utc(),
    };
    fupin_app::check::run(store, &plan, &mut fupin_app::check::Quiet).await.expect("the check runs");
    let all = app.sql_count("SELECT COUNT(*) FROM findings").await;
    assert!(all > 0, "the shipped rules find something on generated data");

    let county = app.signed_in("county").await;
    let (status, page) = app.get(&county, &format!("/findings?year={year}")).await;
    assert_eq!(status, 200);
    let in_county = format!(
        "SELECT COUNT(*) FROM findings WHERE year = {year} AND (CASE WHEN level IN ('village', 'township', 'county') \
         THEN entity_key ELSE village_code END) LIKE '{COUNTY}%'"
    );
    assert_eq!(shown_total(&page, "findings-total"), app.sql_count(&in_county).await);
    assert_no_secrets(&page, "the county's worklist");
    // 50 a page: the first page lists at most 50, and the pager says how many pages.
    assert!(page.matches("<li class=\"finding\"").count() <= 50);

    // A household with an open finding lists it on its page, inside the right area.
    let (hh, rule): (String, String) = sqlx::query_as(
        "SELECT hh_id, rule_id FROM findings WHERE hh_id IS NOT NULL AND status = 'open' ORDER BY id LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .expect("a household finding");
    let (status, page) = app.get(&county, &format!("/household/{hh}")).await;
    assert_eq!(status, 200);
    let section = &page[page.find("id=\"findings\"").expect("section")..];
    assert!(section[..section.find("</section>").unwrap()].contains(&rule), "{hh} lists {rule}");
}

/// Township and county findings (the area rules of `exit.toml`) are listed for the
/// users whose area holds the township or county, with their explanation and no
/// household link; a village cadre's worklist does not hold them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn township_and_county_findings_are_listed_for_their_area() {
    let app = spawn_app().await;
    let area_finding = |rule: &str, level: &str, code: &str, text: &str| NewFinding {
        rule_id: rule.to_owned(),
        rule_set: "exit".into(),
        severity: "warning".into(),
        level: level.to_owned(),
        entity_key: code.to_owned(),
        hh_id: None,
        person_id: None,
        village_code: Some(code.to_owned()),
        values: vec![("poor".into(), "8".into())],
        explanation: text.to_owned(),
        masked_values: vec![("poor".into(), "8".into())],
        masked_explanation: text.to_owned(),
    };
    let failing = vec![
        area_finding("TOWN.R", "township", TOWN_A, "乡镇 610981100 登记 205 人中贫困人口 8 人"),
        area_finding("COUNTY.R", "county", COUNTY, "全县登记 9800 人中贫困人口 400 人"),
    ];
    let scope = RunScope { year: YEAR, rule_ids: vec!["TOWN.R".into(), "COUNTY.R".into()], division: None };
    findings::record_run(&app.db.store, &scope, &failing, time::OffsetDateTime::now_utc()).await.expect("recorded");

    for (user, sees_town, sees_county) in [("county", true, true), ("township", true, false), ("village", false, false)]
    {
        let client = app.signed_in(user).await;
        let (status, page) = app.get(&client, &format!("/findings?year={YEAR}")).await;
        assert_eq!(status, 200, "{user}");
        assert_eq!(page.contains("乡镇 610981100 登记 205 人中贫困人口 8 人"), sees_town, "{user}: township finding");
        assert_eq!(page.contains("全县登记 9800 人中贫困人口 400 人"), sees_county, "{user}: county finding");
        assert!(!page.contains("/household/\""), "{user}: an area finding links no household");
    }
    let township = app.signed_in("township").await;
    assert_eq!(app.get(&township, &format!("/findings?area={COUNTY}")).await.0, 404, "the county is not theirs");
}

/// The cells of an XLSX download's first sheet, as text.
fn xlsx_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX workbook");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

/// What a cadre reads on the worklist: the rule's Chinese title, the head's name and
/// the village on each finding, the reason an explanation was sent back, labelled
/// filters with the townships, one year at a time (a problem found in two years is not
/// counted twice), and the same list as an XLSX download.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worklist_shows_titles_heads_villages_rejections_and_downloads() {
    let app = spawn_app().await;
    let ids = seed(&app, &[("id_checksum", "error", "H1", V1), ("DQ.B", "warning", "H3", V2)]).await;
    // The same problem found again in an earlier year.
    let older = NewFinding {
        rule_id: "id_checksum".into(),
        rule_set: "dq".into(),
        severity: "error".into(),
        level: "household".into(),
        entity_key: "H1".into(),
        hh_id: Some("H1".into()),
        person_id: None,
        village_code: Some(V1.into()),
        values: vec![],
        explanation: "较早年度".into(),
        masked_values: vec![],
        masked_explanation: "较早年度".into(),
    };
    let scope = RunScope { year: YEAR - 1, rule_ids: vec!["id_checksum".into()], division: None };
    findings::record_run(&app.db.store, &scope, &[older], time::OffsetDateTime::now_utc()).await.expect("recorded");
    let village = app.signed_in("village").await;
    let township = app.signed_in("township").await;
    assert_eq!(post(&app, &village, ids[0], &[("action", "propose"), ("reason", "证件正在补办")]).await.0, 200);
    assert_eq!(post(&app, &township, ids[0], &[("action", "reject"), ("reason", "请附派出所证明")]).await.0, 200);

    let county = app.signed_in("county").await;
    let (status, page) = app.get(&county, "/findings").await;
    assert_eq!(status, 200);
    // The newest year by default: H1's problem once, not once per year.
    assert_eq!(shown_total(&page, "findings-total"), 2, "one year: {page}");
    assert!(page.contains("证件号码校验位错误"), "the rule's title");
    assert!(page.contains("户主 张三") && page.contains("东关村") && page.contains("西关村"), "head and village");
    assert!(page.contains("township 退回了说明：请附派出所证明"), "the rejection's reason on the list");
    for label in ["乡镇或村", "规则", "严重程度", "状态"] {
        assert!(page.contains(&format!("<label>{label}")), "the filter {label} is labelled");
    }
    assert!(page.contains("<option value=\"610981100\">城关镇</option>"), "townships to filter by");
    let (_, json) = app.get(&county, &format!("/api/v1/findings?area={COUNTY}&year={YEAR}")).await;
    assert!(json.contains("\"title\":\"证件号码校验位错误\""), "the API names the rule too: {json}");
    let (_, all_years) = app.get(&county, "/findings?year=all").await;
    assert_eq!(shown_total(&all_years, "findings-total"), 3, "every year when asked");
    let (_, town) = app.get(&county, &format!("/findings?area={TOWN_B}")).await;
    assert!(!town.contains("东关村"), "a township's list holds its own villages only");

    // The download holds what the list holds.
    let r = county.get(format!("{}/findings?area={COUNTY}&year={YEAR}&format=xlsx", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let rows = xlsx_cells(&r.bytes().await.unwrap());
    assert_eq!(rows.len(), 3, "a header and two findings: {rows:?}");
    assert_eq!(rows[0][1], "规则");
    let h1 = rows.iter().find(|r| r.contains(&"H1".to_owned())).expect("H1's line");
    for want in ["证件号码校验位错误", "张三", "东关村", "请附派出所证明"] {
        assert!(h1.iter().any(|c| c.contains(want)), "{want} in {h1:?}");
    }
    assert_no_secrets(&format!("{rows:?}"), "the download");
}

/// 运行检查: a county administrator's button runs the default sets on the county, as
/// `fupin check` does, and the worklist reports what it found; nobody else may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_admin_runs_the_checks_from_the_worklist() {
    let app = spawn_generated(60).await;
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM findings").await, 0);
    for user in ["inspector", "township"] {
        let client = app.signed_in(user).await;
        let (_, page) = app.get(&client, "/findings").await;
        assert!(!page.contains("/findings/run"), "{user} has no run button");
        let r = client.post(format!("{}/findings/run", app.base)).header("Origin", app.origin()).send().await.unwrap();
        assert_eq!(r.status(), 403, "{user} may not run the checks");
    }
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM findings").await, 0, "nothing ran");
    let admin = app.signed_in(ADMIN).await;
    let (_, page) = app.get(&admin, "/findings").await;
    assert!(page.contains("action=\"/findings/run\""), "the admin's run button");
    // Cross-site: refused like every form.
    let r =
        admin.post(format!("{}/findings/run", app.base)).header("Origin", "http://evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM findings").await, 0, "a cross-site post runs nothing");
    let r = admin.post(format!("{}/findings/run", app.base)).header("Origin", app.origin()).send().await.unwrap();
    assert_eq!(r.status(), 200, "back on the worklist");
    let page = r.text().await.unwrap();
    let found = app.sql_count("SELECT COUNT(*) FROM findings").await;
    assert!(found > 0, "the shipped rules find something on generated data");
    assert!(page.contains(&format!("新问题 {found}")), "the run's counts: {found}");
    assert_eq!(shown_total(&page, "findings-total"), found);
    // Run again: nothing new, everything still there.
    let r = admin.post(format!("{}/findings/run", app.base)).header("Origin", app.origin()).send().await.unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("新问题 0") && page.contains(&format!("仍存在 {found}")), "second run");
}
