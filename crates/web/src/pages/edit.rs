//! 年度动态调整 in the browser: the forms that change the registry, one page per
//! operation (出生, 死亡, 婚入, 婚出, 迁移成员, 更正, 分户, 合户, and 新增农户 on a
//! village), each calling one of `fupin_store::operations`.
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

use askama::Template;
use axum::Form;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use fupin_domain::schema::{self, HOUSEHOLDS, Kind, PERSONS};
use fupin_domain::{DivisionCode, DivisionLevel, HouseholdId, Value, household_rules};
use fupin_store::operations::{self, Edit, HouseholdDraft, OpError, Outcome, PersonDraft, Split};
use fupin_store::users::Role;
use fupin_store::{audit, views};

use super::{Crumb, Nav, crumbs, html};
use crate::display::{field, raw, scrub_ids};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};

/// The longest value any field but 原因 may hold (the store's own limits are checked
/// on top); 原因 may hold 500 characters.
const MAX_FIELD: usize = 100;
const MAX_REASON: usize = 500;
/// More pairs than any form has: a forged request.
const MAX_PAIRS: usize = 300;

/// Whether a role keeps the registry: county admins, township officers and village
/// cadres. Helpers, department officers and inspectors only read.
pub(crate) fn may_edit(role: Role) -> bool {
    matches!(role, Role::CountyAdmin | Role::TownshipOfficer | Role::VillageCadre)
}

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

// ---------------------------------------------------------------------------------
// The one-time message after a change

const FLASH: &str = "fupin_flash";

/// What the household page shows once after a change.
pub(crate) struct Flash {
    pub message: String,
    pub warnings: Vec<String>,
}

pub(crate) fn flash_cookie(message: &str, warnings: &[String]) -> String {
    let t = crate::i18n::current();
    let mut text = message.to_owned();
    for w in warnings {
        if text.len() + w.len() > 1500 {
            text.push('\n');
            text.push_str(t.t("edit.more_warnings"));
            break;
        }
        text.push('\n');
        text.push_str(w);
    }
    Cookie::build((FLASH, hex::encode(text.as_bytes())))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(120))
        .build()
        .to_string()
}

