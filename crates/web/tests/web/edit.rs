//! Registry changes through the browser forms: births, moves, refusals, stale pages,
//! roles that may only read, areas, bad forms, and the XLSX downloads.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::Client;

use crate::support::*;

/// The hidden `version` of a form page.
fn version_of(page: &str) -> String {
    let at = page.find("name=\"version\" value=\"").expect("a version field") + "name=\"version\" value=\"".len();
    page[at..].chars().take_while(char::is_ascii_digit).collect()
}

/// Opens a form and returns its version.
async fn open_form(app: &TestApp, client: &Client, hh: &str, change: &str) -> String {
    let (status, page) = app.get(client, &format!("/household/{hh}/change/{change}")).await;
    assert_eq!(status, 200, "{change} form of {hh}: {page}");
    version_of(&page)
}

/// Posts a form as a page of this site would; returns status, final path and body.
async fn post(app: &TestApp, client: &Client, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = client
        .post(format!("{}{path}", app.base))
        .header("Origin", app.origin())
        .form(form)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    let at = r.url().path().to_owned();
    (status, at, r.text().await.expect("body"))
}

/// The members table of a household page.
fn members(page: &str) -> &str {
    let from = page.find("id=\"members\"").expect("members");
    let to = page[from..].find("</section>").map_or(page.len(), |i| from + i);
    &page[from..to]
}

fn history(page: &str) -> &str {
    &page[page.find("id=\"history\"").expect("history")..]
}

