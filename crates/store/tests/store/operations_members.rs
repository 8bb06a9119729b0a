//! Everyday operations a member joins or leaves a household by (birth, death,
//! marriage, moving out of the county, moving between households), on the engine
//! `FUPIN_TEST_DB` names; helpers in `operations`.

use fupin_store::operations::{self, HouseholdDraft, PersonDraft};
use fupin_store::{Store, audit, views};

use super::operations::{
    GOOD_ID, VILLAGE, attributed, child, edit, family, hh_of, person, refused, registry, relation, verify,
};

#[tokio::test]
async fn a_birth_joins_with_the_next_member_number() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let e = edit("新生儿落户");
    let out = operations::record_birth(s, &e, &hh, child("王小小", "2024-01-15")).await.unwrap();
    attributed(&out, "新生儿落户");
    assert!(out.changes[0].reason.as_deref().unwrap().starts_with("出生"));
    assert_eq!(out.created, Some(format!("{hh}04")));
    assert!(out.warnings.is_empty(), "no ID number is fine: {:?}", out.warnings);
    // An ID number that disagrees with the birth date is saved and reported.
    let twin = PersonDraft { id_number: GOOD_ID.into(), ..child("王二小", "2024-01-15") };
    let out = operations::record_birth(s, &e, &hh, twin).await.unwrap();
    assert_eq!(out.created, Some(format!("{hh}05")));
    assert!(out.warnings.iter().any(|w| w.contains("出生日期")), "{:?}", out.warnings);
    verify(s).await;

    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::record_birth(s, &e, "NOPE", child("甲", "2024-01-01")).await, "不存在").await;
    refused(s, &before, operations::record_birth(s, &e, &hh, person("乙", "03")).await, "出生日期").await;
    let as_spouse = PersonDraft { birth_date: "2024-01-01".into(), ..person("丙", "02") };
    refused(s, &before, operations::record_birth(s, &e, &hh, as_spouse).await, "不能是 02").await;
    let bad_date = child("丁", "2024-02-30");
    refused(s, &before, operations::record_birth(s, &e, &hh, bad_date).await, "出生日期").await;
    let bad_code = PersonDraft { sex: "7".into(), ..child("戊", "2024-01-01") };
    refused(s, &before, operations::record_birth(s, &e, &hh, bad_code).await, "性别").await;
    verify(s).await;
}

async fn status(store: &Store, person_id: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as::<_, (Option<String>, Option<String>)>(
        "SELECT person_status, left_on FROM persons WHERE person_id = $1",
    )
    .bind(person_id.to_owned())
    .fetch_optional(store.pool())
    .await
    .unwrap()
    .unwrap_or_default()
}

