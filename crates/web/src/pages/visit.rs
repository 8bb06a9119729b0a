//! 记录走访: the form of one visit to a household (date, in person or by phone,
//! notes) and its submission. The form carries an idempotency key generated when it
//! is rendered, so sending it twice (a double tap, a retry on a weak signal) records
//! one visit. Policy `Visitor`: department officers and inspectors get 403; the
//! household must be in the user's scope ([`HouseholdInScope`], checked before the handler runs).

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fupin_domain::schema::PERSONS;
use fupin_store::StoreError;
use fupin_store::visits::{self, MAX_NOTES_CHARS, Mode, NewVisit};
use rand::RngCore;

use super::{Nav, html};
use crate::display::raw;
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::CurrentUser;
use crate::{AppState, WebError};
use fupin_domain::HouseholdId;

/// A form field longer than this is a forged request.
const MAX_FIELD_BYTES: usize = 4 * MAX_NOTES_CHARS + 64;

#[derive(Template)]
#[template(path = "visit_form.html")]
struct FormPage {
    t: Tr,
    nav: Option<Nav>,
    hh_id: String,
    head: String,
    visited_on: String,
    today: String,
    mode: &'static str,
    notes: String,
    key: String,
    max_notes: usize,
    error: Option<String>,
}

fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn head_of(state: &AppState, hh_id: &HouseholdId) -> Result<String, WebError> {
    let persons = fupin_store::views::persons_of(&state.store, hh_id).await?;
    Ok(persons
        .iter()
        .find(|p| raw(&PERSONS, p, "relation") == "01")
        .map(|p| raw(&PERSONS, p, "name"))
        .unwrap_or_default())
}

/// What a form shows again after a refused submission.
struct Filled<'a> {
    visited_on: &'a str,
    mode: &'static str,
    notes: &'a str,
    key: &'a str,
}

async fn page(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    hh_id: &HouseholdId,
    filled: Option<Filled<'_>>,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let today = fupin_domain::date::iso(state.config.today);
    let key = filled.as_ref().map(|f| f.key.to_owned()).unwrap_or_else(new_key);
    let page = FormPage {
        t,
        nav: Some(Nav::of(state, user).await?),
        hh_id: hh_id.to_string(),
        head: head_of(state, hh_id).await?,
        visited_on: filled.as_ref().map(|f| f.visited_on.to_owned()).unwrap_or_else(|| today.clone()),
        today,
        mode: filled.as_ref().map(|f| f.mode).unwrap_or(Mode::InPerson.as_str()),
        notes: filled.as_ref().map(|f| f.notes.to_owned()).unwrap_or_default(),
        key,
        max_notes: MAX_NOTES_CHARS,
        error,
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /my/household/{hh_id}/visit`.
pub(crate) async fn form(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    scope: HouseholdInScope,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    page(&state, t, &user, &id, None, StatusCode::OK, None).await
}

/// `POST /my/household/{hh_id}/visit`: records the visit (once per key) and goes back
/// to the card with a message; a refused form comes back with the reason (422).
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    scope: HouseholdInScope,
    axum::Form(fields): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    if fields.values().any(|v| v.len() > MAX_FIELD_BYTES) || fields.len() > 10 {
        return Err(WebError::BadRequest(t.t("visit.too_long").into()));
    }
    let get = |k: &str| fields.get(k).map(|s| s.trim()).unwrap_or("");
    let (visited_on, notes, key) = (get("visited_on"), get("notes"), get("key"));
    let mode = Mode::parse(get("mode"));
    let filled = Filled { visited_on, mode: mode.unwrap_or(Mode::InPerson).as_str(), notes, key };
    let refuse =
        |message: String| page(&state, t, &user, &id, Some(filled), StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    let Some(mode) = mode else {
        return refuse(t.t("visit.no_mode").into()).await;
    };
    let today = state.config.today;
    let date = match fupin_domain::date::parse(visited_on) {
        None => return refuse(t.t("visit.bad_date").into()).await,
        Some(d) if d > today => return refuse(t.t("visit.future").into()).await,
        Some(d) if d < today - time::Duration::days(366) => {
            return refuse(t.t("visit.too_old").into()).await;
        }
        Some(d) => d,
    };
    if notes.chars().count() > MAX_NOTES_CHARS {
        return refuse(t.f2("visit.notes_too_long", "max", MAX_NOTES_CHARS, "count", notes.chars().count())).await;
    }
    let visit =
        NewVisit { hh_id: &hh_id, visitor: &user.user.username, visited_on: date, mode, notes, idempotency_key: key };
    let recorded = match visits::record_visit(&state.store, &visit).await {
        Ok(r) => r,
        Err(StoreError::Refused(m)) => return refuse(m).await,
        Err(e) => return Err(e.into()),
    };
    let message = if recorded.new {
        t.f2("visit.recorded", "date", &recorded.visit.visited_on, "mode", mode_label(t, recorded.visit.mode))
    } else {
        tracing::info!(username = %user.user.username, hh_id = %hh_id, "重复提交的走访，未重复记录");
        t.f2("visit.recorded_before", "date", &recorded.visit.visited_on, "mode", mode_label(t, recorded.visit.mode))
    };
    let cookie = super::edit::flash_cookie(&message, &[]);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&format!("/my/household/{hh_id}"))).into_response())
}

/// A visit's mode as the pages name it, in the page's language.
pub(crate) fn mode_label(t: Tr, mode: Mode) -> &'static str {
    match mode {
        Mode::InPerson => t.t("visit.mode.in_person"),
        Mode::Phone => t.t("visit.mode.phone"),
    }
}
