//! 拨打电话: whoever visits a household calls it from its card. The number is masked on
//! every page; calling shows it in full, with a `tel:` link, only after a reason is
//! given and a row is appended to the reveal log (查看记录), as for any number shown
//! unmasked — a helper cadre (帮扶责任人), who may reveal nothing else, may reveal this
//! one number of a paired household.
//!
//! Policy `Visitor`: county admins, township officers and village cadres inside their
//! area, helper cadres on their paired households (404 outside).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fupin_domain::mask;
use fupin_domain::schema::{HOUSEHOLDS, PERSONS};
use fupin_store::reveals::{self, RevealRecord};
use fupin_store::views;
use serde::Deserialize;

use super::{Nav, html};
use crate::display::{raw, scrub_ids};
use crate::i18n::Tr;
use crate::scope::HouseholdInScope;
use crate::session::{CurrentUser, RemoteAddr};
use crate::{AppState, WebError};

/// A longer reason is refused.
const MAX_REASON: usize = 200;

#[derive(Deserialize)]
pub(crate) struct CallForm {
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    t: Tr,
    nav: Option<Nav>,
    hh_id: String,
    head: String,
    masked: String,
    /// The whole number and its `tel:` target, once logged.
    number: Option<(String, String)>,
    reason: String,
    message: String,
}

/// `POST /my/household/{hh_id}/call`: the log row, then the number to call.
pub(crate) async fn submit(
    State(state): State<AppState>,
    t: Tr,
    user: CurrentUser,
    RemoteAddr(remote_addr): RemoteAddr,
    scope: HouseholdInScope,
    Form(form): Form<CallForm>,
) -> Result<Response, WebError> {
    let HouseholdInScope { id, .. } = scope;
    let hh_id = id.to_string();
    let row = views::household(&state.store, &id).await?.ok_or(WebError::NotFound)?;
    let persons = views::persons_of(&state.store, &id).await?;
    let head = persons.iter().find(|p| raw(&PERSONS, p, "relation") == "01");
    // The household's phone, else the head's: the number the card shows masked.
    let (table, key, phone) = match raw(&HOUSEHOLDS, &row, "phone") {
        p if !p.is_empty() => (HOUSEHOLDS.name, hh_id.clone(), p),
        _ => match head {
            Some(h) => (PERSONS.name, raw(&PERSONS, h, "person_id"), raw(&PERSONS, h, "phone")),
            None => (PERSONS.name, String::new(), String::new()),
        },
    };
    if phone.is_empty() {
        return Err(WebError::Refused(t.t("call.no_phone").into()));
    }
    let reason = form.reason.trim();
    let mut page = CallPage {
        t,
        nav: Some(Nav::of(&state, &user).await?),
        head: head.map(|p| raw(&PERSONS, p, "name")).unwrap_or_default(),
        masked: mask::phone(&phone),
        number: None,
        reason: scrub_ids(reason),
        message: String::new(),
        hh_id: hh_id.clone(),
    };
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        page.message =
            if reason.is_empty() { t.t("call.no_reason").into() } else { t.f1("call.too_long", "max", MAX_REASON) };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html(&page)?).into_response());
    }
    // The log first: if it cannot be written, the number is not shown.
    let record = RevealRecord {
        username: &user.user.username,
        hh_id: &hh_id,
        table,
        key: &key,
        field: "phone",
        reason,
        remote_addr: remote_addr.as_deref(),
    };
    reveals::log_reveal(&state.store, &record).await?;
    tracing::info!(username = %user.user.username, hh_id = %hh_id, "显示联系电话以便拨打");
    let tel: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    page.number = Some((phone, tel));
    Ok(html(&page)?.into_response())
}