#[tokio::test]
async fn a_death_keeps_the_person_as_history_and_keeps_one_head() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let (head, spouse, son) = (format!("{hh}01"), format!("{hh}02"), format!("{hh}03"));
    let e = edit("村委会核实");
    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::record_death(s, &e, &head, "2024-03-01", None).await, "请指定新户主").await;
    refused(s, &before, operations::record_death(s, &e, &head, "2024-03-01", Some(&head)).await, "新户主").await;
    refused(s, &before, operations::record_death(s, &e, &head, "2024-03-01", Some("X1")).await, "新户主").await;
    refused(s, &before, operations::record_death(s, &e, &son, "2024-03-01", Some(&spouse)).await, "不需要").await;
    refused(s, &before, operations::record_death(s, &e, &son, "去年", None).await, "不是日期").await;
    refused(s, &before, operations::record_death(s, &e, &son, "1980-01-01", None).await, "早于出生日期").await;
    refused(s, &before, operations::record_death(s, &e, "NOPE01", "2024-03-01", None).await, "不存在").await;

    let out = operations::record_death(s, &e, &son, "2024/3/1", None).await.unwrap();
    attributed(&out, "村委会核实");
    assert!(out.changes.iter().all(|c| c.op != "D"), "the row is not deleted: {:?}", out.changes);
    let why = out.changes[0].reason.as_deref().unwrap();
    assert!(why.contains("死亡") && why.contains("2024-03-01"), "{why}");
    // The person stays in the household's rows as history, with status and date.
    assert_eq!(hh_of(s, &son).await, Some(hh.clone()));
    assert_eq!(status(s, &son).await, (Some("2".into()), Some("2024-03-01".into())));
    assert_eq!(
        views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().len(),
        2,
        "not a member now"
    );
    assert_eq!(views::former_persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().len(), 1);
    // The history of the household shows it.
    let history = views::history_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap(), 100).await.unwrap();
    assert!(history.iter().any(|r| r.entity_key == son && r.field.as_deref() == Some("person_status")));
    // Nobody dies twice, and the dead cannot move.
    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::record_death(s, &e, &son, "2024-04-01", None).await, "不再是户内成员").await;
    refused(s, &before, operations::move_member(s, &e, &son, &hh, "03", None).await, "不再是户内成员").await;
    refused(
        s,
        &before,
        operations::correct_field(s, &e, "persons", &son, "person_status", "1").await,
        "不能直接更正人员状态",
    )
    .await;
    // A dead person stays searchable, marked by the status.
    let hits = views::search(
        s,
        &fupin_domain::DivisionCode::parse(VILLAGE).unwrap(),
        &views::SearchQuery::Text("王小山".into()),
        10,
    )
    .await
    .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].person_status.as_deref(), Some("2"));

    // Numbers of the dead are never given again.
    let out = operations::record_birth(s, &e, &hh, child("王三小", "2024-07-01")).await.unwrap();
    assert_eq!(out.created, Some(format!("{hh}04")));

    let out = operations::record_death(s, &e, &head, "2024-05-01", Some(&spouse)).await.unwrap();
    attributed(&out, "村委会核实");
    assert_eq!(relation(s, &spouse).await.as_deref(), Some("01"));
    assert_eq!(relation(s, &format!("{hh}04")).await.as_deref(), Some("03"), "the head's child stays 之子");
    assert_eq!(views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().len(), 2);
    // The household is found by number with its new head, not the dead one.
    let hits = views::search(
        s,
        &fupin_domain::DivisionCode::parse(VILLAGE).unwrap(),
        &views::SearchQuery::Text(hh.clone()),
        10,
    )
    .await
    .unwrap();
    assert_eq!(hits[0].person_name.as_deref(), Some("李秀英"), "{hits:?}");
    // The last member may die: the household has no members left, and so no head.
    operations::record_death(s, &e, &format!("{hh}04"), "2024-08-01", None).await.unwrap();
    operations::record_death(s, &e, &spouse, "2024-09-01", None).await.unwrap();
    assert!(views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().is_empty());
    verify(s).await;
}

#[tokio::test]
async fn marriages_in_and_out() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let e = edit("结婚登记");
    let before = audit::head(s).await.unwrap();
    let as_child = PersonDraft { sex: "2".into(), ..person("周芳", "03") };
    refused(s, &before, operations::record_marriage_in(s, &e, &hh, as_child).await, "02 配偶").await;
    let out = operations::record_marriage_in(s, &e, &hh, PersonDraft { sex: "2".into(), ..person("周芳", "之儿媳") })
        .await
        .unwrap();
    attributed(&out, "结婚登记");
    assert!(out.changes[0].reason.as_deref().unwrap().starts_with("婚入"));
    let bride = out.created.unwrap();
    assert_eq!(relation(s, &bride).await.as_deref(), Some("05"));

    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::record_marriage_out(s, &e, &format!("{hh}01"), None, None).await, "新户主").await;
    refused(s, &before, operations::record_marriage_out(s, &e, &bride, Some("明天"), None).await, "不是日期").await;
    let out = operations::record_marriage_out(s, &e, &format!("{hh}03"), Some("2024-10-01"), None).await.unwrap();
    attributed(&out, "结婚登记");
    assert!(out.changes[0].reason.as_deref().unwrap().starts_with("婚出（2024-10-01）"));
    assert_eq!(status(s, &format!("{hh}03")).await, (Some("3".into()), Some("2024-10-01".into())));
    assert_eq!(views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().len(), 3);
    verify(s).await;
}