/// The message a change left for this page, and the `Set-Cookie` that forgets it.
pub(crate) fn take_flash(headers: &HeaderMap) -> Option<(Flash, String)> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v.to_owned()))
        .filter_map(Result::ok)
        .find(|c| c.name() == FLASH)
        .map(|c| c.value().to_owned())?;
    let text = String::from_utf8(hex::decode(value).ok()?).ok()?;
    let mut lines = text.lines().map(scrub_ids);
    let message = lines.next().unwrap_or_default();
    let flash = Flash { message, warnings: lines.collect() };
    let clear = Cookie::build((FLASH, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string();
    Some((flash, clear))
}

// ---------------------------------------------------------------------------------
// The form page

/// One choice of a select or a checkbox list.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// One input of a form: `kind` is `text`, `date`, `select`, `checks` or `textarea`.
struct Input {
    name: String,
    label: String,
    kind: &'static str,
    value: String,
    choices: Vec<Choice>,
    required: bool,
    hint: String,
}

impl Input {
    fn new(name: &str, label: &str, kind: &'static str) -> Input {
        Input {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            value: String::new(),
            choices: Vec::new(),
            required: false,
            hint: String::new(),
        }
    }
    fn required(mut self) -> Input {
        self.required = true;
        self
    }
    fn hint(mut self, hint: &str) -> Input {
        self.hint = hint.to_owned();
        self
    }
    fn choices(mut self, choices: Vec<(String, String)>) -> Input {
        self.choices = choices.into_iter().map(|(value, label)| Choice { value, label, selected: false }).collect();
        self
    }
    fn value(mut self, value: &str) -> Input {
        self.value = value.to_owned();
        self
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

/// The operations a household's page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Birth,
    Death,
    MarriageIn,
    MarriageOut,
    MoveOut,
    Move,
    Correct,
    Split,
    Merge,
}

impl Change {
    fn parse(s: &str) -> Option<Change> {
        Some(match s {
            "birth" => Change::Birth,
            "death" => Change::Death,
            "marriage-in" => Change::MarriageIn,
            "marriage-out" => Change::MarriageOut,
            "move-out" => Change::MoveOut,
            "move" => Change::Move,
            "correct" => Change::Correct,
            "split" => Change::Split,
            "merge" => Change::Merge,
            _ => return None,
        })
    }

    fn slug(self) -> &'static str {
        match self {
            Change::Birth => "birth",
            Change::Death => "death",
            Change::MarriageIn => "marriage-in",
            Change::MarriageOut => "marriage-out",
            Change::MoveOut => "move-out",
            Change::Move => "move",
            Change::Correct => "correct",
            Change::Split => "split",
            Change::Merge => "merge",
        }
    }

    fn title(self, t: Tr) -> &'static str {
        match self {
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

    fn intro(self, t: Tr) -> &'static str {
        match self {
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
}

/// The household a form is about, read after the area check.
struct Household {
    hh_id: String,
    village: DivisionCode,
    persons: Vec<Vec<Value>>,
}

impl Household {
    fn member_choices(&self, state: &AppState) -> Vec<(String, String)> {
        self.persons
            .iter()
            .map(|p| {
                let rel = field(&PERSONS, p, "relation", &state.codes);
                (raw(&PERSONS, p, "person_id"), format!("{}（{rel}）", raw(&PERSONS, p, "name")))
            })
            .collect()
    }

    fn is_member(&self, person_id: &str) -> bool {
        self.persons.iter().any(|p| raw(&PERSONS, p, "person_id") == person_id)
    }
}

/// The household a route names, already checked against the user's scope
/// ([`HouseholdInScope`]): its members now.
async fn household_of(state: &AppState, scope: &HouseholdInScope) -> Result<Household, WebError> {
    let persons = views::persons_of(&state.store, &scope.id).await?;
    Ok(Household { hh_id: scope.id.to_string(), village: scope.village.clone(), persons })
}

/// Another household a form names (a merge's target) if it exists and lies inside the
/// user's scope; else `None`, alike for a text that cannot be a 户编号.
async fn household_in_area(state: &AppState, user: &CurrentUser, hh_id: &str) -> Result<Option<Household>, WebError> {
    let Ok(id) = HouseholdId::parse(hh_id) else { return Ok(None) };
    let Some(village) = views::household_village(&state.store, &id).await? else { return Ok(None) };
    let Ok(village) = DivisionCode::parse(&village) else { return Ok(None) };
    if !user.household_in_scope(&state.store, id.as_str(), &village).await? {
        return Ok(None);
    }
    let persons = views::persons_of(&state.store, &id).await?;
    Ok(Some(Household { hh_id: id.into_string(), village, persons }))
}

fn code_choices(state: &AppState, list: &str, only: Option<&[&str]>, blank: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = blank.map(|b| vec![(String::new(), b.to_owned())]).unwrap_or_default();
    if let Some(l) = state.codes.get(list) {
        out.extend(
            l.codes
                .iter()
                .filter(|c| only.is_none_or(|o| o.contains(&c.code.as_str())))
                .map(|c| (c.code.clone(), format!("{} {}", c.code, c.label))),
        );
    }
    out
}

/// The fields of a new person (出生, 婚入, 新增农户's head), the relation chosen
/// among those `allowed`.
fn person_inputs(t: Tr, state: &AppState, allowed: fn(&str) -> bool, default_relation: &str) -> Vec<Input> {
    let relations = code_choices(state, "relation", None, None).into_iter().filter(|(c, _)| allowed(c)).collect();
    vec![
        Input::new("name", t.t("person.name"), "text").required(),
        Input::new("sex", t.t("edit.sex"), "select").choices(code_choices(
            state,
            "sex",
            None,
            Some(t.t("edit.choose")),
        )),
        Input::new("ethnicity", t.t("person.ethnicity"), "select").choices(code_choices(
            state,
            "ethnicity",
            None,
            Some(t.t("edit.choose")),
        )),
        Input::new("birth_date", t.t("person.birth"), "date"),
        Input::new("relation", t.t("person.relation"), "select").required().choices(relations).value(default_relation),
        Input::new("id_number", t.t("edit.id_number"), "text").hint(t.t("edit.id_number.hint")),
    ]
}

fn reason_input(t: Tr) -> Input {
    Input::new("reason", t.t("edit.reason"), "textarea").required().hint(t.t("edit.reason.hint"))
}

/// The registry columns a correction may change, as `table.column` with its header.
fn correctable(t: Tr) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (table, prefix) in [(&HOUSEHOLDS, t.t("edit.correct.household")), (&PERSONS, t.t("edit.correct.person"))] {
        for c in table.columns {
            if table.key.contains(&c.name) || c.name == "hh_id" || schema::DEPARTURE_COLUMNS.contains(&c.name) {
                continue;
            }
            out.push((
                format!("{}.{}", table.name, c.name),
                t.f2("edit.correct.field", "what", prefix, "header", c.header),
            ));
        }
    }
    out
}

fn inputs_for(t: Tr, change: Change, state: &AppState, hh: &Household) -> Vec<Input> {
    let members = hh.member_choices(state);
    let mut with_blank = vec![(String::new(), t.t("edit.not_needed").to_owned())];
    with_blank.extend(members.clone());
    let person = || Input::new("person", t.t("edit.person"), "select").required().choices(members.clone());
    let new_head = || {
        Input::new("new_head", t.t("edit.new_head"), "select")
            .choices(with_blank.clone())
            .hint(t.t("edit.new_head.hint"))
    };
    let mut inputs = match change {
        Change::Birth => person_inputs(t, state, household_rules::birth_relation_allowed, "03"),
        Change::MarriageIn => person_inputs(t, state, |r| household_rules::MARRIAGE_IN_RELATIONS.contains(&r), "05"),
        Change::Death => vec![person(), Input::new("date", t.t("edit.death.date"), "date").required(), new_head()],
        Change::MarriageOut => vec![person(), Input::new("date", t.t("edit.marriage_out.date"), "date"), new_head()],
        Change::MoveOut => vec![person(), Input::new("date", t.t("edit.move_out.date"), "date").required(), new_head()],
        Change::Move => vec![
            person(),
            Input::new("to_hh", t.t("edit.move.to_hh"), "text").required(),
            Input::new("relation", t.t("edit.move.relation"), "select").required().choices(code_choices(
                state,
                "relation",
                None,
                Some(t.t("edit.choose")),
            )),
            new_head().hint(t.t("edit.move.new_head.hint")),
        ],
        Change::Correct => {
            let mut targets = vec![("household".to_owned(), t.t("edit.correct.this_household").to_owned())];
            targets.extend(members.clone());
            vec![
                Input::new("target", t.t("edit.correct.target"), "select").required().choices(targets),
                Input::new("field", t.t("household.history.field"), "select").required().choices(correctable(t)),
                Input::new("value", t.t("edit.correct.value"), "text").hint(t.t("edit.correct.value.hint")),
            ]
        }
        Change::Split => {
            let mut v = vec![
                Input::new("member", t.t("edit.split.members"), "checks").required().choices(members.clone()),
                Input::new("new_head", t.t("edit.split.new_head"), "select").required().choices(members.clone()),
                Input::new("remaining_head", t.t("edit.split.remaining_head"), "select")
                    .choices(with_blank.clone())
                    .hint(t.t("edit.split.remaining_head.hint")),
            ];
            for p in &hh.persons {
                let id = raw(&PERSONS, p, "person_id");
                let label = t.f1("edit.split.relation", "name", raw(&PERSONS, p, "name"));
                v.push(
                    Input::new(&format!("rel_{id}"), &label, "select")
                        .choices(code_choices(state, "relation", None, Some(t.t("edit.unchanged"))))
                        .hint(t.t("edit.split.relation.hint")),
                );
            }
            v
        }
        Change::Merge => {
            let mut v = vec![Input::new("into_hh", t.t("edit.merge.into_hh"), "text").required()];
            for p in &hh.persons {
                let id = raw(&PERSONS, p, "person_id");
                let label = t.f1("edit.merge.relation", "name", raw(&PERSONS, p, "name"));
                v.push(
                    Input::new(&format!("rel_{id}"), &label, "select")
                        .required()
                        .choices(code_choices(state, "relation", None, None))
                        .value(&raw(&PERSONS, p, "relation")),
                );
            }
            v
        }
    };
    inputs.push(reason_input(t));
    inputs
}

/// Fills inputs with what was typed (after a refusal or a conflict), except anything
/// that looks like an ID or phone number: those leave the server only masked, so the
/// user types them again.
fn fill(inputs: &mut [Input], typed: &Fields) {
    for input in inputs {
        if input.kind == "checks" {
            let chosen = typed.all(&input.name);
            for c in &mut input.choices {
                c.selected = chosen.contains(&c.value.as_str());
            }
        } else if let Some(v) = typed.first(&input.name)
            && scrub_ids(v) == v
        {
            input.value = v.to_owned();
        }
    }
}

fn mark_selected(inputs: &mut [Input]) {
    for input in inputs {
        if input.kind == "select" {
            for c in &mut input.choices {
                c.selected = c.value == input.value;
            }
        }
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
    let version = if change == Change::Merge {
        // A merge checks both households against it: the chain head is the one
        // version that every change made after this page is newer than.
        audit::head(&state.store).await?.seq
    } else {
        operations::household_version(&state.store, &hh.hh_id).await?
    };
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
        title: change.title(t).to_owned(),
        subject: t.f2("edit.subject", "head", head, "hh_id", &hh.hh_id),
        back: format!("/household/{}", hh.hh_id),
        action: format!("/household/{}/change/{}", hh.hh_id, change.slug()),
        intro: change.intro(t),
        members,
        message,
        conflict,
        version,
        inputs,
        pick: change == Change::Correct,
    };
    Ok((status, html(&page)?).into_response())
}

/// A correction of a coded field (one code) offers its codes, the current value of the
/// chosen row selected (or what was typed), instead of a text box.
async fn pick_list(
    t: Tr,
    state: &AppState,
    hh: &Household,
    typed: Option<&Fields>,
    inputs: &mut [Input],
) -> Result<(), WebError> {
    let Some(typed) = typed else { return Ok(()) };
    let (table, column) = typed.get("field").split_once('.').unwrap_or_default();
    let Some(col) = schema::table(table).and_then(|tb| tb.column(column)) else { return Ok(()) };
    let Kind::Code(list) = col.kind else { return Ok(()) };
    let current = match (typed.get("value"), table) {
        (v, _) if !v.is_empty() => v.to_owned(),
        (_, "households") => {
            views::household(&state.store, &HouseholdId::parse(&hh.hh_id).map_err(|_| WebError::NotFound)?)
                .await?
                .map(|r| raw(&HOUSEHOLDS, &r, column))
                .unwrap_or_default()
        }
        _ => hh
            .persons
            .iter()
            .find(|p| raw(&PERSONS, p, "person_id") == typed.get("target"))
            .map(|p| raw(&PERSONS, p, column))
            .unwrap_or_default(),
    };
    if let Some(input) = inputs.iter_mut().find(|i| i.name == "value") {
        *input = Input::new("value", t.t("edit.correct.value"), "select")
            .choices(code_choices(state, list, None, Some(t.t("edit.choose"))))
            .value(&current);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// What was posted

/// A posted form as its pairs (a checkbox list repeats its name).
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    fn first(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// The trimmed value, empty when missing.
    fn get(&self, name: &str) -> &str {
        self.first(name).map(str::trim).unwrap_or_default()
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).collect()
    }
    /// Refuses forged sizes before anything is read.
    fn check_sizes(&self, t: Tr) -> Result<(), Fail> {
        if self.0.len() > MAX_PAIRS {
            return Err(Fail::Refused(t.t("edit.too_many_fields").to_owned()));
        }
        for (k, v) in &self.0 {
            let max = if k == "reason" { MAX_REASON } else { MAX_FIELD };
            if k.chars().count() > MAX_FIELD || v.chars().count() > max {
                return Err(Fail::Refused(t.f2("edit.too_long", "field", label_of(t, k), "max", max)));
            }
        }
        Ok(())
    }
    /// The edit: who, 原因 (required) and the version the page was based on.
    fn edit(&self, t: Tr, user: &CurrentUser) -> Result<Edit, Fail> {
        let reason = self.get("reason");
        if reason.is_empty() {
            return Err(Fail::Refused(t.t("edit.no_reason").to_owned()));
        }
        let Ok(version) = self.get("version").parse::<i64>() else {
            return Err(Fail::Refused(t.t("edit.no_version").to_owned()));
        };
        Ok(Edit::new(user.user.username.clone(), reason).based_on(version))
    }
    fn person(&self) -> PersonDraft {
        PersonDraft {
            name: self.get("name").to_owned(),
            sex: self.get("sex").to_owned(),
            birth_date: self.get("birth_date").to_owned(),
            relation: self.get("relation").to_owned(),
            id_type: String::new(),
            id_number: self.get("id_number").to_owned(),
            fields: [("ethnicity", self.get("ethnicity"))]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        }
    }
}

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

/// Why a posted change did not happen.
enum Fail {
    Refused(String),
    Conflict(String),
    Web(WebError),
}

impl From<OpError> for Fail {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Refused(m) => Fail::Refused(m),
            c @ OpError::Conflict { .. } => Fail::Conflict(c.to_string()),
            OpError::Store(s) => Fail::Web(WebError::Store(s)),
        }
    }
}

impl From<WebError> for Fail {
    fn from(e: WebError) -> Self {
        Fail::Web(e)
    }
}

fn optional(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// Refuses a person who is not a member of this household.
fn member<'a>(t: Tr, hh: &Household, f: &'a Fields, name: &str) -> Result<&'a str, Fail> {
    let id = f.get(name);
    if id.is_empty() {
        return Err(Fail::Refused(t.t("edit.choose_member").to_owned()));
    }
    if !hh.is_member(id) {
        return Err(Fail::Refused(t.f2("edit.not_member", "id", id, "hh_id", &hh.hh_id)));
    }
    Ok(id)
}

