//! 年度动态调整 in the browser: the forms that change the registry, one page per
//! operation (出生, 死亡, 婚入, 婚出, 迁移成员, 更正, 分户, 合户, and 新增农户 on a
//! village), each a use case of [`fupin_app::edits`]; this module parses the form and renders
//! the page.
//!
//! Who: the route's policy ([`crate::Policy::RegistryEditor`]) lets only county
//! admins, township officers and village cadres in; [`Editor`] checks the role again in
//! the handler, and every handler checks that the household (and for a move or a merge
//! the other household too, for a correction of 行政村代码 the new village) lies inside
//! the user's area. A household outside it answers 404 like one that does not exist.
//!
//! Every form carries 原因 (required) and the hidden `version` of the household when
//! the form was rendered. What the store refuses comes back as the form with the
//! reason (422); an edit based on a stale page comes back as the form over the
//! current household with the conflict explained (409), never written. Success
//! redirects to the household page with a one-time message (a short-lived cookie) that
//! lists any data-quality warnings.

mod flash;
mod inputs;

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_app::edits::{self, Change, Failure, Fields, Household, Other, Refusal};
use fupin_domain::schema::PERSONS;
use fupin_domain::{DivisionCode, DivisionLevel, household_rules};
use fupin_store::operations::Outcome;
use fupin_store::views;

pub(crate) use flash::{Flash, flash_cookie, take_flash};
pub(crate) use fupin_app::edits::may_edit;
use inputs::{Input, code_choices, fill, inputs_for, mark_selected, person_inputs, pick_list, reason_input};

use super::{Crumb, Nav, crumbs, html};
use crate::display::{field, raw};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The 403 a read-only role gets on an editing route.
pub(crate) fn read_only() -> Response {
    let t = crate::i18n::current();
    crate::error::error_page(StatusCode::FORBIDDEN, t.t("edit.forbidden.title"), t.t("edit.forbidden.body"))
}

/// A signed-in user whose role may edit the registry.
pub(crate) struct Editor(pub CurrentUser);

impl FromRequestParts<AppState> for Editor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        if !may_edit(user.user.role) {
            return Err(read_only());
        }
        Ok(Editor(user))
    }
}

/// A member as the form page lists it.
struct MemberLine {
    name: String,
    relation: String,
    birth: String,
}

#[derive(Template)]
#[template(path = "edit_form.html")]
struct FormPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    title: String,
    subject: String,
    back: String,
    action: String,
    intro: &'static str,
    members: Vec<MemberLine>,
    message: String,
    conflict: bool,
    version: i64,
    inputs: Vec<Input>,
    /// The correction form: its 选择取值 button reloads it with the chosen field's codes.
    pick: bool,
}

/// A change's title in the user's language.
fn title(change: Change, t: Tr) -> &'static str {
    match change {
        Change::Birth => t.t("edit.birth"),
        Change::Death => t.t("edit.death"),
        Change::MarriageIn => t.t("edit.marriage_in"),
        Change::MarriageOut => t.t("edit.marriage_out"),
        Change::MoveOut => t.t("edit.move_out"),
        Change::Move => t.t("edit.move"),
        Change::Correct => t.t("edit.correct"),
        Change::Split => t.t("edit.split"),
        Change::Merge => t.t("edit.merge"),
    }
}

/// The sentence above a change's form.
fn intro(change: Change, t: Tr) -> &'static str {
    match change {
        Change::Birth => t.t("edit.birth.intro"),
        Change::Death => t.t("edit.death.intro"),
        Change::MarriageIn => t.t("edit.marriage_in.intro"),
        Change::MarriageOut => t.t("edit.marriage_out.intro"),
        Change::MoveOut => t.t("edit.move_out.intro"),
        Change::Move => t.t("edit.move.intro"),
        Change::Correct => t.t("edit.correct.intro"),
        Change::Split => t.t("edit.split.intro"),
        Change::Merge => t.t("edit.merge.intro"),
    }
}

/// The household a route names, already checked against the user's scope
/// ([`HouseholdInScope`]): its members now.
async fn household_of(state: &AppState, scope: &HouseholdInScope) -> Result<Household, WebError> {
    Ok(Household::read(&state.store, &scope.id, &scope.village).await?)
}

