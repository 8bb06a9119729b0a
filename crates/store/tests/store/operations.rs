//! Everyday registry operations on the engine `FUPIN_TEST_DB` names: each happy path
//! writes attributed, reasoned change records and keeps `audit verify` passing; each
//! refusal leaves the chain head (and so the registry) exactly as it was; a stale page
//! gets a conflict.

use fupin_domain::DivisionTree;
use fupin_domain::schema::{HELPERS, HOUSEHOLDS, INCOMES};
use fupin_store::audit::{self, Head};
use fupin_store::operations::{
    self, Edit, HouseholdDraft, NewHousehold, OpError, Outcome, PersonDraft, Split, household_version,
};
use fupin_store::writer::RowIn;
use fupin_store::{Actor, Store, testing, views};

use super::row;

const VILLAGE: &str = "610981105201";
/// A valid 居民身份证 number (female, born 1949-12-31).
const GOOD_ID: &str = "11010519491231002X";
/// The same number with a wrong check character.
const BAD_ID: &str = "110105194912310021";

fn edit(reason: &str) -> Edit {
    Edit::new("alice", reason)
}

fn person(name: &str, relation: &str) -> PersonDraft {
    PersonDraft { name: name.into(), relation: relation.into(), sex: "1".into(), ..Default::default() }
}

fn child(name: &str, born: &str) -> PersonDraft {
    PersonDraft { birth_date: born.into(), ..person(name, "03") }
}

async fn registry() -> testing::TestDb {
    let db = testing::fresh().await.unwrap();
    db.store.write_divisions(&DivisionTree::builtin_xunyang(), "610981").await.unwrap();
    db
}

/// A household of head, spouse and son: `{VILLAGE}00001` with persons `…01`–`…03`.
async fn family(store: &Store) -> String {
    let draft = HouseholdDraft {
        village_code: VILLAGE.into(),
        group_no: "3组".into(),
        status: "在册贫困户".into(),
        head: PersonDraft { birth_date: "1960-05-01".into(), ..person("王大山", "") },
        members: vec![PersonDraft { sex: "2".into(), ..person("李秀英", "配偶") }, child("王小山", "1990-02-03")],
        ..Default::default()
    };
    let out = operations::add_household(store, &edit("入户核实新增"), draft).await.unwrap();
    out.created.unwrap()
}

async fn verify(store: &Store) {
    let report = audit::verify(store, None, &[]).await.unwrap();
    assert_eq!(report.mismatch, None, "audit verify after the operation");
}

/// Every record is the user's and carries the reason.
fn attributed(out: &Outcome, reason: &str) {
    assert!(!out.changes.is_empty(), "the operation wrote records");
    for c in &out.changes {
        assert_eq!(c.actor, "user:alice", "{c:?}");
        assert!(c.reason.as_deref().unwrap_or_default().contains(reason), "{c:?}");
    }
    assert_eq!(out.version, out.changes.last().unwrap().seq);
}

/// The operation was refused with a message containing `words`, and wrote nothing.
async fn refused(store: &Store, before: &Head, result: Result<Outcome, OpError>, words: &str) {
    match result {
        Err(OpError::Refused(m)) => assert!(m.contains(words), "refusal “{m}” should mention “{words}”"),
        other => panic!("expected a refusal mentioning {words}, got {other:?}"),
    }
    assert_eq!(&audit::head(store).await.unwrap(), before, "a refusal writes nothing");
}