#[tokio::test]
async fn when_the_head_dies_the_others_are_rebased_on_the_new_head() {
    let db = registry().await;
    let s = &db.store;
    let female = |name: &str, rel: &str| PersonDraft { sex: "2".into(), ..person(name, rel) };
    let draft = HouseholdDraft {
        village_code: VILLAGE.into(),
        status: "在册贫困户".into(),
        head: person("王大山", ""),
        members: vec![
            female("李秀英", "02"),
            person("王老汉", "11"),
            child("王小山", "1990-02-03"),
            female("周芳", "05"),
            child("王豆豆", "2015-06-01"),
            person("王二", "99"),
        ],
        ..Default::default()
    };
    let hh = operations::add_household(s, &edit("新增"), draft).await.unwrap().created.unwrap();
    // 王豆豆 is the head's grandson.
    operations::correct_field(s, &edit("核实"), "persons", &format!("{hh}06"), "relation", "07").await.unwrap();
    let out = operations::record_death(s, &edit("病故"), &format!("{hh}01"), "2024-03-01", Some(&format!("{hh}04")))
        .await
        .unwrap();
    let rel = |n: u32| {
        let id = format!("{hh}{n:02}");
        async move { relation(s, &id).await.unwrap() }
    };
    assert_eq!(rel(4).await, "01", "the son is the head");
    assert_eq!(rel(2).await, "12", "his mother");
    assert_eq!(rel(3).await, "17", "his grandfather");
    assert_eq!(rel(5).await, "02", "his wife");
    assert_eq!(rel(6).await, "03", "his son");
    assert_eq!(rel(7).await, "99", "unknown: kept, and the cadre is asked");
    assert!(out.warnings.iter().any(|w| w.contains("王二") && w.contains("更正")), "{:?}", out.warnings);
    assert!(out.changes.iter().any(|c| c.reason.as_deref().unwrap_or_default().contains("随户主变更")));
    verify(s).await;
}

#[tokio::test]
async fn moving_out_of_the_county_keeps_the_person_and_past_years_count_them() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let son = format!("{hh}03");
    operations::correct_field(s, &edit("核实"), "households", &hh, "identified_year", "2014").await.unwrap();
    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::record_move_out(s, &edit("户籍迁出"), &son, "", None).await, "不是日期").await;
    operations::record_move_out(s, &edit("户籍迁出"), &son, "2024-06-30", None).await.unwrap();
    assert_eq!(status(s, &son).await, (Some("4".into()), Some("2024-06-30".into())));
    let village = fupin_domain::DivisionCode::parse(VILLAGE).unwrap();
    let town = fupin_domain::DivisionCode::parse(&VILLAGE[..9]).unwrap();
    assert_eq!(views::counts_in(s, &village).await.unwrap().persons, 2, "members now");
    let persons_in = |year: i32| {
        let town = town.clone();
        async move {
            let lines = fupin_store::dashboard_views::status_by_child(s, &town, year).await.unwrap();
            lines.iter().map(|(_, f)| f.total_persons()).sum::<i64>()
        }
    };
    assert_eq!(persons_in(2023).await, 3, "the son lived here in 2023");
    assert_eq!(persons_in(2024).await, 3, "and in the year he left");
    assert_eq!(persons_in(2025).await, 2, "not after");
    let (lines, _) = views::households_in_village(s, &village, 10, 0).await.unwrap();
    assert_eq!((lines[0].persons, lines[0].head_name.as_deref()), (2, Some("王大山")));
    verify(s).await;
}

#[tokio::test]
async fn a_member_moves_between_households() {
    let db = registry().await;
    let s = &db.store;
    let a = family(s).await;
    let b = family(s).await;
    let e = edit("随子女生活");
    let before = audit::head(s).await.unwrap();
    let head_a = format!("{a}01");
    refused(s, &before, operations::move_member(s, &e, &head_a, "NOPE", "11", None).await, "不存在").await;
    refused(s, &before, operations::move_member(s, &e, &head_a, &b, "11", None).await, "请指定新户主").await;
    refused(s, &before, operations::move_member(s, &e, &head_a, &a, "01", None).await, "已在户").await;
    refused(s, &before, operations::move_member(s, &e, &format!("{a}03"), &b, "01", None).await, "2 名户主").await;
    refused(s, &before, operations::move_member(s, &e, &format!("{a}03"), &b, "", None).await, "与户主关系").await;
    refused(s, &before, operations::move_member(s, &e, &format!("{a}03"), &b, "叔叔", None).await, "有效代码").await;

    let out = operations::move_member(s, &e, &head_a, &b, "之父", Some(&format!("{a}02"))).await.unwrap();
    attributed(&out, "随子女生活");
    let moved = out.changes.iter().find(|c| c.field.as_deref() == Some("hh_id")).unwrap();
    assert!(moved.reason.as_deref().unwrap().contains("迁移"), "{moved:?}");
    assert_eq!((moved.old_value.as_deref(), moved.new_value.as_deref()), (Some(a.as_str()), Some(b.as_str())));
    assert_eq!(hh_of(s, &head_a).await, Some(b.clone()));
    assert_eq!(relation(s, &head_a).await.as_deref(), Some("11"));
    assert_eq!(relation(s, &format!("{a}02")).await.as_deref(), Some("01"));
    verify(s).await;
}