async fn log_len(app: &TestApp) -> i64 {
    app.sql_count("SELECT COUNT(*) FROM change_log").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_birth_and_a_move_through_the_forms_show_on_the_page_and_in_the_history() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let (_, page) = app.get(&cadre, "/household/H1").await;
    assert!(page.contains("/household/H1/change/birth"), "an editor sees the forms");

    let v = open_form(&app, &cadre, "H1", "birth").await;
    let form = [
        ("version", v.as_str()),
        ("name", "张小宝"),
        ("sex", "1"),
        ("birth_date", "2025-03-01"),
        ("relation", "03"),
        ("id_number", ""),
        ("reason", "新生儿落户"),
    ];
    let (status, at, page) = post(&app, &cadre, "/household/H1/change/birth", &form).await;
    assert_eq!((status, at.as_str()), (200, "/household/H1"), "{page}");
    assert!(members(&page).contains("张小宝"), "the newborn is a member");
    assert!(page.contains("id=\"flash\"") && page.contains("已保存：登记出生"), "a one-time message");
    let h = history(&page);
    assert!(h.contains("<td>village</td>") && h.contains("出生：新生儿落户"), "history names who and why");
    let (_, again) = app.get(&cadre, "/household/H1").await;
    assert!(!again.contains("id=\"flash\""), "the message shows once");

    // 张小明 moves to 王五's household in the same village.
    let v = open_form(&app, &cadre, "H1", "move").await;
    let form =
        [("version", v.as_str()), ("person", "P3"), ("to_hh", "H2"), ("relation", "07"), ("reason", "随祖父生活")];
    let (status, at, page) = post(&app, &cadre, "/household/H1/change/move", &form).await;
    assert_eq!((status, at.as_str()), (200, "/household/H1"), "{page}");
    assert!(!members(&page).contains("张小明"), "gone from H1");
    let (_, h2) = app.get(&cadre, "/household/H2").await;
    assert!(members(&h2).contains("张小明") && members(&h2).contains("之孙子"), "in H2");
    assert!(history(&h2).contains("迁移成员：随祖父生活") && history(&h2).contains("<td>village</td>"));
    assert_no_secrets(&h2, "H2 after the move");
    let moved = app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P3' AND hh_id = 'H2'").await;
    assert_eq!(moved, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_and_a_stale_page_change_nothing() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;

    // The head dies, others remain, no new head: refused with the reason.
    let v = open_form(&app, &cadre, "H1", "death").await;
    let before = log_len(&app).await;
    let form =
        [("version", v.as_str()), ("person", "P1"), ("date", "2025-05-01"), ("new_head", ""), ("reason", "病故")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/death", &form).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("请指定新户主"), "the reason is shown");
    assert!(page.contains("病故"), "the form keeps what was typed");
    assert_eq!(log_len(&app).await, before, "nothing written");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P1'").await, 1);

    // Someone else changes the household after the page was opened.
    let other = app.signed_in("township").await;
    let v2 = open_form(&app, &other, "H1", "correct").await;
    let form2 = [
        ("version", v2.as_str()),
        ("target", "P2"),
        ("field", "persons.education"),
        ("value", "03"),
        ("reason", "核对学历"),
    ];
    let (status, _, page) = post(&app, &other, "/household/H1/change/correct", &form2).await;
    assert_eq!(status, 200, "{page}");
    let before = log_len(&app).await;
    let form =
        [("version", v.as_str()), ("person", "P1"), ("date", "2025-05-01"), ("new_head", "P2"), ("reason", "病故")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/death", &form).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("刷新") && page.contains("未保存"), "the conflict is explained");
    assert_ne!(version_of(&page), v, "the page is the current one");
    assert_eq!(log_len(&app).await, before, "a stale edit writes nothing");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P1'").await, 1);

    // Resent from the current page, it goes through.
    let fresh = version_of(&page);
    let form =
        [("version", fresh.as_str()), ("person", "P1"), ("date", "2025-05-01"), ("new_head", "P2"), ("reason", "病故")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/death", &form).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P2' AND relation = '01'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_death_and_a_move_out_stay_as_history_on_the_page_and_in_search() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let v = open_form(&app, &cadre, "H1", "death").await;
    let form = [("version", v.as_str()), ("person", "P3"), ("date", "2025-05-01"), ("reason", "病故")];
    let (status, at, page) = post(&app, &cadre, "/household/H1/change/death", &form).await;
    assert_eq!((status, at.as_str()), (200, "/household/H1"), "{page}");
    assert!(!members(&page).contains("张小明"), "no longer a member");
    let former = &page[page.find("id=\"former\"").expect("a former members' section")..];
    assert!(former.contains("张小明") && former.contains("死亡") && former.contains("2025-05-01"), "{former}");
    assert!(history(&page).contains("人员状态") && history(&page).contains("死亡（2025-05-01）：病故"));
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P3'").await, 1, "the row stays");
    // Still found, marked, and the name is the link to the household.
    let (_, found) = app.get(&cadre, "/search?q=张小明").await;
    assert!(found.contains(r#"<a href="/household/H1">张小明</a> <span class="tag">已故</span>"#), "{found}");
    // The API marks the former member as the page does.
    let (_, json) = app.get(&cadre, "/api/v1/search?q=张小明").await;
    assert!(json.contains(r#""person_status":"2""#) && json.contains(r#""person_status_label":"死亡""#), "{json}");

    // 迁出: the form asks for the date and keeps the member as history too.
    let (_, page) = app.get(&cadre, "/household/H1").await;
    assert!(page.contains("/household/H1/change/move-out"), "the move-out form is offered");
    let v = open_form(&app, &cadre, "H1", "move-out").await;
    let form = [("version", v.as_str()), ("person", "P2"), ("date", ""), ("reason", "户籍迁出")];
    assert_eq!(post(&app, &cadre, "/household/H1/change/move-out", &form).await.0, 422, "a date is needed");
    let form = [("version", v.as_str()), ("person", "P2"), ("date", "2025-06-01"), ("reason", "户籍迁往西安")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/move-out", &form).await;
    assert_eq!(status, 200, "{page}");
    assert!(page[page.find("id=\"former\"").unwrap()..].contains("迁出"), "{page}");
    let (_, found) = app.get(&cadre, "/search?q=李四").await;
    assert!(found.contains("已迁出"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coded_field_is_corrected_from_a_pick_list_showing_the_current_value() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let (_, form) = app.get(&cadre, "/household/H1/change/correct").await;
    assert!(
        form.contains(r#"id="pick""#) && form.contains(r#"<input id="f-value""#),
        "a text box until a field is chosen"
    );
    let (status, form) = app.get(&cadre, "/household/H1/change/correct?target=P1&field=persons.labour").await;
    assert_eq!(status, 200);
    assert!(form.contains(r#"<select id="f-value" name="value">"#), "{form}");
    assert!(form.contains(r#"<option value="01" selected>01 普通劳动力</option>"#), "the current value: {form}");
    assert!(form.contains(r#"<option value="P1" selected>"#), "the member stays chosen");
    let (_, form) = app.get(&cadre, "/household/H1/change/correct?target=household&field=households.status").await;
    assert!(form.contains(r#"<option value="2" selected>2 在册贫困户</option>"#), "{form}");
    // The birth form asks 民族 from its list.
    let (_, form) = app.get(&cadre, "/household/H1/change/birth").await;
    assert!(form.contains(r#"<select id="f-ethnicity" name="ethnicity">"#) && form.contains("01 汉族"), "{form}");
    let v = version_of(&form);
    let birth = [
        ("version", v.as_str()),
        ("name", "张小宝"),
        ("sex", "1"),
        ("ethnicity", "01"),
        ("birth_date", "2025-03-01"),
        ("relation", "03"),
        ("reason", "新生儿落户"),
    ];
    assert_eq!(post(&app, &cadre, "/household/H1/change/birth", &birth).await.0, 200);
    let saved = "SELECT COUNT(*) FROM persons WHERE name = '张小宝' AND ethnicity = '01'";
    assert_eq!(app.sql_count(saved).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_roles_and_other_areas_are_refused() {
    let app = spawn_app().await;
    let before = log_len(&app).await;
    let birth =
        [("version", "999999"), ("name", "某某"), ("birth_date", "2025-01-01"), ("relation", "03"), ("reason", "x")];
    for user in ["inspector", "department", "helper"] {
        let client = app.signed_in(user).await;
        let (_, page) = app.get(&client, "/household/H1").await;
        assert!(!page.contains("/change/"), "{user} sees no forms");
        assert_eq!(app.get(&client, "/household/H1/change/birth").await.0, 403, "{user} form");
        let (status, _, _) = post(&app, &client, "/household/H1/change/birth", &birth).await;
        assert_eq!(status, 403, "{user} post");
        let (status, _, _) = post(&app, &client, &format!("/area/{V1}/new-household"), &birth).await;
        assert_eq!(status, 403, "{user} new household");
    }
    assert_eq!(log_len(&app).await, before, "read-only roles wrote");

    // A village cadre: not a household of another village, neither by its page nor as
    // the target of a move or a merge.
    let cadre = app.signed_in("village").await;
    let (status, _, _) = post(&app, &cadre, "/household/H3/change/birth", &birth).await;
    assert_eq!(status, 404);
    let v = open_form(&app, &cadre, "H1", "move").await;
    for to in ["H3", "H4", "NOPE"] {
        let form = [("version", v.as_str()), ("person", "P3"), ("to_hh", to), ("relation", "03"), ("reason", "迁居")];
        let (status, _, page) = post(&app, &cadre, "/household/H1/change/move", &form).await;
        assert_eq!(status, 422, "move into {to}");
        assert!(page.contains("不在您的管辖范围内"), "{page}");
    }
    let form = [("version", v.as_str()), ("into_hh", "H3"), ("rel_P1", "03"), ("reason", "合户")];
    let (status, _, _) = post(&app, &cadre, "/household/H1/change/merge", &form).await;
    assert_eq!(status, 422);
    // A person of another household, by this household's form.
    let form = [("version", v.as_str()), ("person", "P6"), ("date", "2025-01-01"), ("reason", "x")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/death", &form).await;
    assert_eq!(status, 422, "{page}");
    // A household moved to a village outside the area by a correction.
    let form = [
        ("version", v.as_str()),
        ("target", "household"),
        ("field", "households.village_code"),
        ("value", V2),
        ("reason", "x"),
    ];
    assert_eq!(post(&app, &cadre, "/household/H1/change/correct", &form).await.0, 422);
    assert_eq!(log_len(&app).await, before, "nothing written");
    assert_eq!(app.sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P3' AND hh_id = 'H1'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_missing_a_reason_or_with_oversized_fields_are_refused() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let v = open_form(&app, &cadre, "H1", "birth").await;
    let before = log_len(&app).await;
    let long_name = "张".repeat(101);
    let long_reason = "因".repeat(501);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("version", &v), ("name", "甲"), ("birth_date", "2025-01-01"), ("relation", "03")], "请填写变更原因"),
        (
            vec![("version", &v), ("name", "甲"), ("birth_date", "2025-01-01"), ("relation", "03"), ("reason", "  ")],
            "请填写变更原因",
        ),
        (
            vec![
                ("version", &v),
                ("name", &long_name),
                ("birth_date", "2025-01-01"),
                ("relation", "03"),
                ("reason", "x"),
            ],
            "超过 100 个字",
        ),
        (
            vec![
                ("version", &v),
                ("name", "甲"),
                ("birth_date", "2025-01-01"),
                ("relation", "03"),
                ("reason", &long_reason),
            ],
            "超过 500 个字",
        ),
        (vec![("name", "甲"), ("birth_date", "2025-01-01"), ("relation", "03"), ("reason", "x")], "页面版本"),
        // Refused with a whole ID number typed: the form comes back without it.
        (
            vec![
                ("version", &v),
                ("name", "甲"),
                ("birth_date", "2025-01-01"),
                ("relation", "02"),
                ("id_number", ID_ZHANG),
                ("reason", "x"),
            ],
            "与户主关系",
        ),
        (
            vec![("version", &v), ("name", "甲"), ("birth_date", "2025-01-01"), ("relation", "01"), ("reason", "x")],
            "与户主关系",
        ),
    ];
    for (form, want) in cases {
        let (status, _, page) = post(&app, &cadre, "/household/H1/change/birth", &form).await;
        assert_eq!(status, 422, "{form:?}");
        assert!(page.contains(want), "{form:?} lacks {want}");
        assert_no_secrets(&page, "a refused form");
    }
    let (status, _, page) =
        post(&app, &cadre, &format!("/area/{V1}/new-household"), &[("name", "甲"), ("status", "2")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("请填写变更原因"));
    assert_eq!(app.get(&cadre, "/household/H1/change/nonsense").await.0, 404);
    assert_eq!(log_len(&app).await, before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_is_added_split_and_merged_through_the_forms() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let (_, village) = app.get(&cadre, &format!("/area/{V1}")).await;
    assert!(village.contains(&format!("/area/{V1}/new-household")));
    let form = [
        ("group_no", "2"),
        ("status", "2"),
        ("phone", ""),
        ("name", "周八"),
        ("sex", "1"),
        ("birth_date", "1970-02-03"),
        ("relation", "01"),
        ("id_number", ""),
        ("reason", "新识别"),
    ];
    let (status, at, page) = post(&app, &cadre, &format!("/area/{V1}/new-household"), &form).await;
    assert_eq!(status, 200, "{page}");
    let new = at.trim_start_matches("/household/").to_owned();
    assert!(new.starts_with(V1), "numbered in the village: {at}");
    assert!(members(&page).contains("周八") && page.contains("新增户：新识别"));

    // 分户: 张小明 leaves H1 as head of a new household.
    let v = open_form(&app, &cadre, "H1", "split").await;
    let form =
        [("version", v.as_str()), ("member", "P3"), ("new_head", "P3"), ("remaining_head", ""), ("reason", "成年分户")];
    let (status, _, page) = post(&app, &cadre, "/household/H1/change/split", &form).await;
    assert_eq!(status, 200, "{page}");
    let split = app
        .sql_count("SELECT COUNT(*) FROM persons WHERE person_id = 'P3' AND relation = '01' AND hh_id <> 'H1'")
        .await;
    assert_eq!(split, 1);
    assert!(page.contains("新编号"), "the message names the new household");

    // 合户: 周八's household joins H1, 周八 as 之父 of 张三 (a relation, not a second head).
    let v = open_form(&app, &cadre, &new, "merge").await;
    let rel = format!("rel_{new}01");
    let form = [("version", v.as_str()), ("into_hh", "H1"), (rel.as_str(), "11"), ("reason", "投靠")];
    let (status, at, page) = post(&app, &cadre, &format!("/household/{new}/change/merge"), &form).await;
    assert_eq!((status, at.as_str()), (200, "/household/H1"), "{page}");
    assert!(members(&page).contains("周八"));
    assert_eq!(app.sql_count(&format!("SELECT COUNT(*) FROM households WHERE hh_id = '{new}'")).await, 0);
}

/// Every cell of the first sheet, as text; panics on a cell that is not text.
fn text_cells(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX workbook");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Float(f) => f.to_string(),
                    Data::Int(i) => i.to_string(),
                    Data::Empty => String::new(),
                    other => panic!("unexpected cell {other:?}"),
                })
                .collect()
        })
        .collect()
}

/// An 18-character ID number (17 digits and a digit or X) standing alone in a text.
fn whole_id(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (run == 17 && (c == 'X' || c == 'x')) {
            run += 1;
            continue;
        }
        if run == 18 {
            return true;
        }
        run = 0;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_download_as_xlsx_with_text_keys_and_masked_numbers() {
    let app = spawn_app().await;
    let cadre = app.signed_in("village").await;
    let download = |path: String| {
        let cadre = cadre.clone();
        let base = app.base.clone();
        async move {
            let r = cadre.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let kind = r.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
            assert!(kind.contains("spreadsheetml"), "{path}: {kind}");
            r.bytes().await.unwrap().to_vec()
        }
    };
    let rows = text_cells(download(format!("/area/{V1}?format=xlsx")).await);
    assert_eq!(rows[0][..2], ["户编号".to_owned(), "户主".to_owned()]);
    let keys: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(keys, ["H1", "H2"], "every household of the village, keys as text");

    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(download("/search?q=张&format=xlsx".into()).await)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert!(range.rows().skip(1).all(|r| r.iter().all(|c| matches!(c, Data::String(_) | Data::Empty))), "all text");
    // By name from a link; by whole ID number only from the posted form.
    let by_id = {
        let r = cadre
            .post(format!("{}/search", app.base))
            .header("Origin", app.origin())
            .form(&[("q", ID_ZHANG), ("format", "xlsx")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap().to_vec()
    };
    for (path, book) in
        [("/search?q=张&format=xlsx", download("/search?q=张&format=xlsx".into()).await), ("POST", by_id)]
    {
        let rows = text_cells(book);
        let all: Vec<&String> = rows.iter().flatten().collect();
        assert!(all.iter().any(|c| c.as_str() == ID_ZHANG_MASKED), "{path}: the masked number is there: {rows:?}");
        for c in &all {
            assert!(!whole_id(c), "{path}: an unmasked ID number {c}");
            for s in SECRETS {
                assert!(!c.contains(s), "{path}: {s} unmasked");
            }
        }
    }
    // Another village's list is not the cadre's to download.
    assert_eq!(app.get(&cadre, &format!("/area/{V2}?format=xlsx")).await.0, 404);
}