async fn relation(store: &Store, person_id: &str) -> Option<String> {
    sqlx::query_as::<_, (String,)>("SELECT relation FROM persons WHERE person_id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| r.0)
}

async fn hh_of(store: &Store, person_id: &str) -> Option<String> {
    sqlx::query_as::<_, (String,)>("SELECT hh_id FROM persons WHERE person_id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| r.0)
}

#[tokio::test]
async fn add_household_numbers_the_household_and_its_members() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    assert_eq!(hh, format!("{VILLAGE}00001"));
    let members = views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap();
    assert_eq!(members.len(), 3);
    assert_eq!(relation(s, &format!("{hh}01")).await.as_deref(), Some("01"));
    assert_eq!(relation(s, &format!("{hh}02")).await.as_deref(), Some("02"));
    let row = views::household(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().unwrap();
    assert_eq!(row[HOUSEHOLDS.index_of("group_no").unwrap()], fupin_domain::Value::Int(3));
    assert_eq!(row[HOUSEHOLDS.index_of("status").unwrap()], fupin_domain::Value::from("2"));

    // The next one takes the next number; a failing ID number is saved and reported.
    let draft = HouseholdDraft {
        village_code: VILLAGE.into(),
        status: "1".into(),
        fields: vec![("farmland_mu".into(), "2.5亩".into())],
        head: PersonDraft { id_number: BAD_ID.into(), ..person("赵一", "01") },
        ..Default::default()
    };
    let out = operations::add_household(s, &edit("新分家"), draft).await.unwrap();
    attributed(&out, "新分家");
    assert_eq!(out.created.as_deref(), Some(format!("{VILLAGE}00002").as_str()));
    assert_eq!(out.changes.len(), 2, "one insert record for the household, one for the head");
    assert!(out.warnings.iter().any(|w| w.contains("校验位")), "{:?}", out.warnings);
    let stored: (String,) = sqlx::query_as("SELECT id_number FROM persons WHERE person_id = $1")
        .bind(format!("{VILLAGE}0000201"))
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(stored.0, BAD_ID);

    // A chosen 户编号.
    let draft = HouseholdDraft {
        hh_id: "H-777".into(),
        village_code: VILLAGE.into(),
        status: "1".into(),
        head: person("钱二", ""),
        ..Default::default()
    };
    let out = operations::add_household(s, &edit("补录"), draft).await.unwrap();
    assert_eq!(out.created.as_deref(), Some("H-777"));
    verify(s).await;
}

#[tokio::test]
async fn add_household_refuses_structural_problems() {
    let db = registry().await;
    let s = &db.store;
    family(s).await;
    let before = audit::head(s).await.unwrap();
    let base = HouseholdDraft {
        village_code: VILLAGE.into(),
        status: "1".into(),
        head: person("孙三", ""),
        ..Default::default()
    };
    let e = edit("新增");
    let cases: Vec<(HouseholdDraft, &str)> = vec![
        (HouseholdDraft { village_code: "610981999999".into(), ..base.clone() }, "不在本县"),
        (HouseholdDraft { village_code: "".into(), ..base.clone() }, "行政村代码"),
        (HouseholdDraft { status: "".into(), ..base.clone() }, "户类型"),
        (HouseholdDraft { status: "富裕户".into(), ..base.clone() }, "户类型"),
        (HouseholdDraft { head: person("孙三", "02"), ..base.clone() }, "01 户主"),
        (HouseholdDraft { members: vec![person("孙四", "01")], ..base.clone() }, "2 名户主"),
        (HouseholdDraft { head: person("", ""), ..base.clone() }, "姓名"),
        (HouseholdDraft { hh_id: format!("{VILLAGE}00001"), ..base.clone() }, "已被使用"),
        (HouseholdDraft { hh_id: "H 1".into(), ..base.clone() }, "不允许的字符"),
        (HouseholdDraft { fields: vec![("wealth".into(), "1".into())], ..base.clone() }, "没有字段"),
        (HouseholdDraft { fields: vec![("toilet".into(), "也许".into())], ..base.clone() }, "是"),
    ];
    for (draft, words) in cases {
        refused(s, &before, operations::add_household(s, &e, draft).await, words).await;
    }
    refused(s, &before, operations::add_household(s, &edit("  "), base.clone()).await, "原因").await;
    verify(s).await;
}

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

#[tokio::test]
async fn a_household_splits() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let (head, spouse, son) = (format!("{hh}01"), format!("{hh}02"), format!("{hh}03"));
    operations::record_marriage_in(s, &edit("结婚"), &hh, PersonDraft { sex: "2".into(), ..person("周芳", "05") })
        .await
        .unwrap();
    let bride = format!("{hh}04");
    let e = edit("儿子成家分户");
    let base = Split {
        from_hh: hh.clone(),
        members: vec![son.clone(), bride.clone()],
        new_head: son.clone(),
        relations: vec![(bride.clone(), "配偶".into())],
        remaining_head: None,
        household: NewHousehold { group_no: "4".into(), ..Default::default() },
    };
    let before = audit::head(s).await.unwrap();
    let cases: Vec<(Split, &str)> = vec![
        (Split { members: vec![], ..base.clone() }, "分出的成员"),
        (Split { members: vec![son.clone(), "X9".into()], ..base.clone() }, "不是户"),
        (Split { new_head: spouse.clone(), ..base.clone() }, "新户主"),
        (Split { members: vec![head.clone(), spouse.clone(), son.clone(), bride.clone()], ..base.clone() }, "全部分出"),
        (Split { members: vec![head.clone(), son.clone()], relations: vec![], ..base.clone() }, "请指定新户主"),
        (Split { relations: vec![(bride.clone(), "01".into())], ..base.clone() }, "2 名户主"),
        (Split { relations: vec![(head.clone(), "11".into())], ..base.clone() }, "不是分出的成员"),
        (Split { from_hh: "NOPE".into(), ..base.clone() }, "不存在"),
        (
            Split {
                household: NewHousehold { village_code: "610981999999".into(), ..Default::default() },
                ..base.clone()
            },
            "不在本县",
        ),
    ];
    for (split, words) in cases {
        refused(s, &before, operations::split_household(s, &e, split).await, words).await;
    }

    let out = operations::split_household(s, &e, base).await.unwrap();
    attributed(&out, "儿子成家分户");
    let new = out.created.clone().unwrap();
    assert_eq!(new, format!("{VILLAGE}00002"));
    assert!(out.changes.iter().all(|c| c.reason.as_deref().unwrap().starts_with("分户")));
    assert_eq!(hh_of(s, &son).await, Some(new.clone()));
    assert_eq!(relation(s, &son).await.as_deref(), Some("01"));
    assert_eq!(relation(s, &bride).await.as_deref(), Some("02"));
    assert_eq!(views::persons_of(s, &fupin_domain::HouseholdId::parse(&hh).unwrap()).await.unwrap().len(), 2);
    let row = views::household(s, &fupin_domain::HouseholdId::parse(&new).unwrap()).await.unwrap().unwrap();
    assert_eq!(row[HOUSEHOLDS.index_of("status").unwrap()], fupin_domain::Value::from("2"), "taken from the old");
    assert_eq!(row[HOUSEHOLDS.index_of("group_no").unwrap()], fupin_domain::Value::Int(4));
    verify(s).await;

    // The old head leaves with a split, naming who heads what remains.
    let split = Split {
        from_hh: hh.clone(),
        members: vec![head.clone()],
        new_head: head.clone(),
        remaining_head: Some(spouse.clone()),
        ..Default::default()
    };
    operations::split_household(s, &e, split).await.unwrap();
    assert_eq!(relation(s, &spouse).await.as_deref(), Some("01"));
    verify(s).await;
}

#[tokio::test]
async fn households_merge() {
    let db = registry().await;
    let s = &db.store;
    let into = family(s).await;
    let from = operations::add_household(
        s,
        &edit("新增"),
        HouseholdDraft {
            village_code: VILLAGE.into(),
            status: "1".into(),
            head: PersonDraft { sex: "2".into(), ..person("王老太", "") },
            members: vec![person("王小弟", "03")],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .created
    .unwrap();
    let mut w = s.writer(Actor::Import).await.unwrap();
    let income = row(&INCOMES, &[("hh_id", from.as_str().into()), ("year", 2023.into()), ("wages", 500_000.into())]);
    w.upsert(&INCOMES, vec![RowIn { values: income, source: None }], "导入").await.unwrap();
    w.commit().await.unwrap();

    let (old, young) = (format!("{from}01"), format!("{from}02"));
    let e = edit("老人随子合户");
    let before = audit::head(s).await.unwrap();
    refused(s, &before, operations::merge_households(s, &e, &from, &into, vec![]).await, "2 名户主").await;
    refused(s, &before, operations::merge_households(s, &e, &from, &from, vec![]).await, "它自己").await;
    refused(s, &before, operations::merge_households(s, &e, &from, "NOPE", vec![]).await, "不存在").await;
    let stranger = vec![(old.clone(), "12".into()), ("X1".to_owned(), "03".into())];
    refused(s, &before, operations::merge_households(s, &e, &from, &into, stranger).await, "不是户").await;
    let bad = vec![(old.clone(), "奶奶".into())];
    refused(s, &before, operations::merge_households(s, &e, &from, &into, bad).await, "有效代码").await;

    let rel = vec![(old.clone(), "12".into()), (young.clone(), "21".into())];
    let out = operations::merge_households(s, &e, &from, &into, rel).await.unwrap();
    attributed(&out, "老人随子合户");
    assert!(out.warnings.iter().any(|w| w.contains("收入")), "{:?}", out.warnings);
    assert!(
        views::household(s, &fupin_domain::HouseholdId::parse(&from).unwrap()).await.unwrap().is_none(),
        "the emptied household is removed"
    );
    assert_eq!(s.count("incomes").await.unwrap(), 0);
    assert_eq!(views::persons_of(s, &fupin_domain::HouseholdId::parse(&into).unwrap()).await.unwrap().len(), 5);
    assert_eq!(relation(s, &old).await.as_deref(), Some("12"));
    assert_eq!(hh_of(s, &young).await, Some(into.clone()));
    verify(s).await;
    // A removed household's number is not given again.
    let again = operations::add_household(
        s,
        &edit("新增"),
        HouseholdDraft {
            village_code: VILLAGE.into(),
            status: "1".into(),
            head: person("新户", ""),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(again.created, Some(format!("{VILLAGE}00003")));
}

#[tokio::test]
async fn a_field_is_corrected_by_its_kind() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let son = format!("{hh}03");
    let e = edit("入户核对更正");
    let out = operations::correct_field(s, &e, "households", &hh, "farmland_mu", "3.5亩").await.unwrap();
    attributed(&out, "入户核对更正");
    assert_eq!(out.changes.len(), 1);
    assert_eq!(out.changes[0].new_value.as_deref(), Some("3.5"));
    let out = operations::correct_field(s, &e, "persons", &son, "education", "初中").await.unwrap();
    assert_eq!(out.changes[0].new_value.as_deref(), Some("03"));
    // A failing ID number is saved, with a warning.
    let out = operations::correct_field(s, &e, "persons", &son, "id_number", BAD_ID).await.unwrap();
    assert_eq!(out.changes[0].new_value.as_deref(), Some(BAD_ID));
    assert!(out.warnings.iter().any(|w| w.contains("校验位")), "{:?}", out.warnings);
    // The same value again changes nothing.
    let out = operations::correct_field(s, &e, "persons", &son, "education", "03").await.unwrap();
    assert!(out.changes.is_empty());
    verify(s).await;

    let (head, income) = (format!("{hh}01"), format!("{hh}|2023"));
    let before = audit::head(s).await.unwrap();
    let cases: Vec<(&str, &str, &str, &str, &str)> = vec![
        ("households", &hh, "wealth", "1", "没有字段"),
        ("households", &hh, "hh_id", "H2", "不能更正"),
        ("persons", &son, "person_id", "P2", "不能更正"),
        ("persons", &son, "hh_id", "H2", "迁移成员"),
        ("households", &hh, "farmland_mu", "很多", "不是数字"),
        ("households", &hh, "status", "9", "有效代码"),
        ("households", &hh, "status", "", "必填"),
        ("households", &hh, "village_code", "610981999999", "不在本县"),
        ("persons", &son, "relation", "01", "2 名户主"),
        ("persons", &head, "relation", "03", "没有户主"),
        ("persons", &son, "birth_date", "2024-13-01", "不是日期"),
        ("persons", "NOPE", "name", "某", "没有 NOPE"),
        ("nothing", "x", "y", "z", "没有名为"),
        ("divisions", VILLAGE, "name", "某村", "没有名为"),
        ("incomes", &income, "wages", "100", "没有"),
    ];
    for (table, key, field, text, words) in cases {
        refused(s, &before, operations::correct_field(s, &e, table, key, field, text).await, words).await;
    }
    verify(s).await;
}

#[tokio::test]
async fn a_stale_page_gets_a_conflict() {
    let db = registry().await;
    let s = &db.store;
    let hh = family(s).await;
    let son = format!("{hh}03");
    let seen = household_version(s, &hh).await.unwrap();
    assert_eq!(seen, audit::head(s).await.unwrap().seq);
    assert_eq!(household_version(s, "NOPE").await.unwrap(), 0);

    // Someone else corrects a member meanwhile.
    operations::correct_field(s, &Edit::new("bob", "更正"), "persons", &son, "education", "04").await.unwrap();
    let changed = household_version(s, &hh).await.unwrap();
    assert!(changed > seen);

    let before = audit::head(s).await.unwrap();
    let stale = edit("手机离线记录").based_on(seen);
    let r = operations::correct_field(s, &stale, "persons", &son, "education", "03").await;
    match r {
        Err(OpError::Conflict { expected, current, .. }) => assert_eq!((expected, current), (seen, changed)),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(audit::head(s).await.unwrap(), before, "a conflict writes nothing");
    let r = operations::record_birth(s, &stale, &hh, child("王小小", "2024-01-15")).await;
    assert!(matches!(r, Err(OpError::Conflict { .. })), "{r:?}");
    assert!(r.unwrap_err().to_string().contains("刷新"));

    // Based on the current version, the edit goes through.
    let out = operations::correct_field(s, &edit("核对").based_on(changed), "persons", &son, "education", "03")
        .await
        .unwrap();
    assert_eq!(out.version, household_version(s, &hh).await.unwrap());

    // A member who left still counts for the household's version.
    let v = household_version(s, &hh).await.unwrap();
    operations::record_death(s, &Edit::new("bob", "核实"), &son, "2024-03-01", None).await.unwrap();
    assert!(household_version(s, &hh).await.unwrap() > v);
    let r = operations::correct_field(s, &edit("x").based_on(v), "households", &hh, "toilet", "是").await;
    assert!(matches!(r, Err(OpError::Conflict { .. })), "{r:?}");

    // Rows no household owns (a helper) are versioned by themselves.
    let mut w = s.writer(Actor::Import).await.unwrap();
    let helper = row(&HELPERS, &[("helper_id", "B1".into()), ("name", "刘干部".into())]);
    w.upsert(&HELPERS, vec![RowIn { values: helper, source: None }], "导入").await.unwrap();
    w.commit().await.unwrap();
    let v = audit::head(s).await.unwrap().seq;
    operations::correct_field(s, &Edit::new("bob", "调动"), "helpers", "B1", "unit", "县水利局").await.unwrap();
    let r = operations::correct_field(s, &edit("x").based_on(v), "helpers", "B1", "unit", "县林业局").await;
    assert!(matches!(r, Err(OpError::Conflict { .. })), "{r:?}");
    let out = operations::correct_field(s, &edit("核对").based_on(v + 1), "helpers", "B1", "unit", "县林业局").await;
    assert_eq!(out.unwrap().warnings, Vec::<String>::new());
    verify(s).await;
}

#[test]
fn operations_can_run_in_a_server_task() {
    fn send<T: Send>(_: &T) {}
    let store: Option<Store> = None;
    if let Some(s) = &store {
        let e = edit("x");
        send(&operations::add_household(s, &e, HouseholdDraft::default()));
        send(&operations::record_birth(s, &e, "H", PersonDraft::default()));
        send(&operations::record_death(s, &e, "P", "2024-01-01", None));
        send(&operations::move_member(s, &e, "P", "H", "03", None));
        send(&operations::split_household(s, &e, Split::default()));
        send(&operations::merge_households(s, &e, "A", "B", vec![]));
        send(&operations::correct_field(s, &e, "persons", "P", "name", "x"));
        send(&household_version(s, "H"));
    }
}