/// Another household named on a form: it must lie inside the user's area (one outside
/// reads like one that does not exist).
async fn other_household(state: &AppState, t: Tr, user: &CurrentUser, hh_id: &str, what: &str) -> Result<(), Fail> {
    if hh_id.is_empty() {
        return Err(Fail::Refused(t.f1("edit.other.missing", "what", what)));
    }
    if household_in_area(state, user, hh_id).await?.is_none() {
        return Err(Fail::Refused(t.f2("edit.other.unknown", "what", what, "hh_id", hh_id)));
    }
    Ok(())
}

/// Runs a posted change. Returns the outcome and the household to show next.
async fn run(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    change: Change,
    hh: &Household,
    f: &Fields,
) -> Result<(Outcome, String), Fail> {
    f.check_sizes(t)?;
    let edit = f.edit(t, user)?;
    let store = &state.store;
    let here = hh.hh_id.clone();
    let out = match change {
        Change::Birth => operations::record_birth(store, &edit, &hh.hh_id, f.person()).await?,
        Change::MarriageIn => operations::record_marriage_in(store, &edit, &hh.hh_id, f.person()).await?,
        Change::Death => {
            let p = member(t, hh, f, "person")?;
            let date = f.get("date");
            if date.is_empty() {
                return Err(Fail::Refused(t.t("edit.death.no_date").to_owned()));
            }
            operations::record_death(store, &edit, p, date, optional(f.get("new_head"))).await?
        }
        Change::MarriageOut => {
            let p = member(t, hh, f, "person")?;
            operations::record_marriage_out(store, &edit, p, optional(f.get("date")), optional(f.get("new_head")))
                .await?
        }
        Change::MoveOut => {
            let p = member(t, hh, f, "person")?;
            let date = f.get("date");
            if date.is_empty() {
                return Err(Fail::Refused(t.t("edit.move_out.no_date").to_owned()));
            }
            operations::record_move_out(store, &edit, p, date, optional(f.get("new_head"))).await?
        }
        Change::Move => {
            let p = member(t, hh, f, "person")?;
            let to = f.get("to_hh");
            other_household(state, t, user, to, t.t("edit.move.to")).await?;
            operations::move_member(store, &edit, p, to, f.get("relation"), optional(f.get("new_head"))).await?
        }
        Change::Correct => {
            let (table, column) = f.get("field").split_once('.').unwrap_or_default();
            let target = f.get("target");
            let key = match table {
                "households" => hh.hh_id.clone(),
                "persons" => {
                    if target == "household" || target.is_empty() {
                        return Err(Fail::Refused(t.t("edit.correct.choose_person").to_owned()));
                    }
                    member(t, hh, f, "target")?.to_owned()
                }
                _ => return Err(Fail::Refused(t.t("edit.correct.choose_field").to_owned())),
            };
            if table == "households" && target != "household" && !target.is_empty() {
                return Err(Fail::Refused(t.t("edit.correct.choose_household").to_owned()));
            }
            let value = f.get("value");
            if table == "households" && column == "village_code" {
                let inside = DivisionCode::parse(value).is_ok_and(|c| user.may_see(&c));
                if !inside {
                    return Err(Fail::Refused(t.f1("edit.correct.village_outside", "code", value)));
                }
            }
            operations::correct_field(store, &edit, table, &key, column, value).await?
        }
        Change::Split => {
            let members: Vec<String> =
                f.all("member").into_iter().filter(|m| !m.is_empty()).map(str::to_owned).collect();
            for m in &members {
                if !hh.is_member(m) {
                    return Err(Fail::Refused(t.f2("edit.not_member", "id", m, "hh_id", &hh.hh_id)));
                }
            }
            let relations = relations_from(f, &members);
            let split = Split {
                from_hh: hh.hh_id.clone(),
                members,
                new_head: f.get("new_head").to_owned(),
                relations,
                remaining_head: optional(f.get("remaining_head")).map(str::to_owned),
                household: Default::default(),
            };
            operations::split_household(store, &edit, split).await?
        }
        Change::Merge => {
            let into = f.get("into_hh");
            other_household(state, t, user, into, t.t("edit.merge.into")).await?;
            let ids: Vec<String> = hh.persons.iter().map(|p| raw(&PERSONS, p, "person_id")).collect();
            let relations = relations_from(f, &ids);
            let out = operations::merge_households(store, &edit, &hh.hh_id, into, relations).await?;
            return Ok((out, into.to_owned()));
        }
    };
    Ok((out, here))
}

