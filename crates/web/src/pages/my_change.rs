//! 记录更正 on the phone: one field of the household or of a member (phone, health,
//! labour, migrant work…) corrected from the household card, online or without signal,
//! and the outbox (`/my/outbox`) that shows what the phone still holds.
//!
//! The form carries the household version it was rendered with and an idempotency key
//! (offline.js draws a fresh key at each load, as for visits). Posted — at once, or
//! later from the phone's queue — it goes to [`offline_edits::sync`]: applied when the
//! household has not changed since (change history with who and why), else kept as a
//! flagged conflict for review (`/review`), never written over the newer data. A key
//! sent twice is answered with what the first did. What the server refuses (422 with
//! the reason, 400 for a forged form, 403/404 for scope) the phone keeps as stuck.
//!
//! Policy `Visitor`: county admins, township officers and village cadres on households
//! inside their area, and helper cadres (帮扶责任人) on their paired households (404
//! outside): whoever visits a household may record what they found changed there.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_domain::schema::{self, PERSONS};
use fupin_store::offline_edits::{self, MAX_REASON_CHARS, MAX_VALUE_CHARS, Proposal, Synced};
use fupin_store::operations::{self, OpError};
use fupin_store::views;
use rand::RngCore;

use super::edit::flash_cookie;
use super::review::status_label;
use super::{Nav, html};
use crate::display::{raw, scrub_ids};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use fupin_domain::HouseholdId;

/// The fields a cadre corrects from the phone, as `table.column`.
pub(crate) const PHONE_FIELDS: &[&str] = &[
    "households.phone",
    "persons.phone",
    "persons.health",
    "persons.disease",
    "persons.labour",
    "persons.migrant_place",
    "persons.migrant_months",
    "persons.employer",
    "persons.school_status",
];

/// The header a field shows, prefixed by whose it is: `成员：健康状况`.
pub(crate) fn field_label(t: Tr, table: &str, column: &str) -> String {
    let prefix = if table == "households" { t.t("edit.correct.household") } else { t.t("edit.correct.person") };
    let header = schema::table(table).and_then(|tbl| tbl.column(column)).map(|c| c.header).unwrap_or(column);
    t.f2("edit.correct.field", "what", prefix, "header", header)
}

/// A form field longer than this is a forged request.
const MAX_FIELD_BYTES: usize = 4 * MAX_REASON_CHARS + 64;

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "my_change.html")]
struct FormPage {
    t: Tr,
    nav: Option<Nav>,
    hh_id: String,
    head: String,
    version: i64,
    key: String,
    targets: Vec<Choice>,
    fields: Vec<Choice>,
    value: String,
    /// A coded field's codes, the current value (or what was typed) selected: the
    /// value is picked, not typed. Empty: a text field, or no field chosen yet.
    value_choices: Vec<Choice>,
    /// Several codes may be chosen (健康状况).
    multiple: bool,
    reason: String,
    max_value: usize,
    max_reason: usize,
    error: Option<String>,
}

fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What a refused form shows again.
#[derive(Default)]
struct Typed {
    target: String,
    field: String,
    value: String,
    reason: String,
    key: String,
    version: Option<i64>,
}

