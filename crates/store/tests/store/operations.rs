//! Everyday registry operations on the engine `FUPIN_TEST_DB` names: each happy path
//! writes attributed, reasoned change records and keeps `audit verify` passing; each
//! refusal leaves the chain head (and so the registry) exactly as it was; a stale page
//! gets a conflict. This module has the shared helpers and the operations on whole
//! households (add, split, merge, correct, a stale page); `operations_members` those
//! a member joins or leaves by.

use fupin_domain::DivisionTree;
use fupin_domain::schema::{HELPERS, HOUSEHOLDS, INCOMES};
use fupin_store::audit::{self, Head};
use fupin_store::operations::{
    self, Edit, HouseholdDraft, NewHousehold, OpError, Outcome, PersonDraft, Split, household_version,
};
use fupin_store::writer::RowIn;
use fupin_store::{Actor, Store, testing, views};

use super::row;

pub(super) const VILLAGE: &str = "610981105201";
/// A valid 居民身份证 number (female, born 1949-12-31).
pub(super) const GOOD_ID: &str = "11010519491231002X";
/// The same number with a wrong check character.
pub(super) const BAD_ID: &str = "110105194912310021";

pub(super) fn edit(reason: &str) -> Edit {
    Edit::new("alice", reason)
}

pub(super) fn person(name: &str, relation: &str) -> PersonDraft {
    PersonDraft { name: name.into(), relation: relation.into(), sex: "1".into(), ..Default::default() }
}

pub(super) fn child(name: &str, born: &str) -> PersonDraft {
    PersonDraft { birth_date: born.into(), ..person(name, "03") }
}

pub(super) async fn registry() -> testing::TestDb {
    let db = testing::fresh().await.unwrap();
    db.store.write_divisions(&DivisionTree::builtin_xunyang(), "610981").await.unwrap();
    db
}

/// A household of head, spouse and son: `{VILLAGE}00001` with persons `…01`–`…03`.
pub(super) async fn family(store: &Store) -> String {
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

pub(super) async fn verify(store: &Store) {
    let report = audit::verify(store, None, &[]).await.unwrap();
    assert_eq!(report.mismatch, None, "audit verify after the operation");
}

/// Every record is the user's and carries the reason.
pub(super) fn attributed(out: &Outcome, reason: &str) {
    assert!(!out.changes.is_empty(), "the operation wrote records");
    for c in &out.changes {
        assert_eq!(c.actor, "user:alice", "{c:?}");
        assert!(c.reason.as_deref().unwrap_or_default().contains(reason), "{c:?}");
    }
    assert_eq!(out.version, out.changes.last().unwrap().seq);
}

/// The operation was refused with a message containing `words`, and wrote nothing.
pub(super) async fn refused(store: &Store, before: &Head, result: Result<Outcome, OpError>, words: &str) {
    match result {
        Err(OpError::Refused(m)) => assert!(m.contains(words), "refusal “{m}” should mention “{words}”"),
        other => panic!("expected a refusal mentioning {words}, got {other:?}"),
    }
    assert_eq!(&audit::head(store).await.unwrap(), before, "a refusal writes nothing");
}

pub(super) async fn relation(store: &Store, person_id: &str) -> Option<String> {
    sqlx::query_as::<_, (String,)>("SELECT relation FROM persons WHERE person_id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(store.pool())
        .await
        .unwrap()
        .map(|r| r.0)
}

pub(super) async fn hh_of(store: &Store, person_id: &str) -> Option<String> {
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