/// `rel_{人编号}` values given (non-empty) for the listed persons.
fn relations_from(f: &Fields, ids: &[String]) -> Vec<(String, String)> {
    ids.iter().filter_map(|id| optional(f.get(&format!("rel_{id}"))).map(|r| (id.clone(), r.to_owned()))).collect()
}

fn done_message(t: Tr, change: Change, out: &Outcome) -> String {
    let mut m = t.f2("edit.saved", "change", change.title(t), "count", out.changes.len());
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
    match run(&state, t, &user, change, &hh, &f).await {
        Ok((out, next)) => {
            tracing::info!(user = %user.user.username, change = change.slug(), "登记数据已修改");
            let cookie = flash_cookie(&done_message(t, change, &out), &out.warnings);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/household/{next}"))).into_response())
        }
        Err(Fail::Refused(m)) => {
            tracing::warn!(user = %user.user.username, change = change.slug(), "登记变更被拒绝");
            form_page(&state, t, &user, change, &hh, Some(&f), StatusCode::UNPROCESSABLE_ENTITY, m, false).await
        }
        Err(Fail::Conflict(m)) => {
            tracing::warn!(user = %user.user.username, change = change.slug(), "登记变更基于过期页面，未保存");
            // The current household, with what the user typed, to check and resend.
            let hh = household_of(&state, &scope).await?;
            form_page(&state, t, &user, change, &hh, Some(&f), StatusCode::CONFLICT, m, true).await
        }
        Err(Fail::Web(e)) => Err(e),
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
    let result = async {
        f.check_sizes(t)?;
        let reason = f.get("reason");
        if reason.is_empty() {
            return Err(Fail::Refused(t.t("edit.no_reason").to_owned()));
        }
        let edit = Edit::new(user.user.username.clone(), reason);
        let mut fields = Vec::new();
        if !f.get("phone").is_empty() {
            fields.push(("phone".to_owned(), f.get("phone").to_owned()));
        }
        let draft = HouseholdDraft {
            hh_id: String::new(),
            village_code: code.to_string(),
            group_no: f.get("group_no").to_owned(),
            status: f.get("status").to_owned(),
            fields,
            head: f.person(),
            members: Vec::new(),
        };
        Ok::<_, Fail>(operations::add_household(&state.store, &edit, draft).await?)
    }
    .await;
    match result {
        Ok(out) => {
            let hh = out.created.clone().unwrap_or_default();
            let cookie = flash_cookie(&t.f1("edit.household_added", "hh_id", &hh), &out.warnings);
            Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/household/{hh}"))).into_response())
        }
        Err(Fail::Refused(m) | Fail::Conflict(m)) => {
            new_household_page(&state, t, &user, &code, name, Some(&f), StatusCode::UNPROCESSABLE_ENTITY, m).await
        }
        Err(Fail::Web(e)) => Err(e),
    }
}

/// The operations the household page links to, for editors.
pub(crate) fn household_links(t: Tr, hh_id: &str) -> Vec<(String, &'static str)> {
    [
        Change::Birth,
        Change::Death,
        Change::MarriageIn,
        Change::MarriageOut,
        Change::MoveOut,
        Change::Move,
        Change::Correct,
        Change::Split,
        Change::Merge,
    ]
    .into_iter()
    .map(|c| (format!("/household/{hh_id}/change/{}", c.slug()), c.title(t)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_survives_its_cookie_once() {
        let set = flash_cookie("已保存：登记出生", &["张三（H101）：证件号码：校验位不符".to_owned()]);
        let pair = set.split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, format!("a=1; {pair}").parse().unwrap());
        let (flash, clear) = take_flash(&headers).expect("a message");
        assert_eq!(flash.message, "已保存：登记出生");
        assert_eq!(flash.warnings, ["张三（H101）：证件号码：校验位不符"]);
        assert!(clear.contains("Max-Age=0"), "{clear}");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    }

    #[test]
    fn only_editing_roles_edit() {
        let editors: Vec<Role> = Role::ALL.into_iter().filter(|r| may_edit(*r)).collect();
        assert_eq!(editors, [Role::CountyAdmin, Role::TownshipOfficer, Role::VillageCadre]);
    }

    #[test]
    fn typed_numbers_are_not_echoed() {
        let mut inputs = vec![Input::new("id_number", "证件号码", "text"), Input::new("name", "姓名", "text")];
        let typed = Fields(vec![("id_number".into(), "610981198001010016".into()), ("name".into(), "张三".into())]);
        fill(&mut inputs, &typed);
        assert_eq!(inputs[0].value, "");
        assert_eq!(inputs[1].value, "张三");
    }
}