/// A refusal in the user's language.
fn refusal(t: Tr, r: Refusal) -> String {
    let other = |what: Other| match what {
        Other::MoveTo => t.t("edit.move.to"),
        Other::MergeInto => t.t("edit.merge.into"),
    };
    match r {
        Refusal::TooManyFields => t.t("edit.too_many_fields").to_owned(),
        Refusal::TooLong { field, max } => t.f2("edit.too_long", "field", label_of(t, &field), "max", max),
        Refusal::NoReason => t.t("edit.no_reason").to_owned(),
        Refusal::NoVersion => t.t("edit.no_version").to_owned(),
        Refusal::ChooseMember => t.t("edit.choose_member").to_owned(),
        Refusal::NotMember { id, hh_id } => t.f2("edit.not_member", "id", id, "hh_id", hh_id),
        Refusal::OtherMissing(what) => t.f1("edit.other.missing", "what", other(what)),
        Refusal::OtherUnknown(what, hh_id) => t.f2("edit.other.unknown", "what", other(what), "hh_id", hh_id),
        Refusal::DeathNoDate => t.t("edit.death.no_date").to_owned(),
        Refusal::MoveOutNoDate => t.t("edit.move_out.no_date").to_owned(),
        Refusal::CorrectChoosePerson => t.t("edit.correct.choose_person").to_owned(),
        Refusal::CorrectChooseField => t.t("edit.correct.choose_field").to_owned(),
        Refusal::CorrectChooseHousehold => t.t("edit.correct.choose_household").to_owned(),
        Refusal::VillageOutside(code) => t.f1("edit.correct.village_outside", "code", code),
        Refusal::Store(m) => m,
    }
}

/// A form field's label, for a refusal that names it.
fn label_of(t: Tr, name: &str) -> &str {
    match name {
        "reason" => t.t("edit.reason"),
        "name" => t.t("person.name"),
        "id_number" => t.t("person.id_number"),
        "value" => t.t("edit.correct.value"),
        "to_hh" => t.t("edit.move.to_hh"),
        "into_hh" => t.t("edit.merge.into_hh"),
        other => other,
    }
}

/// The form's page for a household.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    change: Change,
    hh: &Household,
    typed: Option<&Fields>,
    status: StatusCode,
    message: String,
    conflict: bool,
) -> Result<Response, WebError> {
    let version = hh.version(&state.store, change).await?;
    let mut inputs = inputs_for(t, change, state, hh);
    if let Some(typed) = typed {
        fill(&mut inputs, typed);
    }
    if change == Change::Correct {
        pick_list(t, state, hh, typed, &mut inputs).await?;
    }
    mark_selected(&mut inputs);
    let head = hh
        .persons
        .iter()
        .find(|p| raw(&PERSONS, p, "relation") == "01")
        .map(|p| t.f1("household.of", "head", raw(&PERSONS, p, "name")))
        .unwrap_or_else(|| t.t("household.anonymous").to_owned());
    let members = hh
        .persons
        .iter()
        .map(|p| MemberLine {
            name: raw(&PERSONS, p, "name"),
            relation: field(&PERSONS, p, "relation", &state.codes),
            birth: raw(&PERSONS, p, "birth_date"),
        })
        .collect();
    let page = FormPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        crumbs: crumbs(state, user, &hh.village).await?,
        title: title(change, t).to_owned(),
        subject: t.f2("edit.subject", "head", head, "hh_id", &hh.hh_id),
        back: format!("/household/{}", hh.hh_id),
        action: format!("/household/{}/change/{}", hh.hh_id, change.slug()),
        intro: intro(change, t),
        members,
        message,
        conflict,
        version,
        inputs,
        pick: change == Change::Correct,
    };
    Ok((status, html(&page)?).into_response())
}

/// What the household page says once after a change.
fn done_message(t: Tr, change: Change, out: &Outcome) -> String {
    let mut m = t.f2("edit.saved", "change", title(change, t), "count", out.changes.len());
    if let Some(c) = &out.created {
        m.push_str(&t.f1("edit.saved.created", "id", c));
    }
    m
}