async fn page(
    t: Tr,
    state: &AppState,
    user: &CurrentUser,
    hh_id: &HouseholdId,
    typed: Typed,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let persons = views::persons_of(&state.store, hh_id).await?;
    let codes = &state.codes;
    let head = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01").map(|p| raw(&PERSONS, p, "name"));
    let mut targets = vec![Choice {
        value: "household".into(),
        label: t.t("edit.correct.this_household").to_owned(),
        selected: typed.target.is_empty() || typed.target == "household",
    }];
    for p in &persons {
        let id = raw(&PERSONS, p, "person_id");
        let relation = codes.label("relation", &raw(&PERSONS, p, "relation")).to_owned();
        targets.push(Choice {
            selected: typed.target == id,
            label: t.f2("change.member", "name", raw(&PERSONS, p, "name"), "relation", relation),
            value: id,
        });
    }
    let fields = PHONE_FIELDS
        .iter()
        .map(|f| {
            let (table, column) = f.split_once('.').unwrap_or_default();
            Choice { value: (*f).to_owned(), label: field_label(t, table, column), selected: typed.field == *f }
        })
        .collect();
    let (value_choices, multiple) = value_choices(state, &persons, hh_id, &typed).await?;
    let version = match typed.version {
        Some(v) => v,
        None => operations::household_version(&state.store, hh_id.as_str()).await?,
    };
    let page = FormPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        hh_id: hh_id.to_string(),
        head: head.unwrap_or_default(),
        version,
        key: if typed.key.is_empty() { new_key() } else { typed.key },
        targets,
        fields,
        value_choices,
        multiple,
        value: typed.value,
        reason: typed.reason,
        max_value: MAX_VALUE_CHARS,
        max_reason: MAX_REASON_CHARS,
        error,
    };
    Ok((status, html(&page)?).into_response())
}

/// The codes a coded field may take, each selected when it is the target's current
/// value (or the value typed), and whether several may be chosen.
async fn value_choices(
    state: &AppState,
    persons: &[Vec<fupin_domain::Value>],
    hh_id: &HouseholdId,
    typed: &Typed,
) -> Result<(Vec<Choice>, bool), WebError> {
    use fupin_domain::schema::{HOUSEHOLDS, Kind};
    let Some((table, column)) = typed.field.split_once('.').filter(|_| PHONE_FIELDS.contains(&typed.field.as_str()))
    else {
        return Ok((Vec::new(), false));
    };
    let Some(col) = schema::table(table).and_then(|t| t.column(column)) else { return Ok((Vec::new(), false)) };
    let (list, multiple) = match col.kind {
        Kind::Code(list) => (list, false),
        Kind::Codes(list, _) => (list, true),
        _ => return Ok((Vec::new(), false)),
    };
    let current = if !typed.value.is_empty() {
        typed.value.clone()
    } else if table == HOUSEHOLDS.name {
        views::household(&state.store, hh_id).await?.map(|r| raw(&HOUSEHOLDS, &r, column)).unwrap_or_default()
    } else {
        let person = persons.iter().find(|p| raw(&PERSONS, p, "person_id") == typed.target);
        person.map(|p| raw(&PERSONS, p, column)).unwrap_or_default()
    };
    let chosen: Vec<&str> = current.split([';', '、', ',']).map(str::trim).collect();
    let codes = state.codes.get(list).map(|l| l.codes.as_slice()).unwrap_or_default();
    let choices = codes
        .iter()
        .map(|c| Choice {
            value: c.code.clone(),
            label: format!("{} {}", c.code, c.label),
            selected: chosen.contains(&c.code.as_str()) || chosen.contains(&c.label.as_str()),
        })
        .collect();
    Ok((choices, multiple))
}

/// Which target and field a form opens on (the form's 选择 button reloads it so, to
/// offer a coded field's codes with the current one selected).
#[derive(serde::Deserialize, Default)]
pub(crate) struct Pick {
    #[serde(default)]
    target: String,
    #[serde(default)]
    field: String,
}

/// `GET /my/household/{hh_id}/change`.
pub(crate) async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    t: Tr,
    scope: HouseholdInScope,
    axum::extract::Query(pick): axum::extract::Query<Pick>,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    let typed = Typed {
        target: pick.target.chars().take(40).collect(),
        field: pick.field.chars().take(60).collect(),
        ..Typed::default()
    };
    page(t, &state, &user, &id, typed, StatusCode::OK, None).await
}

/// `POST /my/household/{hh_id}/change`: applied, flagged for review, or (a replay)
/// what the first sending did; then the card with a message. Refused: the form with
/// the reason (422); a forged form (oversized, no version): 400.
pub(crate) async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    t: Tr,
    scope: HouseholdInScope,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    if pairs.len() > 16 || pairs.iter().any(|(k, v)| k.len() > 40 || v.len() > MAX_FIELD_BYTES) {
        tracing::warn!(user = %user.user.username, hh_id = %hh_id, "更正表单过长，已拒绝");
        return Err(WebError::BadRequest(t.t("change.too_long").into()));
    }
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or("");
    let Ok(version) = get("version").parse::<i64>() else {
        tracing::warn!(user = %user.user.username, hh_id = %hh_id, "更正表单缺少页面版本，已拒绝");
        return Err(WebError::BadRequest(t.t("change.no_version").into()));
    };
    let typed = Typed {
        target: get("target").to_owned(),
        field: get("field").to_owned(),
        // A multiple choice (健康状况) sends one `value` per code chosen.
        value: pairs
            .iter()
            .filter(|(k, v)| k == "value" && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect::<Vec<_>>()
            .join(";"),
        reason: get("reason").to_owned(),
        key: get("key").to_owned(),
        version: Some(version),
    };
    let refuse = |typed: Typed, message: String| {
        // The reason may quote what was typed (a whole ID number in a number field):
        // the log keeps it masked.
        tracing::warn!(user = %user.user.username, hh_id = %hh_id, reason = %scrub_ids(&message), "离线更正被拒绝");
        page(t, &state, &user, &id, typed, StatusCode::UNPROCESSABLE_ENTITY, Some(message))
    };
    if !PHONE_FIELDS.contains(&typed.field.as_str()) {
        return refuse(typed, t.t("edit.correct.choose_field").into()).await;
    }
    let (table, column) = typed.field.split_once('.').unwrap_or_default();
    let entity_key = match (table, typed.target.as_str()) {
        ("households", "household" | "") => hh_id.clone(),
        ("households", _) => return refuse(typed, t.t("edit.correct.choose_household").into()).await,
        (_, "household" | "") => return refuse(typed, t.t("edit.correct.choose_person").into()).await,
        (_, member) => member.to_owned(),
    };
    let proposal = Proposal {
        idempotency_key: &typed.key,
        hh_id: &hh_id,
        entity: table,
        entity_key: &entity_key,
        field: column,
        value: &typed.value,
        reason: &typed.reason,
        base_version: version,
        submitted_by: &user.user.username,
    };
    let label = field_label(t, table, column);
    let (message, warnings) = match offline_edits::sync(&state.store, &proposal).await {
        Ok(Synced::Applied { warnings, .. }) => (t.f1("change.saved", "field", &label), warnings),
        Ok(Synced::Flagged(_)) => {
            tracing::warn!(user = %user.user.username, hh_id = %hh_id, "离线更正与期间的修改冲突，已提交审核");
            (t.f1("change.flagged", "field", &label), Vec::new())
        }
        Ok(Synced::Replayed(first)) => {
            tracing::info!(user = %user.user.username, hh_id = %hh_id, "重复提交的更正，未重复处理");
            (t.f2("change.replayed", "status", status_label(t, first.status), "field", &label), Vec::new())
        }
        Err(OpError::Refused(m)) => return refuse(typed, m).await,
        Err(e @ OpError::Conflict { .. }) => return refuse(typed, e.to_string()).await,
        Err(OpError::Store(e)) => return Err(e.into()),
    };
    let cookie = flash_cookie(&message, &warnings);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/my/household/{hh_id}"))).into_response())
}

#[derive(Template)]
#[template(path = "my_outbox.html")]
struct OutboxPage {
    t: Tr,
    nav: Option<Nav>,
}

/// `GET /my/outbox`: the frame offline.js fills from the phone's queue (the server
/// never sees what is still queued).
pub(crate) async fn outbox(State(state): State<AppState>, user: CurrentUser, t: Tr) -> Result<Response, WebError> {
    let page = OutboxPage { t, nav: Some(Nav::of(&state, &user).await?) };
    Ok(html(&page)?.into_response())
}