/// `GET /household/{hh_id}/change/{change}`: the form.
pub(crate) async fn form(
    State(state): State<AppState>,
    t: Tr,
    Editor(user): Editor,
    scope: HouseholdInScope,
    Path((_, change)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let change = Change::parse(&change).ok_or(WebError::NotFound)?;
    let hh = household_of(&state, &scope).await?;
    // A correction opened on a chosen row and field (选择取值): those two only.
    let picked: Vec<(String, String)> = query
        .into_iter()
        .filter(|(k, v)| change == Change::Correct && matches!(k.as_str(), "target" | "field") && v.len() <= 80)
        .collect();
    let typed = (!picked.is_empty()).then_some(Fields(picked));
    form_page(&state, t, &user, change, &hh, typed.as_ref(), StatusCode::OK, String::new(), false).await
}

/// `POST /household/{hh_id}/change/{change}`: the change, then the household page.
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    Editor(user): Editor,
    scope: HouseholdInScope,
    Path((_, change)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let change = Change::parse(&change).ok_or(WebError::NotFound)?;
    let hh = household_of(&state, &scope).await?;
    let f = Fields(pairs);
    match edits::submit(&state.store, &user, change, &hh, &f).await {
        Ok((out, next)) => {
            tracing::info!(user = %user.user.username, change = change.slug(), "登记数据已修改");
            let cookie = flash_cookie(&done_message(t, change, &out), &out.warnings);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/household/{next}"))).into_response())
        }
        Err(Failure::Refused(r)) => {
            tracing::warn!(user = %user.user.username, change = change.slug(), "登记变更被拒绝");
            let m = refusal(t, r);
            form_page(&state, t, &user, change, &hh, Some(&f), StatusCode::UNPROCESSABLE_ENTITY, m, false).await
        }
        Err(Failure::Conflict(m)) => {
            tracing::warn!(user = %user.user.username, change = change.slug(), "登记变更基于过期页面，未保存");
            // The current household, with what the user typed, to check and resend.
            let hh = household_of(&state, &scope).await?;
            form_page(&state, t, &user, change, &hh, Some(&f), StatusCode::CONFLICT, m, true).await
        }
        Err(Failure::App(e)) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------
// 新增农户

#[derive(Template)]
#[template(path = "edit_household.html")]
struct NewHouseholdPage {
    t: Tr,
    nav: Option<Nav>,
    crumbs: Vec<Crumb>,
    village: String,
    action: String,
    back: String,
    message: String,
    inputs: Vec<Input>,
}

/// The village in the path, inside the user's area; else 404.
async fn village_in_area(state: &AppState, user: &CurrentUser, code: &str) -> Result<(DivisionCode, String), WebError> {
    let code = DivisionCode::parse(code).map_err(|_| WebError::NotFound)?;
    if code.level() != DivisionLevel::Village || !user.may_see(&code) {
        return Err(WebError::NotFound);
    }
    let d = views::division(&state.store, &code).await?.ok_or(WebError::NotFound)?;
    Ok((code, d.name))
}

#[allow(clippy::too_many_arguments)]
async fn new_household_page(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    code: &DivisionCode,
    name: String,
    typed: Option<&Fields>,
    status: StatusCode,
    message: String,
) -> Result<Response, WebError> {
    let mut inputs = vec![
        Input::new("group_no", t.t("household.group"), "text"),
        Input::new("status", t.t("household.status"), "select").required().choices(code_choices(
            state,
            "household_status",
            None,
            Some(t.t("edit.choose")),
        )),
        Input::new("phone", t.t("my.phone"), "text"),
    ];
    inputs.extend(person_inputs(t, state, |r| r == household_rules::HEAD, "01").into_iter().map(|mut i| {
        i.label = t.f1("edit.head_field", "field", &i.label);
        i
    }));
    inputs.push(reason_input(t));
    if let Some(typed) = typed {
        fill(&mut inputs, typed);
    }
    mark_selected(&mut inputs);
    let page = NewHouseholdPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        crumbs: crumbs(state, user, code).await?,
        village: name,
        action: format!("/area/{code}/new-household"),
        back: format!("/area/{code}"),
        message,
        inputs,
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /area/{code}/new-household`.
pub(crate) async fn new_household_form(
    State(state): State<AppState>,
    t: Tr,
    Editor(user): Editor,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let (code, name) = village_in_area(&state, &user, &code).await?;
    new_household_page(&state, t, &user, &code, name, None, StatusCode::OK, String::new()).await
}

/// `POST /area/{code}/new-household`: a household with its head, numbered by the system.
pub(crate) async fn new_household(
    State(state): State<AppState>,
    t: Tr,
    Editor(user): Editor,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let (code, name) = village_in_area(&state, &user, &code).await?;
    let f = Fields(pairs);
    let result = edits::add_household(&state.store, &user, &code, &f).await;
    match result {
        Ok(out) => {
            let hh = out.created.clone().unwrap_or_default();
            let cookie = flash_cookie(&t.f1("edit.household_added", "hh_id", &hh), &out.warnings);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/household/{hh}"))).into_response())
        }
        Err(Failure::Refused(r)) => {
            let m = refusal(t, r);
            new_household_page(&state, t, &user, &code, name, Some(&f), StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(Failure::Conflict(m)) => {
            new_household_page(&state, t, &user, &code, name, Some(&f), StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(Failure::App(e)) => Err(e.into()),
    }
}

/// The operations the household page links to, for editors.
pub(crate) fn household_links(t: Tr, hh_id: &str) -> Vec<(String, &'static str)> {
    Change::ALL.into_iter().map(|c| (format!("/household/{hh_id}/change/{}", c.slug()), title(c, t))).collect()
}
